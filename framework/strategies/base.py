"""The strategy interface: one market-data panel in, one causal signal panel out."""

from __future__ import annotations

from framework.core.component import Component
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame


class Strategy(Component):
    """Base class of single-stock strategies, applied to every ticker of a panel at once.

    A strategy is a component: ``__init__`` takes explicit keyword arguments, stores them unchanged under the
    same names and validates them. What it learns in :meth:`fit` ends in an underscore.

    Subclasses implement :meth:`generate`; those that learn override :meth:`fit`, which receives the train
    segment only (a panel cut at the end of train, so nothing later is reachable).

    Example:
        >>> import numpy as np
        >>> class AlwaysLong(Strategy):
        ...     def generate(self, data):
        ...         ones = np.ones(data.shape)
        ...         return SignalFrame(ones, ones)
        >>> data = MarketData(np.array(["2024-01-02"], dtype="datetime64[D]"), ("A",), np.array([[1.0]]))
        >>> AlwaysLong().fit(data).generate(data).signal
        array([[1.]])
        >>> from framework.strategies.ma_crossover import MACrossover
        >>> MACrossover(short_window=5, long_window=20).get_params()
        {'short_window': 5, 'long_window': 20, 'tie_tolerance': 1e-09}
    """

    def fit(self, train: MarketData) -> Strategy:
        """Learn from the train segment; the default learns nothing.

        Args:
            train: The panel cut at the end of the train segment.

        Returns:
            self.

        Example:
            >>> import numpy as np
            >>> class AboveTrainMean(Strategy):
            ...     def fit(self, train):
            ...         self.mean_ = train.close.mean(axis=0)
            ...         return self
            ...     def generate(self, data):
            ...         signal = np.where(data.close > self.mean_, 1.0, -1.0)
            ...         return SignalFrame(signal, np.ones(data.shape))
            >>> data = MarketData(np.arange(4).astype("datetime64[D]"), ("A",), np.array([[1.0], [3.0], [1.0], [4.0]]))
            >>> strategy = AboveTrainMean().fit(data.slice_rows(0, 2))  # learns from bars 0 and 1 only
            >>> strategy.mean_.tolist(), strategy.generate(data).signal.ravel().tolist()
            ([2.0], [-1.0, 1.0, -1.0, 1.0])
        """
        return self

    def generate(self, data: MarketData) -> SignalFrame:
        """Signal and confidence for every bar and ticker; row t uses bars up to t only.

        Args:
            data: The whole panel.

        Returns:
            A :class:`SignalFrame` of shape (days, tickers).

        Raises:
            NotImplementedError: In the base class: every strategy defines it.

        Example:
            >>> import numpy as np
            >>> class Rising(Strategy):
            ...     def generate(self, data):
            ...         up = np.full(data.shape, np.nan)  # bar 0 has no previous close: warm-up
            ...         up[1:] = np.sign(data.close[1:] - data.close[:-1])
            ...         return SignalFrame(up, np.where(np.isnan(up), 0.0, 1.0))
            >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A",), np.array([[1.0], [2.0], [1.5]]))
            >>> Rising().generate(data).signal.ravel().tolist()
            [nan, 1.0, -1.0]
            >>> Strategy().generate(data)
            Traceback (most recent call last):
            ...
            NotImplementedError
        """
        raise NotImplementedError
