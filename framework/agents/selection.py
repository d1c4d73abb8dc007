"""Trade selection under portfolio constraints (the original design's TradeSelector).

On a bar with new targets (some target is not NaN), over the portfolio those targets describe (the target where
set, the current weight where NaN), in this order:

1. ``min_signal``: positions whose ``|signal|`` is below it are closed;
2. ``max_positions``: only the k positions with the largest ``|signal| x confidence`` are kept (on a tie, the
   ticker further left), the others are closed; with ``keep_gross_exposure`` the kept ones are scaled up so the
   sum of absolute weights stays what it was before the drops, none above ``max_position_size`` (the excess is
   spread over the others in proportion, what cannot be placed stays in cash);
3. ``min_weight_change`` (a no-trade band): a trade that changes a weight by less than this is not sent (the
   position is kept as it is), except a trade that closes a position;
4. ``max_turnover``: when the trades of the bar add up to more than this (sum of ``|target - current|``), every
   trade is scaled toward its target by ``max_turnover / turnover``.

A bar without new targets (every target NaN) passes through: selection acts on rebalances, not on drift.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from framework.agents.base import Agent
from framework.agents.sizing import bound_positions
from framework.core.checks import check_bool, check_int, check_number
from framework.core.types import ExecutionState, TradeProposal


class TopKSelection(Agent):
    """Keep the strongest positions, skip small trades, cap turnover (see the module docstring).

    Requires: ``state.signal`` and ``state.confidence`` of bar t, the current positions.
    Sets: ``target_weights``: 0 for dropped positions, scaled for the kept ones, NaN for trades under the band,
    scaled toward the current weights under the turnover cap.

    Args:
        max_positions: Most positions held, >= 1, or None for no limit.
        min_signal: Smallest ``|signal|`` a position needs, >= 0.
        max_turnover: Largest sum of ``|target - current weight|`` per rebalance, > 0, or None.
        min_weight_change: Smallest weight change worth a trade, >= 0.
        keep_gross_exposure: Scale the kept positions up to the gross exposure before the drops.
        max_position_size: Largest absolute weight the scaling up may give a position, or None.

    Raises:
        ConfigError: For a parameter out of range.

    Example:
        >>> agent = TopKSelection(max_positions=2)
        >>> state = ExecutionState.empty(("A", "B", "C"))
        >>> state.bar, state.positions, state.close, state.equity = 0, np.zeros(3), np.ones(3), 1.0
        >>> state.signal, state.confidence = np.array([0.9, 0.2, 0.5]), np.ones(3)
        >>> agent.propose(TradeProposal(np.array([0.3, 0.3, 0.3])), state).target_weights.round(12).tolist()
        [0.45, 0.0, 0.45]
    """

    requires: ClassVar[tuple[str, ...]] = ("signal", "confidence", "positions")

    def __init__(
        self,
        max_positions: int | None = None,
        min_signal: float = 0.0,
        max_turnover: float | None = None,
        min_weight_change: float = 0.0,
        keep_gross_exposure: bool = True,
        max_position_size: float | None = None,
    ) -> None:
        self.max_positions = max_positions
        self.min_signal = min_signal
        self.max_turnover = max_turnover
        self.min_weight_change = min_weight_change
        self.keep_gross_exposure = keep_gross_exposure
        self.max_position_size = max_position_size
        if max_positions is not None:
            check_int("max_positions", max_positions)
        check_number("min_signal", min_signal, minimum=0)
        if max_turnover is not None:
            check_number("max_turnover", max_turnover, minimum=0, exclusive_minimum=True)
        check_number("min_weight_change", min_weight_change, minimum=0)
        check_bool("keep_gross_exposure", keep_gross_exposure)
        if max_position_size is not None:
            check_number("max_position_size", max_position_size, minimum=0, exclusive_minimum=True, maximum=10)

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        """Select, band and cap the bar's trades (see the module docstring).

        Args:
            proposal: The previous stage's targets.
            state: The state of bar t: signal, confidence and the current positions.

        Returns:
            ``proposal`` itself when nothing changes (a bar without new targets included), else a new proposal.

        Example:
            >>> agent = TopKSelection(max_turnover=0.2)
            >>> state = ExecutionState.empty(("A", "B"))
            >>> state.bar, state.positions, state.close, state.equity = 0, np.zeros(2), np.ones(2), 1.0
            >>> state.signal, state.confidence = np.ones(2), np.ones(2)
            >>> agent.propose(TradeProposal(np.array([0.3, 0.1])), state).target_weights.round(12).tolist()
            [0.15, 0.05]
            >>> hold = TradeProposal(np.full(2, np.nan))
            >>> agent.propose(hold, state) is hold
            True
        """
        targets = proposal.target_weights
        explicit = targets == targets  # not NaN
        if not explicit.any():
            return proposal
        t, log = state.bar, state.log
        current = state.weights
        weights = np.where(explicit, targets, current)
        start = weights.copy()
        if self.min_signal > 0:
            signal = np.nan_to_num(state.signal)
            weak = np.flatnonzero((weights != 0) & (np.abs(signal) < self.min_signal))
            if weak.size:
                log.record(t, self.name, weak, weights[weak], 0.0, "|signal| {value:.3f} < min_signal {limit:g}",
                           values=np.abs(signal[weak]), limit=self.min_signal)  # fmt: skip
                weights[weak] = 0.0
        gross = float(np.abs(weights).sum())  # before the top-k drops: positions closed by min_signal stay closed
        held = np.flatnonzero(weights)
        if self.max_positions is not None and held.size > self.max_positions:
            strength = state.strength[held]
            ranked = held[np.lexsort((held, -strength))]  # strongest first; on a tie the column further left
            dropped = ranked[self.max_positions :]
            log.record(t, self.name, dropped, weights[dropped], 0.0,
                       "not among the {limit:g} strongest by |signal| x confidence ({value:.3f})",
                       values=state.strength[dropped],
                       limit=self.max_positions)  # fmt: skip
            weights[dropped] = 0.0
        kept_gross = float(np.abs(weights).sum())
        if self.keep_gross_exposure and 0 < kept_gross < gross * (1 - 1e-12):
            kept = np.flatnonzero(weights)
            scaled = weights * (gross / kept_gross)
            if self.max_position_size is not None:
                scaled = bound_positions(scaled, 0.0, self.max_position_size)
            log.record(
                t,
                self.name,
                kept,
                weights[kept],
                scaled[kept],
                "scaled to keep the gross exposure {value:.4f} after dropping positions",
                values=gross,
            )
            weights = scaled
        out = np.where(weights != start, weights, targets)
        trade = np.where(np.isnan(out), 0.0, out - current)
        if self.min_weight_change > 0:
            small = (trade != 0) & (np.abs(trade) < self.min_weight_change) & (out != 0)
            if small.any():
                log.record(
                    t,
                    self.name,
                    -1,
                    float(small.sum()),
                    0.0,
                    "{value:.0f} trade(s) smaller than {limit:g} not sent",
                    values=float(small.sum()),
                    limit=self.min_weight_change,
                )
                out[small] = np.nan
                trade[small] = 0.0
        if self.max_turnover is not None:
            turnover = float(np.abs(trade).sum())
            if turnover > self.max_turnover * (1 + 1e-12):
                factor = self.max_turnover / turnover
                moving = np.flatnonzero(trade)
                capped = current[moving] + trade[moving] * factor
                log.record(t, self.name, moving, out[moving], capped,
                           "turnover {value:.4f} > {limit:g}: trades scaled toward their targets",
                           values=turnover, limit=self.max_turnover)  # fmt: skip
                out[moving] = capped
        if np.array_equal(out, targets, equal_nan=True):
            return proposal
        return TradeProposal(out, proposal.confidence, "trade selection")
