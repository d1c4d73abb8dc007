"""The decision pipeline: an orchestrator running agents (sizing, risk, execution rules) on every bar."""

from framework.agents.base import Agent, Orchestrator
from framework.agents.sizing import EqualWeightSizing, FixedAllocationSizing, SizingAgent

__all__ = ["Agent", "EqualWeightSizing", "FixedAllocationSizing", "Orchestrator", "SizingAgent"]
