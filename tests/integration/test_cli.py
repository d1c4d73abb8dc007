"""``python -m framework`` as a user runs it: a subprocess, a multirun, and bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

SHORT = ["data.start=2014-01-01", "data.end=2016-12-31"]


def run_cli(args: list[str], cwd: Path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", **(env_extra or {})}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, "-m", "framework", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


class TestMultirun:
    def test_two_job_sweep_gives_one_child_run_per_job(self, tmp_path: Path) -> None:
        uri = f"sqlite:///{tmp_path}/mlflow.db"
        done = run_cli(["-m", *SHORT, "strategy.short_window=5,20", "experiment_name=sweep"], tmp_path,
                       {"MLFLOW_TRACKING_URI": uri})  # fmt: skip
        assert done.returncode == 0, done.stderr
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name("sweep")
        runs = client.search_runs([experiment.experiment_id])
        children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
        parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
        assert sorted(r.data.params["strategy.short_window"] for r in children) == ["20", "5"]
        assert len(parents) == 1
        assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
        assert {r.data.metrics["val/sharpe"] for r in children}.__len__() == 2  # the parameter mattered
        assert list(tmp_path.glob("multirun/*/*/0/metrics.json")) and list(tmp_path.glob("multirun/*/*/1/metrics.json"))
        # The jobs hand their runs to the tracking worker; the sweep's end waits for them before ending the parent.
        assert parents[0].info.status == "FINISHED"
        assert max(r.info.end_time for r in children) <= parents[0].info.end_time
        assert done.stdout.count("mlflow run ") == 2 and "warning" not in done.stderr
        assert len(list(tmp_path.glob("multirun/*/*/*/equity_drawdown.png"))) == 2


class TestMainJob:
    def test_prints_the_table_and_where_the_run_is(self, tmp_path: Path) -> None:
        done = run_cli([*SHORT], tmp_path)
        assert done.returncode == 0, done.stderr
        assert "baseline" in done.stdout and "sharpe" in done.stdout
        assert "mlflow run" in done.stdout and "mlflow ui" in done.stdout
        assert (tmp_path / "mlflow.db").is_file()  # the default store: SQLite in the working directory
        assert list(tmp_path.glob("outputs/*/*/equity_drawdown.png"))


class TestBadInput:
    @pytest.mark.parametrize(
        ("args", "words"),
        [
            (["broker.cost_bsp=1"], ["broker.cost_bsp", "cost_bps", "slippage_bps"]),
            (["strategy.short_window=-3"], ["short_window", "-3"]),
            (["strategy.short_window=80"], ["short_window", "80", "long_window"]),
            (["data.tickers=[AAPL,NOPE]"], ["NOPE", "available", "MSFT"]),
            (["strategy=nope"], ["strategy", "nope", "ma_crossover"]),
        ],
    )
    def test_clear_message_and_non_zero_exit_without_traceback(self, tmp_path: Path, args, words) -> None:
        done = run_cli([*SHORT, "tracking=none", *args], tmp_path)
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        for word in words:
            assert word in done.stderr, done.stderr
