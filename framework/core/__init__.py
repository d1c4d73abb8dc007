"""Types shared by every layer and the error hierarchy. Imports nothing else of the project."""

from framework.core.component import Component
from framework.core.errors import (
    AgentError,
    ConfigError,
    DataError,
    EstimationError,
    PortfolioLabError,
    TrackingError,
)
from framework.core.market_data import FIELDS, OPTIONAL_FIELDS, MarketData
from framework.core.types import Adjustment, DecisionLog, ExecutionState, SignalFrame, TradeProposal, held_weights

__all__ = [
    "Adjustment",
    "FIELDS",
    "OPTIONAL_FIELDS",
    "AgentError",
    "Component",
    "ConfigError",
    "DataError",
    "DecisionLog",
    "EstimationError",
    "ExecutionState",
    "MarketData",
    "PortfolioLabError",
    "SignalFrame",
    "TrackingError",
    "TradeProposal",
    "held_weights",
]
