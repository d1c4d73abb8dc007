"""Simulated execution: the broker that fills orders and the books that account for them."""

from framework.execution.broker import Fills, SimulatedBroker
from framework.execution.portfolio import PortfolioManager

__all__ = ["Fills", "PortfolioManager", "SimulatedBroker"]
