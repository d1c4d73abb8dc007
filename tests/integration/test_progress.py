"""Progress on long work: bars on request (or on a terminal), nothing otherwise; the header before the work."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.app import run
from framework.core import progress

SMALL = ["data=synthetic", "data.n_tickers=4", "data.n_days=400", "tracking=none", "outputs.plot=false"]


@pytest.fixture(autouse=True)
def _bars_off_afterwards() -> object:
    yield
    progress.configure(False)


class TestProgress:
    def test_bars_for_fits_signals_and_the_bar_loop_when_asked(self, compose_config, tmp_path: Path, capsys) -> None:
        run(compose_config([*SMALL, "portfolio=multi_strategy", "agent=risk_managed", "outputs.progress=true"]),
            tmp_path / "out")  # fmt: skip

        err = capsys.readouterr().err
        for bar in ("fit:", "signals:", "backtest:", "random_forest on 4 tickers", "/400"):
            assert bar in err

    def test_quiet_off_a_terminal(self, compose_config, tmp_path: Path, capsys) -> None:
        run(compose_config([*SMALL, "agent=risk_managed"]), tmp_path / "out")  # outputs.progress=auto

        captured = capsys.readouterr()
        assert "backtest:" not in captured.err and "it/s" not in captured.err
        assert not progress.enabled()

    def test_the_header_comes_before_the_work(self, compose_config, tmp_path: Path, capsys) -> None:
        # The pipeline is built after the header: its error comes after the line that says what runs.
        with pytest.raises(Exception, match="rebalance"):
            run(compose_config([*SMALL, "agent.sizing.rebalance=sometimes"]), tmp_path / "out")

        assert "ma_crossover: 4 tickers, 400 bars" in capsys.readouterr().out
