"""Every shipped portfolio runs end to end from its YAML into a temporary MLflow store."""

from __future__ import annotations

import json

import pytest
from mlflow import MlflowClient

from framework.app import run
from framework.config import CONFIG_DIR

SHIPPED = sorted(path.stem for path in (CONFIG_DIR / "portfolio").glob("*.yaml"))
SHORT = ["data.start=2010-01-01", "data.end=2016-12-31"]


def test_the_issue_portfolios_are_shipped() -> None:
    assert {"ma_crossover", "hybrid", "multi_strategy", "expression", "plugin_example"} <= set(SHIPPED)


@pytest.mark.parametrize("portfolio", SHIPPED)
def test_shipped_portfolio_runs_and_is_tracked(portfolio: str, store: str, compose_config, tmp_path) -> None:
    cfg = compose_config([*SHORT, f"portfolio={portfolio}", f"experiment_name=p_{portfolio}"])
    value = run(cfg, tmp_path / "out", choices={"portfolio": portfolio})
    client = MlflowClient(store)
    runs = client.search_runs([client.get_experiment_by_name(f"p_{portfolio}").experiment_id])
    assert len(runs) == 1
    metrics = runs[0].data.metrics
    assert metrics["val/sharpe"] == pytest.approx(value)
    assert metrics["full/n_trades"] > 0  # the portfolio's signals led to trades
    summary = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert summary["portfolio"] == portfolio


def test_hybrid_uses_its_allocation(compose_config, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = compose_config([*SHORT, "portfolio=hybrid", "tracking=none"])
    assert cfg.agent.sizing._target_ == "framework.agents.FixedAllocationSizing"
    run(cfg, tmp_path / "out")
    import pandas as pd

    decisions = pd.read_parquet(tmp_path / "out" / "decisions.parquet")
    sizing = decisions[decisions["agent"] == "sizing"]
    after = sizing.groupby("ticker")["after"].max()
    assert after["AAPL"] == pytest.approx(0.2) and after["KO"] == pytest.approx(0.1)
    # The command line still wins over the portfolio's choice of pipeline.
    assert compose_config([*SHORT, "portfolio=hybrid", "agent=equal_weight"]).agent.sizing._target_.endswith(
        "EqualWeightSizing"
    )


def test_an_allocation_no_agent_uses_is_reported(compose_config, tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = compose_config([*SHORT, "portfolio=hybrid", "agent=equal_weight", "tracking=none"])
    with caplog.at_level("WARNING", logger="framework"):
        run(cfg, tmp_path / "out")
    assert "portfolio.allocation is set, but no agent of the pipeline uses it" in caplog.text
    assert "agent.sizing is EqualWeightSizing" in caplog.text and "agent/sizing=fixed_allocation" in caplog.text
