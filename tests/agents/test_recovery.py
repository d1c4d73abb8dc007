"""Recovery of the orchestrator's stages: raise, skip, hold, fallback chains, output checks, the shipped preset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from framework.agents import Agent, EqualWeightSizing, FixedAllocationSizing, NoOp, Orchestrator, Recovery
from framework.agents.base import RunContext
from framework.backtest.engine import run_backtest
from framework.config.pipeline import build_pipeline
from framework.core.errors import AgentError, ConfigError, EstimationError
from framework.core.market_data import MarketData
from framework.core.types import ExecutionState, SignalFrame, TradeProposal
from framework.execution.broker import SimulatedBroker

nan = np.nan
ROOT = Path(__file__).resolve().parents[2]
TICKERS = ("A", "B", "C")
DATES = np.datetime64("2024-01-01") + np.arange(6)


class Propose(Agent):
    """Proposes fixed targets; counts its calls."""

    def __init__(self, weights: list[float]) -> None:
        self.weights = weights
        self.calls = 0

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        self.calls += 1
        return TradeProposal(np.array(self.weights, dtype=float))


class Fail(Agent):
    """Raises ``error`` on the bars listed (every bar when None); passes the proposal on the others."""

    def __init__(self, error: BaseException, bars: tuple[int, ...] | None = None) -> None:
        self.error = error
        self.bars = bars
        self.calls = 0

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        self.calls += 1
        if self.bars is None or state.bar in self.bars:
            raise self.error
        return proposal


class Add(Agent):
    """Adds ``value`` to every target (NaN counts as 0); records what it received."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.received: list[np.ndarray] = []

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        self.received.append(proposal.target_weights.copy())
        return TradeProposal(np.nan_to_num(proposal.target_weights) + self.value)


def data(days: int = 6) -> MarketData:
    return MarketData(DATES[:days], TICKERS, np.full((days, 3), 10.0))


def signals(days: int = 6) -> SignalFrame:
    return SignalFrame(np.ones((days, 3)), np.ones((days, 3)))


def decide(orchestrator: Orchestrator, bar: int = 2) -> tuple[TradeProposal, ExecutionState]:
    orchestrator.prepare(data(), signals())
    state = ExecutionState.empty(TICKERS)
    state.bar, state.date, state.close = bar, DATES[bar], np.full(3, 10.0)
    state.signal = np.ones(3)
    return orchestrator.decide(state), state


def log_rows(state: ExecutionState) -> list[list[object]]:
    frame = state.log.to_frame(DATES, TICKERS)
    return frame[["bar", "agent", "ticker", "reason"]].values.tolist()


class TestRecovery:
    def test_policies_and_chain(self) -> None:
        second, third = Propose([0.1] * 3), Propose([0.2] * 3)
        recovery = Recovery("fallback", second, Recovery("fallback", third, Recovery("hold")))
        assert recovery.agents() == [second, third]
        assert Recovery().on_error == "raise" and Recovery("skip").agents() == []

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("retry",), r"^on_error: must be one of raise, skip, hold, fallback"),
            (("fallback",), r"^on_error: 'fallback' needs a fallback agent"),
            (("skip", EqualWeightSizing()), r"^fallback: a fallback agent is only used with on_error: fallback, not"),
            (("fallback", "EqualWeightSizing"), r"^fallback: expected an agent, got str"),
        ],
    )  # fmt: skip
    def test_bad_recovery(self, args: tuple[object, ...], message: str) -> None:
        with pytest.raises(ConfigError, match=message):
            Recovery(*args)  # type: ignore[arg-type]


class TestOrchestratorRecovery:
    # --- the four policies ---------------------------------------------------------------------------------

    def test_raise_names_the_stage_the_bar_and_the_date(self) -> None:
        cause = EstimationError("C has zero variance")
        orchestrator = Orchestrator({"sizing": Propose([0.2] * 3), "risk": Fail(cause)})
        with pytest.raises(AgentError) as info:
            decide(orchestrator, bar=2)
        assert str(info.value) == "agent.risk on bar 2 (2024-01-03): C has zero variance"
        assert info.value.__cause__ is cause
        assert orchestrator.recoveries_.sum() == 0

    def test_skip_passes_the_input_on(self) -> None:
        sizing, after = Propose([0.2, 0.3, 0.0]), Add(0.0)
        orchestrator = Orchestrator(
            {"sizing": sizing, "risk": Fail(AgentError("no estimate")), "after": after},
            recovery={"risk": Recovery("skip")},
        )
        out, state = decide(orchestrator)
        np.testing.assert_array_equal(after.received[0], [0.2, 0.3, 0.0])
        np.testing.assert_array_equal(out.target_weights, [0.2, 0.3, 0.0])
        assert log_rows(state) == [[2, "risk", "*", "recovered: skipped for this bar; failed: risk (no estimate)"]]
        assert orchestrator.recoveries_[:, 2].tolist() == [0, 1, 0]

    def test_hold_sends_no_orders(self) -> None:
        after = Add(0.5)
        orchestrator = Orchestrator(
            {"sizing": Propose([0.2] * 3), "risk": Fail(np.linalg.LinAlgError("Singular matrix")), "after": after},
            recovery={"risk": Recovery("hold")},
        )
        out, state = decide(orchestrator)
        np.testing.assert_array_equal(after.received[0], [nan, nan, nan])
        np.testing.assert_array_equal(out.target_weights, [0.5] * 3)
        assert log_rows(state) == [
            [2, "risk", "*", "recovered: held: no orders this bar; failed: risk (Singular matrix)"]
        ]

    def test_hold_of_the_last_stage(self) -> None:
        orchestrator = Orchestrator({"sizing": Fail(FloatingPointError())}, recovery={"sizing": Recovery("hold")})
        out, state = decide(orchestrator)
        np.testing.assert_array_equal(out.target_weights, [nan] * 3)
        assert log_rows(state)[0][3] == "recovered: held: no orders this bar; failed: sizing (FloatingPointError)"

    def test_fallback_answers(self) -> None:
        fallback = Propose([0.1, 0.2, 0.3])
        orchestrator = Orchestrator(
            {"sizing": Fail(EstimationError("solver did not converge"))},
            recovery={"sizing": Recovery("fallback", fallback)},
        )
        out, state = decide(orchestrator)
        np.testing.assert_array_equal(out.target_weights, [0.1, 0.2, 0.3])
        assert fallback.name == "sizing.fallback"
        assert log_rows(state) == [
            [2, "sizing", "*",
             "recovered: answered by sizing.fallback (Propose); failed: sizing (solver did not converge)"],
        ]  # fmt: skip

    def test_fallback_chain_of_two(self) -> None:
        first, second = Fail(EstimationError("bang")), Propose([0.3, 0.3, 0.3])
        orchestrator = Orchestrator(
            {"sizing": Fail(EstimationError("boom"))},
            recovery={"sizing": Recovery("fallback", first, Recovery("fallback", second))},
        )
        orchestrator.prepare(data(), signals())
        assert (first.name, second.name) == ("sizing.fallback", "sizing.fallback.fallback")
        for bar in (1, 3):
            out, state = decide(orchestrator, bar=bar)
            np.testing.assert_array_equal(out.target_weights, [0.3] * 3)
        assert log_rows(state) == [
            [3, "sizing", "*", "recovered: answered by sizing.fallback.fallback (Propose); "
             "failed: sizing (boom); sizing.fallback (bang)"],
        ]  # fmt: skip
        assert orchestrator.recoveries_.tolist() == [[0, 0, 0, 1, 0, 0]]  # prepare resets the counts
        assert first.calls == 2 and second.calls == 2

    def test_fallback_chain_ending_in_hold(self) -> None:
        orchestrator = Orchestrator(
            {"sizing": Fail(EstimationError("boom"))},
            recovery={"sizing": Recovery("fallback", Fail(AgentError("bang")), Recovery("hold"))},
        )
        out, state = decide(orchestrator)
        np.testing.assert_array_equal(out.target_weights, [nan] * 3)
        assert (
            log_rows(state)[0][3]
            == "recovered: held: no orders this bar; failed: sizing (boom); sizing.fallback (bang)"
        )

    def test_fallback_chain_ending_in_raise_names_the_last_agent(self) -> None:
        orchestrator = Orchestrator(
            {"sizing": Fail(EstimationError("boom"))},
            recovery={"sizing": Recovery("fallback", Fail(AgentError("bang")))},
        )
        with pytest.raises(AgentError, match=r"^agent\.sizing\.fallback on bar 2 \(2024-01-03\): bang$"):
            decide(orchestrator)

    def test_a_bar_that_works_is_not_recovered(self) -> None:
        orchestrator = Orchestrator(
            {"sizing": Propose([0.2] * 3), "risk": Fail(AgentError("x"), bars=(4,))},
            recovery={"risk": Recovery("skip")},
        )
        orchestrator.prepare(data(), signals())
        for bar in range(6):
            state = ExecutionState.empty(TICKERS)
            state.bar, state.date = bar, DATES[bar]
            orchestrator.decide(state)
        assert orchestrator.recoveries_.tolist() == [[0] * 6, [0, 0, 0, 0, 1, 0]]
        assert list(orchestrator.series()) == ["recoveries_sizing", "recoveries_risk"]

    def test_error_message_with_braces_is_logged_as_it_is(self) -> None:
        orchestrator = Orchestrator(
            {"sizing": Fail(AgentError("weights {'A': 0.5} do not sum to 1"))}, recovery={"sizing": Recovery("hold")}
        )
        _, state = decide(orchestrator)
        assert (
            log_rows(state)[0][3]
            == "recovered: held: no orders this bar; failed: sizing (weights {'A': 0.5} do not sum to 1)"
        )

    # --- what is never recovered ---------------------------------------------------------------------------

    @pytest.mark.parametrize("policy", ["skip", "hold", "fallback"])
    def test_config_error_is_never_recovered(self, policy: str) -> None:
        fallback = Propose([0.1] * 3)
        recovery = Recovery(policy, fallback if policy == "fallback" else None)
        error = ConfigError("agent.sizing.lookback: must be >= 2")
        orchestrator = Orchestrator({"sizing": Fail(error)}, recovery={"sizing": recovery})
        with pytest.raises(ConfigError) as info:
            decide(orchestrator)
        assert info.value is error
        assert fallback.calls == 0 and orchestrator.recoveries_.sum() == 0

    def test_other_exceptions_are_not_recovered(self) -> None:
        orchestrator = Orchestrator({"sizing": Fail(KeyError("A"))}, recovery={"sizing": Recovery("skip")})
        with pytest.raises(KeyError):
            decide(orchestrator)

    # --- the output checks ---------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("weights", "message"),
        [
            ([0.2, np.inf, 0.2], r"the targets' gross exposure \(sum of \|weight\|\) is inf; it must be finite and at "
                                 r"most agent\.max_gross_exposure = 1\.5$"),
            ([0.2, -np.inf, nan], r"the targets' gross exposure \(sum of \|weight\|\) is inf"),
            ([1.0, -0.6, nan], r"the targets' gross exposure \(sum of \|weight\|\) is 1\.6; .* = 1\.5$"),
            ([0.2, 0.2], r"proposed targets of shape \(2,\), expected \(3,\), one per ticker$"),
            ([[0.2, 0.2, 0.2]], r"proposed targets of shape \(1, 3\), expected \(3,\), one per ticker$"),
        ],
    )  # fmt: skip
    def test_bad_output_is_an_agent_error(self, weights: list[float], message: str) -> None:
        orchestrator = Orchestrator({"sizing": Propose([0.2] * 3), "risk": Propose(weights)}, max_gross_exposure=1.5)
        with pytest.raises(AgentError, match=r"^agent\.risk on bar 4 \(2024-01-05\): " + message):
            decide(orchestrator, bar=4)

    def test_gross_exposure_at_the_maximum_is_allowed(self) -> None:
        orchestrator = Orchestrator({"sizing": Propose([1.0, -0.5, nan])}, max_gross_exposure=1.5)
        out, _ = decide(orchestrator)
        np.testing.assert_array_equal(out.target_weights, [1.0, -0.5, nan])

    def test_bad_output_is_recovered_by_the_stage_policy(self) -> None:
        fallback = Propose([0.1, 0.1, 0.1])
        orchestrator = Orchestrator(
            {"sizing": Propose([0.2] * 3), "risk": Propose([0.2, np.inf, 0.2])},
            recovery={"risk": Recovery("fallback", fallback)},
        )
        out, state = decide(orchestrator)
        np.testing.assert_array_equal(out.target_weights, [0.1] * 3)
        reason = log_rows(state)[0][3]
        assert reason.startswith("recovered: answered by risk.fallback (Propose); failed: risk (agent.risk on bar 2")
        assert "gross exposure (sum of |weight|) is inf" in reason

    def test_bad_output_of_a_fallback_continues_the_chain(self) -> None:
        orchestrator = Orchestrator(
            {"sizing": Fail(EstimationError("boom"))},
            recovery={"sizing": Recovery("fallback", Propose([5.0, 5.0, 5.0]), Recovery("skip"))},
            max_gross_exposure=2.0,
        )
        out, state = decide(orchestrator)
        np.testing.assert_array_equal(out.target_weights, [nan] * 3)
        assert "failed: sizing (boom); sizing.fallback (agent.sizing.fallback on bar 2" in log_rows(state)[0][3]

    def test_fallbacks_are_checked_before_the_loop(self) -> None:
        orchestrator = Orchestrator(
            {"sizing": Propose([0.2] * 3)}, recovery={"sizing": Recovery("fallback", FixedAllocationSizing())}
        )
        with pytest.raises(ConfigError, match=r"^agent\.sizing\.fallback: FixedAllocationSizing requires"):
            orchestrator.check(RunContext(n_days=6, tickers=TICKERS))

    def test_recovery_for_an_unknown_stage(self) -> None:
        with pytest.raises(ConfigError, match=r"^agent: recovery given for unknown stage\(s\) risk$"):
            Orchestrator({"sizing": Propose([0.2] * 3)}, recovery={"risk": Recovery("skip")})

    # --- a run through the engine --------------------------------------------------------------------------

    def test_error_in_a_run_names_the_bar_and_the_date(self) -> None:
        orchestrator = Orchestrator({"sizing": Propose([0.2] * 3), "risk": Fail(AgentError("boom"), bars=(3,))})
        with pytest.raises(AgentError, match=r"^agent\.risk on bar 3 \(2024-01-04\): boom$"):
            run_backtest(data(), signals(), orchestrator, SimulatedBroker())

    @pytest.mark.parametrize("after", ["panel", "loop"])
    def test_bad_output_in_a_run_names_the_stage_at_fault(self, after: str) -> None:
        # NoOp can compute the whole panel at once (the engine then skips the loop); Fail with no bars cannot
        second = NoOp() if after == "panel" else Fail(AgentError("never"), bars=())
        orchestrator = Orchestrator({"sizing": EqualWeightSizing(gross_exposure=2.0), "risk": second},
                                    max_gross_exposure=1.5)  # fmt: skip
        assert orchestrator.supports_panel == (after == "panel")
        with pytest.raises(AgentError, match=r"^agent\.sizing on bar 0 \(2024-01-01\): the targets' gross exposure "
                                             r"\(sum of \|weight\|\) is 2; "):  # fmt: skip
            run_backtest(data(), signals(), orchestrator, SimulatedBroker())

    @pytest.mark.parametrize("after", ["panel", "loop"])
    def test_bad_output_in_a_run_is_recovered(self, after: str) -> None:
        second = NoOp() if after == "panel" else Fail(AgentError("never"), bars=())
        orchestrator = Orchestrator({"sizing": EqualWeightSizing(gross_exposure=2.0), "risk": second},
                                    recovery={"sizing": Recovery("hold")}, max_gross_exposure=1.5)  # fmt: skip
        result = run_backtest(data(), signals(), orchestrator, SimulatedBroker())
        np.testing.assert_array_equal(result.agent_series["recoveries_sizing"], [1] * 6)
        assert np.isnan(result.target_weights).all() and result.trade_quantity.size == 0

    def test_risk_parity_preset_falls_back_twice_on_a_flat_ticker(self) -> None:
        spec = OmegaConf.to_container(OmegaConf.load(ROOT / "conf/agent/sizing/risk_parity.yaml"), resolve=True)
        orchestrator = build_pipeline({"sizing": spec})  # type: ignore[dict-item]
        days = 100
        rng = np.random.default_rng(7)
        close = 100.0 * np.cumprod(1.0 + rng.normal(size=(days, 3)) * 0.01, axis=0)
        close[:, 2] = 50.0  # C never moves: zero variance over any window
        market = MarketData(np.datetime64("2024-01-01") + np.arange(days), TICKERS, close)
        result = run_backtest(market, SignalFrame(np.ones((days, 3)), np.ones((days, 3))), orchestrator,
                              SimulatedBroker())  # fmt: skip
        recoveries = result.agent_series["recoveries_sizing"]
        # risk parity needs 63 returns; from bar 63 on it fails, inverse volatility fails, equal weight answers
        np.testing.assert_array_equal(recoveries, [0] * 63 + [1] * (days - 63))
        frame = result.decisions_frame()
        rows = frame[(frame["agent"] == "sizing") & (frame["ticker"] == "*")]
        assert rows["bar"].tolist() == list(range(63, days))
        reason = rows["reason"].iloc[0]
        assert reason.startswith(
            "recovered: answered by sizing.fallback.fallback (EqualWeightSizing); failed: sizing ("
        )
        assert "; sizing.fallback (inverse volatility: C had no price variation over the last 63 returns" in reason
        assert "failed: sizing (risk parity: C had no price variation over the last 63 returns" in reason
        np.testing.assert_allclose(result.target_weights[63:], 1.0 / 3.0)
        assert np.isnan(result.target_weights[:63]).all()  # warming up: nothing to send
        assert result.positions[-1, 2] > 0  # the run completed holding C
