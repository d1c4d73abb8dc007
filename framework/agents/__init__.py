"""The decision pipeline: an orchestrator running agents (sizing, selection, correlation, risk) on every bar."""

from framework.agents.base import Agent, NoOp, RunContext
from framework.agents.orchestrator import Orchestrator, Recovery
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
    "EqualWeightSizing",
    "EstimateSizing",
    "FixedAllocationSizing",
    "InverseVolatilitySizing",
    "NoOp",
    "OptimizerSizing",
    "Orchestrator",
    "Recovery",
    "RiskParitySizing",
    "RunContext",
    "SignalWeightedSizing",
    "SizingAgent",
]
