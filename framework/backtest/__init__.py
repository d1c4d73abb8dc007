"""One backtest: the portfolio's signals, then the per-bar decision and execution loop."""

from framework.backtest.engine import run_backtest
from framework.backtest.portfolio import PortfolioStrategy, Sleeve, StrategySlot
from framework.backtest.result import BacktestResult

__all__ = ["BacktestResult", "PortfolioStrategy", "Sleeve", "StrategySlot", "run_backtest"]
