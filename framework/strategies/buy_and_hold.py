"""Buy and hold: the benchmark every strategy is compared with."""

from __future__ import annotations

import numpy as np

from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.strategies.base import Strategy


class BuyAndHold(Strategy):
    """Fully long every ticker on every bar, with full confidence.

    The signal is +1 and the confidence 1 everywhere, from the first bar: there is no warm-up. It has no
    parameters.

    Example:
        >>> close = np.array([[1.0, 5.0], [2.0, 4.0], [3.0, 3.0]])
        >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B"), close)
        >>> frame = BuyAndHold().generate(data)
        >>> frame.signal
        array([[1., 1.],
               [1., 1.],
               [1., 1.]])
        >>> frame.confidence.tolist() == frame.signal.tolist()
        True
    """

    def __init__(self) -> None:
        # Explicit so that a configured parameter is reported as unknown rather than passed to object().
        pass

    def generate(self, data: MarketData) -> SignalFrame:
        """+1 with confidence 1 for every bar and ticker.

        Args:
            data: The whole panel; only its shape is read.

        Returns:
            Signal and confidence of ones, shape (days, tickers).

        Example:
            >>> data = MarketData(np.arange(2).astype("datetime64[D]"), ("A", "B", "C"), np.ones((2, 3)))
            >>> BuyAndHold().generate(data).shape
            (2, 3)
        """
        return SignalFrame(signal=np.ones(data.shape), confidence=np.ones(data.shape))
