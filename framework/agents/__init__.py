"""The decision pipeline: an orchestrator running agents (sizing, selection, correlation, risk) on every bar."""

from framework.agents.base import Agent, NoOp, RunContext
from framework.agents.correlation import CorrelationLimit
from framework.agents.execution import ExecutionRules
from framework.agents.orchestrator import Orchestrator, Recovery
from framework.agents.risk import RiskLimits
from framework.agents.selection import TopKSelection
from framework.agents.sizing import (
    EqualWeightSizing,
    EstimateSizing,
    FixedAllocationSizing,
    InverseVolatilitySizing,
    OptimizerSizing,
    RiskParitySizing,
    SignalWeightedSizing,
    SizingAgent,
)

__all__ = [
    "Agent",
    "CorrelationLimit",
    "EqualWeightSizing",
    "EstimateSizing",
    "ExecutionRules",
    "FixedAllocationSizing",
    "InverseVolatilitySizing",
    "NoOp",
    "OptimizerSizing",
    "Orchestrator",
    "Recovery",
    "RiskLimits",
    "RiskParitySizing",
    "RunContext",
    "SignalWeightedSizing",
    "SizingAgent",
    "TopKSelection",
]
