"""Single-stock strategies: each turns a price panel into a causal (days, tickers) signal."""

from framework.strategies.base import Strategy
from framework.strategies.ma_crossover import MACrossover

__all__ = ["MACrossover", "Strategy"]
