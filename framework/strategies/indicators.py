"""The rolling indicators, kept importable here for user code; they live in :mod:`framework.stats.rolling`."""

from framework.stats.rolling import (
    cross_rank,
    delay,
    delta,
    ema,
    pct_change,
    rolling_max,
    rolling_min,
    rolling_std,
    rolling_sum,
    rsi,
    sma,
    zscore,
)

__all__ = [
    "cross_rank",
    "delay",
    "delta",
    "ema",
    "pct_change",
    "rolling_max",
    "rolling_min",
    "rolling_std",
    "rolling_sum",
    "rsi",
    "sma",
    "zscore",
]
