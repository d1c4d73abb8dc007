from __future__ import annotations

import numpy as np
import pytest

from framework.agents import FixedAllocationSizing
from framework.core import AgentError, ConfigError, ExecutionState, TradeProposal


def state_with(signal: list[float], allocation: list[float] | None, bar: int = 0) -> ExecutionState:
    state = ExecutionState.empty(tuple(f"T{i}" for i in range(len(signal))))
    state.bar, state.signal = bar, np.array(signal)
    state.allocation = None if allocation is None else np.array(allocation)
    return state


def propose(agent: FixedAllocationSizing, state: ExecutionState) -> np.ndarray:
    return agent.propose(TradeProposal(np.full(len(state.tickers), np.nan)), state).target_weights


class TestFixedAllocationSizing:
    def test_allocation_of_long_tickers_rest_in_cash(self) -> None:
        agent = FixedAllocationSizing()
        agent.prepare(None, None)
        targets = propose(agent, state_with([1.0, -0.5, np.nan, 0.2], [0.4, 0.3, 0.2, 0.1]))
        np.testing.assert_allclose(targets, [0.4, 0.0, 0.0, 0.1])
        assert targets.sum() == pytest.approx(0.5)  # unlike equal weight, nothing is re-spread

    def test_shorts_and_signal_scaling(self) -> None:
        agent = FixedAllocationSizing(long_only=False, scale_by_signal=True, threshold=0.1)
        agent.prepare(None, None)
        targets = propose(agent, state_with([0.5, -0.8, 0.05, 3.0], [0.4, 0.3, 0.2, 0.1]))
        np.testing.assert_allclose(targets, [0.2, -0.24, 0.0, 0.1])

    def test_changes_are_logged_and_on_change_sends_only_changes(self) -> None:
        agent = FixedAllocationSizing(rebalance="on_change")
        agent.prepare(None, None)
        first = state_with([1.0, 1.0], [0.5, 0.5], bar=0)
        np.testing.assert_allclose(propose(agent, first), [0.5, 0.5])
        second = state_with([1.0, 1.0], [0.5, 0.5], bar=1)
        second.log = first.log
        assert np.isnan(propose(agent, second)).all()
        third = state_with([1.0, -1.0], [0.5, 0.5], bar=2)
        third.log = first.log
        np.testing.assert_allclose(propose(agent, third), [0.5, 0.0])
        log = first.log.to_frame(np.arange(3).astype("datetime64[D]"), ("T0", "T1"))
        assert log[["bar", "ticker", "before", "after"]].values.tolist() == [
            [0, "T0", 0.0, 0.5], [0, "T1", 0.0, 0.5], [2, "T1", 0.5, 0.0],
        ]  # fmt: skip

    def test_needs_an_allocation(self) -> None:
        agent = FixedAllocationSizing()
        agent.name = "sizing"
        agent.prepare(None, None)
        with pytest.raises(AgentError, match="agent.sizing: fixed allocation sizing needs the portfolio's"):
            propose(agent, state_with([1.0], None))

    @pytest.mark.parametrize(
        ("params", "key"),
        [({"threshold": -1}, "threshold"), ({"long_only": "yes"}, "long_only"), ({"rebalance": "yearly"}, "rebalance")],
    )
    def test_invalid_parameters(self, params: dict, key: str) -> None:
        with pytest.raises(ConfigError, match=f"^{key}: must be"):
            FixedAllocationSizing(**params)
