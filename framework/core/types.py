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
        """(days, tickers)."""
        return self.signal.shape  # type: ignore[return-value]


@dataclass
class TradeProposal:
    """The targets the decision pipeline passes from agent to agent on one bar.

    Attributes:
        target_weights: Shape (tickers,). Fraction of equity to hold in each ticker after the next fill
            (negative for a short). NaN means "no order: keep the current position as it is".

    Example:
        >>> proposal = TradeProposal(np.array([0.5, np.nan]))
        >>> proposal.target_weights.tolist()
        [0.5, nan]
    """

    target_weights: np.ndarray


@dataclass
class DecisionLog:
    """Every adjustment an agent or the broker made, with its reason.

    Records are appended as arrays (one call per agent and bar, never one per ticker) and turned into a table
    once at the end of the run. ``asset`` is a column index, or -1 for a decision about the whole portfolio.

    Example:
        >>> log = DecisionLog()
        >>> log.record(3, "sizing", np.array([0, 1]), np.array([0.0, 0.5]), np.array([0.5, 0.0]), "signal")
        >>> len(log)
        2
        >>> frame = log.to_frame(np.array(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
        ...                               dtype="datetime64[D]"), ("A", "B"))
        >>> frame[["bar", "agent", "ticker", "before", "after", "reason"]].to_dict("records")[0]
        {'bar': 3, 'agent': 'sizing', 'ticker': 'A', 'before': 0.0, 'after': 0.5, 'reason': 'signal'}
    """

    _entries: list[tuple[int, str, np.ndarray | int, np.ndarray | float, np.ndarray | float, str]] = field(
        default_factory=list
    )
    _size: int = 0

    def record(
        self,
        bar: int,
        agent: str,
        assets: np.ndarray | int,
        before: np.ndarray | float,
        after: np.ndarray | float,
        reason: str,
    ) -> None:
        """Append the decisions of one agent on one bar.

        Args:
            bar: Bar index of the decision.
            agent: Name of the agent (or ``"broker"``).
            assets: Column indices the decision is about, or -1 for the whole portfolio.
            before: Values before the adjustment, one per asset.
            after: Values after the adjustment, one per asset.
            reason: Why, in words a researcher reads in the log.
        """
        # Stored as given (by reference: pass arrays that are not modified afterwards); this runs inside the
        # per-bar loop, so the conversion to one table happens once, in to_frame.
        self._entries.append((bar, agent, assets, before, after, reason))
        self._size += np.size(assets)

    def __len__(self) -> int:
        return self._size

    def to_frame(self, dates: np.ndarray, tickers: tuple[str, ...]) -> pd.DataFrame:
        """The log as a table with columns date, bar, agent, ticker, before, after, reason.

        Args:
            dates: Bar dates, to name each bar.
            tickers: Column names, to name each asset ("*" for the whole portfolio).

        Returns:
            One row per recorded decision, in the order they were made.
        """
        import pandas as pd

        columns = ["date", "bar", "agent", "ticker", "before", "after", "reason"]
        if not self._entries:
            return pd.DataFrame({name: [] for name in columns})
        assets_list = [np.atleast_1d(np.asarray(e[2], dtype=np.intp)) for e in self._entries]
        sizes = np.array([a.size for a in assets_list])
        bars = np.repeat(np.array([e[0] for e in self._entries], dtype=np.int64), sizes)
        assets = np.concatenate(assets_list)
        pairs = list(zip(self._entries, sizes, strict=True))
        before = np.concatenate([np.broadcast_to(np.asarray(e[3], float), (n,)) for e, n in pairs])
        after = np.concatenate([np.broadcast_to(np.asarray(e[4], float), (n,)) for e, n in pairs])
        names = np.array((*tickers, "*"), dtype=object)
        return pd.DataFrame(
            {
                "date": pd.to_datetime(np.asarray(dates)[bars]),
                "bar": bars,
                "agent": np.repeat(np.array([e[1] for e in self._entries], dtype=object), sizes),
                "ticker": names[np.where(assets < 0, len(tickers), assets)],
                "before": before,
                "after": after,
                "reason": np.repeat(np.array([e[5] for e in self._entries], dtype=object), sizes),
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
        close: Closing prices of bar t, shape (tickers,).
        signal: Combined signal of bar t in [-1, 1] (NaN while warming up), shape (tickers,).
        confidence: Combined confidence of bar t in [0, 1], shape (tickers,).
        positions: Shares held after bar t's fills, shape (tickers,).
        cash: Cash at the close of bar t.
        equity: Cash plus holdings at the close of bar t.
        log: The run's decision log, where agents record what they change and why.
        allocation: The portfolio's fixed allocation per ticker (fractions of equity), or None if it has none.

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

    @classmethod
    def empty(cls, tickers: tuple[str, ...]) -> ExecutionState:
        """A state before the first bar: no positions, no cash, NaN prices and signals."""
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

    @property
    def weights(self) -> np.ndarray:
        """Fraction of equity in each ticker at the close of bar t, shape (tickers,); computed when asked."""
        if self.equity == 0:
            return np.zeros_like(self.positions)
        return self.positions * self.close / self.equity
