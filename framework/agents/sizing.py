"""Position sizing agents: turn the combined signal into target weights."""

from __future__ import annotations

import numpy as np

from framework.agents.base import Agent
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import ExecutionState, SignalFrame, TradeProposal

_REBALANCE = ("every_bar", "on_change", "never")


class EqualWeightSizing(Agent):
    """Equal weight over the tickers whose signal is positive (and, if shorting, negative).

    Requires: ``state.signal`` of bar t.
    Sets: ``target_weights``: ``gross_exposure / k`` for each of the k selected tickers, 0 for the others.

    With ``long_only`` (the default) tickers with a negative signal are simply not held; otherwise they get
    ``-gross_exposure / k``. A NaN signal (warm-up) counts as flat. ``rebalance`` says when orders are sent:
    ``every_bar`` (back to equal weights on every bar, the weights drift otherwise), ``on_change`` (only when the
    set of selected tickers changes; in between, NaN targets leave positions to drift) or ``never`` (enter on
    the first bar where something is selected, then hold: with a constant signal that is buy-and-hold).
    Changes of the target relative to the previous bar's target are recorded in the decision log.

    Args:
        long_only: Hold no short positions.
        gross_exposure: Sum of absolute target weights when something is selected, in (0, 10].
        threshold: A signal counts as positive when above ``threshold`` (negative when below
            ``-threshold``), >= 0.
        rebalance: ``every_bar``, ``on_change`` or ``never``.

    Raises:
        ConfigError: For a parameter out of range.

    Example:
        >>> from framework.core.types import ExecutionState
        >>> agent = EqualWeightSizing()
        >>> agent.prepare(None, None)
        >>> state = ExecutionState.empty(("A", "B", "C", "D"))
        >>> state.bar, state.signal = 0, np.array([1.0, 0.3, -1.0, np.nan])
        >>> agent.propose(TradeProposal(np.full(4, np.nan)), state).target_weights
        array([0.5, 0.5, 0. , 0. ])
    """

    def __init__(
        self,
        long_only: bool = True,
        gross_exposure: float = 1.0,
        threshold: float = 0.0,
        rebalance: str = "every_bar",
    ) -> None:
        self.long_only = long_only
        self.gross_exposure = gross_exposure
        self.threshold = threshold
        self.rebalance = rebalance
        if not 0 < gross_exposure <= 10:
            raise ConfigError(f"gross_exposure: must be in (0, 10], got {gross_exposure!r}")
        if not threshold >= 0:
            raise ConfigError(f"threshold: must be >= 0, got {threshold!r}")
        if rebalance not in _REBALANCE:
            raise ConfigError(f"rebalance: must be one of {', '.join(_REBALANCE)}, got {rebalance!r}")
        self._previous: np.ndarray = np.empty(0)
        self._entered = False

    def prepare(self, data: MarketData | None, signals: SignalFrame | None) -> None:
        """Forget the previous run's targets."""
        self._previous = np.empty(0)
        self._entered = False

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        """Equal-weight targets for bar ``state.bar`` (see the class docstring)."""
        signal = state.signal
        direction: np.ndarray = signal > self.threshold
        if not self.long_only:
            direction = direction.astype(np.float64) - (signal < -self.threshold)
        selected = np.count_nonzero(direction)
        target = direction.astype(np.float64)
        if selected:
            target *= self.gross_exposure / selected
        previous = self._previous if self._previous.size else np.zeros_like(target)
        changed = (target != previous).nonzero()[0]
        if changed.size:
            side = "positive" if self.long_only else "non-zero"
            reason = f"equal weight over the {selected} tickers with a {side} signal"
            state.log.record(state.bar, self.name, changed, previous[changed], target[changed], reason)
        self._previous = target
        if self.rebalance == "never":
            if self._entered or not selected:
                return TradeProposal(np.full_like(target, np.nan))
            self._entered = True
        elif self.rebalance == "on_change" and not changed.size:
            return TradeProposal(np.full_like(target, np.nan))
        return TradeProposal(target)
