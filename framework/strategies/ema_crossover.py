"""Exponential moving-average crossover."""

from __future__ import annotations

import numpy as np

from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.strategies.base import Strategy
from framework.strategies.indicators import ema


class EMACrossover(Strategy):
    """Long when the short exponential moving average of the close is above the long one, short when below.

    Both averages are :func:`~framework.strategies.indicators.ema` (``alpha = 2 / (window + 1)``, seeded by the
    simple mean of the first ``window`` closes). The signal is +1 when ``ema(short) > ema(long) * (1 +
    tie_tolerance)``, -1 when below ``ema(long) * (1 - tie_tolerance)`` and 0 otherwise (prices that were flat
    give averages equal up to rounding, which must not read as "above"). NaN until ``long_window`` bars exist.
    Confidence is 1 once the long average exists, 0 before.

    Args:
        short_window: Span of the short average, >= 1.
        long_window: Span of the long average, > ``short_window``.
        tie_tolerance: Relative margin under which the averages count as equal, >= 0.

    Raises:
        ConfigError: If a window is not a positive integer, if ``short_window >= long_window`` or if
            ``tie_tolerance`` is not a number >= 0.

    Example:
        >>> close = np.array([[1.0], [1.0], [1.0], [2.0], [3.0], [2.0]])
        >>> data = MarketData(np.arange(6).astype("datetime64[D]"), ("A",), close)
        >>> frame = EMACrossover(short_window=1, long_window=3).generate(data)
        >>> frame.signal.ravel()
        array([nan, nan,  0.,  1.,  1., -1.])
        >>> frame.confidence.ravel()
        array([0., 0., 1., 1., 1., 1.])
    """

    def __init__(self, short_window: int = 12, long_window: int = 26, tie_tolerance: float = 1e-9) -> None:
        self.short_window = short_window
        self.long_window = long_window
        self.tie_tolerance = tie_tolerance
        for key in ("short_window", "long_window"):
            value = getattr(self, key)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{key}: must be a positive integer, got {value!r}")
        if short_window >= long_window:
            raise ConfigError(
                f"short_window: must be smaller than long_window, got short_window={short_window} "
                f">= long_window={long_window}"
            )
        if (
            not isinstance(tie_tolerance, (int, float, np.integer, np.floating))
            or isinstance(tie_tolerance, bool)
            or not 0 <= tie_tolerance < np.inf
        ):
            raise ConfigError(f"tie_tolerance: must be a number >= 0, got {tie_tolerance!r}")

    def generate(self, data: MarketData) -> SignalFrame:
        """Crossover signal for every bar and ticker (see the class docstring)."""
        fast = ema(data.close, self.short_window)
        slow = ema(data.close, self.long_window)
        signal = np.where(
            fast > slow * (1.0 + self.tie_tolerance),
            1.0,
            np.where(fast < slow * (1.0 - self.tie_tolerance), -1.0, 0.0),
        )
        ready = ~np.isnan(slow)
        signal[~ready] = np.nan
        return SignalFrame(signal=signal, confidence=ready.astype(np.float64))
