"""Properties of every shipped decision-pipeline option, composed from conf/agent with Hydra's compose API.

For each option: after the risk agent every limit holds on every bar by the run's own estimate; no decision up
to bar D changes when prices after D change; cash plus holdings is the equity on every bar; the same inputs give
the same results. The whole-panel paths of the engine give the bar-by-bar loop's results.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from framework.agents import NoOp, Orchestrator, RiskLimits
from framework.aggregation import WeightedAverage
from framework.backtest import PortfolioStrategy, Sleeve, StrategySlot, run_backtest
from framework.backtest.result import BacktestResult
from framework.config import CONFIG_DIR
from framework.config.pipeline import build_pipeline
from framework.core import MarketData, held_weights
from framework.data import SyntheticLoader
from framework.execution import SimulatedBroker
from framework.strategies import MACrossover

SIZING = ["none", "equal_weight", "fixed_allocation", "signal_weighted", "inverse_volatility", "risk_parity",
          "min_variance", "hrp"]  # fmt: skip
#: (label, overrides): every sizing option under the original limits, then the other stages and risk options.
PIPELINES: list[tuple[str, list[str]]] = [
    *[(f"{name}+limits", [f"agent/sizing={name}", "agent/risk=limits"]) for name in SIZING],
    ("risk_managed", ["agent=risk_managed"]),
    (
        "rp+historical_var+contribution",
        [
            "agent/sizing=risk_parity",
            "agent/risk=limits",
            "agent.risk.var_method=historical",
            "agent.risk.position_risk=contribution",
            "agent.risk.cvar_limit=0.025",
        ],
    ),  # fmt: skip
    (
        "ew+limits_ewma",
        [
            "agent/risk=limits",
            "agent.risk.covariance=ewma",
            "agent.risk.halflife=40",
            "agent.risk.max_portfolio_risk=0.1",
        ],
    ),  # fmt: skip
    ("ew+limits_ledoit_wolf", ["agent/risk=limits", "agent.risk.covariance=ledoit_wolf", "agent.risk.var_limit=0.01"]),
    (
        "ew+drawdown_rules",
        [
            "agent.risk.max_position_drawdown=0.1",
            "agent.risk.max_portfolio_drawdown=0.08",
            "agent.risk.drawdown_cooldown=5",
        ],
    ),  # fmt: skip
    (
        "ew+long_short+selection+correlation",
        [
            "agent.sizing.long_only=false",
            "agent/selection=top_k",
            "agent.selection.max_positions=4",
            "agent.selection.max_turnover=0.5",
            "agent.selection.min_weight_change=0.01",
            "agent/correlation=threshold",
            "agent.correlation.update_frequency=daily",
        ],
    ),  # fmt: skip
    (
        "ivol_adaptive_bounded+limits_reordered",
        [
            "agent/sizing=inverse_volatility",
            "agent.sizing.adaptive=true",
            "agent.sizing.max_position_size=0.2",
            "agent/risk=limits",
            "agent.order=[sizing,risk,selection,correlation,execution]",
        ],
    ),  # fmt: skip
]


@pytest.fixture(scope="module")
def compose_agent() -> Iterator[Any]:
    """The resolved ``agent`` section of the real config under some overrides."""
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):

        def _compose(overrides: list[str]) -> dict[str, Any]:
            cfg = compose(config_name="config", overrides=[*overrides, "tracking=none"])
            agent = OmegaConf.to_container(cfg.agent, resolve=True)
            assert isinstance(agent, dict)
            return agent

        yield _compose


def panel(seed: int = 5, days: int = 420) -> MarketData:
    return SyntheticLoader(n_tickers=8, n_days=days, seed=seed, annual_volatility=0.3).load()


def run(data: MarketData, spec: dict[str, Any]) -> tuple[BacktestResult, Orchestrator]:
    slot = StrategySlot("ma", MACrossover(short_window=5, long_window=20))
    signals = PortfolioStrategy([Sleeve(data.tickers, [slot], WeightedAverage())]).generate(data)
    orchestrator = build_pipeline(spec)
    allocation = np.full(data.n_tickers, 1.0 / data.n_tickers)
    result = run_backtest(data, signals, orchestrator, SimulatedBroker(initial_cash=1e6), allocation)
    return result, orchestrator


def perturbed(data: MarketData, after: int, seed: int) -> MarketData:
    """The same panel with every price after bar ``after`` moved by a random walk (open, high, low alike)."""
    rng = np.random.default_rng(seed)
    factor = np.ones(data.shape)
    factor[after + 1 :] = np.exp(rng.normal(0.0, 0.08, factor[after + 1 :].shape).cumsum(axis=0))
    fields = {name: data.field(name) * factor for name in ("open", "high", "low", "close")}
    return MarketData(data.dates, data.tickers, volume=data.volume, **fields)


@pytest.mark.parametrize(("label", "overrides"), PIPELINES, ids=[label for label, _ in PIPELINES])
class TestEveryPipelineOption:
    def test_limits_hold_after_the_risk_agent(self, label: str, overrides: list[str], compose_agent: Any) -> None:
        data = panel()
        result, orchestrator = run(data, compose_agent(overrides))
        risk = next((a for a in orchestrator.agents if isinstance(a, RiskLimits) and a.enabled), None)
        if risk is None or risk.history_needed() == 0:
            pytest.skip("no limits in this pipeline")
        stages = list(orchestrator.stage_names)
        later = [orchestrator.agents[i] for i in range(stages.index(risk.name) + 1, len(stages))]
        if any(not isinstance(agent, NoOp) for agent in later):
            pytest.skip("stages after the risk agent may change its output")
        weights = result.weights()
        checked = 0
        for t in range(data.n_days):
            held = held_weights(result.target_weights[t], weights[t])
            if not held.any():
                continue
            assert t >= risk.min_history, f"bar {t}: positions before the risk estimate exists"
            measures = risk.measure(t, held)
            slack = 1 + 1e-9
            for limit, value in ((risk.max_portfolio_risk, measures.volatility), (risk.var_limit, measures.var),
                                 (risk.cvar_limit, measures.cvar)):  # fmt: skip
                if limit is not None:
                    assert value <= limit * slack, f"bar {t}: {value} > {limit}"
            if risk.max_position_risk is not None:
                assert measures.position_risk.max() <= risk.max_position_risk * slack, f"bar {t}"
            checked += 1
        if label.startswith("none"):
            assert checked == 0  # no sizing stage: nothing is ever held
            return
        assert checked > 100
        assert result.agent_series["at_limit"].sum() > 0  # the limits did bind: the property is not vacuous

    def test_no_decision_up_to_d_changes_with_prices_after_d(
        self, label: str, overrides: list[str], compose_agent: Any
    ) -> None:
        data = panel()
        cut = 300
        a, _ = run(data, compose_agent(overrides))
        b, _ = run(perturbed(data, cut, seed=len(label)), compose_agent(overrides))
        rows = slice(0, cut + 1)
        np.testing.assert_array_equal(a.target_weights[rows], b.target_weights[rows])
        np.testing.assert_array_equal(a.equity[rows], b.equity[rows])
        log_a, log_b = a.decisions_frame(), b.decisions_frame()
        before_a, before_b = log_a[log_a["bar"] <= cut], log_b[log_b["bar"] <= cut]
        assert before_a.equals(before_b.reset_index(drop=True).set_axis(before_a.index))
        if "none" not in label:
            assert not np.array_equal(a.target_weights[cut + 1 :], b.target_weights[cut + 1 :], equal_nan=True)

    def test_books_balance_and_runs_repeat(self, label: str, overrides: list[str], compose_agent: Any) -> None:
        data = panel(seed=9)
        a, _ = run(data, compose_agent(overrides))
        b, _ = run(panel(seed=9), compose_agent(overrides))
        holdings = (a.positions * data.close).sum(axis=1)
        np.testing.assert_allclose(a.cash + holdings, a.equity, rtol=1e-12)
        np.testing.assert_array_equal(a.equity, b.equity)
        np.testing.assert_array_equal(a.target_weights, b.target_weights)
        assert a.decisions_frame().equals(b.decisions_frame())
        gross = np.abs(a.weights()).sum(axis=1)
        assert gross.max() <= 10.0


class SlowNoOp(NoOp):
    """A no-op stage without a whole-panel form: forces the bar-by-bar agent loop."""

    @property
    def supports_panel(self) -> bool:
        return False


class TestEnginePathsAgree:
    @pytest.mark.parametrize("rebalance", ["every_bar", "on_change", "never", "monthly", 7])
    @pytest.mark.parametrize("broker", [SimulatedBroker(), SimulatedBroker(cost_bps=5.0, fractional_shares=False)])
    def test_panel_targets_give_the_loop_results(self, rebalance: str | int, broker: SimulatedBroker) -> None:
        from framework.agents import EqualWeightSizing

        data = panel(seed=3)
        slot = StrategySlot("ma", MACrossover(short_window=5, long_window=20))
        signals = PortfolioStrategy([Sleeve(data.tickers, [slot], WeightedAverage())]).generate(data)
        fast = run_backtest(data, signals, Orchestrator({"sizing": EqualWeightSizing(rebalance=rebalance)}), broker)
        slow = run_backtest(
            data, signals, Orchestrator({"sizing": EqualWeightSizing(rebalance=rebalance), "x": SlowNoOp()}), broker
        )
        np.testing.assert_allclose(fast.equity, slow.equity, rtol=1e-12)
        np.testing.assert_allclose(fast.positions, slow.positions, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(fast.target_weights, slow.target_weights)
        np.testing.assert_array_equal(fast.trade_bar, slow.trade_bar)
        assert fast.decisions_frame().equals(slow.decisions_frame())
