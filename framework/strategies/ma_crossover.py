"""Moving-average crossover."""

from __future__ import annotations

import numpy as np

from framework.core.checks import check_int, check_number
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.stats.rolling import sma
from framework.strategies.base import Strategy


class MACrossover(Strategy):
    """Long when the short simple moving average of the close is above the long one, short when below.

    The signal is +1 when ``sma(short) > sma(long) * (1 + tie_tolerance)``, -1 when below
    ``sma(long) * (1 - tie_tolerance)`` and 0 otherwise (prices that were flat over the long window give
    averages equal up to rounding, which must not read as "above"). NaN until ``long_window`` bars exist.
    Confidence is 1 once both averages exist, 0 before.

    Args:
        short_window: Bars in the short average, >= 1.
        long_window: Bars in the long average, > ``short_window``.
        tie_tolerance: Relative margin under which the averages count as equal, >= 0.

    Raises:
        ConfigError: If a window is not a positive integer, if ``short_window >= long_window`` or if
            ``tie_tolerance`` is negative.

    Example:
        >>> close = np.array([[1.0], [1.0], [1.0], [2.0], [3.0], [2.0]])
        >>> data = MarketData(np.arange(6).astype("datetime64[D]"), ("A",), close)
        >>> MACrossover(short_window=1, long_window=3).generate(data).signal.ravel()
        array([nan, nan,  0.,  1.,  1., -1.])
    """

    #: The moving average both windows use (subclasses swap it, as :class:`EMACrossover` does).
    average = staticmethod(sma)

    def __init__(self, short_window: int = 10, long_window: int = 50, tie_tolerance: float = 1e-9) -> None:
        self.short_window = short_window
        self.long_window = long_window
        self.tie_tolerance = tie_tolerance
        check_int("short_window", short_window)
        check_int("long_window", long_window)
        check_number("tie_tolerance", tie_tolerance, minimum=0)
        if short_window >= long_window:
            raise ConfigError(
                f"short_window: must be smaller than long_window, got short_window={short_window} "
                f">= long_window={long_window}"
            )

    def generate(self, data: MarketData) -> SignalFrame:
        """Crossover signal for every bar and ticker (see the class docstring).

        Args:
            data: The whole panel; only ``close`` is read.

        Returns:
            The :class:`SignalFrame`: +1, -1 or 0, NaN for the first ``long_window - 1`` rows.

        Example:
            >>> close = np.array([[5.0, 1.0, 3.0], [5.0, 2.0, 2.0], [5.0, 3.0, 1.0]])
            >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("FLAT", "UP", "DOWN"), close)
            >>> frame = MACrossover(short_window=1, long_window=2).generate(data)
            >>> frame.signal.tolist()  # a flat close is a tie, not a cross
            [[nan, nan, nan], [0.0, 1.0, -1.0], [0.0, 1.0, -1.0]]
            >>> frame.confidence[:, 0].tolist()
            [0.0, 1.0, 1.0]
        """
        fast = self.average(data.close, self.short_window)
        slow = self.average(data.close, self.long_window)
        signal = np.where(
            fast > slow * (1.0 + self.tie_tolerance),
            1.0,
            np.where(fast < slow * (1.0 - self.tie_tolerance), -1.0, 0.0),
        )
        ready = ~np.isnan(slow)
        signal[~ready] = np.nan
        return SignalFrame(signal=signal, confidence=ready.astype(np.float64))
