"""Causal rolling indicators over (days, tickers) panels, vectorized over the whole panel.

Row t of every result uses rows up to and including t only; rows before a window is full are NaN.
Shared by the built-in strategies and the expression language.
"""

from __future__ import annotations

import numpy as np

from framework.core.errors import ConfigError


def _check_window(window: int, name: str = "window") -> None:
    if not isinstance(window, (int, np.integer)) or isinstance(window, bool) or window < 1:
        raise ConfigError(f"{name}: must be a positive integer, got {window!r}")


def rolling_sum(values: np.ndarray, window: int) -> np.ndarray:
    """Sum over the last ``window`` rows (NaN until ``window`` rows exist).

    Args:
        values: Array of shape (days,) or (days, tickers) without NaN.
        window: Number of rows, >= 1.

    Returns:
        Array of the same shape.

    Raises:
        ConfigError: If ``window`` is not a positive integer.

    Example:
        >>> rolling_sum(np.array([1.0, 2.0, 3.0, 4.0]), 2)
        array([nan,  3.,  5.,  7.])
    """
    _check_window(window)
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    if window > values.shape[0]:
        return out
    csum = np.cumsum(values, axis=0)
    out[window - 1] = csum[window - 1]
    out[window:] = csum[window:] - csum[:-window]
    return out


def sma(values: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average over the last ``window`` rows.

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
    return rolling_sum(values, window) / window


def ema(values: np.ndarray, window: int) -> np.ndarray:
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


def rolling_std(values: np.ndarray, window: int, ddof: int = 1) -> np.ndarray:
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
    values = np.asarray(values, dtype=np.float64)
    # Centre on a causal reference (the first row) so the sums of squares do not cancel catastrophically.
    centred = values - values[:1]
    mean = sma(centred, window)
    mean_sq = sma(centred * centred, window)
    var = (mean_sq - mean * mean) * window / (window - ddof)
    return np.sqrt(np.maximum(var, 0.0))
