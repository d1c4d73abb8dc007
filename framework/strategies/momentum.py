"""Time-series momentum: follow the sign of the past return."""

from __future__ import annotations

import numpy as np

from framework.core.checks import check_int, is_int, is_number
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.stats.rolling import delay, pct_change, rolling_std
from framework.strategies.base import Strategy


class Momentum(Strategy):
    """Long after a rise, short after a fall, measured from ``lookback`` bars ago to ``skip`` bars ago.

    The momentum of bar t is ``mom = close[t - skip] / close[t - lookback] - 1`` (skipping the most recent
    ``skip`` bars, e.g. the last month whose returns tend to reverse). The signal is 0 when
    ``|mom| <= threshold``; beyond it, ``sign(mom)`` or, when ``scale`` is given, ``clip(mom / scale, -1, 1)``
    (the threshold is a dead zone in both forms).

    Confidence is a t-statistic-like strength capped at 1: ``min(1, |mom| / (vol * sqrt(lookback - skip)))``
    where ``vol`` is the sample standard deviation of the last ``lookback`` daily simple returns
    ``close[u] / close[u - 1] - 1`` for ``u`` in ``t - lookback + 1 .. t`` (the same bars as the momentum
    window including the skipped ones); 0 when ``vol`` is 0 (a flat window).

    The first ``lookback`` rows are warm-up: signal NaN, confidence 0.

    Args:
        lookback: Bars from the start of the momentum window to t, >= 2.
        skip: Most recent bars left out of the momentum, 0 <= ``skip`` < ``lookback``.
        threshold: Momentum magnitude at or below which the signal is 0, >= 0.
        scale: Momentum that gives a full signal (linear below it), > 0; ``None`` for the sign only.

    Raises:
        ConfigError: If ``lookback`` is not an integer >= 2, ``skip`` not an integer in [0, lookback),
            ``threshold`` not a number >= 0, or ``scale`` neither ``None`` nor a number > 0.

    Example:
        >>> close = np.array([[100.0], [110.0], [99.0], [121.0], [110.0], [99.0]])
        >>> data = MarketData(np.arange(6).astype("datetime64[D]"), ("A",), close)
        >>> frame = Momentum(lookback=3).generate(data)  # mom: -, -, -, 121/100 - 1, 110/110 - 1, 99/99 - 1
        >>> frame.signal.ravel()
        array([nan, nan, nan,  1.,  0.,  0.])
        >>> frame.confidence.ravel().round(4)  # row 3: 0.21 / (std(0.1, -0.1, 0.2222) * sqrt(3))
        array([0.    , 0.    , 0.    , 0.7453, 0.    , 0.    ])
        >>> # skip=1: mom = close[t - 1] / close[t - 3] - 1 = -0.01, 0.1, 0.1111
        >>> Momentum(lookback=3, skip=1, scale=0.5).generate(data).signal.ravel().round(4)
        array([    nan,     nan,     nan, -0.02  ,  0.2   ,  0.2222])
    """

    def __init__(self, lookback: int = 126, skip: int = 0, threshold: float = 0.0, scale: float | None = None) -> None:
        self.lookback = lookback
        self.skip = skip
        self.threshold = threshold
        self.scale = scale
        # A standard deviation of the daily returns needs two of them.
        check_int("lookback", lookback, minimum=2)
        if not is_int(skip) or skip < 0:
            raise ConfigError(f"skip: must be a non-negative integer, got {skip!r}")
        if skip >= lookback:
            raise ConfigError(f"skip: must be smaller than lookback, got skip={skip} >= lookback={lookback}")
        if not is_number(threshold) or not 0 <= threshold < np.inf:
            raise ConfigError(f"threshold: must be a number >= 0, got {threshold!r}")
        if scale is not None and (not is_number(scale) or not 0 < scale < np.inf):
            raise ConfigError(f"scale: must be a number > 0 or null, got {scale!r}")

    def generate(self, data: MarketData) -> SignalFrame:
        """Momentum signal for every bar and ticker (see the class docstring).

        Args:
            data: The whole panel; only ``close`` is read.

        Returns:
            The :class:`SignalFrame`: NaN signal and 0 confidence for the first ``lookback`` rows.

        Example:
            >>> close = np.array([[100.0, 100.0], [101.0, 104.0], [102.0, 108.0]])
            >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("SLOW", "FAST"), close)
            >>> Momentum(lookback=2, threshold=0.05).generate(data).signal.tolist()  # SLOW's 2 % is in the dead zone
            [[nan, nan], [nan, nan], [0.0, 1.0]]
        """
        close = data.close
        span = self.lookback - self.skip
        momentum = delay(pct_change(close, span), self.skip)
        if self.scale is None:
            strength = np.sign(momentum)
        else:
            strength = np.clip(momentum / self.scale, -1.0, 1.0)
        warm_up = np.isnan(momentum)
        signal = np.where(np.abs(np.nan_to_num(momentum)) > self.threshold, strength, 0.0)
        signal[warm_up] = np.nan

        # Daily returns start at row 1; their rolling deviation over `lookback` rows covers closes t-lookback..t.
        vol = np.full(close.shape, np.nan)
        if close.shape[0] > 1:
            vol[1:] = rolling_std(pct_change(close, 1)[1:], self.lookback)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_stat = np.abs(momentum) / (vol * np.sqrt(span))
        confidence = np.where(~warm_up & (vol > 0), np.minimum(t_stat, 1.0), 0.0)
        return SignalFrame(signal=signal, confidence=confidence)
