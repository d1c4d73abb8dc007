"""Single-stock strategies: each turns a price panel into a causal (days, tickers) signal."""

from framework.strategies.base import Strategy
from framework.strategies.buy_and_hold import BuyAndHold
from framework.strategies.ema_crossover import EMACrossover
from framework.strategies.expression import ExpressionError, ExpressionStrategy
from framework.strategies.ma_crossover import MACrossover
from framework.strategies.mean_reversion import MeanReversion
from framework.strategies.momentum import Momentum
from framework.strategies.random_forest import RandomForestStrategy
from framework.strategies.rsi import RSI

__all__ = [
    "BuyAndHold",
    "EMACrossover",
    "ExpressionError",
    "ExpressionStrategy",
    "MACrossover",
    "MeanReversion",
    "Momentum",
    "RSI",
    "RandomForestStrategy",
    "Strategy",
]
