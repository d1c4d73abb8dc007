"""Simulated execution: the broker that fills orders, its cost models and order records, and the books."""

from framework.execution.broker import Fills, SimulatedBroker
from framework.execution.costs import (
    BorrowFee,
    CostContext,
    CostModel,
    HalfSpreadCost,
    PerShareCost,
    ProportionalCost,
    SquareRootImpact,
)
from framework.execution.orders import OrderRecords, WorkingOrders
from framework.execution.portfolio import PortfolioManager

__all__ = [
    "BorrowFee",
    "CostContext",
    "CostModel",
    "Fills",
    "HalfSpreadCost",
    "OrderRecords",
    "PerShareCost",
    "PortfolioManager",
    "ProportionalCost",
    "SimulatedBroker",
    "SquareRootImpact",
    "WorkingOrders",
]
