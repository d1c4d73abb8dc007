"""The whole app composed through Hydra's compose API, tracked into a real temporary MLflow store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from framework.app import run
from framework.core import ConfigError, DataError

SHORT = ["data.start=2012-01-01", "data.end=2016-12-31"]


class TestTrackedRun:
    def test_run_is_logged_with_params_metrics_series_and_artifacts(self, store, compose_config, tmp_path) -> None:
        cfg = compose_config([*SHORT, "strategy.short_window=5", "experiment_name=it"])
        out = tmp_path / "out"
        value = run(
            cfg, out, choices={"strategy": "ma_crossover", "data": "sp500"}, overrides=["strategy.short_window=5"]
        )

        client = MlflowClient(store)
        experiment = client.get_experiment_by_name("it")
        runs = client.search_runs([experiment.experiment_id])
        assert len(runs) == 1
        logged = runs[0]
        assert logged.data.params["strategy.short_window"] == "5"
        assert logged.data.params["portfolio.strategies.main.short_window"] == "5"
        assert logged.data.params["broker.cost_bps"] == "0.0"
        assert logged.data.tags["choice.strategy"] == "ma_crossover"
        assert len(logged.data.tags["data_fingerprint"]) == 16
        assert logged.data.tags["package_version"]
        assert logged.data.metrics["val/sharpe"] == pytest.approx(value)
        for key in ("train/cagr", "test/max_drawdown", "baseline/test/sharpe", "full/n_trades", "val/turnover"):
            assert key in logged.data.metrics
        history = sorted(client.get_metric_history(logged.info.run_id, "equity"), key=lambda m: m.step)
        equity = pd.read_parquet(out / "equity.parquet")["equity"].to_numpy()
        assert len(history) == 500 < len(equity)  # tracking.series_points: evenly spaced bars, the last included
        assert history[0].step == 0 and history[-1].step == len(equity) - 1
        for point in history:
            assert point.value == pytest.approx(equity[point.step])
        artifacts = {a.path for a in client.list_artifacts(logged.info.run_id)}
        for name in ("equity_drawdown.png", "equity.parquet", "metrics.json", "config.yaml"):
            assert name in artifacts
        assert "trades.parquet" not in artifacts and (out / "trades.parquet").exists()  # panels stay in the folder
        assert logged.data.tags["output_dir"] == str(out.resolve())

    def test_every_file_is_an_artifact_with_artifacts_all(self, store, compose_config, tmp_path) -> None:
        cfg = compose_config([*SHORT, "experiment_name=all", "tracking.artifacts=all", "tracking.series_points=5000"])
        out = tmp_path / "out"
        run(cfg, out)
        client = MlflowClient(store)
        logged = client.search_runs([client.get_experiment_by_name("all").experiment_id])[0]
        artifacts = {a.path for a in client.list_artifacts(logged.info.run_id)}
        for name in ("trades.parquet", "decisions.parquet", "equity.parquet", "metrics.json", "config.yaml"):
            assert name in artifacts
        equity = pd.read_parquet(out / "equity.parquet")["equity"].to_numpy()
        assert len(client.get_metric_history(logged.info.run_id, "equity")) == len(equity)

    def test_metrics_file_matches_the_logged_metrics(self, store, compose_config, tmp_path) -> None:
        cfg = compose_config(SHORT)
        run(cfg, tmp_path / "out")
        summary = json.loads((tmp_path / "out" / "metrics.json").read_text())
        logged = MlflowClient(store).search_runs(
            [MlflowClient(store).get_experiment_by_name("portfolio-lab").experiment_id]
        )[0]
        for key, value in summary["metrics"].items():
            if np.isfinite(value):
                assert logged.data.metrics[key] == pytest.approx(value)
        assert summary["segments"]["train"][0] == "2012-01-03"

    def test_unreachable_store_loses_nothing(self, compose_config, tmp_path, monkeypatch, capsys) -> None:
        monkeypatch.chdir(tmp_path)
        cfg = compose_config([*SHORT, "tracking.tracking_uri=http://127.0.0.1:9"])
        value = run(cfg, tmp_path / "out")
        assert np.isfinite(value)
        err = capsys.readouterr().err
        assert "not tracked" in err and str((tmp_path / "out").resolve()) in err
        for name in (
            "metrics.json",
            "equity.parquet",
            "trades.parquet",
            "decisions.parquet",
            "equity_drawdown.png",
            "config.yaml",
        ):
            assert (tmp_path / "out" / name).is_file()

    def test_tracking_disabled_writes_files_only(self, compose_config, tmp_path, monkeypatch) -> None:
        monkeypatch.chdir(tmp_path)
        run(compose_config([*SHORT, "tracking=none"]), tmp_path / "out")
        assert (tmp_path / "out" / "metrics.json").is_file()
        assert not (tmp_path / "mlflow.db").exists()


class TestSameSeedSameResults:
    def test_two_runs_of_one_config_are_identical(self, compose_config, tmp_path, monkeypatch) -> None:
        monkeypatch.chdir(tmp_path)
        overrides = ["data=synthetic", "data.n_tickers=8", "data.n_days=600", "tracking=none", "seed=7"]
        run(compose_config(overrides), tmp_path / "a")
        run(compose_config(overrides), tmp_path / "b")
        a = json.loads((tmp_path / "a" / "metrics.json").read_text())
        b = json.loads((tmp_path / "b" / "metrics.json").read_text())
        assert a == b
        assert pd.read_parquet(tmp_path / "a" / "trades.parquet").equals(
            pd.read_parquet(tmp_path / "b" / "trades.parquet")
        )
        run(compose_config([*overrides[:-1], "seed=8"]), tmp_path / "c")
        c = json.loads((tmp_path / "c" / "metrics.json").read_text())
        assert c["data_fingerprint"] != a["data_fingerprint"]


class TestBadConfig:
    @pytest.mark.parametrize(
        ("overrides", "error", "words"),
        [
            (["strategy.short_window=-3"], ConfigError, ["short_window", "-3"]),
            (["strategy.short_window=60"], ConfigError, ["short_window", "60", "long_window"]),
            (["broker.cost_bps=-1"], ConfigError, ["broker.cost_bps", "-1"]),
            (["data.tickers=[AAPL,ZZZZ]"], DataError, ["ZZZZ", "AAPL", "MSFT"]),
            (["optimized_metric=val/sharp"], ConfigError, ["optimized_metric", "val/sharp", "sharpe"]),
            (["+portfolio.alocation=1"], ConfigError, ["portfolio.alocation", "allowed keys", "strategies"]),
            (["+tracking.urii=x"], ConfigError, ["tracking.urii", "tracking_uri"]),
            (["+strategy.short_windw=3"], ConfigError, ["short_windw", "short_window", "long_window"]),
            (["portfolio.strategies.main=rsii"], ConfigError, ["rsii", "strategy group", "ma_crossover"]),
        ],
    )
    def test_message_names_the_key_and_the_value(self, compose_config, tmp_path, overrides, error, words) -> None:
        cfg = compose_config([*SHORT, "tracking=none", *overrides])
        with pytest.raises(error) as caught:
            run(cfg, tmp_path / "out")
        for word in words:
            assert word in str(caught.value)


class TestBenchmarkIndex:
    def test_sp500_index_is_measured_and_plotted(self, compose_config, tmp_path, monkeypatch, capsys) -> None:
        monkeypatch.chdir(tmp_path)
        run(compose_config([*SHORT, "tracking=none", "benchmark.index=sp500"]), tmp_path / "out")
        summary = json.loads((tmp_path / "out" / "metrics.json").read_text())["metrics"]
        equity = pd.read_parquet(tmp_path / "out" / "equity.parquet")
        index = equity["index_equity"].to_numpy()
        assert index[0] == pytest.approx(1_000_000.0)
        # 2012-01-03 .. 2016-12-30 closes of the bundled index: 1277.06 -> 2238.83
        assert summary["index/full/total_return"] == pytest.approx(index[-1] / index[0] - 1)
        assert 0.7 < summary["index/full/total_return"] < 0.8
        assert "index" in capsys.readouterr().out

    def test_unknown_index_and_data_before_the_index(self, compose_config, tmp_path, monkeypatch) -> None:
        monkeypatch.chdir(tmp_path)
        with pytest.raises(ConfigError, match="benchmark.index: must be null or one of sp500, got 'dax'"):
            run(compose_config([*SHORT, "tracking=none", "benchmark.index=dax"]), tmp_path / "out")
        early = [
            "data=synthetic",
            "data.start=1985-01-02",
            "data.n_days=2000",
            "tracking=none",
            "benchmark.index=sp500",
        ]
        with pytest.raises(DataError, match="benchmark.index: the sp500 index starts on 1990-01-02"):
            run(compose_config(early), tmp_path / "out")


class TestGroupFileResolution:
    def test_interpolations_follow_the_run_and_every_caller_gets_its_own_copy(self, compose_config) -> None:
        from framework.app import _resolver
        from framework.config import Catalogue

        resolve = _resolver(compose_config(["portfolio=multi_strategy", "seed=9"]))
        content = Catalogue("strategy").get("random_forest", "portfolio.strategies.random_forest")
        first, second = resolve(dict(content)), resolve(dict(content))
        assert first["random_state"] == 9 and first["estimator"]["random_state"] == 9
        first["estimator"]["n_estimators"] = -1
        assert second["estimator"]["n_estimators"] == 50
        assert resolve(dict(content))["estimator"]["n_estimators"] == 50
