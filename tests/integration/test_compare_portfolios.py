"""Several portfolios in one benchmark: the same data and split, baselines, one parent run and a child each."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from framework.app import run
from framework.benchmark.comparison import baseline_equities
from framework.benchmark.runner import check_metric_key
from framework.core import ConfigError
from framework.data import SyntheticLoader
from framework.execution import SimulatedBroker

DATA = ["data=synthetic", "data.n_tickers=5", "data.n_days=600"]
ENTRIES = "benchmark.portfolios={ma_crossover: [], multi_strategy: [], rsi: 'portfolio=ma_crossover strategy=rsi'}"
FAST = ["outputs.plot=false", "outputs.level=summary"]


def comparison(compose_config, tmp_path: Path, *extra: str, name: str = "out") -> tuple[float, dict, list[str]]:
    overrides = [*DATA, ENTRIES, "benchmark.baselines=[equal_weight,inverse_volatility,cash]", *FAST, *extra]
    value = run(compose_config(overrides), tmp_path / name, overrides=overrides)
    return value, json.loads((tmp_path / name / "metrics.json").read_text()), overrides


class TestComparison:
    def test_each_portfolio_measures_as_it_does_alone_on_the_same_split(self, compose_config, tmp_path) -> None:
        value, summary, _ = comparison(compose_config, tmp_path, "tracking=none")

        assert summary["portfolios"] == ["ma_crossover", "multi_strategy", "rsi"]
        assert summary["baselines"] == ["equal_weight", "inverse_volatility", "cash"]
        metrics = summary["metrics"]
        assert value == metrics["ma_crossover/val/sharpe"] == metrics["val/sharpe"]  # the first entry is the primary
        alone = {
            "ma_crossover": [],
            "multi_strategy": ["portfolio=multi_strategy"],
            "rsi": ["strategy=rsi"],
        }
        for label, overrides in alone.items():
            cfg = compose_config([*DATA, *FAST, "tracking=none", *overrides])
            run(cfg, tmp_path / label)
            single = json.loads((tmp_path / label / "metrics.json").read_text())
            assert single["segments"] == summary["segments"]
            for key in ("train/sharpe", "val/total_return", "test/sharpe", "test/max_drawdown", "full/turnover"):
                assert metrics[f"{label}/{key}"] == pytest.approx(single["metrics"][key], rel=1e-12), (label, key)
            # the equal-weight baseline of the whole data is the single run's baseline (same tickers)
            assert metrics["equal_weight/test/sharpe"] == pytest.approx(single["metrics"]["baseline/test/sharpe"])

    def test_files_of_the_comparison_and_of_each_portfolio(self, compose_config, tmp_path) -> None:
        comparison(compose_config, tmp_path, "tracking=none", "outputs.plot=true")
        out = tmp_path / "out"
        assert {"comparison.csv", "comparison.md", "comparison.png", "equity.parquet", "config.yaml"} <= {
            p.name for p in out.iterdir()
        }
        table = pd.read_csv(out / "comparison.csv")
        test = table[table["segment"] == "test"]
        assert list(test["rank"]) == [1, 2, 3, 4, 5, 6]
        sharpe = test["sharpe"].to_numpy()
        assert (np.diff(sharpe[~np.isnan(sharpe)]) <= 0).all()  # ranked by the optimized metric's name: sharpe
        assert set(test["kind"]) == {"portfolio", "baseline"}
        equity = pd.read_parquet(out / "equity.parquet")
        assert list(equity.columns) == ["ma_crossover", "multi_strategy", "rsi", "equal_weight", "inverse_volatility",
                                        "cash"]  # fmt: skip
        for label in ("ma_crossover", "multi_strategy", "rsi"):
            own = pd.read_parquet(out / "portfolios" / label / "equity.parquet")
            np.testing.assert_array_equal(own["equity"].to_numpy(), equity[label].to_numpy())
            assert (out / "portfolios" / label / "config.yaml").is_file()
        config = (out / "config.yaml").read_text()
        assert "portfolios:" in config and "\nportfolio:" not in config  # the job's own portfolio group is unused
        assert "rsi" in (out / "comparison.md").read_text()

    def test_one_parent_run_and_a_child_per_portfolio_and_fold(self, store, compose_config, tmp_path) -> None:
        overrides = ["benchmark=walk_forward", "benchmark.split.train=300", "benchmark.split.test=100",
                     "experiment_name=cmp"]  # fmt: skip
        value, summary, _ = comparison(compose_config, tmp_path, *overrides)
        client = MlflowClient(store)
        runs = client.search_runs([client.get_experiment_by_name("cmp").experiment_id])
        by_id = {r.info.run_id: r for r in runs}
        (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert sorted(r.info.run_name for r in children) == ["ma_crossover", "multi_strategy", "rsi"]
        assert parent.data.tags["portfolios"] == "ma_crossover, multi_strategy, rsi"
        assert parent.data.metrics["rsi/test/sharpe"] == pytest.approx(summary["metrics"]["rsi/test/sharpe"])
        assert "cash/test/total_return" in parent.data.metrics
        assert value == pytest.approx(parent.data.metrics["ma_crossover/test/sharpe"])
        for child in children:
            assert child.data.metrics["test/sharpe"] == pytest.approx(
                summary["metrics"][f"{child.info.run_name}/test/sharpe"]
            )
            folds = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == child.info.run_id]
            assert sorted(r.data.tags["fold"] for r in folds) == ["0", "1", "2"]
        assert all(r.info.status == "FINISHED" for r in by_id.values())
        assert not any(p.startswith("portfolio.") for p in parent.data.params)  # the job's own portfolio is unused

    def test_primary_chooses_the_returned_metric(self, compose_config, tmp_path) -> None:
        value, summary, _ = comparison(compose_config, tmp_path, "tracking=none", "benchmark.primary=rsi")
        assert value == summary["metrics"]["rsi/val/sharpe"] == summary["metrics"]["val/sharpe"]


class TestBaselines:
    def test_cash_earns_the_risk_free_rate_and_inverse_volatility_weights(self) -> None:
        data = SyntheticLoader(n_tickers=4, n_days=400, seed=3).load()
        out = baseline_equities(data, SimulatedBroker(), ["cash", "inverse_volatility"], risk_free_rate=0.05)
        cash = out["cash"]
        assert isinstance(cash, np.ndarray)
        assert cash[0] == 1e6 and cash[252] == pytest.approx(1.05e6)
        result = out["inverse_volatility"]
        assert not isinstance(result, np.ndarray)
        # on the last rebalance (monthly), weights in proportion to 1 / volatility of the last 252 returns
        rebalances = np.flatnonzero(~np.isnan(result.target_weights).all(axis=1))
        assert rebalances[0] == 63 and 12 <= len(rebalances) <= 22  # after 63 returns, then about monthly
        last = int(rebalances[-1])
        weights = result.target_weights[last]
        returns = data.close[last - 252 : last + 1]
        vol = np.std(np.diff(returns, axis=0) / returns[:-1], axis=0, ddof=1)
        np.testing.assert_allclose(weights, (1 / vol) / (1 / vol).sum(), rtol=1e-9)

    def test_relative_metrics_against_the_index_are_metric_keys(self) -> None:
        for key in ("test/beta", "baseline/val/alpha", "full/tracking_error", "test/information_ratio"):
            check_metric_key(key)


class TestBadEntries:
    @pytest.mark.parametrize(
        ("entries", "message"),
        [
            ("{a: 'data=sp500'}", "benchmark.portfolios.a: 'data=sp500' changes data"),
            ("{nope: []}", "benchmark.portfolios.nope: In 'config': Could not find 'portfolio/nope'"),
            ("{cash: []}", "benchmark.portfolios.cash: the label may not"),
            ("{a: 'strategy'}", "benchmark.portfolios.a: 'strategy' is not an override"),
        ],
    )
    def test_a_bad_entry_names_itself(self, compose_config, tmp_path, entries: str, message: str) -> None:
        overrides = [*DATA, *FAST, "tracking=none", f"benchmark.portfolios={entries}", "benchmark.baselines=[cash]"]
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
            run(compose_config(overrides), tmp_path / "out", overrides=overrides)

    def test_an_index_baseline_needs_an_index_and_primary_a_label(self, compose_config, tmp_path) -> None:
        overrides = [*DATA, *FAST, "tracking=none", "benchmark.portfolios={ma_crossover: []}"]
        with pytest.raises(ConfigError, match="benchmark.baselines: 'index' needs an index"):
            run(compose_config([*overrides, "benchmark.baselines=[index]"]), tmp_path / "a", overrides=overrides)
        with pytest.raises(ConfigError, match="benchmark.primary: 'x' is not a portfolio"):
            run(compose_config([*overrides, "benchmark.primary=x"]), tmp_path / "b", overrides=overrides)
