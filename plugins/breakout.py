"""A worked example of a user's own strategy: a Donchian channel breakout.

Use it from any portfolio YAML by its class path, with its parameters in place::

    strategies:
      breakout:
        _target_: plugins.breakout.Breakout
        lookback: 55
        weight: 1.0

or give it a config file of its own, ``conf/strategy/breakout.yaml``, to refer to it by name.
"""

from __future__ import annotations

import numpy as np

from framework.core import ConfigError, MarketData, SignalFrame
from framework.stats.rolling import delay, rolling_max, rolling_min
from framework.strategies import Strategy


class Breakout(Strategy):
    """Long after a close above the highest close of the previous ``lookback`` days, short below the lowest.

    The position is held until the opposite breakout (the signal is carried forward), so the signal is +1, -1,
    or 0 before the first breakout. Row t uses closes up to t only: the channel is built from bars t-lookback
    to t-1 and compared with the close of t.

    Args:
        lookback: Days in the channel, >= 2.

    Raises:
        ConfigError: If ``lookback`` is not an integer >= 2.

    Example:
        >>> close = np.array([[1.0], [2.0], [1.5], [3.0], [0.5]])
        >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("A",), close)
        >>> Breakout(lookback=2).generate(data).signal.ravel()
        array([nan, nan,  0.,  1., -1.])
    """

    def __init__(self, lookback: int = 55) -> None:
        self.lookback = lookback
        if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 2:
            raise ConfigError(f"lookback: must be an integer >= 2, got {lookback!r}")

    def generate(self, data: MarketData) -> SignalFrame:
        """Breakout signal for every bar and ticker (see the class docstring)."""
        close = data.close
        upper = delay(rolling_max(close, self.lookback), 1)
        lower = delay(rolling_min(close, self.lookback), 1)
        events = np.where(close > upper, 1.0, np.where(close < lower, -1.0, np.nan))
        ready = ~np.isnan(upper)
        # Carry the last breakout forward: index of the last event so far, per ticker.
        rows = np.arange(close.shape[0])[:, None]
        last = np.maximum.accumulate(np.where(np.isnan(events), -1, rows), axis=0)
        held = np.where(last >= 0, events[np.maximum(last, 0), np.arange(close.shape[1])], 0.0)
        signal = np.where(ready, held, np.nan)
        return SignalFrame(signal=signal, confidence=ready.astype(np.float64))
