"""Position sizing agents: turn the combined signal into target weights.

Every sizing agent applies to the tickers the signal selects (above ``threshold``; with ``long_only: false``
also below ``-threshold``, held short) and shares these keys:

- ``rebalance``: ``every_bar``, ``on_change``, ``never``, ``weekly``, ``monthly``, ``quarterly`` or a number of
  bars (see :class:`SizingAgent`);
- ``gross_exposure``: the sum of absolute weights when something is selected;
- ``min_position_size`` / ``max_position_size``: a selected position below the minimum is dropped, one above the
  maximum is capped and the excess spread over the others in proportion (what cannot be placed stays in cash);
- ``adaptive`` with ``learning_rate`` and ``adaptation_period``: tilt the weights toward the tickers whose
  positions recently earned more (see :class:`SizingAgent`).

The estimate-based agents (inverse volatility, risk parity, optimizers) also take ``lookback``, ``covariance``
(``sample``, ``ledoit_wolf`` or ``ewma`` with a ``halflife``) and ``min_history``, and read the run's shared
estimate (:mod:`framework.stats.estimates`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from framework.agents.base import Agent, RunContext
from framework.agents.schedule import check_rebalance, period_starts
from framework.core.checks import check_bool, check_int, check_number, is_int
from framework.core.errors import AgentError, ConfigError, EstimationError
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog, ExecutionState, SignalFrame, TradeProposal
from framework.stats.covariance import check_covariance_method
from framework.stats.estimates import Estimates, RollingEstimate

#: Bounds of the adaptive tilt of one ticker (a ticker's weight is never multiplied by more or less than this).
TILT_BOUNDS: tuple[float, float] = (0.1, 10.0)


class SizingAgent(Agent):
    """Base class of sizing agents: targets from :meth:`targets`, then tilt, bounds, schedule and logging.

    Subclasses compute the wanted weights of bar t in :meth:`targets`. This class then applies the adaptive
    tilt and the position bounds, records every change of the target against the previous computed target in
    the decision log, and applies ``rebalance``:

    - ``every_bar``: targets are computed and sent on every bar, so weights do not drift;
    - ``on_change``: computed on every bar, sent only on bars where they change (in between, NaN targets let
      positions drift);
    - ``never``: computed on every bar, sent once, on the first bar with a non-zero target, then held;
    - ``weekly``, ``monthly``, ``quarterly`` or a number N: computed and sent on the first bar of each new
      week, month or quarter (every N bars from bar 0), and on every bar until the first non-zero target was
      sent, so the portfolio does not wait in cash for the next period.

    **Adaptive mode** (``adaptive: true``). On every bar the agent adds each ticker's realised contribution
    ``w[t-1] * r[t]`` (its weight at the previous close times its return) to a running sum. Every
    ``adaptation_period`` bars the sums of the tickers held during the period are standardized across those
    tickers, ``z = (c - mean(c)) / std(c)``, and each one's tilt is multiplied by ``exp(learning_rate * z)``
    (tilts stay in :data:`TILT_BOUNDS`, rescaled to a geometric mean of 1); then the sums restart. Targets are
    multiplied by the tilts and rescaled to their gross exposure before the bounds apply. Everything is causal:
    the tilt used on bar t comes from returns up to t.

    Args:
        rebalance: See above.
        long_only: Hold no short positions.
        gross_exposure: Sum of absolute target weights when something is selected, in (0, 10].
        threshold: A signal selects a ticker when above ``threshold`` (or below ``-threshold`` to short), >= 0.
        min_position_size: Positions below this absolute weight are dropped (0 keeps all), in [0, 1].
        max_position_size: Largest absolute weight of one position, in (0, 10], or None for no cap.
        adaptive: Tilt the weights by recent realised contribution.
        learning_rate: Strength of the tilt per period, > 0.
        adaptation_period: Bars between tilt updates, >= 2.

    Raises:
        ConfigError: For a parameter out of range.

    Example:
        >>> class HalfEach(SizingAgent):
        ...     def targets(self, state):
        ...         return np.where(state.signal > 0, 0.5, 0.0), "half of equity per long"
        >>> agent = HalfEach(rebalance="on_change", max_position_size=0.4)
        >>> agent.prepare(None, None)
        >>> state = ExecutionState.empty(("A", "B"))
        >>> state.bar, state.signal = 0, np.array([1.0, -1.0])
        >>> agent.propose(TradeProposal(np.full(2, np.nan)), state).target_weights.tolist()  # capped
        [0.4, 0.0]
        >>> state.bar = 1
        >>> agent.propose(TradeProposal(np.full(2, np.nan)), state).target_weights.tolist()  # no change: no order
        [nan, nan]
    """

    requires: ClassVar[tuple[str, ...]] = ("signal",)
    sets: ClassVar[tuple[str, ...]] = ("target_weights", "confidence")
    #: Whether capping a position spreads its excess over the others (False: the excess stays in cash).
    redistributes: ClassVar[bool] = True

    def __init__(
        self,
        rebalance: str | int = "every_bar",
        long_only: bool = True,
        gross_exposure: float = 1.0,
        threshold: float = 0.0,
        min_position_size: float = 0.0,
        max_position_size: float | None = None,
        adaptive: bool = False,
        learning_rate: float = 0.1,
        adaptation_period: int = 21,
    ) -> None:
        self.rebalance = rebalance
        self.long_only = long_only
        self.gross_exposure = gross_exposure
        self.threshold = threshold
        self.min_position_size = min_position_size
        self.max_position_size = max_position_size
        self.adaptive = adaptive
        self.learning_rate = learning_rate
        self.adaptation_period = adaptation_period
        check_rebalance("rebalance", rebalance)
        check_bool("long_only", long_only)
        check_number("gross_exposure", gross_exposure, minimum=0, exclusive_minimum=True, maximum=10)
        check_number("threshold", threshold, minimum=0)
        check_number("min_position_size", min_position_size, minimum=0, maximum=1)
        if max_position_size is not None:
            check_number("max_position_size", max_position_size, minimum=0, exclusive_minimum=True, maximum=10)
            if max_position_size < min_position_size:
                raise ConfigError(
                    f"max_position_size: must be >= min_position_size ({min_position_size}), got {max_position_size}"
                )
        check_bool("adaptive", adaptive)
        check_number("learning_rate", learning_rate, minimum=0, exclusive_minimum=True)
        check_int("adaptation_period", adaptation_period, minimum=2)
        self._calendar = is_int(rebalance) or rebalance in ("weekly", "monthly", "quarterly")
        self._due_bars: np.ndarray | None = None
        self._previous: np.ndarray = np.empty(0)
        self._entered = False
        self._tilt: np.ndarray = np.empty(0)

    # --- hooks for subclasses ----------------------------------------------------------------------------

    def targets(self, state: ExecutionState) -> tuple[np.ndarray, str]:
        """The wanted weights of bar ``state.bar`` and the reason, in words, for the log.

        Args:
            state: What is known at the close of bar t.

        Returns:
            Signed weights, shape (tickers,), before the tilt and the bounds; and the reason.

        Raises:
            NotImplementedError: In the base class: every sizing agent defines it.

        Example:
            >>> SizingAgent().targets(ExecutionState.empty(("A",)))
            Traceback (most recent call last):
            ...
            NotImplementedError
        """
        raise NotImplementedError

    def target_panel(self, signals: SignalFrame, allocation: np.ndarray | None) -> tuple[np.ndarray, str] | None:
        """The targets of every bar at once, shape (days, tickers), with the reason; None when not available.

        A subclass that defines it gets :attr:`supports_panel` (when it has no tilt and no bounds).

        Args:
            signals: The combined signals of the run.
            allocation: The portfolio's fixed allocation, or None.

        Returns:
            What :meth:`targets` gives on each bar, row by row, and the reason; None in the base class.

        Example:
            >>> SizingAgent().target_panel(SignalFrame(np.ones((2, 1)), np.ones((2, 1))), None) is None
            True
        """
        return None

    # --- the pipeline interface --------------------------------------------------------------------------

    def prepare(self, data: MarketData | None, signals: SignalFrame | None) -> None:
        """Forget the previous run's targets; lay out the rebalancing calendar of ``data``.

        Args:
            data: The whole panel of the run, or None (no calendar: a calendar ``rebalance`` then fails).
            signals: The combined signals of the run (not read here).

        Example:
            >>> agent = EqualWeightSizing(rebalance="never")
            >>> agent.prepare(None, None)
            >>> state = ExecutionState.empty(("A",))
            >>> state.bar, state.signal = 0, np.array([1.0])
            >>> agent.propose(TradeProposal(np.full(1, np.nan)), state).target_weights.tolist()
            [1.0]
            >>> agent.propose(TradeProposal(np.full(1, np.nan)), state).target_weights.tolist()  # held
            [nan]
            >>> agent.prepare(None, None)  # a new run: the agent enters again
            >>> agent.propose(TradeProposal(np.full(1, np.nan)), state).target_weights.tolist()
            [1.0]
        """
        self._previous = np.empty(0)
        self._entered = False
        self._due_bars = None if data is None or not self._calendar else period_starts(data.dates, self.rebalance)
        n = 0 if data is None else data.n_tickers
        self._tilt = np.ones(n)
        self._contribution = np.zeros(n)
        self._was_held = np.zeros(n, dtype=bool)
        self._last_close: np.ndarray | None = None
        self._held: np.ndarray | None = None

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        """Targets of bar ``state.bar``, recorded where they change, sent according to ``rebalance``.

        Args:
            proposal: The previous stage's targets (not read: sizing starts the pipeline).
            state: What is known at the close of bar t.

        Returns:
            The targets with the bar's confidence, or all NaN targets on a bar that sends nothing.

        Raises:
            AgentError: For a calendar ``rebalance`` without :meth:`prepare` on the run's data.

        Example:
            >>> dates = np.array(["2024-01-30", "2024-01-31", "2024-02-01"], dtype="datetime64[D]")
            >>> agent = EqualWeightSizing(rebalance="monthly")
            >>> agent.prepare(MarketData(dates, ("A",), np.ones((3, 1))), None)
            >>> state = ExecutionState.empty(("A",))
            >>> sent = []
            >>> for bar, signal in enumerate([1.0, 0.0, 0.0]):
            ...     state.bar, state.signal = bar, np.array([signal])
            ...     sent.append(agent.propose(TradeProposal(np.full(1, np.nan)), state).target_weights[0].item())
            >>> sent  # enters at once, then waits for February
            [1.0, nan, 0.0]
            >>> state.log.to_frame(dates, ("A",))[["bar", "before", "after"]].values.tolist()  # bar 1: not computed
            [[0.0, 0.0, 1.0], [2.0, 1.0, 0.0]]
        """
        if self.adaptive:
            self._learn(state)
        if self._calendar and self._entered:
            if self._due_bars is None:
                raise AgentError(f"agent.{self.name}: a calendar rebalance needs prepare(data, signals) first")
            if not self._due_bars[state.bar]:
                return TradeProposal(np.full(len(state.tickers), np.nan))
        target, reason = self.targets(state)
        target = self._finish(target)
        previous = self._previous if self._previous.size else np.zeros_like(target)
        changed = (target != previous).nonzero()[0]
        if changed.size:
            state.log.record(state.bar, self.name, changed, previous[changed], target[changed], reason)
        self._previous = target
        if self.rebalance == "never" or self._calendar:
            if self._entered and self.rebalance == "never" or (not self._entered and not target.any()):
                return TradeProposal(np.full_like(target, np.nan))
            self._entered = True
        elif self.rebalance == "on_change" and not changed.size:
            return TradeProposal(np.full_like(target, np.nan))
        return TradeProposal(target, confidence=state.confidence, reasoning=reason)

    @property
    def supports_panel(self) -> bool:
        """Whether the targets can be computed for the whole panel (no tilt, no bounds, a panel form exists).

        Example:
            >>> EqualWeightSizing().supports_panel, EqualWeightSizing(max_position_size=0.5).supports_panel
            (True, False)
            >>> InverseVolatilitySizing().supports_panel  # no panel form
            False
        """
        plain = not self.adaptive and self.min_position_size == 0 and self.max_position_size is None
        return plain and type(self).target_panel is not SizingAgent.target_panel

    def panel_targets(
        self,
        previous: np.ndarray,
        data: MarketData,
        signals: SignalFrame,
        allocation: np.ndarray | None,
        log: DecisionLog,
    ) -> np.ndarray:
        """Every bar's targets at once, the same as :meth:`propose` bar by bar, logged the same way.

        Args:
            previous: The previous stage's targets, shape (days, tickers) (not read: sizing starts the pipeline).
            data: The whole panel, for a calendar ``rebalance``.
            signals: The combined signals.
            allocation: The portfolio's fixed allocation, or None.
            log: The run's decision log.

        Returns:
            Shape (days, tickers); NaN on the bars that send nothing.

        Raises:
            NotImplementedError: For an agent without :meth:`target_panel`.

        Example:
            >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B"), np.ones((3, 2)))
            >>> signals = SignalFrame(np.array([[np.nan, np.nan], [1.0, 0.0], [1.0, 1.0]]), np.ones((3, 2)))
            >>> agent, log = EqualWeightSizing(rebalance="on_change"), DecisionLog()
            >>> agent.prepare(data, signals)
            >>> agent.panel_targets(np.full((3, 2), np.nan), data, signals, None, log).tolist()
            [[nan, nan], [1.0, 0.0], [0.5, 0.5]]
            >>> len(log)  # A on bar 1, A and B on bar 2
            3
        """
        panel = self.target_panel(signals, allocation)
        if panel is None:
            raise NotImplementedError(f"{type(self).__name__} has no whole-panel form")
        raw, reason = panel
        n_days = raw.shape[0]
        rows = np.arange(n_days)
        nonzero = raw.any(axis=1)
        entry = int(np.argmax(nonzero)) if nonzero.any() else n_days
        if self._calendar:
            due = period_starts(data.dates, self.rebalance)
            computed = due | (rows <= entry)
            sent = (due & (rows > entry)) | (rows == entry)
        else:
            computed = np.ones(n_days, dtype=bool)
            if self.rebalance == "every_bar":
                sent = computed
            elif self.rebalance == "never":
                sent = rows == entry
            else:  # on_change: a row that differs from the one before (bar 0 from zeros)
                before = np.vstack([np.zeros((1, raw.shape[1])), raw[:-1]])
                sent = (raw != before).any(axis=1)
        every = bool(computed.all())
        kept = rows if every else np.flatnonzero(computed)
        values = raw if every else raw[kept]
        # A change against the previous computed row (the first row against zeros), without a shifted copy.
        first = np.flatnonzero(values[0] != 0.0)
        i, j = np.nonzero(values[1:] != values[:-1])
        i += 1
        rows_changed = np.concatenate([np.zeros(first.size, dtype=np.intp), i])
        assets_changed = np.concatenate([first, j])
        if rows_changed.size:
            order = np.lexsort((assets_changed, rows_changed))
            rows_changed, assets_changed = rows_changed[order], assets_changed[order]
            previous = np.where(rows_changed > 0, values[np.maximum(rows_changed - 1, 0), assets_changed], 0.0)
            log.record(kept[rows_changed], self.name, assets_changed, previous, values[rows_changed, assets_changed],
                       reason)  # fmt: skip
        self._entered = entry < n_days
        if sent.all():
            return raw
        out = np.full(raw.shape, np.nan)
        out[sent] = raw[sent]
        return out

    # --- shared pieces -----------------------------------------------------------------------------------

    def _direction(self, signal: np.ndarray) -> np.ndarray:
        """+1 for selected longs, -1 for selected shorts (unless long-only), 0 otherwise (NaN counts as flat)."""
        direction: np.ndarray = (signal > self.threshold).astype(np.float64)
        if not self.long_only:
            direction -= signal < -self.threshold
        return direction

    def _finish(self, target: np.ndarray) -> np.ndarray:
        """Apply the adaptive tilt and the position bounds."""
        if self.adaptive and target.any() and self._tilt.size == target.size:
            gross = float(np.abs(target).sum())
            tilted = target * self._tilt
            target = tilted * (gross / float(np.abs(tilted).sum()))
        if self.min_position_size > 0 or self.max_position_size is not None:
            target = bound_positions(target, self.min_position_size, self.max_position_size, self.redistributes)
        return target

    def _learn(self, state: ExecutionState) -> None:
        """Add this bar's realised contributions; update the tilts at the end of each adaptation period."""
        if self._tilt.size != len(state.tickers):
            self._tilt = np.ones(len(state.tickers))
            self._contribution = np.zeros(len(state.tickers))
            self._was_held = np.zeros(len(state.tickers), dtype=bool)
        if self._held is not None and self._last_close is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                contribution = self._held * (state.close / self._last_close - 1.0)
            self._contribution += np.nan_to_num(contribution)
            self._was_held |= self._held != 0
        self._held = state.weights.copy()
        self._last_close = state.close
        if (state.bar + 1) % self.adaptation_period:
            return
        held = self._was_held
        if np.count_nonzero(held) >= 2:
            sums = self._contribution[held]
            spread = float(sums.std())
            if spread > 0:
                before = self._tilt.copy()
                tilt = self._tilt.copy()
                tilt[held] *= np.exp(self.learning_rate * (sums - sums.mean()) / spread)
                tilt /= math.exp(float(np.log(tilt).mean()))
                self._tilt = np.clip(tilt, *TILT_BOUNDS)
                moved = np.flatnonzero(self._tilt != before)
                state.log.record(state.bar, self.name, moved, before[moved], self._tilt[moved],
                                 "adaptive tilt from the realised contribution of the last period")  # fmt: skip
        self._contribution[:] = 0.0
        self._was_held[:] = False


def bound_positions(
    target: np.ndarray, min_size: float, max_size: float | None, redistribute: bool = True
) -> np.ndarray:
    """Drop positions below ``min_size`` and cap those above ``max_size`` (absolute weights), keeping signs.

    Dropped weight is spread over the remaining positions in proportion (when ``redistribute``). A capped
    position's excess is spread over the positions still below the cap, in proportion, until none is over
    or all are at the cap; what cannot be placed stays in cash.

    Args:
        target: Signed target weights, shape (tickers,).
        min_size: Smallest absolute weight kept (0 keeps all).
        max_size: Largest absolute weight, or None.
        redistribute: Spread dropped and capped weight over the others (False: it stays in cash).

    Returns:
        The bounded targets.

    Example:
        >>> bound_positions(np.array([0.5, 0.3, 0.15, 0.05]), 0.1, 0.4).round(4).tolist()
        [0.4, 0.4, 0.2, 0.0]
        >>> bound_positions(np.array([0.25] * 4), 0.0, 0.1).tolist()  # all capped: 60 % in cash
        [0.1, 0.1, 0.1, 0.1]
    """
    sizes = np.abs(target)
    gross = float(sizes.sum())
    if gross == 0:
        return target
    if min_size > 0:
        small = (sizes > 0) & (sizes < min_size)
        if small.any():
            sizes[small] = 0.0
            kept = float(sizes.sum())
            if redistribute and kept > 0:
                sizes *= gross / kept
    if max_size is not None:
        for _ in range(sizes.size):
            over = sizes > max_size
            if not over.any():
                break
            excess = float((sizes[over] - max_size).sum())
            sizes[over] = max_size
            free = (sizes > 0) & (sizes < max_size)
            if not redistribute or not free.any():
                break
            sizes[free] += excess * sizes[free] / float(sizes[free].sum())
        np.minimum(sizes, max_size, out=sizes)
    return np.sign(target) * sizes  # type: ignore[no-any-return]


class EqualWeightSizing(SizingAgent):
    """Equal weight over the tickers whose signal is positive (and, if shorting, negative).

    Requires: ``state.signal`` of bar t.
    Sets: ``target_weights``: ``gross_exposure / k`` for each of the k selected tickers, 0 for the others.

    With ``long_only`` (the default) tickers with a negative signal are simply not held; otherwise they get
    ``-gross_exposure / k``. A NaN signal (warm-up) counts as flat. See :class:`SizingAgent` for ``rebalance``
    (with a constant signal, ``never`` is buy-and-hold), bounds and the adaptive mode.

    Args:
        long_only: Hold no short positions.
        gross_exposure: Sum of absolute target weights when something is selected, in (0, 10].
        threshold: A signal counts as positive when above ``threshold`` (negative when below
            ``-threshold``), >= 0.
        rebalance: See :class:`SizingAgent`.
        min_position_size: See :class:`SizingAgent`.
        max_position_size: See :class:`SizingAgent`.
        adaptive: See :class:`SizingAgent`.
        learning_rate: See :class:`SizingAgent`.
        adaptation_period: See :class:`SizingAgent`.

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
        rebalance: str | int = "every_bar",
        min_position_size: float = 0.0,
        max_position_size: float | None = None,
        adaptive: bool = False,
        learning_rate: float = 0.1,
        adaptation_period: int = 21,
    ) -> None:
        super().__init__(
            rebalance=rebalance, long_only=long_only, gross_exposure=gross_exposure, threshold=threshold,
            min_position_size=min_position_size, max_position_size=max_position_size, adaptive=adaptive,
            learning_rate=learning_rate, adaptation_period=adaptation_period,
        )  # fmt: skip
        self._reason = f"equal weight over the tickers with a {'positive' if long_only else 'non-zero'} signal"

    def targets(self, state: ExecutionState) -> tuple[np.ndarray, str]:
        """Equal weights over the selected tickers (see the class docstring).

        Args:
            state: What is known at the close of bar t.

        Returns:
            ``±gross_exposure / k`` for each of the k selected tickers, 0 for the others; and the reason.

        Example:
            >>> state = ExecutionState.empty(("A", "B", "C"))
            >>> state.signal = np.array([1.0, -0.5, np.nan])
            >>> weights, reason = EqualWeightSizing(long_only=False, gross_exposure=2.0).targets(state)
            >>> weights.tolist(), reason
            ([1.0, -1.0, 0.0], 'equal weight over the tickers with a non-zero signal')
        """
        target = self._direction(state.signal)
        selected = np.count_nonzero(target)
        if selected:
            target *= self.gross_exposure / selected
        return target, self._reason

    def target_panel(self, signals: SignalFrame, allocation: np.ndarray | None) -> tuple[np.ndarray, str]:
        """The equal weights of every bar at once (the same arithmetic as :meth:`targets`, row by row).

        Args:
            signals: The combined signals of the run.
            allocation: Not read.

        Returns:
            Shape (days, tickers), and the reason.

        Example:
            >>> signals = SignalFrame(np.array([[np.nan, np.nan], [1.0, 0.0], [1.0, 1.0]]), np.ones((3, 2)))
            >>> EqualWeightSizing().target_panel(signals, None)[0].tolist()
            [[0.0, 0.0], [1.0, 0.0], [0.5, 0.5]]
        """
        target = self._direction(np.asarray(signals.signal, dtype=np.float64))
        selected = np.count_nonzero(target, axis=1)
        with np.errstate(divide="ignore"):
            scale = np.where(selected > 0, self.gross_exposure / np.maximum(selected, 1), 0.0)
        rows = selected > 0
        target[rows] *= scale[rows, None]
        return target, self._reason


class FixedAllocationSizing(SizingAgent):
    """The portfolio's fixed allocation for each ticker whose signal is positive; cash for the others.

    Requires: ``state.signal`` of bar t and ``state.allocation`` (the portfolio's ``allocation``).
    Sets: ``target_weights``: ``allocation[i]`` where the signal is above ``threshold`` (``-allocation[i]``
    below ``-threshold`` when not ``long_only``), scaled by ``|signal|`` when ``scale_by_signal``; 0 elsewhere.

    Unlike equal weight, a ticker's slice of capital does not grow when others go flat: what they do not use
    stays in cash (also what a ``max_position_size`` cap removes).

    Args:
        long_only: Hold no short positions.
        threshold: Signal level above which a ticker is held, >= 0.
        scale_by_signal: Multiply the allocation by the signal's strength (in [0, 1]).
        rebalance: See :class:`SizingAgent`.
        min_position_size: See :class:`SizingAgent`.
        max_position_size: See :class:`SizingAgent`.
        adaptive: See :class:`SizingAgent`.
        learning_rate: See :class:`SizingAgent`.
        adaptation_period: See :class:`SizingAgent`.

    Raises:
        ConfigError: For a parameter out of range, or (before the loop) when the portfolio has no allocation.

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
    requires: ClassVar[tuple[str, ...]] = ("signal", "allocation")
    redistributes: ClassVar[bool] = False

    def __init__(
        self,
        long_only: bool = True,
        threshold: float = 0.0,
        scale_by_signal: bool = False,
        rebalance: str | int = "every_bar",
        min_position_size: float = 0.0,
        max_position_size: float | None = None,
        adaptive: bool = False,
        learning_rate: float = 0.1,
        adaptation_period: int = 21,
    ) -> None:
        super().__init__(
            rebalance=rebalance, long_only=long_only, threshold=threshold, min_position_size=min_position_size,
            max_position_size=max_position_size, adaptive=adaptive, learning_rate=learning_rate,
            adaptation_period=adaptation_period,
        )  # fmt: skip
        self.scale_by_signal = scale_by_signal
        check_bool("scale_by_signal", scale_by_signal)

    def targets(self, state: ExecutionState) -> tuple[np.ndarray, str]:
        """Allocation of the selected tickers (see the class docstring).

        Args:
            state: What is known at the close of bar t, with the portfolio's allocation.

        Returns:
            ``±allocation[i]`` for each selected ticker (times ``|signal|`` with ``scale_by_signal``), 0 for the
            others; and the reason.

        Raises:
            AgentError: When the portfolio has no allocation.

        Example:
            >>> state = ExecutionState.empty(("A", "B", "C"))
            >>> state.signal, state.allocation = np.array([1.0, -1.0, 0.0]), np.array([0.5, 0.3, 0.2])
            >>> FixedAllocationSizing(long_only=False).targets(state)[0].tolist()
            [0.5, -0.3, 0.0]
        """
        if state.allocation is None:
            raise AgentError(
                f"agent.{self.name}: fixed allocation sizing needs the portfolio's 'allocation' "
                "(portfolio.allocation: {TICKER: weight, ...})"
            )
        signal = np.nan_to_num(state.signal, nan=0.0)
        direction = self._direction(signal)
        if self.scale_by_signal:
            direction *= np.minimum(np.abs(signal), 1.0)
        return direction * state.allocation, "fixed allocation of the tickers with a positive signal"

    def target_panel(self, signals: SignalFrame, allocation: np.ndarray | None) -> tuple[np.ndarray, str] | None:
        """The allocation targets of every bar at once (None without an allocation: the loop reports it).

        Args:
            signals: The combined signals of the run.
            allocation: The portfolio's fixed allocation, or None.

        Returns:
            Shape (days, tickers), and the reason; or None.

        Example:
            >>> signals = SignalFrame(np.array([[np.nan, 1.0], [0.5, 1.0]]), np.ones((2, 2)))
            >>> FixedAllocationSizing(scale_by_signal=True).target_panel(signals, np.array([0.6, 0.4]))[0].tolist()
            [[0.0, 0.4], [0.3, 0.4]]
            >>> FixedAllocationSizing().target_panel(signals, None) is None
            True
        """
        if allocation is None:
            return None
        signal = np.nan_to_num(np.asarray(signals.signal, dtype=np.float64), nan=0.0)
        direction = self._direction(signal)
        if self.scale_by_signal:
            direction *= np.minimum(np.abs(signal), 1.0)
        return direction * allocation, "fixed allocation of the tickers with a positive signal"


class SignalWeightedSizing(SizingAgent):
    """Weights in proportion to ``|signal| x confidence`` over the selected tickers.

    Requires: ``state.signal`` and ``state.confidence`` of bar t.
    Sets: ``target_weights``: ``±gross_exposure * s_i / sum(s)`` with ``s = |signal| * confidence`` over the
    selected tickers (0 where the confidence is 0), 0 for the others.

    Args:
        long_only: Hold no short positions.
        gross_exposure: Sum of absolute target weights when something is selected, in (0, 10].
        threshold: Selection threshold on the signal, >= 0.
        rebalance: See :class:`SizingAgent`.
        min_position_size: See :class:`SizingAgent`.
        max_position_size: See :class:`SizingAgent`.
        adaptive: See :class:`SizingAgent`.
        learning_rate: See :class:`SizingAgent`.
        adaptation_period: See :class:`SizingAgent`.

    Raises:
        ConfigError: For a parameter out of range.

    Example:
        >>> agent = SignalWeightedSizing()
        >>> agent.prepare(None, None)
        >>> state = ExecutionState.empty(("A", "B", "C"))
        >>> state.bar, state.signal, state.confidence = 0, np.array([1.0, 0.5, -1.0]), np.array([0.5, 1.0, 1.0])
        >>> agent.propose(TradeProposal(np.full(3, np.nan)), state).target_weights
        array([0.5, 0.5, 0. ])
    """

    requires: ClassVar[tuple[str, ...]] = ("signal", "confidence")

    def __init__(
        self,
        long_only: bool = True,
        gross_exposure: float = 1.0,
        threshold: float = 0.0,
        rebalance: str | int = "every_bar",
        min_position_size: float = 0.0,
        max_position_size: float | None = None,
        adaptive: bool = False,
        learning_rate: float = 0.1,
        adaptation_period: int = 21,
    ) -> None:
        super().__init__(
            rebalance=rebalance, long_only=long_only, gross_exposure=gross_exposure, threshold=threshold,
            min_position_size=min_position_size, max_position_size=max_position_size, adaptive=adaptive,
            learning_rate=learning_rate, adaptation_period=adaptation_period,
        )  # fmt: skip

    _REASON = "in proportion to |signal| x confidence"

    def targets(self, state: ExecutionState) -> tuple[np.ndarray, str]:
        """Signal-weighted targets (see the class docstring).

        Args:
            state: What is known at the close of bar t.

        Returns:
            Weights in proportion to ``|signal| x confidence`` over the selected tickers, and the reason.

        Example:
            >>> state = ExecutionState.empty(("A", "B", "C"))
            >>> state.signal, state.confidence = np.array([1.0, 0.5, 0.2]), np.array([0.5, 1.0, 0.0])
            >>> SignalWeightedSizing().targets(state)[0].tolist()
            [0.5, 0.5, 0.0]
        """
        direction = self._direction(state.signal)
        strength = np.abs(direction * np.nan_to_num(state.signal) * np.nan_to_num(state.confidence))
        total = float(strength.sum())
        if total == 0:
            return np.zeros_like(direction), self._REASON
        return direction * strength * (self.gross_exposure / total), self._REASON

    def target_panel(self, signals: SignalFrame, allocation: np.ndarray | None) -> tuple[np.ndarray, str]:
        """The signal-weighted targets of every bar at once.

        Args:
            signals: The combined signals of the run.
            allocation: Not read.

        Returns:
            Shape (days, tickers), and the reason.

        Example:
            >>> signals = SignalFrame(np.array([[np.nan, 1.0], [0.6, 0.2]]), np.array([[0.0, 0.5], [1.0, 1.0]]))
            >>> SignalWeightedSizing(gross_exposure=2.0).target_panel(signals, None)[0].round(2).tolist()
            [[0.0, 2.0], [1.5, 0.5]]
        """
        signal = np.asarray(signals.signal, dtype=np.float64)
        direction = self._direction(signal)
        strength = np.abs(direction * np.nan_to_num(signal) * np.nan_to_num(signals.confidence))
        total = strength.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(total > 0, self.gross_exposure / total, 0.0)
        return direction * strength * scale, self._REASON


class EstimateSizing(SizingAgent):
    """Base class of sizing agents that need the run's risk estimate (volatility or covariance).

    On the bars it computes targets, the agent selects tickers by signal, reads the shared estimate of the
    last ``lookback`` returns, and gives the selected tickers the weights of :meth:`weights_for`, signed by
    direction and scaled to ``gross_exposure``. Until ``min_history`` returns exist it holds nothing.

    Args:
        lookback: Returns in the estimation window, >= 2.
        covariance: ``sample``, ``ledoit_wolf`` or ``ewma``.
        halflife: Half-life in bars, for ``ewma``.
        min_history: Returns needed before sizing, in [2, lookback].
        long_only: See :class:`SizingAgent`.
        gross_exposure: See :class:`SizingAgent`.
        threshold: See :class:`SizingAgent`.
        rebalance: See :class:`SizingAgent`.
        min_position_size: See :class:`SizingAgent`.
        max_position_size: See :class:`SizingAgent`.
        adaptive: See :class:`SizingAgent`.
        learning_rate: See :class:`SizingAgent`.
        adaptation_period: See :class:`SizingAgent`.

    Raises:
        ConfigError: For a parameter out of range.

    Example:
        >>> class Equal(EstimateSizing):
        ...     def weights_for(self, bar, selected, direction):
        ...         return np.full(selected.size, 1.0 / selected.size)
        >>> close = np.array([[10.0, 10.0], [10.2, 10.1], [10.0, 10.0], [10.2, 10.1]])
        >>> agent = Equal(lookback=3, min_history=3)
        >>> agent.prepare(MarketData(np.arange(4).astype("datetime64[D]"), ("A", "B"), close), None)
        >>> state = ExecutionState.empty(("A", "B"))
        >>> state.bar, state.signal = 2, np.array([1.0, 1.0])
        >>> agent.targets(state)
        (array([0., 0.]), 'warming up: 2 of 3 bars of returns')
        >>> state.bar = 3
        >>> agent.targets(state)
        (array([0.5, 0.5]), 'estimate-based weights')
    """

    requires: ClassVar[tuple[str, ...]] = ("signal", "returns")
    method_name: ClassVar[str] = "estimate-based weights"

    def __init__(
        self,
        lookback: int = 252,
        covariance: str | None = "sample",
        halflife: float | None = None,
        min_history: int = 63,
        long_only: bool = True,
        gross_exposure: float = 1.0,
        threshold: float = 0.0,
        rebalance: str | int = "every_bar",
        min_position_size: float = 0.0,
        max_position_size: float | None = None,
        adaptive: bool = False,
        learning_rate: float = 0.1,
        adaptation_period: int = 21,
    ) -> None:
        super().__init__(
            rebalance=rebalance, long_only=long_only, gross_exposure=gross_exposure, threshold=threshold,
            min_position_size=min_position_size, max_position_size=max_position_size, adaptive=adaptive,
            learning_rate=learning_rate, adaptation_period=adaptation_period,
        )  # fmt: skip
        self.lookback = lookback
        self.covariance = covariance
        self.halflife = halflife
        self.min_history = min_history
        check_int("lookback", lookback, minimum=2)
        if covariance is not None or not self.accepts_no_covariance:
            check_covariance_method("", covariance, halflife)
        check_int("min_history", min_history, minimum=2)
        if min_history > lookback:
            raise ConfigError(f"min_history: must be <= lookback ({lookback}), got {min_history}")
        self._estimate: RollingEstimate | None = None
        self._tickers: tuple[str, ...] = ()

    #: Whether ``covariance: null`` is allowed (the optimizer's own estimator).
    accepts_no_covariance: ClassVar[bool] = False

    def history_needed(self) -> int:
        """``min_history`` bars of returns.

        Returns:
            ``min_history``; :meth:`check` refuses a run with fewer returns.

        Example:
            >>> InverseVolatilitySizing(lookback=60, min_history=20).history_needed()
            20
        """
        return int(self.min_history)

    def prepare(self, data: MarketData | None, signals: SignalFrame | None) -> None:
        """Reset, and take the run's shared estimate for these settings.

        Args:
            data: The whole panel of the run, or None (the agent then cannot size).
            signals: The combined signals of the run (not read here).

        Example:
            >>> close = np.array([[10.0, 10.0], [10.2, 10.1], [10.0, 10.0], [10.2, 10.1]])
            >>> agent = InverseVolatilitySizing(lookback=3, min_history=2)
            >>> state = ExecutionState.empty(("A", "B"))
            >>> state.bar, state.signal = 3, np.array([1.0, 0.0])
            >>> agent.targets(state)
            Traceback (most recent call last):
            ...
            framework.core.errors.AgentError: agent.agent: InverseVolatilitySizing needs prepare(data, signals) first
            >>> agent.prepare(MarketData(np.arange(4).astype("datetime64[D]"), ("A", "B"), close), None)
            >>> agent.targets(state)
            (array([1., 0.]), 'inverse volatility')
        """
        super().prepare(data, signals)
        if data is not None:
            self._estimate = Estimates.of(data).rolling(self.lookback, self.covariance or "sample", self.halflife)
            self._tickers = data.tickers

    def weights_for(self, bar: int, selected: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """Non-negative weights summing to 1 for the ``selected`` columns (held in ``direction``, ±1).

        Called by :meth:`targets` once ``min_history`` returns exist, with the selected tickers that have a full
        window of returns.

        Args:
            bar: Index t of the bar.
            selected: Column indices of the selected tickers, shape (k,).
            direction: +1 for a long, -1 for a short, one per entry of ``selected``.

        Returns:
            Shape (k,).

        Raises:
            NotImplementedError: In the base class: every estimate-based agent defines it.

        Example:
            >>> EstimateSizing().weights_for(100, np.array([0, 1]), np.array([1.0, 1.0]))
            Traceback (most recent call last):
            ...
            NotImplementedError
        """
        raise NotImplementedError

    def targets(self, state: ExecutionState) -> tuple[np.ndarray, str]:
        """The method's weights over the selected tickers (see the class docstring).

        A selected ticker without a full window of returns (listed late, or with a bar without a price in the
        window) gets 0 until its window is complete.

        Args:
            state: What is known at the close of bar t.

        Returns:
            ``direction x weights_for(...) x gross_exposure`` on the selected tickers, 0 for the others (all 0
            while warming up); and the reason.

        Raises:
            AgentError: Without :meth:`prepare` on the run's data.
            EstimationError: When the method cannot size the selected tickers on this bar.

        Example:
            >>> close = np.array([[10.0, np.nan], [10.2, 10.0], [10.0, 10.1], [10.2, 10.0]])
            >>> agent = InverseVolatilitySizing(lookback=2, min_history=2)
            >>> agent.prepare(MarketData(np.arange(4).astype("datetime64[D]"), ("A", "B"), close), None)
            >>> state = ExecutionState.empty(("A", "B"))
            >>> state.bar, state.signal = 2, np.array([1.0, 1.0])
            >>> agent.targets(state)[0].tolist()  # B has one return so far: A alone
            [1.0, 0.0]
            >>> state.bar = 3
            >>> agent.targets(state)[0].round(3).tolist()
            [0.334, 0.666]
        """
        if self._estimate is None:
            raise AgentError(f"agent.{self.name}: {type(self).__name__} needs prepare(data, signals) first")
        direction = self._direction(state.signal)
        if not direction.any():
            return direction, self.method_name
        observed = self._estimate.n_observations(state.bar)
        if observed < self.min_history:
            return np.zeros_like(direction), f"warming up: {observed} of {self.min_history} bars of returns"
        if self._estimate.missing is not None:  # a ticker without a full window of returns waits
            direction = direction * self._estimate.complete(state.bar)
            if not direction.any():
                return direction, f"{self.method_name}: no selected ticker has a full window of returns yet"
        selected = np.flatnonzero(direction)
        weights = self.weights_for(state.bar, selected, direction[selected])
        target = np.zeros_like(direction)
        target[selected] = direction[selected] * weights * self.gross_exposure
        return target, self.method_name

    def _names(self, columns: np.ndarray) -> str:
        return ", ".join(self._tickers[i] for i in columns) if self._tickers else str(columns.tolist())

    def _check_volatility(self, bar: int, selected: np.ndarray, vol: np.ndarray) -> None:
        bad = ~(vol > 0) | ~np.isfinite(vol)
        if bad.any():
            n = self._estimate.n_observations(bar) if self._estimate else 0
            raise EstimationError(
                f"{self.method_name}: {self._names(selected[bad])} had no price variation over the last {n} "
                f"returns (volatility {vol[bad].tolist()}), so their weight is undefined"
            )


class InverseVolatilitySizing(EstimateSizing):
    """Weights in proportion to ``1 / volatility`` over the selected tickers.

    Requires: ``state.signal`` of bar t and ``min_history`` returns (the run's shared estimate).
    Sets: ``target_weights``: ``±gross_exposure * (1/vol_i) / sum(1/vol)`` over the selected tickers.

    The same weights as skfolio's ``InverseVolatility`` on the same window with the sample or ewma estimator.
    With ``ledoit_wolf`` the volatilities are the diagonal of the run's shared estimate, shrunk over every ticker
    of the data (skfolio, fitted on the selected tickers alone, shrinks over those only).

    Args:
        lookback: See :class:`EstimateSizing`.
        covariance: See :class:`EstimateSizing`.
        halflife: See :class:`EstimateSizing`.
        min_history: See :class:`EstimateSizing`.
        long_only: See :class:`SizingAgent`.
        gross_exposure: See :class:`SizingAgent`.
        threshold: See :class:`SizingAgent`.
        rebalance: See :class:`SizingAgent`.
        min_position_size: See :class:`SizingAgent`.
        max_position_size: See :class:`SizingAgent`.
        adaptive: See :class:`SizingAgent`.
        learning_rate: See :class:`SizingAgent`.
        adaptation_period: See :class:`SizingAgent`.

    Raises:
        ConfigError: For a parameter out of range.
        EstimationError: On a bar where a selected ticker has zero volatility.

    Example:
        >>> close = np.array([[10.0, 10.0], [10.2, 10.1], [10.0, 10.0], [10.2, 10.1]])
        >>> data = MarketData(np.arange(4).astype("datetime64[D]"), ("A", "B"), close)
        >>> agent = InverseVolatilitySizing(lookback=3, min_history=2)
        >>> agent.prepare(data, None)
        >>> state = ExecutionState.empty(("A", "B"))
        >>> state.bar, state.signal = 3, np.array([1.0, 1.0])
        >>> agent.propose(TradeProposal(np.full(2, np.nan)), state).target_weights.round(3)
        array([0.334, 0.666])
    """

    method_name: ClassVar[str] = "inverse volatility"

    def weights_for(self, bar: int, selected: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """``1/vol`` normalized (see the class docstring).

        Args:
            bar: Index t of the bar.
            selected: Column indices of the selected tickers, shape (k,).
            direction: +1 for a long, -1 for a short, one per entry of ``selected`` (the weights do not depend
                on it).

        Returns:
            Shape (k,), summing to 1.

        Raises:
            EstimationError: When a selected ticker has zero volatility over the window.

        Example:
            >>> close = np.array([[10.0, 10.0], [10.2, 10.1], [10.0, 10.0], [10.2, 10.1]])
            >>> agent = InverseVolatilitySizing(lookback=3, min_history=2)
            >>> agent.prepare(MarketData(np.arange(4).astype("datetime64[D]"), ("A", "B"), close), None)
            >>> agent.weights_for(3, np.array([0, 1]), np.array([1.0, -1.0])).round(3).tolist()  # B half as volatile
            [0.334, 0.666]
        """
        assert self._estimate is not None
        vol = self._estimate.volatility(bar)[selected]
        self._check_volatility(bar, selected, vol)
        inverse = 1.0 / vol
        return inverse / inverse.sum()  # type: ignore[no-any-return]


class RiskParitySizing(EstimateSizing):
    """Equal risk contribution (or contributions in proportion to ``risk_budgets``) over the selected tickers.

    Requires: ``state.signal`` of bar t and ``min_history`` returns (the run's shared covariance estimate).
    Sets: ``target_weights``: the weights whose contributions to the portfolio's variance are proportional to
    the budgets of the selected tickers, signed by direction, scaled to ``gross_exposure``.

    Solved by Newton's method (:func:`framework.stats.risk_parity.risk_budget_weights`), which agrees with
    skfolio's ``RiskBudgeting`` to about 1e-6. A short position's returns enter with their sign flipped, so its
    contribution is to the risk of the portfolio actually held.

    Args:
        risk_budgets: Budget per ticker (``{AAPL: 2.0}``), positive; tickers left out get 1. None: all equal.
        max_iterations: Newton iterations before the solver gives up (an EstimationError).
        lookback: See :class:`EstimateSizing`.
        covariance: See :class:`EstimateSizing`.
        halflife: See :class:`EstimateSizing`.
        min_history: See :class:`EstimateSizing`.
        long_only: See :class:`SizingAgent`.
        gross_exposure: See :class:`SizingAgent`.
        threshold: See :class:`SizingAgent`.
        rebalance: See :class:`SizingAgent`.
        min_position_size: See :class:`SizingAgent`.
        max_position_size: See :class:`SizingAgent`.
        adaptive: See :class:`SizingAgent`.
        learning_rate: See :class:`SizingAgent`.
        adaptation_period: See :class:`SizingAgent`.

    Raises:
        ConfigError: For a parameter out of range, or a budget naming a ticker outside the data (at prepare).
        EstimationError: On a bar where a selected ticker has zero variance or the solver does not converge.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> returns = rng.normal(size=(300, 2)) * np.array([0.02, 0.01])
        >>> close = 100 * np.cumprod(1 + returns, axis=0)
        >>> data = MarketData(np.arange(300).astype("datetime64[D]"), ("A", "B"), close)
        >>> agent = RiskParitySizing()
        >>> agent.prepare(data, None)
        >>> state = ExecutionState.empty(("A", "B"))
        >>> state.bar, state.signal = 299, np.array([1.0, 1.0])
        >>> agent.propose(TradeProposal(np.full(2, np.nan)), state).target_weights.round(2)  # about 1/3, 2/3
        array([0.33, 0.67])
    """

    method_name: ClassVar[str] = "risk parity"

    def __init__(
        self,
        risk_budgets: Mapping[str, float] | None = None,
        max_iterations: int = 50,
        lookback: int = 252,
        covariance: str | None = "sample",
        halflife: float | None = None,
        min_history: int = 63,
        long_only: bool = True,
        gross_exposure: float = 1.0,
        threshold: float = 0.0,
        rebalance: str | int = "every_bar",
        min_position_size: float = 0.0,
        max_position_size: float | None = None,
        adaptive: bool = False,
        learning_rate: float = 0.1,
        adaptation_period: int = 21,
    ) -> None:
        super().__init__(
            lookback=lookback, covariance=covariance, halflife=halflife, min_history=min_history,
            rebalance=rebalance, long_only=long_only, gross_exposure=gross_exposure, threshold=threshold,
            min_position_size=min_position_size, max_position_size=max_position_size, adaptive=adaptive,
            learning_rate=learning_rate, adaptation_period=adaptation_period,
        )  # fmt: skip
        self.risk_budgets = risk_budgets
        self.max_iterations = max_iterations
        if risk_budgets is not None:
            if not isinstance(risk_budgets, Mapping):
                raise ConfigError(f"risk_budgets: must be a mapping ticker -> budget, got {risk_budgets!r}")
            for ticker, budget in risk_budgets.items():
                check_number(f"risk_budgets.{ticker}", budget, minimum=0, exclusive_minimum=True)
        check_int("max_iterations", max_iterations)
        self._budgets: np.ndarray = np.empty(0)

    def check(self, context: RunContext) -> None:
        """Also check that every budgeted ticker is in the data.

        Args:
            context: What the run provides.

        Raises:
            ConfigError: Naming the agent's config key and what is missing.

        Example:
            >>> agent = RiskParitySizing(risk_budgets={"A": 2.0, "Z": 1.0}, lookback=3, min_history=2)
            >>> agent.name = "sizing"
            >>> agent.check(RunContext(n_days=10, tickers=("A", "B")))
            Traceback (most recent call last):
            ...
            framework.core.errors.ConfigError: agent.sizing.risk_budgets: Z not in the data; tickers: A, B
        """
        super().check(context)
        unknown = sorted(set(self.risk_budgets or {}) - set(context.tickers))
        if unknown:
            raise ConfigError(
                f"agent.{self.name}.risk_budgets: {', '.join(unknown)} not in the data; tickers: "
                f"{', '.join(context.tickers)}"
            )

    def prepare(self, data: MarketData | None, signals: SignalFrame | None) -> None:
        """Reset, take the shared estimate, and lay out the budgets in column order.

        Args:
            data: The whole panel of the run, or None.
            signals: The combined signals of the run (not read here).

        Example:
            >>> close = np.array([[10.0, 20.0], [10.2, 20.1], [10.0, 20.3], [10.3, 20.0], [10.1, 20.2]])
            >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("A", "B"), close)
            >>> agent = RiskParitySizing(risk_budgets={"B": 2.0}, lookback=4, min_history=3)
            >>> agent.prepare(data, None)
            >>> agent.weights_for(4, np.array([0, 1]), np.ones(2)).round(3).tolist()
            [0.299, 0.701]
            >>> agent.prepare(data.select(["B", "A"]), None)  # B's budget follows B's column
            >>> agent.weights_for(4, np.array([0, 1]), np.ones(2)).round(3).tolist()
            [0.701, 0.299]
        """
        super().prepare(data, signals)
        if data is not None:
            budgets = self.risk_budgets or {}
            self._budgets = np.array([float(budgets.get(t, 1.0)) for t in data.tickers])

    def weights_for(self, bar: int, selected: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """Risk budgeting weights of the selected tickers (see the class docstring).

        Args:
            bar: Index t of the bar.
            selected: Column indices of the selected tickers, shape (k,).
            direction: +1 for a long, -1 for a short, one per entry of ``selected``: a short's returns enter
                with their sign flipped.

        Returns:
            Shape (k,), summing to 1.

        Raises:
            EstimationError: When a selected ticker has zero variance or the solver does not converge.

        Example:
            >>> close = np.array([[10.0, 20.0], [10.2, 20.1], [10.0, 20.3], [10.3, 20.0], [10.1, 20.2]])
            >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("A", "B"), close)
            >>> equal = RiskParitySizing(lookback=4, min_history=3)
            >>> a_twice = RiskParitySizing(risk_budgets={"A": 2.0}, lookback=4, min_history=3)
            >>> equal.prepare(data, None)
            >>> a_twice.prepare(data, None)
            >>> both = np.array([0, 1])
            >>> equal.weights_for(4, both, np.ones(2)).round(3).tolist()  # two assets: inverse volatility
            [0.312, 0.688]
            >>> a_twice.weights_for(4, both, np.ones(2)).round(3).tolist()
            [0.324, 0.676]
            >>> a_twice.weights_for(4, both, np.array([1.0, -1.0])).round(3).tolist()  # B short
            [0.461, 0.539]
        """
        from framework.stats.risk_parity import risk_budget_weights

        assert self._estimate is not None
        cov = self._estimate.covariance_of(bar, selected)
        self._check_volatility(bar, selected, np.sqrt(np.diag(cov)))
        if (direction < 0).any():
            cov = cov * np.outer(direction, direction)
        budgets = self._budgets[selected] if self._budgets.size else None
        try:
            return risk_budget_weights(cov, budgets, max_iterations=self.max_iterations)
        except EstimationError as error:
            raise EstimationError(f"risk parity over {self._names(selected)}: {error}") from None


class OptimizerSizing(EstimateSizing):
    """Weights from a skfolio portfolio optimizer fitted on the causal window at each rebalance.

    Requires: ``state.signal`` of bar t and ``min_history`` returns.
    Sets: ``target_weights``: the optimizer's weights over the selected tickers, signed and scaled to
    ``gross_exposure``.

    ``optimizer`` is any skfolio optimization estimator (a nested ``_target_``): ``MeanRisk`` (minimum variance
    by default), ``HierarchicalRiskParity``, ``RiskBudgeting``... A fresh clone is fitted on the selected
    tickers' returns over the last ``lookback`` bars (short positions' returns sign-flipped) on each bar the
    schedule computes targets, so choose a ``rebalance`` like ``monthly``. With ``covariance`` set, the
    optimizer's prior takes the run's shared covariance estimate instead of estimating its own; with
    ``covariance: null`` it keeps its own ``prior_estimator``.

    Args:
        optimizer: The skfolio estimator (it must have ``fit`` and set ``weights_``).
        lookback: See :class:`EstimateSizing`.
        covariance: See :class:`EstimateSizing`; null keeps the optimizer's own prior.
        halflife: See :class:`EstimateSizing`.
        min_history: See :class:`EstimateSizing`.
        long_only: See :class:`SizingAgent`.
        gross_exposure: See :class:`SizingAgent`.
        threshold: See :class:`SizingAgent`.
        rebalance: See :class:`SizingAgent`.
        min_position_size: See :class:`SizingAgent`.
        max_position_size: See :class:`SizingAgent`.
        adaptive: See :class:`SizingAgent`.
        learning_rate: See :class:`SizingAgent`.
        adaptation_period: See :class:`SizingAgent`.

    Raises:
        ConfigError: For a parameter out of range or an optimizer without ``fit``.
        EstimationError: When the optimizer fails on a bar.

    Example:
        >>> from skfolio.optimization import MeanRisk  # minimum variance by default
        >>> rng = np.random.default_rng(0)
        >>> close = 100 * np.cumprod(1 + rng.normal(size=(300, 2)) * np.array([0.02, 0.01]), axis=0)
        >>> data = MarketData(np.arange(300).astype("datetime64[D]"), ("A", "B"), close)
        >>> agent = OptimizerSizing(MeanRisk())
        >>> agent.prepare(data, None)
        >>> state = ExecutionState.empty(("A", "B"))
        >>> state.bar, state.signal = 299, np.array([1.0, 1.0])
        >>> agent.propose(TradeProposal(np.full(2, np.nan)), state).target_weights.round(1)
        array([0.2, 0.8])
    """

    method_name: ClassVar[str] = "optimizer"
    accepts_no_covariance: ClassVar[bool] = True

    def __init__(
        self,
        optimizer: Any,
        lookback: int = 252,
        covariance: str | None = None,
        halflife: float | None = None,
        min_history: int = 63,
        long_only: bool = True,
        gross_exposure: float = 1.0,
        threshold: float = 0.0,
        rebalance: str | int = "monthly",
        min_position_size: float = 0.0,
        max_position_size: float | None = None,
        adaptive: bool = False,
        learning_rate: float = 0.1,
        adaptation_period: int = 21,
    ) -> None:
        super().__init__(
            lookback=lookback, covariance=covariance, halflife=halflife, min_history=min_history,
            rebalance=rebalance, long_only=long_only, gross_exposure=gross_exposure, threshold=threshold,
            min_position_size=min_position_size, max_position_size=max_position_size, adaptive=adaptive,
            learning_rate=learning_rate, adaptation_period=adaptation_period,
        )  # fmt: skip
        self.optimizer = optimizer
        if not callable(getattr(optimizer, "fit", None)):
            raise ConfigError(f"optimizer: must be a skfolio optimization estimator with fit(), got {optimizer!r}")
        self.method_name = type(optimizer).__name__  # type: ignore[misc]

    def weights_for(self, bar: int, selected: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """Fit a clone of the optimizer on the selected tickers' window (see the class docstring).

        Negative or NaN weights of the optimizer count as 0; the rest are normalized.

        Args:
            bar: Index t of the bar.
            selected: Column indices of the selected tickers, shape (k,); one ticker gets all (no fit).
            direction: +1 for a long, -1 for a short, one per entry of ``selected``: a short's returns enter
                with their sign flipped.

        Returns:
            Shape (k,), summing to 1.

        Raises:
            EstimationError: When the optimizer fails or gives no positive weight.

        Example:
            >>> from skfolio.optimization import InverseVolatility
            >>> close = np.array([[10.0, 20.0], [10.2, 20.1], [10.0, 20.3], [10.3, 20.0], [10.1, 20.2]])
            >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("A", "B"), close)
            >>> agent = OptimizerSizing(InverseVolatility(), lookback=4, min_history=3)
            >>> agent.prepare(data, None)
            >>> agent.weights_for(4, np.array([0, 1]), np.ones(2)).round(3).tolist()
            [0.312, 0.688]
            >>> agent.weights_for(4, np.array([1]), np.ones(1)).tolist()
            [1.0]
        """
        from sklearn.base import clone

        assert self._estimate is not None
        if selected.size == 1:
            return np.ones(1)
        returns = self._estimate.window(bar)[:, selected] * direction
        model = clone(self.optimizer)
        if self.covariance is not None and "prior_estimator" in model.get_params(deep=False):
            from framework.agents._skfolio import shared_prior

            cov = self._estimate.covariance_of(bar, selected) * np.outer(direction, direction)
            model.set_params(prior_estimator=shared_prior(cov))
        try:
            model.fit(returns)
            weights = np.asarray(model.weights_, dtype=np.float64)
        except Exception as error:  # noqa: BLE001 - any failure of the third-party solver is recoverable
            raise EstimationError(f"{self.method_name} over {self._names(selected)}: {error}") from None
        weights = np.clip(np.nan_to_num(weights), 0.0, None)
        total = float(weights.sum())
        if total <= 0:
            raise EstimationError(f"{self.method_name} over {self._names(selected)}: no positive weight")
        return weights / total  # type: ignore[no-any-return]
