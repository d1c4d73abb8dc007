"""A walk-forward run end to end: per-fold and stitched metrics, a child MLflow run per fold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow import MlflowClient

from framework.app import run

SMALL = ["data=synthetic", "data.n_tickers=4", "data.n_days=800", "benchmark=walk_forward",
         "benchmark.split.train=300", "benchmark.split.test=100"]  # fmt: skip


class TestRun:
    def test_a_walk_forward_run_measures_each_fold_and_the_stitched_span(self, store, compose_config, tmp_path):
        cfg = compose_config([*SMALL, "portfolio=multi_strategy", "experiment_name=wf"])
        value = run(cfg, tmp_path / "out")

        summary = json.loads((tmp_path / "out" / "metrics.json").read_text())
        metrics = summary["metrics"]
        assert value == metrics["test/sharpe"]  # walk_forward optimizes the out-of-sample span
        assert [f["test"][0] for f in summary["folds"]] == [summary["segments"][f"fold_{k}"][0] for k in range(5)]
        assert set(summary["segments"]) == {"test", *(f"fold_{k}" for k in range(5))}
        assert "val/sharpe" not in metrics and "fold_4/cagr" in metrics and "baseline/fold_0/sharpe" in metrics

        client = MlflowClient(store)
        runs = client.search_runs([client.get_experiment_by_name("wf").experiment_id])
        (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
        children = sorted((r for r in runs if "mlflow.parentRunId" in r.data.tags), key=lambda r: r.data.tags["fold"])
        assert [r.data.tags["fold"] for r in children] == ["0", "1", "2", "3", "4"]
        assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parent.info.run_id}
        for k, child in enumerate(children):
            assert child.data.metrics["test/sharpe"] == pytest.approx(metrics[f"fold_{k}/sharpe"])
            assert child.data.tags["train_start"] == summary["folds"][k]["train"][0]

    def test_the_backtest_holds_cash_before_the_first_test_window(self, compose_config, tmp_path: Path) -> None:
        import pandas as pd

        run(compose_config([*SMALL, "tracking=none"]), tmp_path / "out")

        equity = pd.read_parquet(tmp_path / "out" / "equity.parquet")
        first = json.loads((tmp_path / "out" / "metrics.json").read_text())["segments"]["test"][0]
        before = equity[equity.index < pd.Timestamp(first)]
        assert len(before) == 300 + 5 and (before["equity"] == before["equity"].iloc[0]).all()
