import numpy as np
import pytest

from framework.agents import EqualWeightSizing, Orchestrator
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog, ExecutionState, SignalFrame, TradeProposal

nan = np.nan
TICKERS = ("A", "B", "C", "D")


def state_for(bar: int, signal: list[float], log: DecisionLog | None = None) -> ExecutionState:
    state = ExecutionState.empty(TICKERS[: len(signal)])
    state.bar = bar
    state.signal = np.array(signal, dtype=float)
    state.confidence = np.ones(len(signal))
    if log is not None:
        state.log = log
    return state


def run(agent: EqualWeightSizing, signals: list[list[float]]) -> tuple[np.ndarray, DecisionLog]:
    """Targets of ``agent`` over several bars driven by hand-made states sharing one log."""
    agent.prepare(None, None)
    log = DecisionLog()
    blank = np.full(len(signals[0]), nan)
    targets = [
        agent.propose(TradeProposal(blank.copy()), state_for(t, s, log)).target_weights for t, s in enumerate(signals)
    ]
    return np.array(targets), log


SIGNALS = [
    [nan, nan, nan, nan],  # warm-up: nothing selected
    [1.0, 0.5, -1.0, 0.0],  # A, B long
    [1.0, 0.2, -0.5, 0.0],  # same selection, other values
    [1.0, -1.0, 1.0, 1.0],  # A, C, D long
    [1.0, -1.0, 1.0, 1.0],  # unchanged
    [-1.0, -1.0, -1.0, -1.0],  # nothing long
]


class TestEqualWeightSizing:
    def test_long_only_by_hand(self) -> None:
        out = EqualWeightSizing().propose(TradeProposal(np.full(4, nan)), state_for(0, [1.0, 0.3, -1.0, nan]))
        np.testing.assert_array_equal(out.target_weights, [0.5, 0.5, 0.0, 0.0])

    def test_long_short_by_hand(self) -> None:
        agent = EqualWeightSizing(long_only=False, gross_exposure=1.5)
        out = agent.propose(TradeProposal(np.full(4, nan)), state_for(0, [1.0, 0.0, -0.2, nan]))
        np.testing.assert_allclose(out.target_weights, [0.75, 0.0, -0.75, 0.0])
        assert np.abs(out.target_weights).sum() == pytest.approx(1.5)

    def test_gross_exposure(self) -> None:
        agent = EqualWeightSizing(gross_exposure=2.0)
        out = agent.propose(TradeProposal(np.full(4, nan)), state_for(0, [1.0, 1.0, 1.0, -1.0]))
        np.testing.assert_allclose(out.target_weights, [2 / 3, 2 / 3, 2 / 3, 0.0])

    def test_threshold(self) -> None:
        signal = [0.3, 0.31, -0.31, -0.3]
        long_only = EqualWeightSizing(threshold=0.3)
        np.testing.assert_allclose(
            long_only.propose(TradeProposal(np.full(4, nan)), state_for(0, signal)).target_weights, [0, 1, 0, 0]
        )
        long_short = EqualWeightSizing(long_only=False, threshold=0.3)
        np.testing.assert_allclose(
            long_short.propose(TradeProposal(np.full(4, nan)), state_for(0, signal)).target_weights,
            [0, 0.5, -0.5, 0],
        )

    def test_nothing_selected_is_all_zero(self) -> None:
        out = EqualWeightSizing().propose(TradeProposal(np.full(3, nan)), state_for(0, [nan, -1.0, 0.0]))
        np.testing.assert_array_equal(out.target_weights, [0.0, 0.0, 0.0])

    def test_every_bar(self) -> None:
        targets, _ = run(EqualWeightSizing(rebalance="every_bar"), SIGNALS)
        third = 1 / 3
        np.testing.assert_allclose(
            targets,
            [
                [0, 0, 0, 0],
                [0.5, 0.5, 0, 0],
                [0.5, 0.5, 0, 0],
                [third, 0, third, third],
                [third, 0, third, third],
                [0, 0, 0, 0],
            ],
        )

    def test_on_change(self) -> None:
        targets, _ = run(EqualWeightSizing(rebalance="on_change"), SIGNALS)
        third = 1 / 3
        np.testing.assert_allclose(
            targets,
            [
                [nan] * 4,  # nothing selected, nothing held: no change
                [0.5, 0.5, 0, 0],
                [nan] * 4,
                [third, 0, third, third],
                [nan] * 4,
                [0, 0, 0, 0],
            ],
        )

    def test_on_change_long_short_flip_is_a_change(self) -> None:
        agent = EqualWeightSizing(long_only=False, rebalance="on_change")
        targets, _ = run(agent, [[1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
        np.testing.assert_allclose(targets, [[0.5, -0.5], [nan, nan], [-0.5, 0.5]])

    def test_never(self) -> None:
        targets, _ = run(EqualWeightSizing(rebalance="never"), SIGNALS)
        expected = np.full((6, 4), nan)
        expected[1] = [0.5, 0.5, 0, 0]  # enters on the first bar where something is selected, then holds
        np.testing.assert_allclose(targets, expected)

    def test_prepare_resets_state(self) -> None:
        agent = EqualWeightSizing(rebalance="never")
        run(agent, SIGNALS)
        targets, _ = run(agent, SIGNALS)  # run() calls prepare first
        np.testing.assert_allclose(targets[1], [0.5, 0.5, 0, 0])

    def test_decision_log_only_when_a_target_changes(self) -> None:
        agent = EqualWeightSizing(rebalance="every_bar")
        agent.name = "sizing"
        _, log = run(agent, SIGNALS)
        frame = log.to_frame(np.datetime64("2024-01-01", "D") + np.arange(6), TICKERS)
        third = 1 / 3
        records = list(zip(frame["bar"], frame["agent"], frame["ticker"], frame["before"], frame["after"], strict=True))
        expected = [
            (1, "sizing", "A", 0.0, 0.5),
            (1, "sizing", "B", 0.0, 0.5),
            (3, "sizing", "A", 0.5, third),
            (3, "sizing", "B", 0.5, 0.0),
            (3, "sizing", "C", 0.0, third),
            (3, "sizing", "D", 0.0, third),
            (5, "sizing", "A", third, 0.0),
            (5, "sizing", "C", third, 0.0),
            (5, "sizing", "D", third, 0.0),
        ]
        assert len(records) == len(expected)
        for got, want in zip(records, expected, strict=True):
            assert got[:3] == want[:3]
            assert got[3:] == pytest.approx(want[3:])
        assert "equal weight" in frame["reason"].iloc[0] and "positive signal" in frame["reason"].iloc[0]
        assert len(log) == 9

    @pytest.mark.parametrize("rebalance", ["on_change", "never"])
    def test_log_is_the_same_whatever_the_rebalance(self, rebalance: str) -> None:
        # Documented: the log follows the target, whether or not an order is sent.
        _, every = run(EqualWeightSizing(), SIGNALS)
        _, other = run(EqualWeightSizing(rebalance=rebalance), SIGNALS)
        dates = np.datetime64("2024-01-01", "D") + np.arange(6)
        assert other.to_frame(dates, TICKERS).equals(every.to_frame(dates, TICKERS))

    def test_log_names_the_stage_given_by_the_orchestrator(self) -> None:
        agent = EqualWeightSizing()
        orchestrator = Orchestrator({"my_sizing": agent})
        data = MarketData(np.array(["2024-01-01"], dtype="datetime64[D]"), ("A", "B"), np.ones((1, 2)))
        orchestrator.prepare(data, SignalFrame(np.ones((1, 2)), np.ones((1, 2))))
        log = DecisionLog()
        orchestrator.decide(state_for(0, [1.0, -1.0], log))
        assert set(log.to_frame(np.array(["2024-01-01"], dtype="datetime64[D]"), TICKERS)["agent"]) == {"my_sizing"}

    @pytest.mark.parametrize(
        ("key", "value", "allowed"),
        [
            ("gross_exposure", 0.0, "> 0 and <= 10"),
            ("gross_exposure", -1, "> 0 and <= 10"),
            ("gross_exposure", 10.5, "> 0 and <= 10"),
            ("gross_exposure", nan, "> 0 and <= 10"),
            ("threshold", -0.1, ">= 0"),
            ("threshold", nan, ">= 0"),
            ("threshold", "0.1", ">= 0"),
            ("rebalance", "yearly", "every_bar, on_change, never, weekly, monthly, quarterly"),
        ],
    )
    def test_invalid_parameters_name_the_key_and_value(self, key: str, value: object, allowed: str) -> None:
        with pytest.raises(ConfigError) as info:
            EqualWeightSizing(**{key: value})  # type: ignore[arg-type]
        message = str(info.value)
        assert message.startswith(f"{key}: must be ")
        assert allowed in message
        assert message.endswith(f"got {value!r}")

    @pytest.mark.parametrize("value", ["1", None])
    def test_non_numeric_gross_exposure(self, value: object) -> None:
        with pytest.raises(ConfigError, match="^gross_exposure: "):
            EqualWeightSizing(gross_exposure=value)  # type: ignore[arg-type]

    def test_params_are_stored_unchanged(self) -> None:
        agent = EqualWeightSizing(long_only=False, gross_exposure=2, threshold=0.1, rebalance="never")
        assert agent.get_params() == {
            "long_only": False,
            "gross_exposure": 2,
            "threshold": 0.1,
            "rebalance": "never",
            "min_position_size": 0.0,
            "max_position_size": None,
            "adaptive": False,
            "learning_rate": 0.1,
            "adaptation_period": 21,
        }
