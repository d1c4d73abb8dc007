"""The aggregator interface: several strategies' signals for the same tickers in, one signal out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from framework.core.component import Component
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame

#: How label signals read as numbers unless an aggregator is given another mapping.
DEFAULT_LABELS: dict[str, float] = {"BUY": 1.0, "SELL": -1.0, "HOLD": 0.0}


def numeric_signal(signal: np.ndarray, labels: Mapping[str, float] = DEFAULT_LABELS) -> np.ndarray:
    """A signal as floats: numbers pass through, labels are mapped, ``None`` becomes NaN.

    Args:
        signal: A (days, tickers) array of floats, or of label strings (object dtype).
        labels: Label to number, case-insensitive.

    Returns:
        A float64 array of the same shape.

    Raises:
        ConfigError: For a label that is not in ``labels`` (the message lists those that are).

    Example:
        >>> numeric_signal(np.array([["BUY", "hold"], [None, "SELL"]], dtype=object))
        array([[ 1.,  0.],
               [nan, -1.]])
    """
    if signal.dtype != object and np.issubdtype(signal.dtype, np.number):
        return signal.astype(np.float64, copy=False)
    upper = {str(k).upper(): float(v) for k, v in labels.items()}
    flat = signal.ravel()
    out = np.full(flat.shape, np.nan)
    for label in {x for x in flat if x is not None and not (isinstance(x, float) and np.isnan(x))}:
        if isinstance(label, (int, float, np.number)):
            out[flat == label] = float(label)
            continue
        key = str(label).upper()
        if key not in upper:
            raise ConfigError(f"signal label '{label}' is not known; labels are {', '.join(upper)}")
        out[flat == label] = upper[key]
    return out.reshape(signal.shape)


class Aggregator(Component):
    """Base class of signal aggregators.

    :meth:`combine` receives the signals of every strategy of a group of tickers, in the portfolio's order, with
    their weights, and returns one :class:`SignalFrame`. Row t of the result may use rows up to t only.
    Aggregators that learn override :meth:`fit`, which sees the strategies' signals and the data of the train
    segment only.

    Example:
        >>> class First(Aggregator):
        ...     def combine(self, frames, weights, data):
        ...         return frames[0]
        >>> frame = SignalFrame(np.ones((1, 1)), np.ones((1, 1)))
        >>> First().combine([frame], np.array([1.0]), None).signal
        array([[1.]])
    """

    def fit(self, frames: Sequence[SignalFrame], weights: np.ndarray, train: MarketData) -> Aggregator:
        """Learn from the train segment; the default learns nothing.

        Args:
            frames: Each strategy's signals cut at the end of train.
            weights: Each strategy's weight from the portfolio.
            train: The panel cut at the end of train.

        Returns:
            self.

        Example:
            >>> class First(Aggregator):
            ...     def combine(self, frames, weights, data):
            ...         return frames[0]
            >>> aggregator = First()
            >>> aggregator.fit([SignalFrame(np.ones((1, 1)), np.ones((1, 1)))], np.array([1.0]), None) is aggregator
            True
        """
        return self

    def combine(self, frames: Sequence[SignalFrame], weights: np.ndarray, data: MarketData) -> SignalFrame:
        """One signal from several.

        Args:
            frames: Each strategy's signals, shape (days, tickers) each.
            weights: Each strategy's weight, shape (strategies,).
            data: The panel the signals were computed on.

        Returns:
            The combined signal and confidence.

        Raises:
            NotImplementedError: In the base class: every aggregator defines it.

        Example:
            >>> class Mean(Aggregator):
            ...     def combine(self, frames, weights, data):
            ...         signal = np.mean([f.signal for f in frames], axis=0)
            ...         return SignalFrame(signal, np.ones_like(signal))
            >>> frames = [SignalFrame(np.full((1, 1), x), np.ones((1, 1))) for x in (1.0, 0.0)]
            >>> Mean().combine(frames, np.array([0.5, 0.5]), None).signal
            array([[0.5]])
        """
        raise NotImplementedError
