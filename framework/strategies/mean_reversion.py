"""Mean reversion on the Bollinger z-score, with entry and exit bands."""

from __future__ import annotations

import numpy as np

from framework.core.checks import check_int, is_number
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.stats.rolling import zscore
from framework.strategies.base import Strategy


class MeanReversion(Strategy):
    """Buy a close far below its rolling mean, sell one far above, and hold until it comes back near the mean.

    ``z`` is the close's z-score against its last ``window`` closes (:func:`~framework.stats.rolling.zscore`:
    ``(close - mean) / sample std``). A window whose closes are all equal has no z-score; it counts as
    ``z = 0`` (the close is on its mean). The position of bar t follows, in this order of precedence:

    - ``z < -entry_z``: +1 (enter or stay long, also from short);
    - ``z > entry_z``: -1 (enter or stay short, also from long);
    - ``|z| < exit_z``: 0 (exit);
    - otherwise the position of bar t - 1 (flat before the first entry).

    The signal is that position, NaN for the first ``window - 1`` rows (warm-up). Confidence is
    ``min(1, |z| / entry_z)`` while in a position, 0 when flat or warming up.

    Args:
        window: Bars in the rolling mean and standard deviation, >= 2.
        entry_z: Z-score magnitude beyond which a position is entered, > ``exit_z``.
        exit_z: Z-score magnitude under which a position is closed, 0 <= ``exit_z`` < ``entry_z``.

    Raises:
        ConfigError: If ``window`` is not an integer >= 2, ``exit_z`` not a number >= 0, or ``entry_z`` not a
            finite number greater than ``exit_z``.

    Example:
        >>> close = np.array([[1.0], [2.0], [3.0], [2.0], [1.0], [1.5], [2.0], [2.0]])
        >>> data = MarketData(np.arange(8).astype("datetime64[D]"), ("A",), close)
        >>> strategy = MeanReversion(window=3, entry_z=0.9, exit_z=0.4)
        >>> frame = strategy.generate(data)  # z: -, -, 1, -0.58, -1, 0, 1, 0.58
        >>> frame.signal.ravel()
        array([nan, nan, -1., -1.,  1.,  0., -1., -1.])
        >>> frame.confidence.ravel().round(3)
        array([0.   , 0.   , 1.   , 0.642, 1.   , 0.   , 1.   , 0.642])
    """

    def __init__(self, window: int = 20, entry_z: float = 2.0, exit_z: float = 0.5) -> None:
        self.window = window
        self.entry_z = entry_z
        self.exit_z = exit_z
        # A sample standard deviation needs two closes.
        check_int("window", window, minimum=2)
        if not is_number(exit_z) or not 0 <= exit_z < np.inf:
            raise ConfigError(f"exit_z: must be a number >= 0, got {exit_z!r}")
        if not is_number(entry_z) or not 0 < entry_z < np.inf:
            raise ConfigError(f"entry_z: must be a finite number > 0, got {entry_z!r}")
        if exit_z >= entry_z:
            raise ConfigError(f"exit_z: must be smaller than entry_z, got exit_z={exit_z} >= entry_z={entry_z}")

    def generate(self, data: MarketData) -> SignalFrame:
        """Mean-reversion positions for every bar and ticker (see the class docstring).

        Args:
            data: The whole panel; only ``close`` is read.

        Returns:
            The :class:`SignalFrame`: positions +1, -1 or 0, NaN for the first ``window - 1`` rows.

        Example:
            >>> close = np.array([[3.0], [2.0], [1.0], [1.0], [1.0]])
            >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("A",), close)
            >>> frame = MeanReversion(window=3, entry_z=0.9, exit_z=0.4).generate(data)  # z: -, -, -1, -0.58, 0
            >>> frame.signal.ravel().tolist()  # long on the dip, held in the band, closed on a flat window
            [nan, nan, 1.0, 1.0, 0.0]
            >>> frame.confidence.ravel().round(3).tolist()
            [0.0, 0.0, 1.0, 0.642, 0.0]
        """
        days, tickers = data.shape
        start = self.window - 1  # the first row with a full window
        z = zscore(data.close, self.window)
        after_warm_up = z[start:]
        after_warm_up[np.isnan(after_warm_up)] = 0.0  # a flat window: the close is on its mean

        # The bars that decide the position; the others keep it. Later assignments take precedence.
        event = np.full((days, tickers), np.nan)
        event[np.abs(z) < self.exit_z] = 0.0
        event[z > self.entry_z] = -1.0
        event[z < -self.entry_z] = 1.0
        # Forward-fill the last decision over time, vectorized over tickers: the row of the latest event.
        last = np.where(np.isnan(event), 0, np.arange(days)[:, None])
        np.maximum.accumulate(last, axis=0, out=last)
        position = event[last, np.arange(tickers)]
        position[np.isnan(position)] = 0.0  # no event yet: flat

        with np.errstate(over="ignore"):  # a tiny entry_z overflows to inf, which the cap at 1 absorbs
            confidence = np.where(position != 0.0, np.minimum(np.abs(z) / self.entry_z, 1.0), 0.0)
        position[:start] = np.nan
        confidence[:start] = 0.0
        return SignalFrame(signal=position, confidence=confidence)
