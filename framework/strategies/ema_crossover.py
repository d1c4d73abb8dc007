"""Exponential moving-average crossover."""

from __future__ import annotations

from framework.stats.rolling import ema
from framework.strategies.ma_crossover import MACrossover


class EMACrossover(MACrossover):
    """Long when the short exponential moving average of the close is above the long one, short when below.

    Both averages are :func:`~framework.stats.rolling.ema` (``alpha = 2 / (window + 1)``, seeded by the
    simple mean of the first ``window`` closes). The signal is +1 when ``ema(short) > ema(long) * (1 +
    tie_tolerance)``, -1 when below ``ema(long) * (1 - tie_tolerance)`` and 0 otherwise (prices that were flat
    give averages equal up to rounding, which must not read as "above"). NaN until ``long_window`` bars exist.
    Confidence is 1 once the long average exists, 0 before. The rule and the checks are
    :class:`~framework.strategies.ma_crossover.MACrossover`'s; only the average differs.

    Args:
        short_window: Span of the short average, >= 1.
        long_window: Span of the long average, > ``short_window``.
        tie_tolerance: Relative margin under which the averages count as equal, >= 0.

    Raises:
        ConfigError: If a window is not a positive integer, if ``short_window >= long_window`` or if
            ``tie_tolerance`` is not a number >= 0.

    Example:
        >>> import numpy as np
        >>> from framework.core import MarketData
        >>> close = np.array([[1.0], [1.0], [1.0], [2.0], [3.0], [2.0]])
        >>> data = MarketData(np.arange(6).astype("datetime64[D]"), ("A",), close)
        >>> frame = EMACrossover(short_window=1, long_window=3).generate(data)
        >>> frame.signal.ravel()
        array([nan, nan,  0.,  1.,  1., -1.])
        >>> frame.confidence.ravel()
        array([0., 0., 1., 1., 1., 1.])
    """

    average = staticmethod(ema)

    def __init__(self, short_window: int = 12, long_window: int = 26, tie_tolerance: float = 1e-9) -> None:
        super().__init__(short_window=short_window, long_window=long_window, tie_tolerance=tie_tolerance)
