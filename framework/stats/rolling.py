"""Causal rolling indicators over (days, tickers) panels, vectorized over the whole panel.

Row t of every result uses rows up to and including t only; rows before a window is full are NaN.
Shared by the strategies, the expression language, the aggregators and the agents (imported downward).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from framework.core.checks import check_int, is_int
from framework.core.errors import ConfigError


def _check_window(window: int, name: str = "window") -> None:
    check_int(name, window)


def _rolling(values: np.ndarray, window: int) -> Any:
    """A pandas rolling window over the rows of ``values`` (compensated sums: a flat window sums exactly)."""
    import pandas as pd

    _check_window(window)
    values = np.asarray(values, dtype=np.float64)
    frame = pd.DataFrame(values) if values.ndim == 2 else pd.Series(values)
    return frame.rolling(window, min_periods=window)


def rolling_sum(values: np.ndarray, window: int) -> np.ndarray:
    """Sum over the last ``window`` rows (NaN until ``window`` rows exist).

    Args:
        values: Array of shape (days,) or (days, tickers).
        window: Number of rows, >= 1.

    Returns:
        Array of the same shape.

    Raises:
        ConfigError: If ``window`` is not a positive integer.

    Example:
        >>> rolling_sum(np.array([1.0, 2.0, 3.0, 4.0]), 2)
        array([nan,  3.,  5.,  7.])
    """
    return np.asarray(_rolling(values, window).sum().to_numpy(), dtype=np.float64)


def _sma_dense(values: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average over the last ``window`` rows.

    Computed with compensated rolling sums, so prices that were flat over the window average to exactly that
    price (two averages of a flat stretch compare equal, not above or below by rounding noise).

    Args:
        values: Array of shape (days,) or (days, tickers).
        window: Number of rows, >= 1.

    Returns:
        Array of the same shape, NaN for the first ``window - 1`` rows.

    Raises:
        ConfigError: If ``window`` is not a positive integer.

    Example:
        >>> sma(np.array([1.0, 2.0, 3.0, 4.0]), 3)
        array([nan, nan,  2.,  3.])
    """
    return np.asarray(_rolling(values, window).mean().to_numpy(), dtype=np.float64)


def _ema_dense(values: np.ndarray, window: int) -> np.ndarray:
    """Exponential moving average with ``alpha = 2 / (window + 1)``, seeded by the SMA of the first window.

    Args:
        values: Array of shape (days,) or (days, tickers) without NaN.
        window: Span, >= 1.

    Returns:
        Array of the same shape, NaN for the first ``window - 1`` rows.

    Raises:
        ConfigError: If ``window`` is not a positive integer.

    Example:
        >>> ema(np.array([1.0, 2.0, 3.0, 4.0]), 3)
        array([nan, nan,  2.,  3.])
    """
    _check_window(window)
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    if window > values.shape[0]:
        return out
    alpha = 2.0 / (window + 1.0)
    level = values[:window].mean(axis=0)
    out[window - 1] = level
    # The recursion is sequential in time but vectorized over tickers.
    for t in range(window, values.shape[0]):
        level = level + alpha * (values[t] - level)
        out[t] = level
    return out


def _rolling_std_dense(values: np.ndarray, window: int, ddof: int = 1) -> np.ndarray:
    """Rolling standard deviation over the last ``window`` rows.

    Args:
        values: Array of shape (days,) or (days, tickers) without NaN.
        window: Number of rows, > ``ddof``.
        ddof: Delta degrees of freedom (1: sample standard deviation).

    Returns:
        Array of the same shape, NaN for the first ``window - 1`` rows.

    Raises:
        ConfigError: If ``window`` is not an integer greater than ``ddof``.

    Example:
        >>> rolling_std(np.array([1.0, 2.0, 4.0, 8.0]), 2).round(4)
        array([   nan, 0.7071, 1.4142, 2.8284])
    """
    _check_window(window)
    if window <= ddof:
        raise ConfigError(f"window: must exceed ddof={ddof}, got {window}")
    rolling = _rolling(values, window)
    std = np.array(rolling.std(ddof=ddof).to_numpy(), dtype=np.float64)
    # Rolling updates leave rounding residue after a move; a window that did not move has no deviation at all.
    std[_flat_windows(np.asarray(values, dtype=np.float64), window)] = 0.0
    return std


def _flat_windows(values: np.ndarray, window: int) -> np.ndarray:
    """Where the last ``window`` rows hold one same value: the current run of equal values is long enough."""
    same = np.zeros(values.shape, dtype=bool)
    same[1:] = values[1:] == values[:-1]
    rows = np.arange(values.shape[0]).reshape(-1, *([1] * (values.ndim - 1)))
    run_start = np.maximum.accumulate(np.where(same, 0, rows), axis=0)
    return rows - run_start >= window - 1


def _rsi_dense(values: np.ndarray, window: int = 14) -> np.ndarray:
    """Wilder's relative strength index, in [0, 100].

    Average gain and loss are seeded with the simple mean of the first ``window`` changes, then smoothed
    with ``alpha = 1 / window``; ``rsi = 100 - 100 / (1 + gain / loss)`` (100 when there was no loss, 50 when
    the price did not move at all).

    Args:
        values: Prices, shape (days,) or (days, tickers), without NaN.
        window: Smoothing window, >= 1.

    Returns:
        Array of the same shape, NaN for the first ``window`` rows.

    Raises:
        ConfigError: If ``window`` is not a positive integer.

    Example:
        >>> rsi(np.array([1.0, 2.0, 1.0, 2.0, 3.0]), 2).round(2)
        array([ nan,  nan, 50. , 75. , 87.5])
    """
    _check_window(window)
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    if window >= values.shape[0]:
        return out
    change = np.diff(values, axis=0)
    gains, losses = np.maximum(change, 0.0), np.maximum(-change, 0.0)
    gain, loss = gains[:window].mean(axis=0), losses[:window].mean(axis=0)
    avg_gain = np.empty(change.shape)
    avg_loss = np.empty(change.shape)
    avg_gain[window - 1], avg_loss[window - 1] = gain, loss
    # Wilder's smoothing is sequential in time, vectorized over tickers.
    for t in range(window, change.shape[0]):
        gain = gain + (gains[t] - gain) / window
        loss = loss + (losses[t] - loss) / window
        avg_gain[t], avg_loss[t] = gain, loss
    g, lo = avg_gain[window - 1 :], avg_loss[window - 1 :]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 - 100.0 / (1.0 + g / lo)
    value = np.where(lo == 0, np.where(g == 0, 50.0, 100.0), value)
    out[window:] = value
    return out


def rolling_min(values: np.ndarray, window: int) -> np.ndarray:
    """Minimum over the last ``window`` rows (NaN until the window is full).

    Args:
        values: Array of shape (days,) or (days, tickers).
        window: Number of rows, >= 1.

    Returns:
        Array of the same shape, NaN for the first ``window - 1`` rows.

    Raises:
        ConfigError: If ``window`` is not a positive integer.

    Example:
        >>> rolling_min(np.array([3.0, 1.0, 2.0, 5.0]), 2)
        array([nan,  1.,  1.,  2.])
    """
    return _rolling_reduce(values, window, "min")


def rolling_max(values: np.ndarray, window: int) -> np.ndarray:
    """Maximum over the last ``window`` rows (NaN until the window is full).

    Args:
        values: Array of shape (days,) or (days, tickers).
        window: Number of rows, >= 1.

    Returns:
        Array of the same shape, NaN for the first ``window - 1`` rows.

    Raises:
        ConfigError: If ``window`` is not a positive integer.

    Example:
        >>> rolling_max(np.array([3.0, 1.0, 2.0, 5.0]), 2)
        array([nan,  3.,  2.,  5.])
    """
    return _rolling_reduce(values, window, "max")


def _rolling_reduce(values: np.ndarray, window: int, reduce: str) -> np.ndarray:
    return np.asarray(getattr(_rolling(values, window), reduce)().to_numpy(), dtype=np.float64)


def _zscore_dense(values: np.ndarray, window: int) -> np.ndarray:
    """How many rolling standard deviations the value is from its rolling mean.

    ``(x - sma(x, window)) / rolling_std(x, window)``; NaN until the window is full or where the deviation is 0.

    Example:
        >>> zscore(np.array([1.0, 2.0, 3.0, 2.0]), 3).round(3)
        array([   nan,    nan,  1.   , -0.577])
    """
    deviation = rolling_std(values, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (np.asarray(values, dtype=np.float64) - sma(values, window)) / deviation
    out[~np.isfinite(out)] = np.nan
    return out


def delay(values: np.ndarray, lag: int) -> np.ndarray:
    """The value ``lag`` rows earlier (NaN for the first ``lag`` rows). Only positive lags: no look-ahead.

    Args:
        values: Array of shape (days,) or (days, tickers).
        lag: Number of rows, >= 0 (0: the values themselves).

    Returns:
        Array of the same shape.

    Raises:
        ConfigError: If ``lag`` is not a non-negative integer.

    Example:
        >>> delay(np.array([1.0, 2.0, 3.0]), 1)
        array([nan,  1.,  2.])
    """
    if not is_int(lag) or lag < 0:
        raise ConfigError(f"lag: must be a non-negative integer (a negative lag would look ahead), got {lag!r}")
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    if lag < values.shape[0]:
        out[lag:] = values[: values.shape[0] - lag]
    return out


def delta(values: np.ndarray, lag: int = 1) -> np.ndarray:
    """Change over ``lag`` rows: ``x[t] - x[t - lag]``.

    Args:
        values: Array of shape (days,) or (days, tickers).
        lag: Number of rows, >= 0.

    Returns:
        Array of the same shape, NaN for the first ``lag`` rows.

    Raises:
        ConfigError: If ``lag`` is not a non-negative integer.

    Example:
        >>> delta(np.array([1.0, 2.0, 4.0]), 1)
        array([nan,  1.,  2.])
    """
    return np.asarray(values, dtype=np.float64) - delay(values, lag)


def pct_change(values: np.ndarray, lag: int = 1) -> np.ndarray:
    """Relative change over ``lag`` rows: ``x[t] / x[t - lag] - 1``.

    Args:
        values: Array of shape (days,) or (days, tickers), prices for example.
        lag: Number of rows, >= 0.

    Returns:
        Array of the same shape, NaN for the first ``lag`` rows (inf after a zero).

    Raises:
        ConfigError: If ``lag`` is not a non-negative integer.

    Example:
        >>> pct_change(np.array([1.0, 2.0, 4.0]), 2)
        array([nan, nan,  3.])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(values, dtype=np.float64) / delay(values, lag) - 1.0


def cross_rank(values: np.ndarray) -> np.ndarray:
    """Rank of each ticker among the tickers of the same row, scaled to [0, 1] (ties averaged, NaN kept).

    Uses only the same row, so it is causal. With one valid value in a row its rank is 0.5.

    Args:
        values: Array of shape (days, tickers); a 1-d array is one row.

    Returns:
        Array of shape (days, tickers): 0 for the lowest value of the row, 1 for the highest.

    Example:
        >>> cross_rank(np.array([[3.0, 1.0, 2.0], [1.0, np.nan, 1.0], [np.inf, np.nan, 1.0]]))
        array([[1. , 0. , 0.5],
               [0.5, nan, 0.5],
               [1. , nan, 0. ]])
    """
    from scipy.stats import rankdata

    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    if values.size == 0:
        return values.copy()
    valid = ~np.isnan(values)
    ranks = rankdata(values, method="average", axis=1, nan_policy="omit") - 1.0
    counts = valid.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(counts > 1, ranks / (counts - 1), 0.5)
    return np.where(valid, scaled, np.nan)


#: An indicator over (days, tickers) arrays: ``indicator(values, window)``.
Indicator = Callable[[np.ndarray, int], np.ndarray]


def nan_masked(indicator: Indicator) -> Indicator:
    """``indicator`` made NaN-aware: NaN wherever its window holds a NaN, the indicator's value elsewhere.

    The rolling indicators (sma, std, zscore) are specified for NaN-free input only (a cumulative or online
    sum would carry one NaN into every later row). NaN are filled with the column's first valid value (a level
    that keeps the sums accurate; causal, since the rows before it are NaN anyway) and every row whose window
    touched a NaN is reset to NaN, whatever the indicator's implementation does with them. Without NaN the
    indicator runs as it is.

    Args:
        indicator: A rolling indicator over NaN-free (days, tickers) arrays.

    Returns:
        The same indicator over (days, tickers) arrays that may hold NaN.

    Example:
        >>> nan_masked(_sma_dense)(np.array([[1.0], [np.nan], [3.0], [4.0], [5.0]]), 2).ravel().tolist()
        [nan, nan, nan, 3.5, 4.5]
    """

    def masked(values: np.ndarray, window: int) -> np.ndarray:
        missing = np.isnan(values)
        if not missing.any():
            return indicator(values, window)
        first_valid = values[np.argmax(~missing, axis=0), np.arange(values.shape[1])]
        filled = np.where(missing, np.nan_to_num(first_valid), values)
        touched = rolling_sum(missing.astype(np.float64), window) > 0
        return np.where(touched, np.nan, indicator(filled, window))

    return masked


def by_valid_runs(indicator: Indicator) -> Indicator:
    """``indicator`` applied to each run of consecutive valid values of a column separately.

    The recursive indicators (ema, rsi) carry a level forward forever, so a NaN would poison every later row:
    instead they restart after a gap, with a fresh warm-up. Columns whose runs start on the same row are
    computed together, so the usual case (NaN only during the warm-up of an inner function) is one call.

    Args:
        indicator: A recursive indicator over NaN-free (days, tickers) arrays.

    Returns:
        The same indicator over (days, tickers) arrays that may hold NaN.

    Example:
        >>> by_valid_runs(_ema_dense)(np.array([[1.0], [2.0], [np.nan], [3.0], [4.0]]), 2).ravel().tolist()
        [nan, 1.5, nan, nan, 3.5]
    """

    def by_runs(values: np.ndarray, window: int) -> np.ndarray:
        valid = ~np.isnan(values)
        if valid.all():
            return indicator(values, window)
        days = values.shape[0]
        starts = valid.copy()
        starts[1:] &= ~valid[:-1]
        # next_gap[t, j]: first row >= t where column j is NaN (days if none).
        gap_rows = np.where(valid, days, np.arange(days)[:, None])
        next_gap = np.minimum.accumulate(gap_rows[::-1], axis=0)[::-1]
        out = np.full(values.shape, np.nan)
        for start in np.flatnonzero(starts.any(axis=1)):
            columns = np.flatnonzero(starts[start])
            lengths = next_gap[start, columns] - start
            longest = int(lengths.max())
            if longest < window:
                continue  # no run here is long enough to produce a value
            segment = indicator(values[start : start + longest, columns], window)
            inside = np.arange(longest)[:, None] < lengths[None, :]
            out[start : start + longest, columns] = np.where(inside, segment, np.nan)
        return out

    return by_runs


def sma(values: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average over the last ``window`` rows.

    Computed with compensated rolling sums, so prices that were flat over the window average to exactly that
    price (two averages of a flat stretch compare equal, not above or below by rounding noise). NaN where the
    window holds a NaN (a ticker not listed yet, or not trading).

    Args:
        values: Array of shape (days,) or (days, tickers).
        window: Number of rows, >= 1.

    Returns:
        Array of the same shape, NaN for the first ``window - 1`` rows.

    Raises:
        ConfigError: If ``window`` is not a positive integer.

    Example:
        >>> sma(np.array([1.0, 2.0, 3.0, 4.0]), 3)
        array([nan, nan,  2.,  3.])
    """
    return _apply_masked(_sma_dense, values, window)


def ema(values: np.ndarray, window: int) -> np.ndarray:
    """Exponential moving average with ``alpha = 2 / (window + 1)``, seeded by the SMA of the first window.

    After a gap (NaN) the average starts again, with a fresh warm-up of ``window`` rows.

    Args:
        values: Array of shape (days,) or (days, tickers).
        window: Span, >= 1.

    Returns:
        Array of the same shape, NaN for the first ``window - 1`` rows of each run of values.

    Raises:
        ConfigError: If ``window`` is not a positive integer.

    Example:
        >>> ema(np.array([1.0, 2.0, 3.0, 4.0]), 3)
        array([nan, nan,  2.,  3.])
    """
    return _apply_by_runs(_ema_dense, values, window)


def rolling_std(values: np.ndarray, window: int, ddof: int = 1) -> np.ndarray:
    """Rolling standard deviation over the last ``window`` rows (NaN where the window holds a NaN).

    Args:
        values: Array of shape (days,) or (days, tickers).
        window: Number of rows, > ``ddof``.
        ddof: Delta degrees of freedom (1: sample standard deviation).

    Returns:
        Array of the same shape, NaN for the first ``window - 1`` rows.

    Raises:
        ConfigError: If ``window`` is not an integer greater than ``ddof``.

    Example:
        >>> rolling_std(np.array([1.0, 2.0, 4.0, 8.0]), 2).round(4)
        array([   nan, 0.7071, 1.4142, 2.8284])
    """
    return _apply_masked(lambda x, w: _rolling_std_dense(x, w, ddof), values, window)


def rsi(values: np.ndarray, window: int = 14) -> np.ndarray:
    """Wilder's relative strength index, in [0, 100]; after a gap (NaN) it starts again with a fresh warm-up.

    Average gain and loss are seeded with the simple mean of the first ``window`` changes, then smoothed
    with ``alpha = 1 / window``; ``rsi = 100 - 100 / (1 + gain / loss)`` (100 when there was no loss, 50 when
    the price did not move at all).

    Args:
        values: Prices, shape (days,) or (days, tickers).
        window: Smoothing window, >= 1.

    Returns:
        Array of the same shape, NaN for the first ``window`` rows of each run of values.

    Raises:
        ConfigError: If ``window`` is not a positive integer.

    Example:
        >>> rsi(np.array([1.0, 2.0, 1.0, 2.0, 3.0]), 2).round(2)
        array([ nan,  nan, 50. , 75. , 87.5])
    """
    return _apply_by_runs(_rsi_dense, values, window)


def zscore(values: np.ndarray, window: int) -> np.ndarray:
    """How many rolling standard deviations the value is from its rolling mean.

    ``(x - sma(x, window)) / rolling_std(x, window)``; NaN until the window is full, where the deviation is 0,
    or where the window holds a NaN.

    Args:
        values: Array of shape (days,) or (days, tickers).
        window: Number of rows, >= 2.

    Returns:
        Array of the same shape, NaN for the first ``window - 1`` rows.

    Raises:
        ConfigError: If ``window`` is not an integer >= 2.

    Example:
        >>> zscore(np.array([1.0, 2.0, 3.0, 2.0]), 3).round(3)
        array([   nan,    nan,  1.   , -0.577])
    """
    return _apply_masked(_zscore_dense, values, window)


def _as_2d(values: np.ndarray) -> tuple[np.ndarray, bool]:
    array = np.asarray(values, dtype=np.float64)
    return (array[:, None], True) if array.ndim == 1 else (array, False)


def _apply_masked(indicator: Indicator, values: np.ndarray, window: int) -> np.ndarray:
    _check_window(window)
    array, flat = _as_2d(values)
    out = nan_masked(indicator)(array, window)
    return out[:, 0] if flat else out


def _apply_by_runs(indicator: Indicator, values: np.ndarray, window: int) -> np.ndarray:
    _check_window(window)
    array, flat = _as_2d(values)
    out = by_valid_runs(indicator)(array, window)
    return out[:, 0] if flat else out
