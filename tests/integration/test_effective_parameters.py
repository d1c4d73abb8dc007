"""The parameters a run used: spelled out in config.yaml and MLflow, overridable without ``+``, unused groups out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from mlflow import MlflowClient
from omegaconf import OmegaConf

from framework.app import _resolver, build_and_run, effective_config, run
from framework.config.catalogue import CONFIG_DIR
from framework.config.portfolio import build_portfolio, effective_portfolio

SHORT = ["data.start=2014-01-01", "data.end=2016-12-31", "tracking.enabled=false"]
PORTFOLIOS = sorted(p.stem for p in (CONFIG_DIR / "portfolio").glob("*.yaml"))


def state(component: Any) -> dict[str, Any]:
    """A component's attributes, a scikit-learn estimator among them by its class and parameters."""
    return {name: (type(value).__name__, value.get_params()) if hasattr(value, "get_params") else value
            for name, value in vars(component).items()}  # fmt: skip


def sleeves(portfolio: Any) -> list[tuple[Any, ...]]:
    """What a built portfolio does: tickers, each strategy's class, parameters and weight, the aggregator."""
    return [
        (
            s.tickers,
            [(slot.label, type(slot.strategy).__name__, state(slot.strategy), slot.weight) for slot in s.strategies],
            type(s.aggregator).__name__,
            state(s.aggregator),
        )  # fmt: skip
        for s in portfolio.sleeves
    ]


class TestComposition:
    def test_portfolio_strategy_parameters_are_overridable_without_plus(self, compose_config) -> None:
        cfg = compose_config(["portfolio=multi_strategy", "portfolio.strategies.ma_crossover.short_window=10",
                              "portfolio.strategies.rsi.oversold=25",
                              "portfolio.strategies.random_forest.estimator.n_estimators=7"])  # fmt: skip
        strategies = cfg.portfolio.strategies
        assert strategies.ma_crossover.short_window == 10 and strategies.ma_crossover.long_window == 100
        assert strategies.rsi.oversold == 25 and strategies.rsi.window == 14
        assert strategies.random_forest.estimator.n_estimators == 7
        assert strategies.random_forest.estimator.random_state == 42  # ${seed}, resolved against the run

    def test_the_strategy_group_choice_does_not_touch_a_portfolio_entry(self, compose_config) -> None:
        cfg = compose_config(["portfolio=multi_strategy", "strategy=ema_crossover", "strategy.short_window=3"])
        assert cfg.portfolio.strategies.ma_crossover._target_ == "framework.strategies.MACrossover"
        assert cfg.portfolio.strategies.ma_crossover.short_window == 20

    @pytest.mark.parametrize("name", PORTFOLIOS)
    def test_every_strategy_of_every_portfolio_is_spelled_out_when_composed(self, compose_config, name) -> None:
        cfg = compose_config([f"portfolio={name}"])
        for label, entry in cfg.portfolio.strategies.items():
            assert "_target_" in entry, f"{name}: portfolio.strategies.{label} is not spelled out"


class TestEffectiveConfig:
    @pytest.mark.parametrize("name", PORTFOLIOS)
    def test_the_effective_portfolio_builds_the_same_portfolio(self, compose_config, name) -> None:
        cfg = compose_config([f"portfolio={name}"])
        container = OmegaConf.to_container(cfg, resolve=True)
        tickers = ["AAPL", "MSFT", "JPM", "BAC", "XOM", "CVX", "KO", "PEP", "PG"]
        effective, _ = effective_config(cfg, container)

        common = {"default_aggregator": container["aggregator"], "resolve": _resolver(cfg)}
        original = build_portfolio(container["portfolio"], tickers, **common)
        again = build_portfolio(effective["portfolio"], tickers, **common)

        assert sleeves(again) == sleeves(original)

    def test_shorthand_entries_get_their_group_defaults(self) -> None:
        spelled = effective_portfolio(
            {
                "name": "mine",
                "strategies": {"ema_crossover": {"weight": 0.4}, "fast": {"strategy": "rsi", "window": 5}},
                "aggregator": "weighted_average",
                "overrides": {
                    "AAPL": {"strategies": {"ema_crossover": {"short_window": 5}, "momentum": 1.0}},
                    "MSFT": {"strategies": {"fast": None}, "aggregator": None},
                },
            }
        )
        ema = spelled["strategies"]["ema_crossover"]
        assert ema == {"_target_": "framework.strategies.EMACrossover", "short_window": 12, "long_window": 26,
                       "tie_tolerance": 1e-09, "weight": 0.4}  # fmt: skip
        assert spelled["strategies"]["fast"]["_target_"] == "framework.strategies.RSI"
        assert spelled["strategies"]["fast"]["window"] == 5
        assert spelled["aggregator"]["_target_"] == "framework.aggregation.WeightedAverage"
        aapl = spelled["overrides"]["AAPL"]["strategies"]
        assert aapl["ema_crossover"] == {"short_window": 5}  # merged onto the spelled-out default, as written
        assert aapl["momentum"]["_target_"] == "framework.strategies.Momentum" and aapl["momentum"]["weight"] == 1
        assert spelled["overrides"]["MSFT"] == {"strategies": {"fast": None}, "aggregator": None}

    def test_unused_groups_are_left_out(self, compose_config) -> None:
        cfg = compose_config(["portfolio=multi_strategy"])
        effective, unused = effective_config(cfg, OmegaConf.to_container(cfg, resolve=True))
        assert unused == ["strategy"] and "strategy" not in effective and "aggregator" in effective

        cfg = compose_config(["portfolio=ma_crossover"])  # main: ${strategy}, aggregator: null
        effective, unused = effective_config(cfg, OmegaConf.to_container(cfg, resolve=True))
        assert unused == [] and "strategy" in effective and "aggregator" in effective

        cfg = compose_config(["portfolio=multi_strategy", "portfolio.aggregator=weighted_average"])
        effective, unused = effective_config(cfg, OmegaConf.to_container(cfg, resolve=True))
        assert unused == ["strategy", "aggregator"]
        assert effective["portfolio"]["aggregator"]["_target_"] == "framework.aggregation.WeightedAverage"


class TestRecorded:
    def test_config_yaml_reproduces_the_run(self, compose_config, tmp_path: Path) -> None:
        overrides = ["portfolio=plugin_example", "portfolio.strategies.ma_crossover.short_window=15", *SHORT]
        cfg = compose_config(overrides)
        run(cfg, tmp_path / "out")
        written = yaml.safe_load((tmp_path / "out" / "config.yaml").read_text())
        assert written["portfolio"]["strategies"]["ma_crossover"]["short_window"] == 15
        assert written["portfolio"]["strategies"]["ma_crossover"]["long_window"] == 50
        assert "strategy" not in written

        first = build_and_run(cfg, OmegaConf.to_container(cfg, resolve=True))
        again = build_and_run(OmegaConf.create(written), written)
        assert np.array_equal(first.result.equity, again.result.equity)

    def test_mlflow_params_hold_the_spelled_out_parameters_and_no_unused_group(self, store, compose_config,
                                                                               tmp_path) -> None:  # fmt: skip
        cfg = compose_config(["portfolio=plugin_example", "data.start=2014-01-01", "data.end=2016-12-31",
                              "experiment_name=effective"])  # fmt: skip
        run(cfg, tmp_path / "out", choices={"strategy": "ma_crossover", "portfolio": "plugin_example"})

        client = MlflowClient(store)
        (logged,) = client.search_runs([client.get_experiment_by_name("effective").experiment_id])
        params, tags = logged.data.params, logged.data.tags
        assert params["portfolio.strategies.ma_crossover.long_window"] == "50"
        assert params["portfolio.strategies.ma_crossover.weight"] == "0.5"
        assert params["portfolio.strategies.breakout.lookback"] == "55"
        assert not [key for key in params if key.startswith("strategy.")]
        assert "choice.strategy" not in tags and tags["choice.portfolio"] == "plugin_example"


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_TRACKING_URI": f"sqlite:///{cwd}/mlflow.db"}
    return subprocess.run([sys.executable, "-m", "framework", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


class TestCommandLine:
    def test_cfg_job_shows_every_parameter(self, tmp_path: Path) -> None:
        done = run_cli(["portfolio=multi_strategy", "--cfg", "job"], tmp_path)
        assert done.returncode == 0, done.stderr
        shown = yaml.safe_load(done.stdout)["portfolio"]["strategies"]
        assert shown["ma_crossover"]["tie_tolerance"] == 1e-09
        assert shown["random_forest"]["estimator"]["max_depth"] == 5

    def test_a_portfolio_strategy_parameter_is_swept_without_plus(self, tmp_path: Path) -> None:
        done = run_cli(["-m", "portfolio=plugin_example", "portfolio.strategies.ma_crossover.short_window=10,20",
                        "data.start=2014-01-01", "data.end=2016-12-31", "experiment_name=swept"], tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
        client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
        runs = client.search_runs([client.get_experiment_by_name("swept").experiment_id])
        children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
        assert sorted(r.data.params["portfolio.strategies.ma_crossover.short_window"] for r in children) == ["10", "20"]
        assert len({r.data.metrics["val/sharpe"] for r in children}) == 2

    def test_a_shorthand_entry_says_how_to_override_its_parameters(self, tmp_path: Path) -> None:
        (tmp_path / "conf" / "portfolio").mkdir(parents=True)
        (tmp_path / "conf" / "portfolio" / "mine.yaml").write_text(
            "name: mine\nstrategies:\n  ema_crossover: {weight: 0.4}\n  rsi: 0.6\n"
        )
        done = run_cli(["--config-dir", "conf", "portfolio=mine", "portfolio.strategies.ema_crossover.short_window=3"],
                       tmp_path)  # fmt: skip
        assert done.returncode == 2
        assert "- /strategy@strategies.ema_crossover: ema_crossover" in done.stderr
        assert "+portfolio.strategies.ema_crossover.short_window=" in done.stderr
