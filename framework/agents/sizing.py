"""Position sizing agents: turn the combined signal into target weights."""

from __future__ import annotations

import numpy as np

from framework.agents.base import Agent
from framework.core.checks import check_bool, check_choice, check_number
from framework.core.errors import AgentError
from framework.core.market_data import MarketData
from framework.core.types import ExecutionState, SignalFrame, TradeProposal

_REBALANCE = ("every_bar", "on_change", "never")


class SizingAgent(Agent):
    """Base class of sizing agents: targets from :meth:`targets`, with shared rebalancing and logging.

    Subclasses compute the wanted weights of bar t in :meth:`targets`; this class records every change of
    the target against the previous bar's in the decision log, and applies ``rebalance``: ``every_bar``
    (orders toward the targets on every bar, so weights do not drift), ``on_change`` (orders only on bars where
    the targets change; in between NaN targets let positions drift) or ``never`` (orders on the first bar with
    a non-zero target, then hold).

    Args:
        rebalance: ``every_bar``, ``on_change`` or ``never``.

    Raises:
        ConfigError: For an unknown ``rebalance``.
    """

    def __init__(self, rebalance: str = "every_bar") -> None:
        self.rebalance = rebalance
        check_choice("rebalance", rebalance, _REBALANCE)
        self._previous: np.ndarray = np.empty(0)
        self._entered = False

    def prepare(self, data: MarketData | None, signals: SignalFrame | None) -> None:
        """Forget the previous run's targets."""
        self._previous = np.empty(0)
        self._entered = False

    def targets(self, state: ExecutionState) -> tuple[np.ndarray, str]:
        """The wanted weights of bar ``state.bar`` and the reason, in words, for the log."""
        raise NotImplementedError

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        """Targets of bar ``state.bar``, recorded where they change, sent according to ``rebalance``."""
        target, reason = self.targets(state)
        previous = self._previous if self._previous.size else np.zeros_like(target)
        changed = (target != previous).nonzero()[0]
        if changed.size:
            state.log.record(state.bar, self.name, changed, previous[changed], target[changed], reason)
        self._previous = target
        if self.rebalance == "never":
            if self._entered or not target.any():
                return TradeProposal(np.full_like(target, np.nan))
            self._entered = True
        elif self.rebalance == "on_change" and not changed.size:
            return TradeProposal(np.full_like(target, np.nan))
        return TradeProposal(target)


class EqualWeightSizing(SizingAgent):
    """Equal weight over the tickers whose signal is positive (and, if shorting, negative).

    Requires: ``state.signal`` of bar t.
    Sets: ``target_weights``: ``gross_exposure / k`` for each of the k selected tickers, 0 for the others.

    With ``long_only`` (the default) tickers with a negative signal are simply not held; otherwise they get
    ``-gross_exposure / k``. A NaN signal (warm-up) counts as flat. See :class:`SizingAgent` for ``rebalance``
    (with a constant signal, ``never`` is buy-and-hold).

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
        super().__init__(rebalance=rebalance)
        self.long_only = long_only
        self.gross_exposure = gross_exposure
        self.threshold = threshold
        check_bool("long_only", long_only)
        check_number("gross_exposure", gross_exposure, minimum=0, exclusive_minimum=True, maximum=10)
        check_number("threshold", threshold, minimum=0)
        self._reason = f"equal weight over the tickers with a {'positive' if long_only else 'non-zero'} signal"

    def targets(self, state: ExecutionState) -> tuple[np.ndarray, str]:
        """Equal weights over the selected tickers (see the class docstring)."""
        signal = state.signal
        direction: np.ndarray = signal > self.threshold
        if not self.long_only:
            direction = direction.astype(np.float64) - (signal < -self.threshold)
        selected = np.count_nonzero(direction)
        target = direction.astype(np.float64)
        if selected:
            target *= self.gross_exposure / selected
        return target, self._reason


class FixedAllocationSizing(SizingAgent):
    """The portfolio's fixed allocation for each ticker whose signal is positive; cash for the others.

    Requires: ``state.signal`` of bar t and ``state.allocation`` (the portfolio's ``allocation``).
    Sets: ``target_weights``: ``allocation[i]`` where the signal is above ``threshold`` (``-allocation[i]``
    below ``-threshold`` when not ``long_only``), scaled by ``|signal|`` when ``scale_by_signal``; 0 elsewhere.

    Unlike equal weight, a ticker's slice of capital does not grow when others go flat: what they do not use
    stays in cash.

    Args:
        long_only: Hold no short positions.
        threshold: Signal level above which a ticker is held, >= 0.
        scale_by_signal: Multiply the allocation by the signal's strength (in [0, 1]).
        rebalance: ``every_bar``, ``on_change`` or ``never``.

    Raises:
        ConfigError: For a parameter out of range.
        AgentError: When the portfolio has no allocation.

    Example:
        >>> from framework.core.types import ExecutionState
        >>> agent = FixedAllocationSizing(scale_by_signal=True)
        >>> agent.prepare(None, None)
        >>> state = ExecutionState.empty(("A", "B", "C"))
        >>> state.bar, state.signal = 0, np.array([1.0, 0.5, -1.0])
        >>> state.allocation = np.array([0.4, 0.3, 0.3])
        >>> agent.propose(TradeProposal(np.full(3, np.nan)), state).target_weights
        array([0.4 , 0.15, 0.  ])
    """

    uses_allocation = True

    def __init__(
        self,
        long_only: bool = True,
        threshold: float = 0.0,
        scale_by_signal: bool = False,
        rebalance: str = "every_bar",
    ) -> None:
        super().__init__(rebalance=rebalance)
        self.long_only = long_only
        self.threshold = threshold
        self.scale_by_signal = scale_by_signal
        check_bool("long_only", long_only)
        check_number("threshold", threshold, minimum=0)
        check_bool("scale_by_signal", scale_by_signal)

    def targets(self, state: ExecutionState) -> tuple[np.ndarray, str]:
        """Allocation of the selected tickers (see the class docstring)."""
        if state.allocation is None:
            raise AgentError(
                f"agent.{self.name}: fixed allocation sizing needs the portfolio's 'allocation' "
                "(portfolio.allocation: {TICKER: weight, ...})"
            )
        signal = np.nan_to_num(state.signal, nan=0.0)
        direction = (signal > self.threshold).astype(np.float64)
        if not self.long_only:
            direction -= signal < -self.threshold
        if self.scale_by_signal:
            direction *= np.minimum(np.abs(signal), 1.0)
        return direction * state.allocation, "fixed allocation of the tickers with a positive signal"
