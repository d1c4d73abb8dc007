"""TopKSelection: each rule alone and all of them in the documented order, worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from framework.agents import TopKSelection
from framework.core.errors import ConfigError
from framework.core.types import DecisionLog, ExecutionState, TradeProposal

nan = np.nan
TICKERS = ("A", "B", "C", "D", "E", "F")
DATES = np.datetime64("2024-01-01") + np.arange(3)


def state(
    current: list[float],
    signal: list[float],
    confidence: list[float] | None = None,
    log: DecisionLog | None = None,
) -> ExecutionState:
    """Bar 1 holding ``current`` weights (an equity of 1 at prices of 1)."""
    n = len(current)
    out = ExecutionState.empty(TICKERS[:n])
    out.bar, out.date = 1, DATES[1]
    out.close = np.ones(n)
    out.positions = np.array(current, dtype=float)
    out.equity = 1.0
    out.signal = np.array(signal, dtype=float)
    out.confidence = np.ones(n) if confidence is None else np.array(confidence, dtype=float)
    if log is not None:
        out.log = log
    return out


def select(agent: TopKSelection, targets: list[float], current: list[float], signal: list[float], **kwargs: object):
    log = DecisionLog()
    agent.name = "selection"
    out = agent.propose(TradeProposal(np.array(targets, dtype=float)), state(current, signal, log=log, **kwargs))  # type: ignore[arg-type]
    return out.target_weights, log.to_frame(DATES, TICKERS[: len(targets)])


class TestTopKSelection:
    # --- min_signal ----------------------------------------------------------------------------------------

    def test_min_signal_closes_weak_positions_only(self) -> None:
        out, log = select(TopKSelection(min_signal=0.3), [0.4, 0.3, nan], [0.0, 0.0, 0.2], [0.9, 0.2, 0.1])
        # B (target) and C (held, NaN target) are weak: closed; A keeps its target, nothing is scaled up
        np.testing.assert_array_equal(out, [0.4, 0.0, 0.0])
        assert log["ticker"].tolist() == ["B", "C"]
        assert log["reason"].tolist() == ["|signal| 0.200 < min_signal 0.3", "|signal| 0.100 < min_signal 0.3"]
        assert log["before"].tolist() == [0.3, 0.2] and log["after"].tolist() == [0.0, 0.0]

    def test_min_signal_with_negative_signals(self) -> None:
        out, _ = select(TopKSelection(min_signal=0.3), [-0.4, 0.3], [0.0, 0.0], [-0.5, -0.2])
        np.testing.assert_array_equal(out, [-0.4, 0.0])  # |signal| counts

    # --- max_positions -------------------------------------------------------------------------------------

    def test_top_k_keeps_the_strongest_and_the_gross_exposure(self) -> None:
        targets = [0.2, 0.2, 0.2, -0.2, 0.2]
        out, log = select(TopKSelection(max_positions=2), targets, [0.0] * 5, [0.9, 0.8, 0.3, -0.9, 0.5],
                          confidence=[0.5, 1.0, 1.0, 1.0, 1.0])  # fmt: skip
        # strength |signal| x confidence: A 0.45, B 0.8, C 0.3, D 0.9, E 0.5: keep D and B, at 1.0 / 0.4 each
        np.testing.assert_allclose(out, [0.0, 0.5, 0.0, -0.5, 0.0], rtol=1e-15)
        assert np.abs(out).sum() == pytest.approx(1.0, rel=1e-15)
        assert log["ticker"].tolist() == ["E", "A", "C", "B", "D"]  # dropped strongest first, then the scaling
        assert log["reason"].iloc[0] == "not among the 2 strongest by |signal| x confidence (0.500)"
        assert log["reason"].iloc[3] == "scaled to keep the gross exposure 1.0000 after dropping positions"

    def test_top_k_without_keeping_the_gross_exposure(self) -> None:
        out, _ = select(TopKSelection(max_positions=2, keep_gross_exposure=False), [0.2, 0.2, 0.2], [0.0] * 3,
                        [0.9, 0.3, 0.5])  # fmt: skip
        np.testing.assert_array_equal(out, [0.2, 0.0, 0.2])

    def test_top_k_tie_keeps_the_ticker_further_left(self) -> None:
        out, log = select(TopKSelection(max_positions=2), [0.3, 0.3, 0.3, 0.3], [0.0] * 4, [0.5, 0.9, 0.5, 0.5])
        np.testing.assert_allclose(out, [0.6, 0.6, 0.0, 0.0])
        assert log["ticker"].tolist()[:2] == ["C", "D"]

    def test_top_k_counts_held_positions(self) -> None:
        # C is held (NaN target) and strong: it takes one of the two places; A is dropped
        out, _ = select(TopKSelection(max_positions=2), [0.25, 0.25, nan], [0.0, 0.0, 0.5], [0.2, 0.6, 0.9])
        np.testing.assert_allclose(out, [0.0, 1.0 / 3.0, 2.0 / 3.0], rtol=1e-15)

    def test_top_k_within_the_limit_passes_through(self) -> None:
        proposal = TradeProposal(np.array([0.5, 0.5, 0.0]))
        agent = TopKSelection(max_positions=2)
        assert agent.propose(proposal, state([0.0] * 3, [0.1, 0.2, 0.9])) is proposal

    # --- the no-trade band ---------------------------------------------------------------------------------

    def test_band_skips_small_trades_but_not_closes(self) -> None:
        agent = TopKSelection(min_weight_change=0.05)
        out, log = select(agent, [0.32, 0.0, 0.1, 0.24, nan], [0.3, 0.03, 0.0, 0.3, 0.2], [1.0] * 5)
        # A +0.02: not sent; B -0.03 closes: sent; C +0.1: sent; D -0.06: sent; E held
        np.testing.assert_array_equal(out, [nan, 0.0, 0.1, 0.24, nan])
        assert log[["ticker", "before", "after"]].values.tolist() == [["*", 1.0, 0.0]]
        assert log["reason"].iloc[0] == "1 trade(s) smaller than 0.05 not sent"

    def test_band_skips_a_small_opening_trade(self) -> None:
        out, _ = select(TopKSelection(min_weight_change=0.05), [0.04, 0.5], [0.0, 0.0], [1.0, 1.0])
        np.testing.assert_array_equal(out, [nan, 0.5])

    # --- max_turnover --------------------------------------------------------------------------------------

    def test_turnover_cap_scales_every_trade_to_the_cap(self) -> None:
        current = [0.5, 0.3, 0.0, 0.2]
        targets = [0.2, nan, 0.4, 0.0]  # trades -0.3, 0, +0.4, -0.2: turnover 0.9
        out, log = select(TopKSelection(max_turnover=0.45), targets, current, [1.0] * 4)
        np.testing.assert_allclose(out, [0.5 - 0.15, nan, 0.2, 0.1], rtol=1e-15)
        turnover = np.nansum(np.abs(out - np.array(current)))
        assert turnover == pytest.approx(0.45, rel=1e-14)
        assert log["ticker"].tolist() == ["A", "C", "D"]
        assert set(log["reason"]) == {"turnover 0.9000 > 0.45: trades scaled toward their targets"}

    def test_turnover_within_the_cap_passes_through(self) -> None:
        proposal = TradeProposal(np.array([0.2, nan]))
        assert TopKSelection(max_turnover=0.3).propose(proposal, state([0.0, 0.1], [1.0, 1.0])) is proposal

    # --- together, in the documented order -----------------------------------------------------------------

    def test_every_rule_in_order(self) -> None:
        agent = TopKSelection(max_positions=3, min_signal=0.3, max_turnover=0.4, min_weight_change=0.12)
        current = [0.18, 0.1, 0.0, 0.15, 0.1, 0.0]
        targets = [0.2, 0.2, 0.2, nan, 0.1, 0.1]
        signal = [0.9, 0.1, 0.6, 0.8, 0.5, 0.7]
        out, log = select(agent, targets, current, signal)
        # 1. B's |signal| 0.1 < 0.3: closed. The book is A 0.2, C 0.2, D 0.15 (held), E 0.1, F 0.1: gross 0.75
        # 2. the 3 strongest are A 0.9, D 0.8, F 0.7: C and E closed; A, D, F (gross 0.45) scaled by 0.75 / 0.45
        a, d, f = 0.2 * 0.75 / 0.45, 0.15 * 0.75 / 0.45, 0.1 * 0.75 / 0.45
        # 3. trades A +0.1533, B -0.1 (closes), D +0.1 (< 0.12: not sent), E -0.1 (closes), F +0.1667
        trades = np.array([a - 0.18, -0.1, 0.0, 0.0, -0.1, f])
        assert d - 0.15 < 0.12
        # 4. turnover 0.52 > 0.4: every trade scaled by 0.4 / 0.52
        factor = 0.4 / np.abs(trades).sum()
        expected = np.array(current) + trades * factor
        expected[2] = 0.0  # C: no position, target 0 (dropped), no trade
        expected[3] = nan  # D: under the band
        np.testing.assert_allclose(out, expected, rtol=1e-14)
        assert np.abs(trades).sum() == pytest.approx(0.52)
        assert np.nansum(np.abs(out - np.array(current))) == pytest.approx(0.4, rel=1e-14)
        assert log["reason"].str.split().str[0].tolist() == [
            "|signal|",  # B
            "not", "not",  # C, E
            "scaled", "scaled", "scaled",  # A, D, F
            "1",  # the band
            "turnover", "turnover", "turnover", "turnover",  # A, B, E, F
        ]  # fmt: skip
        assert log["reason"].iloc[3] == "scaled to keep the gross exposure 0.7500 after dropping positions"

    # --- pass-through and checks ---------------------------------------------------------------------------

    def test_bar_without_explicit_targets_passes_through(self) -> None:
        agent = TopKSelection(max_positions=1, min_signal=0.5, max_turnover=0.01, min_weight_change=0.1)
        proposal = TradeProposal(np.full(3, nan))
        log = DecisionLog()
        assert agent.propose(proposal, state([0.3, 0.3, 0.3], [0.1, 0.1, 0.1], log=log)) is proposal
        assert len(log) == 0

    def test_nothing_to_change_returns_the_same_proposal(self) -> None:
        agent = TopKSelection(max_positions=3, min_signal=0.1, max_turnover=1.0, min_weight_change=0.01)
        proposal = TradeProposal(np.array([0.3, 0.3, nan]))
        assert agent.propose(proposal, state([0.0, 0.0, 0.3], [0.5, 0.5, 0.5])) is proposal

    @pytest.mark.parametrize(
        ("kwargs", "key"),
        [
            ({"max_positions": 0}, "max_positions"),
            ({"min_signal": -0.1}, "min_signal"),
            ({"max_turnover": 0.0}, "max_turnover"),
            ({"min_weight_change": -1.0}, "min_weight_change"),
            ({"keep_gross_exposure": "yes"}, "keep_gross_exposure"),
        ],
    )
    def test_bad_parameters(self, kwargs: dict[str, object], key: str) -> None:
        with pytest.raises(ConfigError, match=rf"^{key}: "):
            TopKSelection(**kwargs)  # type: ignore[arg-type]
