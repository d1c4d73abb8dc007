"""Types shared by every layer: signals, proposals, the execution state and the decision log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class SignalFrame:
    """What a strategy or an aggregator says about every ticker on every bar.

    Attributes:
        signal: Shape (days, tickers). Floats in [-1, 1] (+1 fully long, -1 fully short, 0 flat, NaN while the
            strategy warms up) or, for label strategies, strings ``"BUY"``, ``"SELL"``, ``"HOLD"`` (object
            dtype; ``None`` for no opinion). Row t uses data up to and including bar t only.
        confidence: Shape (days, tickers), floats in [0, 1]; how sure the strategy is (1 where it has no notion
            of confidence, 0 during warm-up).

    Example:
        >>> frame = SignalFrame(np.array([[np.nan], [1.0]]), np.array([[0.0], [1.0]]))
        >>> frame.shape
        (2, 1)
    """

    signal: np.ndarray
    confidence: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """(days, tickers).

        Example:
            >>> SignalFrame(np.zeros((3, 2)), np.ones((3, 2))).shape
            (3, 2)
        """
        return self.signal.shape  # type: ignore[return-value]


@dataclass
class TradeProposal:
    """The targets the decision pipeline passes from agent to agent on one bar.

    Agents never write into the arrays of the proposal they receive: they return a new proposal, or the one they
    received when they change nothing (the orchestrator then skips its checks).

    Attributes:
        target_weights: Shape (tickers,). Fraction of equity to hold in each ticker after the next fill
            (negative for a short). NaN means "no order: keep the current position as it is".
        confidence: Shape (tickers,), in [0, 1]: how sure the signal behind each target is (set by sizing from
            the combined confidence), or None.
        reasoning: The last agent's reason for these targets, in words.
        order_type: Per ticker, 0 for a market order, 1 for a limit order; None: market orders.
        limit_price: Per ticker, the limit of a limit order (NaN for market orders), or None.
        time_in_force: Per ticker, 0 for DAY (the order lives for its fill bar), 1 for GTC (it works until
            filled, replaced or too old); None: DAY.
        order_quantity: Per ticker, signed shares to trade, fixed at the decision (NaN: the target weight is
            resolved at the fill price, as market orders do); None: all resolved at the fill price.
        max_fill: Per ticker, the most shares one bar may fill (a market-impact cut; inf: no cap); None: no cap.

    Example:
        >>> proposal = TradeProposal(np.array([0.5, np.nan]))
        >>> proposal.target_weights.tolist(), held_weights(proposal.target_weights, np.array([0.2, 0.3])).tolist()
        ([0.5, nan], [0.5, 0.3])
    """

    target_weights: np.ndarray
    confidence: np.ndarray | None = None
    reasoning: str = ""
    order_type: np.ndarray | None = None
    limit_price: np.ndarray | None = None
    time_in_force: np.ndarray | None = None
    order_quantity: np.ndarray | None = None
    max_fill: np.ndarray | None = None

    @property
    def has_instructions(self) -> bool:
        """Whether the proposal carries order instructions beyond plain market orders for its targets.

        Example:
            >>> weights = np.array([0.5, 0.5])
            >>> TradeProposal(weights).has_instructions
            False
            >>> TradeProposal(weights, order_type=np.array([1, 0], dtype=np.int8)).has_instructions
            True
        """
        return any(
            value is not None
            for value in (self.order_type, self.limit_price, self.time_in_force, self.order_quantity, self.max_fill)
        )


def held_weights(target_weights: np.ndarray, current_weights: np.ndarray) -> np.ndarray:
    """The weights the portfolio will hold after the next fill: the target where set, the current weight where NaN.

    The one place that decides what a NaN target means for an agent that measures the portfolio (risk,
    correlation, selection).

    Args:
        target_weights: Shape (tickers,), NaN for "keep the position".
        current_weights: Shape (tickers,), the weights at the close of the bar.

    Returns:
        Shape (tickers,).

    Example:
        >>> held_weights(np.array([np.nan, 0.0, 0.4]), np.array([0.1, 0.2, 0.3])).tolist()
        [0.1, 0.0, 0.4]
    """
    return np.where(np.isnan(target_weights), current_weights, target_weights)


@dataclass
class Adjustment:
    """What a risk or correlation agent decided on one bar: a scale factor per position, measures and warnings.

    Attributes:
        scale: Shape (tickers,): the multiplier of each position the portfolio would hold (1: unchanged, 0:
            closed).
        weights: Shape (tickers,): the resulting weights (the held weights times ``scale``, as computed).
        metrics: The measures behind the decision, e.g. ``{"volatility": 0.15, "iterations": 2.0}``.
        warnings: What the agent could not do as asked, in words (``"limits forced after 3 iterations"``).

    Example:
        >>> held = np.array([0.5, 0.3])
        >>> adjustment = Adjustment(np.array([0.5, 1.0]), np.array([0.25, 0.3]))
        >>> adjustment.apply(TradeProposal(np.array([0.5, np.nan])), held).target_weights.tolist()
        [0.25, nan]
    """

    scale: np.ndarray
    weights: np.ndarray
    metrics: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def apply(self, proposal: TradeProposal, held: np.ndarray, reasoning: str = "") -> TradeProposal:
        """The proposal with every scaled position as an explicit target; the others as they were.

        Args:
            proposal: The proposal the agent received.
            held: The weights the portfolio would hold under it (:func:`held_weights`).
            reasoning: The agent's reason, carried by the new proposal.

        Returns:
            ``proposal`` itself when nothing changed, else a new proposal.

        Example:
            >>> proposal = TradeProposal(np.array([0.4, np.nan]), reasoning="signal")
            >>> held = np.array([0.4, 0.2])
            >>> cut = Adjustment(np.array([1.0, 0.5]), np.array([0.4, 0.1])).apply(proposal, held, "risk cap")
            >>> cut.target_weights.tolist(), cut.reasoning
            ([0.4, 0.1], 'risk cap')
            >>> Adjustment(np.ones(2), held.copy()).apply(proposal, held) is proposal
            True
        """
        changed = self.weights != held
        if not changed.any():
            return proposal
        targets = proposal.target_weights.copy()
        targets[changed] = self.weights[changed]
        return TradeProposal(targets, proposal.confidence, reasoning or proposal.reasoning)


#: Phases of a bar in the decision log: fills of the previous bar's orders come before the agents' decisions.
PHASE_FILLS, PHASE_DECISIONS = 0, 1


@dataclass
class DecisionLog:
    """Every adjustment an agent or the broker made, with its reason.

    Records are appended as arrays (one call per agent and bar, never one per ticker) and turned into a table
    once at the end of the run. ``asset`` is a column index, or -1 for a decision about the whole portfolio.
    A reason may carry the numbers behind the decision as ``{value}`` and ``{limit}`` fields (``"position risk
    {value:.3f} > {limit:g}"``), filled in per row when the table is made, so the loop formats no strings.

    Example:
        >>> log = DecisionLog()
        >>> log.record(3, "sizing", np.array([0, 1]), np.array([0.0, 0.5]), np.array([0.5, 0.0]), "signal")
        >>> log.record(3, "risk", 0, 0.5, 0.4, "position risk {value:.3f} > {limit:g}", values=0.0625, limit=0.05)
        >>> len(log)
        3
        >>> frame = log.to_frame(np.array(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
        ...                               dtype="datetime64[D]"), ("A", "B"))
        >>> frame[["bar", "agent", "ticker", "before", "after", "reason"]].to_dict("records")[0]
        {'bar': 3, 'agent': 'sizing', 'ticker': 'A', 'before': 0.0, 'after': 0.5, 'reason': 'signal'}
        >>> frame["reason"].iloc[2]
        'position risk 0.062 > 0.05'
    """

    _entries: list[tuple[object, ...]] = field(default_factory=list)
    _size: int = 0

    def record(
        self,
        bar: int | np.ndarray,
        agent: str,
        assets: np.ndarray | int,
        before: np.ndarray | float,
        after: np.ndarray | float,
        reason: str | list[str],
        *,
        values: np.ndarray | float | None = None,
        limit: float | None = None,
        phase: int = PHASE_DECISIONS,
    ) -> None:
        """Append the decisions of one agent on one bar (or, with an array of bars, on many bars at once).

        Args:
            bar: Bar index of the decision, or one bar per asset (for a whole-panel agent).
            agent: Name of the agent (or ``"broker"``).
            assets: Column indices the decision is about, or -1 for the whole portfolio.
            before: Values before the adjustment, one per asset.
            after: Values after the adjustment, one per asset.
            reason: Why, in words a researcher reads in the log (one string, or one per asset); may contain
                ``{value}`` and ``{limit}`` fields.
            values: The measured number per asset behind the decision (fills ``{value}``), or None.
            limit: The limit it was compared with (fills ``{limit}``), or None.
            phase: :data:`PHASE_FILLS` for the broker's fills, :data:`PHASE_DECISIONS` for the agents: within a
                bar, fills are listed first.

        Example:
            >>> log = DecisionLog()
            >>> log.record(2, "sizing", np.array([0, 1]), np.zeros(2), np.array([0.5, 0.5]), "signal")
            >>> log.record(np.array([1, 3]), "stops", np.array([0, 0]), 0.5, 0.0, "stop loss")
            >>> len(log)
            4
        """
        # Stored as given (by reference: pass arrays that are not modified afterwards); this runs inside the
        # per-bar loop, so the conversion to one table happens once, in to_frame.
        self._entries.append((bar, agent, assets, before, after, reason, values, limit, phase))
        self._size += np.size(assets)

    def __len__(self) -> int:
        return self._size

    def counts(self, n_days: int) -> dict[str, np.ndarray]:
        """Decisions per agent and bar: agent name -> shape (n_days,) array of counts (one per ticker touched).

        Args:
            n_days: Bars in the run.

        Returns:
            Agent name to its counts per bar.

        Example:
            >>> log = DecisionLog()
            >>> log.record(1, "risk", np.array([0, 1]), np.zeros(2), np.ones(2), "x")
            >>> log.counts(3)["risk"].tolist()
            [0, 2, 0]
        """
        out: dict[str, np.ndarray] = {}
        for bar, agent, assets, *_ in self._entries:
            counts = out.setdefault(str(agent), np.zeros(n_days, dtype=np.int64))
            if isinstance(bar, np.ndarray):
                np.add.at(counts, bar, 1)
            else:
                counts[int(bar)] += np.size(assets)  # type: ignore[call-overload,arg-type]
        return out

    def to_frame(self, dates: np.ndarray, tickers: tuple[str, ...]) -> pd.DataFrame:
        """The log as a table with columns date, bar, agent, ticker, before, after, reason.

        Rows are in the order of the bars; within a bar, the broker's fills first, then the agents in the order
        they ran.

        Args:
            dates: Bar dates, to name each bar.
            tickers: Column names, to name each asset ("*" for the whole portfolio).

        Returns:
            One row per recorded decision.

        Example:
            >>> log = DecisionLog()
            >>> log.record(1, "risk", -1, 1.2, 1.0, "gross {value:.1f} > {limit:g}", values=1.2, limit=1.0)
            >>> log.record(1, "broker", 1, 0.0, 10.0, "fill", phase=PHASE_FILLS)
            >>> frame = log.to_frame(np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[D]"), ("A", "B"))
            >>> frame[["agent", "ticker", "reason"]].values.tolist()
            [['broker', 'B', 'fill'], ['risk', '*', 'gross 1.2 > 1']]
        """
        import pandas as pd

        columns = ["date", "bar", "agent", "ticker", "before", "after", "reason"]
        if not self._entries:
            return pd.DataFrame({name: [] for name in columns})
        assets_list = [np.atleast_1d(np.asarray(e[2], dtype=np.intp)) for e in self._entries]
        sizes = np.array([a.size for a in assets_list])
        pairs = list(zip(self._entries, sizes, strict=True))

        def spread(index: int, dtype: type = float) -> np.ndarray:
            return np.concatenate([np.broadcast_to(np.asarray(e[index], dtype), (n,)) for e, n in pairs])

        bars = spread(0, np.int64)
        assets = np.concatenate(assets_list)
        phases = np.repeat(np.array([e[8] for e in self._entries], dtype=np.int64), sizes)
        reasons = np.concatenate([np.broadcast_to(np.asarray(e[5], dtype=object), (n,)) for e, n in pairs])
        values = np.concatenate(
            [np.broadcast_to(np.asarray(np.nan if e[6] is None else e[6], float), (n,)) for e, n in pairs]
        )
        limits = np.repeat(np.array([np.nan if e[7] is None else e[7] for e in self._entries], float), sizes)
        templated = np.array(["{" in str(r) for r in reasons], dtype=bool)
        for row in np.flatnonzero(templated):
            reasons[row] = str(reasons[row]).format(value=values[row], limit=limits[row])
        order = np.lexsort((phases, bars))  # stable: by bar, then fills before decisions, then as recorded
        names = np.array((*tickers, "*"), dtype=object)
        agents = np.repeat(np.array([e[1] for e in self._entries], dtype=object), sizes)
        return pd.DataFrame(
            {
                "date": pd.to_datetime(np.asarray(dates)[bars[order]]),
                "bar": bars[order],
                "agent": agents[order],
                "ticker": names[np.where(assets < 0, len(tickers), assets)][order],
                "before": spread(3)[order],
                "after": spread(4)[order],
                "reason": reasons[order],
            }
        )


@dataclass
class ExecutionState:
    """What the agents may look at on bar t. The engine updates one instance in place every bar.

    Every array is a view of bar t (or of bars up to t); nothing after t is reachable from here.

    Attributes:
        bar: Index t of the current bar.
        date: Date of bar t.
        tickers: Column names.
        close: Closing prices of bar t, shape (tickers,): the last price known for a ticker without a price on
            bar t (see ``tradable``), 0 before a ticker's first price.
        signal: Combined signal of bar t in [-1, 1] (NaN while warming up), shape (tickers,).
        confidence: Combined confidence of bar t in [0, 1], shape (tickers,).
        positions: Shares held after bar t's fills, shape (tickers,).
        cash: Cash at the close of bar t.
        equity: Cash plus holdings at the close of bar t.
        log: The run's decision log, where agents record what they change and why.
        allocation: The portfolio's fixed allocation per ticker (fractions of equity), or None if it has none.
        tradable: Which tickers have a price on bar t (booleans), or None when every ticker always trades.

    Example:
        >>> state = ExecutionState.empty(("A", "B"))
        >>> state.positions.tolist(), state.cash, state.weights.tolist()
        ([0.0, 0.0], 0.0, [0.0, 0.0])
    """

    bar: int
    date: np.datetime64
    tickers: tuple[str, ...]
    close: np.ndarray
    signal: np.ndarray
    confidence: np.ndarray
    positions: np.ndarray
    cash: float
    equity: float
    log: DecisionLog
    allocation: np.ndarray | None = None
    tradable: np.ndarray | None = None
    _strength: np.ndarray | None = field(default=None, repr=False)
    _strength_key: tuple[int, int, int] | None = field(default=None, repr=False)
    _held: tuple[tuple[int, int, int], np.ndarray] | None = field(default=None, repr=False)
    _weights: np.ndarray | None = field(default=None, repr=False)
    _weights_key: tuple[int, int, float] | None = field(default=None, repr=False)

    @classmethod
    def empty(cls, tickers: tuple[str, ...]) -> ExecutionState:
        """A state before the first bar: no positions, no cash, NaN prices and signals.

        Args:
            tickers: Column names.

        Returns:
            The state at bar -1.

        Example:
            >>> state = ExecutionState.empty(("A", "B"))
            >>> state.bar, state.close.tolist(), state.confidence.tolist()
            (-1, [nan, nan], [0.0, 0.0])
        """
        n = len(tickers)
        nan = np.full(n, np.nan)
        return cls(
            bar=-1,
            date=np.datetime64("NaT", "D"),
            tickers=tickers,
            close=nan,
            signal=nan.copy(),
            confidence=np.zeros(n),
            positions=np.zeros(n),
            cash=0.0,
            equity=0.0,
            log=DecisionLog(),
        )

    def held(self, target_weights: np.ndarray) -> np.ndarray:
        """:func:`held_weights` of ``target_weights`` on this bar, shared by the agents that receive the same array.

        Args:
            target_weights: A proposal's targets (NaN: keep the position); not modified afterwards by the caller.

        Returns:
            The weights the portfolio will hold after the next fill (read-only use).

        Example:
            >>> state = ExecutionState.empty(("A", "B"))
            >>> state.close, state.positions, state.equity = np.array([10.0, 20.0]), np.array([5.0, 0.0]), 100.0
            >>> state.held(np.array([np.nan, 0.3])).tolist()
            [0.5, 0.3]
        """
        key = (self.bar, id(target_weights), id(self.positions))
        if self._held is None or self._held[0] != key:
            self._held = (key, held_weights(target_weights, self.weights))
        return self._held[1]

    @property
    def strength(self) -> np.ndarray:
        """How strongly the pipeline believes in each ticker: ``|signal| x confidence``, 0 where NaN, shape (tickers,).

        Computed on first use in a bar and shared by the agents that rank positions (selection, correlation).

        Example:
            >>> state = ExecutionState.empty(("A", "B", "C"))
            >>> state.signal, state.confidence = np.array([-1.0, 0.5, np.nan]), np.array([0.5, 1.0, 0.0])
            >>> state.strength.tolist()
            [0.5, 0.5, 0.0]
        """
        key = (self.bar, id(self.signal), id(self.confidence))
        if self._strength is None or key != self._strength_key:
            strength = np.abs(self.signal * self.confidence)
            strength[np.isnan(strength)] = 0.0
            self._strength, self._strength_key = strength, key
        return self._strength

    @property
    def weights(self) -> np.ndarray:
        """Fraction of equity in each ticker at the close of bar t, shape (tickers,).

        Computed on first use in a bar and shared by every agent of that bar; computed again when the bar, the
        positions array or the equity change.

        Example:
            >>> state = ExecutionState.empty(("A", "B"))
            >>> state.weights.tolist()  # no equity yet
            [0.0, 0.0]
            >>> state.close, state.positions, state.equity = np.array([10.0, 20.0]), np.array([5.0, -1.0]), 100.0
            >>> state.weights.tolist()
            [0.5, -0.2]
        """
        key = (self.bar, id(self.positions), self.equity)
        if self._weights is None or key != self._weights_key:
            if self.equity == 0:
                self._weights = np.zeros_like(self.positions)
            else:
                self._weights = self.positions * self.close / self.equity
            self._weights_key = key
        return self._weights
