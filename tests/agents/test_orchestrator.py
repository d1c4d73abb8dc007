import numpy as np
import pytest

from framework.agents import Agent, EqualWeightSizing, Orchestrator
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import ExecutionState, SignalFrame, TradeProposal

nan = np.nan


class AppendName(Agent):
    """Records which agents ran, in order, in the proposal it passes on (and what it received)."""

    def __init__(self, value: float = 1.0) -> None:
        self.value = value
        self.received: list[np.ndarray] = []
        self.prepared_with: tuple[int, int] | None = None

    def prepare(self, data: MarketData, signals: SignalFrame) -> None:
        self.prepared_with = data.shape
        self.received = []

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        self.received.append(proposal.target_weights.copy())
        trail = [*getattr(proposal, "trail", []), self.name]
        out = TradeProposal(np.where(np.isnan(proposal.target_weights), 0.0, proposal.target_weights) + self.value)
        out.trail = trail  # type: ignore[attr-defined]
        return out


class Scribble(Agent):
    """Writes into the proposal it receives, to check each bar starts from a fresh blank proposal."""

    def __init__(self) -> None:
        self.received: list[np.ndarray] = []

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        self.received.append(proposal.target_weights.copy())
        proposal.target_weights[:] = 7.0
        return proposal


def data(tickers: int = 3) -> MarketData:
    return MarketData(np.array(["2024-01-01"], dtype="datetime64[D]"), tuple("ABCDE"[:tickers]), np.ones((1, tickers)))


def signals(tickers: int = 3) -> SignalFrame:
    return SignalFrame(np.ones((1, tickers)), np.ones((1, tickers)))


def state(tickers: int = 3, bar: int = 0) -> ExecutionState:
    out = ExecutionState.empty(tuple("ABCDE"[:tickers]))
    out.bar = bar
    out.signal = np.ones(tickers)
    return out


class TestOrchestrator:
    def test_agents_run_in_config_order(self) -> None:
        first, second, third = AppendName(1.0), AppendName(10.0), AppendName(100.0)
        orchestrator = Orchestrator({"zeta": first, "alpha": second, "mid": third}, max_gross_exposure=1e6)
        orchestrator.prepare(data(), signals())
        proposal = orchestrator.decide(state())
        assert proposal.trail == ["zeta", "alpha", "mid"]  # type: ignore[attr-defined]
        np.testing.assert_array_equal(proposal.target_weights, [111.0] * 3)
        # each agent received the previous one's proposal; the first an all-NaN one
        np.testing.assert_array_equal(first.received[0], [nan] * 3)
        np.testing.assert_array_equal(second.received[0], [1.0] * 3)
        np.testing.assert_array_equal(third.received[0], [11.0] * 3)

    def test_reversed_order_reverses_the_pipeline(self) -> None:
        first, second = AppendName(1.0), AppendName(10.0)
        orchestrator = Orchestrator({"second": second, "first": first}, max_gross_exposure=1e6)
        orchestrator.prepare(data(), signals())
        assert orchestrator.decide(state()).trail == ["second", "first"]  # type: ignore[attr-defined]
        np.testing.assert_array_equal(first.received[0], [10.0] * 3)

    def test_stage_names_become_agent_names(self) -> None:
        sizing, risk = EqualWeightSizing(), AppendName()
        orchestrator = Orchestrator({"sizing": sizing, "risk_cap": risk})
        assert orchestrator.stage_names == ("sizing", "risk_cap")
        assert (sizing.name, risk.name) == ("sizing", "risk_cap")
        assert orchestrator.agents == (sizing, risk)

    def test_sequence_of_agents_keeps_their_names(self) -> None:
        one, two = AppendName(), AppendName()
        one.name, two.name = "one", "two"
        orchestrator = Orchestrator([two, one])
        assert orchestrator.stage_names == ("two", "one")
        orchestrator.prepare(data(), signals())
        assert orchestrator.decide(state()).trail == ["two", "one"]  # type: ignore[attr-defined]

    def test_prepare_reaches_every_agent(self) -> None:
        agents = {"a": AppendName(), "b": AppendName()}
        Orchestrator(agents).prepare(data(4), signals(4))
        assert [a.prepared_with for a in agents.values()] == [(1, 4), (1, 4)]

    def test_every_bar_starts_from_a_fresh_blank_proposal(self) -> None:
        scribble = Scribble()
        orchestrator = Orchestrator({"scribble": scribble, "record": AppendName(0.0)}, max_gross_exposure=1e6)
        orchestrator.prepare(data(), signals())
        orchestrator.decide(state(bar=0))
        orchestrator.decide(state(bar=1))
        # Scribble wrote 7 into its input on bar 0; bar 1 must still start from NaN.
        np.testing.assert_array_equal(scribble.received, [[nan] * 3, [nan] * 3])
        np.testing.assert_array_equal(orchestrator.agents[1].received, [[7.0] * 3, [7.0] * 3])  # type: ignore[attr-defined]

    def test_decide_with_equal_weight_sizing(self) -> None:
        orchestrator = Orchestrator({"sizing": EqualWeightSizing()})
        orchestrator.prepare(data(), signals())
        current = state()
        current.signal = np.array([1.0, -1.0, 0.5])
        np.testing.assert_array_equal(orchestrator.decide(current).target_weights, [0.5, 0.0, 0.5])

    @pytest.mark.parametrize("agents", [{}, []])
    def test_empty_pipeline(self, agents: object) -> None:
        with pytest.raises(ConfigError, match=r"^agent: the pipeline needs at least one agent"):
            Orchestrator(agents)  # type: ignore[arg-type]

    @pytest.mark.parametrize("stage", [3, "not an agent", {"_target_": "x"}, EqualWeightSizing])
    def test_non_agent_stage_names_the_stage(self, stage: object) -> None:
        with pytest.raises(ConfigError) as info:
            Orchestrator({"sizing": EqualWeightSizing(), "risk": stage})  # type: ignore[dict-item]
        message = str(info.value)
        assert message.startswith("agent.risk: expected an agent")
        assert type(stage).__name__ in message

    def test_non_agent_in_a_sequence(self) -> None:
        with pytest.raises(ConfigError, match=r"^agent\."):
            Orchestrator([EqualWeightSizing(), 3])  # type: ignore[list-item]
