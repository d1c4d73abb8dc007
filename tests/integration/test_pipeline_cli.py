"""The decision pipeline from the command line: stage options, sweeps over them, portfolio pipelines, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from framework.app import run

SHORT = ["data.start=2012-01-01", "data.end=2016-12-31"]


def run_cli(args: list[str], cwd: Path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", **(env_extra or {})}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, "-m", "framework", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


class TestStageOptions:
    def test_risk_parity_from_the_command_line(self, tmp_path: Path) -> None:
        done = run_cli([*SHORT, "tracking=none", "agent/sizing=risk_parity"], tmp_path)
        assert done.returncode == 0, done.stderr
        (out,) = tmp_path.glob("outputs/*/*")
        config = (out / "config.yaml").read_text()
        assert "RiskParitySizing" in config
        decisions = pd.read_parquet(out / "decisions.parquet")
        assert "risk parity" in set(decisions.loc[decisions["agent"] == "sizing", "reason"])
        assert {"targets.parquet", "risk.parquet", "positions.parquet"} <= {p.name for p in out.iterdir()}

    def test_every_stage_swapped_at_once(self, compose_config, tmp_path: Path, monkeypatch) -> None:
        monkeypatch.chdir(tmp_path)
        overrides = ["agent/sizing=inverse_volatility", "agent/risk=limits", "agent/correlation=threshold",
                     "agent/selection=top_k"]  # fmt: skip
        run(compose_config([*SHORT, "tracking=none", *overrides]), tmp_path / "out")
        metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())["metrics"]
        for stage in ("sizing", "risk"):
            assert metrics[f"full/resizes_{stage}"] > 0
        assert metrics["full/bars_at_limit"] > 0
        assert metrics["full/avg_positions"] <= 10  # top_k keeps at most 10 positions
        correlation = pd.read_parquet(tmp_path / "out" / "correlation.parquet")
        assert correlation.shape == (20, 20)
        risk = pd.read_parquet(tmp_path / "out" / "risk.parquet")
        assert risk["ex_ante_volatility"].max() <= 0.15 * (1 + 1e-9)
        assert {"var_parametric", "var_historical", "positions", "at_limit"} <= set(risk.columns)

    def test_a_limit_set_on_the_default_pipeline_binds(self, compose_config, tmp_path: Path, monkeypatch) -> None:
        monkeypatch.chdir(tmp_path)
        run(compose_config([*SHORT, "tracking=none"]), tmp_path / "plain")
        run(compose_config([*SHORT, "tracking=none", "agent.risk.max_portfolio_risk=0.08"]), tmp_path / "capped")
        plain = json.loads((tmp_path / "plain" / "metrics.json").read_text())["metrics"]
        capped = json.loads((tmp_path / "capped" / "metrics.json").read_text())["metrics"]
        assert plain["full/bars_at_limit"] == 0 and capped["full/bars_at_limit"] > 0
        assert capped["full/ex_ante_volatility"] < plain["full/ex_ante_volatility"]

    def test_risk_managed_portfolio_chooses_its_pipeline(self, compose_config, tmp_path: Path, monkeypatch) -> None:
        monkeypatch.chdir(tmp_path)
        cfg = compose_config([*SHORT, "tracking=none", "portfolio=risk_managed"])
        assert cfg.agent.sizing._target_ == "framework.agents.RiskParitySizing"
        assert cfg.agent.sizing.max_position_size == 0.1 and cfg.agent.risk.var_limit == 0.02
        run(cfg, tmp_path / "out")
        decisions = pd.read_parquet(tmp_path / "out" / "decisions.parquet")
        rebalanced = decisions[decisions["agent"].isin(["sizing", "selection"])]
        assert len(rebalanced) and rebalanced["after"].max() <= 0.1 + 1e-12  # the bounds hold when sizing acts
        # Between monthly rebalances positions drift; the risk stage only ever cuts them.
        risk = decisions[decisions["agent"] == "risk"]
        assert (risk["after"].abs() <= risk["before"].abs() + 1e-15).all()
        swapped = compose_config([*SHORT, "tracking=none", "portfolio=risk_managed", "agent/sizing=equal_weight"])
        assert swapped.agent.sizing._target_ == "framework.agents.EqualWeightSizing"
        assert swapped.agent.risk.max_portfolio_risk == 0.15  # the portfolio's other stages stay

    def test_stage_order_from_the_command_line(self, compose_config, tmp_path: Path, monkeypatch) -> None:
        from omegaconf import OmegaConf

        from framework.config.pipeline import build_pipeline

        cfg = compose_config(["agent=risk_managed", "agent.order=[sizing,risk,correlation,selection,execution]"])
        agent = OmegaConf.to_container(cfg.agent, resolve=True)
        assert build_pipeline(agent).stage_names == ("sizing", "risk", "correlation", "selection", "execution")  # type: ignore[arg-type]
        default = OmegaConf.to_container(compose_config([]).agent, resolve=True)
        assert build_pipeline(default).stage_names == ("sizing", "selection", "correlation", "risk", "execution")  # type: ignore[arg-type]


class TestSweeps:
    def test_sizing_by_risk_limit_sweep(self, tmp_path: Path) -> None:
        uri = f"sqlite:///{tmp_path}/mlflow.db"
        args = ["-m", "agent/sizing=equal_weight,inverse_volatility,risk_parity",
                "agent.risk.max_portfolio_risk=0.1,0.15", "data.start=2014-01-01", "data.end=2016-12-31",
                "experiment_name=pipelines"]  # fmt: skip
        done = run_cli(args, tmp_path, {"MLFLOW_TRACKING_URI": uri})
        assert done.returncode == 0, done.stderr
        client = MlflowClient(uri)
        runs = client.search_runs([client.get_experiment_by_name("pipelines").experiment_id])
        children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
        assert len(children) == 6 and all(r.info.status == "FINISHED" for r in runs)
        combos = {(r.data.params["agent.sizing._target_"], r.data.params["agent.risk.max_portfolio_risk"])
                  for r in children}  # fmt: skip
        assert len(combos) == 6
        assert {r.data.tags["choice.agent/sizing"] for r in children} == {
            "equal_weight", "inverse_volatility", "risk_parity"
        }  # fmt: skip
        assert len({round(r.data.metrics["full/ex_ante_volatility"], 9) for r in children}) == 6


class TestBadPipelineInput:
    @pytest.mark.parametrize(
        ("args", "words"),
        [
            (["agent/sizing=nope"], ["agent/sizing", "nope", "risk_parity", "equal_weight"]),
            (["agent.order=[sizing,risk]"], ["agent.order", "every stage", "selection", "correlation"]),
            (["agent.sizing.on_error=retry"], ["agent.sizing.on_error", "raise, skip, hold, fallback", "retry"]),
            (["agent/sizing=fixed_allocation"], ["agent.sizing", "allocation", "FixedAllocationSizing"]),
            (
                ["agent/risk=limits", "agent.risk.min_history=5000", "agent.risk.lookback=6000"],
                ["agent.risk.min_history", "5000", "bars"],
            ),  # fmt: skip
            (["agent/risk=limits", "agent.risk.var_confidence=95"], ["agent.risk.var_confidence", "95"]),
            (["agent/sizing=risk_parity", "agent.sizing.rebalance=yearly"], ["agent.sizing.rebalance", "yearly"]),
            (["agent/sizing=risk_parity", "+agent.sizing.risk_budgets={NOPE: 2}"], ["risk_budgets", "NOPE"]),
        ],
    )
    def test_clear_message_before_the_loop(self, tmp_path: Path, args: list[str], words: list[str]) -> None:
        done = run_cli([*SHORT, "tracking=none", *args], tmp_path)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        for word in words:
            assert word in done.stderr, done.stderr
        assert not list(tmp_path.glob("outputs/*/*/metrics.json"))  # stopped before the run, not at bar 0
