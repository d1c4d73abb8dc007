"""Volatility targeting: a combined signal shrunk where the ticker's recent volatility is high."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from framework.aggregation.base import Aggregator
from framework.aggregation.weighted_average import WeightedAverage
from framework.core.checks import is_int, is_number
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.stats.rolling import rolling_std


def _number(value: object, key: str) -> float:
    if not is_number(value) or np.isnan(value):
        raise ConfigError(f"{key}: must be a number, got {value!r}")
    return float(value)


def realised_volatility(close: np.ndarray, window: int, periods_per_year: int = 252) -> np.ndarray:
    """Annualized rolling standard deviation of daily close-to-close returns, causal.

    ``sqrt(periods_per_year) * std(returns[t - window + 1 .. t], ddof=1)``; row 0 has no return, so the first
    value is at row ``window`` (NaN before).

    Args:
        close: Closes, shape (days, tickers).
        window: Daily returns in the window, >= 2.
        periods_per_year: Bars per year.

    Returns:
        Shape (days, tickers).

    Example:
        >>> close = 100.0 * np.cumprod([1.0, 1.01, 0.99, 1.01, 0.99])[:, None]
        >>> (realised_volatility(close, 2, 1) / np.sqrt(2)).round(4).ravel().tolist()
        [nan, nan, 0.01, 0.01, 0.01]
    """
    close = np.asarray(close, dtype=np.float64)
    out = np.full(close.shape, np.nan)
    if close.shape[0] > 1:
        daily = close[1:] / close[:-1] - 1.0
        out[1:] = rolling_std(daily, window) * np.sqrt(periods_per_year)
    return out


class VolatilityAdjusted(Aggregator):
    """Combine like ``base`` (a weighted average by default), then scale by a volatility target per ticker.

    ``signal = clip(base_signal * clip(target_volatility / realised_vol, min_scale, max_scale), -1, 1)`` where
    ``realised_vol`` is the annualized rolling standard deviation (ddof=1) of the ticker's daily close-to-close
    returns over the last ``window`` bars (see :func:`realised_volatility`). A calm ticker keeps its signal
    (up to ``max_scale``), a volatile one is shrunk; a ticker with zero volatility gets ``max_scale``. Row t
    uses returns up to t only. While the volatility warms up (the first ``window`` bars) the signal is NaN
    and the confidence 0; afterwards the confidence is the base's, unchanged. :meth:`fit` fits ``base``.

    Args:
        target_volatility: Annualized volatility at which the scale is 1, > 0 (0.15 is 15% a year).
        window: Daily returns in the realised volatility, >= 2.
        min_scale: Smallest scale, >= 0.
        max_scale: Largest scale, >= ``min_scale`` and > 0; above 1 it amplifies calm tickers' signals (the
            result is still clipped to [-1, 1]).
        periods_per_year: Bars per year, to annualize (252 for daily bars).
        base: The aggregator that combines the strategies first (a nested ``_target_``); ``None`` for
            ``WeightedAverage()``. It must report a signal in [-1, 1], not a probability.

    Raises:
        ConfigError: For an invalid parameter, naming it.

    Example:
        >>> close = 100.0 * np.cumprod([1.0, 1.02, 0.98, 1.02, 0.98])[:, None]
        >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("A",), close)
        >>> frame = SignalFrame(np.full((5, 1), 0.8), np.ones((5, 1)))
        >>> # realised vol = 0.02 * sqrt(2) * sqrt(252) = 0.449: the scale is 0.15 / 0.449 = 0.334
        >>> out = VolatilityAdjusted(window=2).combine([frame], np.array([1.0]), data)
        >>> out.signal.round(4).ravel().tolist(), out.confidence.ravel().tolist()
        ([nan, nan, 0.2673, 0.2673, 0.2673], [0.0, 0.0, 1.0, 1.0, 1.0])
    """

    def __init__(
        self,
        target_volatility: float = 0.15,
        window: int = 20,
        min_scale: float = 0.0,
        max_scale: float = 1.0,
        periods_per_year: int = 252,
        base: Aggregator | None = None,
    ) -> None:
        self.target_volatility = target_volatility
        self.window = window
        self.min_scale = min_scale
        self.max_scale = max_scale
        self.periods_per_year = periods_per_year
        self.base = base
        if not _number(target_volatility, "target_volatility") > 0:
            raise ConfigError(f"target_volatility: must be > 0 (0.15 is 15% a year), got {target_volatility!r}")
        for key, minimum in (("window", 2), ("periods_per_year", 1)):
            value = getattr(self, key)
            if not is_int(value) or value < minimum:
                raise ConfigError(f"{key}: must be an integer >= {minimum}, got {value!r}")
        if not _number(min_scale, "min_scale") >= 0:
            raise ConfigError(f"min_scale: must be >= 0, got {min_scale!r}")
        if not (_number(max_scale, "max_scale") > 0 and max_scale >= min_scale):
            raise ConfigError(f"max_scale: must be > 0 and >= min_scale={min_scale!r}, got {max_scale!r}")
        if base is not None and not isinstance(base, Aggregator):
            raise ConfigError(f"base: must be an aggregator (a nested _target_) or null, got {base!r}")
        if getattr(base, "output", "signal") != "signal":
            raise ConfigError("base: must output a signal in [-1, 1], not a probability; set base.output: signal")

    def _base(self) -> Aggregator:
        return WeightedAverage() if self.base is None else self.base

    def fit(self, frames: Sequence[SignalFrame], weights: np.ndarray, train: MarketData) -> VolatilityAdjusted:
        """Fit ``base`` on the train segment (the volatility scaling itself learns nothing).

        Args:
            frames: Each strategy's signals cut at the end of train.
            weights: Each strategy's weight.
            train: The panel cut at the end of train.

        Returns:
            self.

        Example:
            >>> from framework.aggregation.ml_based import MLAggregator
            >>> calm = 100.0 * np.cumprod([1.0, 1.01, 0.99, 1.01, 0.99])  # daily moves of 1 %
            >>> wild = 100.0 * np.cumprod([1.0, 1.04, 0.96, 1.04, 0.96])  # and of 4 %
            >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("CALM", "WILD"), np.column_stack([calm, wild]))
            >>> frame = SignalFrame(np.ones((5, 2)), np.ones((5, 2)))
            >>> agg = VolatilityAdjusted(base=MLAggregator(mode="adaptive")).fit([frame], np.array([1.0]), data)
            >>> agg.base.n_strategies_
            1
        """
        self._base().fit(frames, weights, train)
        return self

    def combine(self, frames: Sequence[SignalFrame], weights: np.ndarray, data: MarketData) -> SignalFrame:
        """The base's combined signal scaled by the volatility target (see the class docstring).

        Args:
            frames: Each strategy's signals, shape (days, tickers) each.
            weights: Each strategy's weight.
            data: The panel the signals were computed on (its closes give the volatility).

        Returns:
            The scaled signal and the base's confidence (0 while the volatility warms up).

        Raises:
            ConfigError: If ``data`` is missing.

        Example:
            >>> calm = 100.0 * np.cumprod([1.0, 1.01, 0.99, 1.01, 0.99])  # daily moves of 1 %
            >>> wild = 100.0 * np.cumprod([1.0, 1.04, 0.96, 1.04, 0.96])  # and of 4 %
            >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("CALM", "WILD"), np.column_stack([calm, wild]))
            >>> frame = SignalFrame(np.ones((5, 2)), np.ones((5, 2)))
            >>> agg = VolatilityAdjusted(target_volatility=0.01, window=2, periods_per_year=1)
            >>> agg.combine([frame], np.array([1.0]), data).signal[2:].round(4).tolist()  # 0.01 / 0.0141, 0.01 / 0.0566
            [[0.7071, 0.1768], [0.7071, 0.1768], [0.7071, 0.1768]]
        """
        if data is None:
            raise ConfigError("VolatilityAdjusted: combine needs the market data (closes) to measure volatility")
        combined = self._base().combine(frames, weights, data)
        volatility = realised_volatility(data.close, int(self.window), int(self.periods_per_year))
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.clip(float(self.target_volatility) / volatility, self.min_scale, self.max_scale)
        signal = np.clip(combined.signal * scale, -1.0, 1.0)
        confidence = np.where(np.isnan(volatility), 0.0, combined.confidence)
        return SignalFrame(signal=signal, confidence=confidence)
