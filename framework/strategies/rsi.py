"""Relative strength index: buy oversold, sell overbought."""

from __future__ import annotations

import numpy as np

from framework.core.checks import check_int, is_number
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.stats.rolling import rsi
from framework.strategies.base import Strategy


class RSI(Strategy):
    """Long below the oversold level, short above the overbought level, in proportion to how far past it.

    ``r`` is Wilder's RSI of the close over ``window`` bars (:func:`~framework.stats.rolling.rsi`, in
    [0, 100]). The signal is

    - ``(oversold - r) / oversold`` when ``r < oversold``: from 0 at the level up to +1 at ``r = 0``;
    - ``-(r - overbought) / (100 - overbought)`` when ``r > overbought``: down to -1 at ``r = 100``;
    - 0 in between.

    Confidence is ``|signal|``: how far past a level the RSI is. The RSI needs ``window`` price changes, so the
    first ``window`` rows are warm-up: signal NaN, confidence 0.

    With ``labels=True`` the signal is an object array of ``"BUY"`` (signal > 0), ``"SELL"`` (< 0) and
    ``"HOLD"`` (0), ``None`` during warm-up; the confidence is the same as without labels.

    Args:
        window: Wilder smoothing window, >= 1.
        oversold: RSI level under which to buy, 0 <= ``oversold`` < ``overbought``.
        overbought: RSI level above which to sell, ``oversold`` < ``overbought`` <= 100.
        labels: Return "BUY" / "SELL" / "HOLD" labels instead of numbers.

    Raises:
        ConfigError: If ``window`` is not a positive integer, a level is not a number in [0, 100],
            ``oversold >= overbought``, or ``labels`` is not a boolean.

    Example:
        >>> close = np.array([[1.0, 3.0], [2.0, 2.0], [1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
        >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("UP", "DOWN"), close)
        >>> strategy = RSI(window=2, oversold=20.0, overbought=80.0)
        >>> frame = strategy.generate(data)  # RSI of UP: -, -, 50, 75, 87.5; of DOWN: -, -, 50, 25, 12.5
        >>> frame.signal
        array([[   nan,    nan],
               [   nan,    nan],
               [ 0.   ,  0.   ],
               [ 0.   ,  0.   ],
               [-0.375,  0.375]])
        >>> frame.confidence[-1]
        array([0.375, 0.375])
        >>> RSI(window=2, oversold=20.0, overbought=80.0, labels=True).generate(data).signal[[0, 2, 4]]
        array([[None, None],
               ['HOLD', 'HOLD'],
               ['SELL', 'BUY']], dtype=object)
    """

    def __init__(
        self, window: int = 14, oversold: float = 30.0, overbought: float = 70.0, labels: bool = False
    ) -> None:
        self.window = window
        self.oversold = oversold
        self.overbought = overbought
        self.labels = labels
        check_int("window", window)
        if not is_number(oversold) or not 0 <= oversold <= 100:
            raise ConfigError(f"oversold: must be a number in [0, 100), got {oversold!r}")
        if not is_number(overbought) or not 0 <= overbought <= 100:
            raise ConfigError(f"overbought: must be a number in (0, 100], got {overbought!r}")
        if oversold >= overbought:
            raise ConfigError(
                f"oversold: must be smaller than overbought, got oversold={oversold} >= overbought={overbought}"
            )
        if not isinstance(labels, (bool, np.bool_)):
            raise ConfigError(f"labels: must be true or false, got {labels!r}")

    def generate(self, data: MarketData) -> SignalFrame:
        """RSI signal for every bar and ticker (see the class docstring).

        Args:
            data: The whole panel; only ``close`` is read.

        Returns:
            The :class:`SignalFrame`: numbers in [-1, 1] (labels with ``labels=True``); NaN (``None``) and 0
            confidence for the first ``window`` rows.

        Example:
            >>> close = np.array([[4.0], [3.0], [2.0], [3.0]])
            >>> data = MarketData(np.arange(4).astype("datetime64[D]"), ("A",), close)
            >>> frame = RSI(window=2, oversold=40.0, overbought=60.0).generate(data)  # RSI: -, -, 0, 50
            >>> frame.signal.ravel().tolist(), frame.confidence.ravel().tolist()
            ([nan, nan, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0])
        """
        value = rsi(data.close, self.window)
        oversold, overbought = float(self.oversold), float(self.overbought)
        # A level at (or next to) 0 or 100 can never be passed: the errstate silences the discarded divisions.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            long_strength = np.where(value < oversold, (oversold - value) / oversold, 0.0)
            short_strength = np.where(value > overbought, (value - overbought) / (100.0 - overbought), 0.0)
        signal = long_strength - short_strength
        warm_up = np.isnan(value)
        signal[warm_up] = np.nan
        confidence = np.where(warm_up, 0.0, np.abs(signal))
        if not self.labels:
            return SignalFrame(signal=signal, confidence=confidence)
        labelled = np.full(signal.shape, None, dtype=object)
        labelled[signal > 0] = "BUY"
        labelled[signal < 0] = "SELL"
        labelled[signal == 0] = "HOLD"
        return SignalFrame(signal=labelled, confidence=confidence)
