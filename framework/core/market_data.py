"""MarketData: the (days, tickers) price panel every layer works on."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from framework.core.errors import DataError

#: Fields a panel may carry besides ``close``.
OPTIONAL_FIELDS: tuple[str, ...] = ("open", "high", "low", "volume")
#: Every field name, in the order used by loaders and fingerprints.
FIELDS: tuple[str, ...] = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class MarketData:
    """Daily prices of several tickers as float64 arrays of shape (days, tickers).

    Row t of every array is the bar of ``dates[t]``; column j is ``tickers[j]``. ``close`` is required, the
    other fields are optional (``None`` when the source has no such column). Loaders validate the values
    (see :mod:`framework.data.validation`); the constructor only checks shapes.

    Attributes:
        dates: ``datetime64[D]`` array of shape (days,), strictly increasing.
        tickers: Ticker names, unique, in column order.
        close: Closing prices (adjusted), shape (days, tickers).
        open: Opening prices or ``None``.
        high: Highs or ``None``.
        low: Lows or ``None``.
        volume: Volumes or ``None``.

    Example:
        >>> data = MarketData(
        ...     dates=np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[D]"),
        ...     tickers=("AAA", "BBB"),
        ...     close=np.array([[10.0, 20.0], [11.0, 19.0]]),
        ... )
        >>> data.shape, data.has("open")
        ((2, 2), False)
        >>> data.returns()
        array([[ 0.  ,  0.  ],
               [ 0.1 , -0.05]])
    """

    dates: np.ndarray
    tickers: tuple[str, ...]
    close: np.ndarray
    open: np.ndarray | None = None
    high: np.ndarray | None = None
    low: np.ndarray | None = None
    volume: np.ndarray | None = None
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dates", np.asarray(self.dates, dtype="datetime64[D]"))
        object.__setattr__(self, "tickers", tuple(str(t) for t in self.tickers))
        shape = (len(self.dates), len(self.tickers))
        for name in FIELDS:
            values = getattr(self, name)
            if values is None:
                if name == "close":
                    raise DataError("market data: 'close' prices are required")
                continue
            original = values
            values = np.ascontiguousarray(values, dtype=np.float64)
            if values is original and values.flags.writeable:  # never freeze an array the caller may write
                values = values.copy()
            if values.shape != shape:
                raise DataError(
                    f"market data: field '{name}' has shape {values.shape}, expected (days, tickers) = {shape}"
                )
            values.setflags(write=False)
            object.__setattr__(self, name, values)

    @property
    def shape(self) -> tuple[int, int]:
        """(days, tickers).

        Example:
            >>> MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B"), np.ones((3, 2))).shape
            (3, 2)
        """
        return self.close.shape  # type: ignore[return-value]

    @property
    def n_days(self) -> int:
        """Number of bars.

        Example:
            >>> MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B"), np.ones((3, 2))).n_days
            3
        """
        return int(self.close.shape[0])

    @property
    def n_tickers(self) -> int:
        """Number of tickers.

        Example:
            >>> MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B"), np.ones((3, 2))).n_tickers
            2
        """
        return int(self.close.shape[1])

    def has(self, name: str) -> bool:
        """Whether the panel carries field ``name`` (``open``, ``high``, ``low``, ``close``, ``volume``).

        Args:
            name: A field name; any other name gives False.

        Returns:
            True if the field exists and the data has that column.

        Example:
            >>> data = MarketData(np.arange(1).astype("datetime64[D]"), ("A",), np.array([[10.0]]),
            ...                   volume=np.array([[500.0]]))
            >>> data.has("close"), data.has("volume"), data.has("open"), data.has("vwap")
            (True, True, False, False)
        """
        return name in FIELDS and getattr(self, name) is not None

    def field(self, name: str) -> np.ndarray:
        """The array of field ``name``.

        Args:
            name: One of ``open``, ``high``, ``low``, ``close``, ``volume``.

        Returns:
            The (days, tickers) array.

        Raises:
            DataError: If the field does not exist or the data has no such column.

        Example:
            >>> data = MarketData(np.array(["2024-01-02"], dtype="datetime64[D]"), ("A",), np.array([[1.0]]))
            >>> data.field("close")
            array([[1.]])
        """
        if name not in FIELDS:
            raise DataError(f"market data: unknown field '{name}'; fields are {', '.join(FIELDS)}")
        values = getattr(self, name)
        if values is None:
            available = [f for f in FIELDS if getattr(self, f) is not None]
            raise DataError(f"market data: field '{name}' is absent; this data has {', '.join(available)}")
        return values  # type: ignore[no-any-return]

    @property
    def tradable(self) -> np.ndarray:
        """Where a ticker can trade: it has a close on that bar, shape (days, tickers) booleans. Cached.

        A ticker trades from its first close to its last (a time-varying universe); inside that span a bar
        without a price (``missing=skip``) is not tradable either.

        Example:
            >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B"),
            ...                   np.array([[np.nan, 5.0], [10.0, 5.0], [11.0, np.nan]]))
            >>> data.tradable.tolist()
            [[False, True], [True, True], [True, False]]
        """
        cached = self._cache.get("tradable")
        if cached is None:
            cached = ~np.isnan(self.close)
            cached.setflags(write=False)
            self._cache["tradable"] = cached
        return cached  # type: ignore[return-value]

    @property
    def complete(self) -> bool:
        """Whether every ticker has a close on every bar (no time-varying universe, no gap).

        Example:
            >>> MarketData(np.arange(2).astype("datetime64[D]"), ("A",), np.array([[10.0], [11.0]])).complete
            True
            >>> MarketData(np.arange(2).astype("datetime64[D]"), ("A",), np.array([[10.0], [np.nan]])).complete
            False
        """
        cached = self._cache.get("complete")
        if cached is None:
            cached = bool(self.tradable.all())
            self._cache["complete"] = cached
        return cached  # type: ignore[return-value]

    @property
    def marks(self) -> np.ndarray:
        """The price each position is valued at on each bar: the last close known (0 before a ticker's first).

        Equal to ``close`` where the ticker trades; carried forward over a bar without a price and after the
        ticker's data ends. Cached.

        Example:
            >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A",), np.array([[np.nan], [10.0], [np.nan]]))
            >>> data.marks.ravel().tolist()
            [0.0, 10.0, 10.0]
        """
        cached = self._cache.get("marks")
        if cached is None:
            if self.complete:
                cached = self.close
            else:
                rows = np.where(self.tradable, np.arange(self.n_days)[:, None], -1)
                np.maximum.accumulate(rows, axis=0, out=rows)
                cached = np.where(rows >= 0, np.take_along_axis(self.close, np.maximum(rows, 0), axis=0), 0.0)
                cached.setflags(write=False)
            self._cache["marks"] = cached
        return cached  # type: ignore[return-value]

    @property
    def last_bars(self) -> np.ndarray:
        """The last bar with a close of each ticker, shape (tickers,) (``n_days - 1`` while it trades to the end).

        -1 for a ticker without any close. Cached.

        Example:
            >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B", "C"),
            ...                   np.array([[10.0, 5.0, np.nan], [11.0, 6.0, np.nan], [12.0, np.nan, np.nan]]))
            >>> data.last_bars.tolist()
            [2, 1, -1]
        """
        cached = self._cache.get("last_bars")
        if cached is None:
            tradable = self.tradable
            cached = np.where(tradable.any(axis=0), self.n_days - 1 - np.argmax(tradable[::-1], axis=0), -1)
            self._cache["last_bars"] = cached
        return cached  # type: ignore[return-value]

    def returns(self) -> np.ndarray:
        """Simple close-to-close returns, shape (days, tickers); row 0 is zero, NaN where either close is. Cached.

        Returns:
            Row t is ``close[t] / close[t - 1] - 1`` (read-only).

        Example:
            >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A",), np.array([[10.0], [15.0], [np.nan]]))
            >>> data.returns().ravel().tolist()
            [0.0, 0.5, nan]
        """
        cached = self._cache.get("returns")
        if cached is None:
            out = np.zeros_like(self.close)
            np.divide(self.close[1:], self.close[:-1], out=out[1:])
            out[1:] -= 1.0
            out.setflags(write=False)
            self._cache["returns"] = out
            cached = out
        return cached  # type: ignore[return-value]

    def ticker_index(self, tickers: Sequence[str]) -> np.ndarray:
        """Column indices of ``tickers``.

        Args:
            tickers: Ticker names, each present in the data.

        Returns:
            Integer array of column positions, in the order asked.

        Raises:
            DataError: Naming the absent tickers and listing the available ones.

        Example:
            >>> data = MarketData(np.array(["2024-01-02"], dtype="datetime64[D]"), ("A", "B"),
            ...                   np.array([[1.0, 2.0]]))
            >>> data.ticker_index(["B"]).tolist()
            [1]
        """
        position = {t: i for i, t in enumerate(self.tickers)}
        missing = [t for t in tickers if t not in position]
        if missing:
            raise DataError(f"tickers not in the data: {', '.join(missing)}; available: {', '.join(self.tickers)}")
        return np.array([position[t] for t in tickers], dtype=np.intp)

    def select(self, tickers: Sequence[str]) -> MarketData:
        """A panel with only ``tickers``, in that order (raises :class:`DataError` for absent ones).

        Args:
            tickers: Ticker names, each present in the data.

        Returns:
            The panel itself when ``tickers`` are all its tickers in order, else a new panel.

        Example:
            >>> data = MarketData(np.arange(1).astype("datetime64[D]"), ("A", "B", "C"), np.array([[1.0, 2.0, 3.0]]))
            >>> picked = data.select(["C", "A"])
            >>> picked.tickers, picked.close.tolist()
            (('C', 'A'), [[3.0, 1.0]])
            >>> data.select(["A", "B", "C"]) is data
            True
        """
        columns = self.ticker_index(tickers)
        if tuple(tickers) == self.tickers:
            return self  # every ticker in the same order: the panel itself (its arrays are read-only)
        kwargs: dict[str, Any] = {
            name: (None if getattr(self, name) is None else getattr(self, name)[:, columns]) for name in FIELDS
        }
        return MarketData(dates=self.dates, tickers=tuple(tickers), **kwargs)

    def slice_rows(self, start: int, stop: int) -> MarketData:
        """The bars ``start:stop`` as a new panel (used to prove causality: a prefix must give a prefix).

        Args:
            start: First bar, as in a Python slice.
            stop: Bar after the last, as in a Python slice.

        Returns:
            A panel with the same tickers and fields, its own cache.

        Example:
            >>> data = MarketData(np.arange(4).astype("datetime64[D]"), ("A",), np.arange(10.0, 14.0).reshape(4, 1))
            >>> data.slice_rows(1, 3).close.ravel().tolist()
            [11.0, 12.0]
        """
        kwargs: dict[str, Any] = {
            name: (None if getattr(self, name) is None else getattr(self, name)[start:stop]) for name in FIELDS
        }
        return replace(self, dates=self.dates[start:stop], _cache={}, **kwargs)

    def fingerprint(self) -> str:
        """A short SHA-256 of dates, tickers and every field, to tag runs with the exact data they used.

        Returns:
            The first 16 hex digits of the digest. Cached.

        Example:
            >>> data = MarketData(np.array(["2024-01-02"], dtype="datetime64[D]"), ("A",), np.array([[1.0]]))
            >>> len(data.fingerprint())
            16
        """
        cached = self._cache.get("fingerprint")
        if cached is None:
            digest = hashlib.sha256()
            digest.update(self.dates.astype("int64").tobytes())
            digest.update("\x1f".join(self.tickers).encode())
            for name in FIELDS:
                values = getattr(self, name)
                digest.update(name.encode())
                if values is not None:
                    digest.update(values.tobytes())
            cached = digest.hexdigest()[:16]
            self._cache["fingerprint"] = cached
        return cached  # type: ignore[return-value]
