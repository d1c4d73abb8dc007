"""The agent interface and the orchestrator that runs agents in order on every bar."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from framework.core.component import Component
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import ExecutionState, SignalFrame, TradeProposal


class Agent(Component):
    """One stage of the per-bar decision pipeline.

    An agent takes the proposal of the stage before it and the execution state of bar t, and returns an
    adjusted proposal. It may keep state between bars (set up in :meth:`prepare`) and records each adjustment
    (ticker, before, after, reason) in ``state.log`` under its ``name``. Work inside :meth:`propose` is numpy
    over the tickers: it runs once per bar.

    Attributes:
        name: How the decision log names this agent; the orchestrator sets it to the stage's key in the config.

    Example:
        >>> class Halve(Agent):
        ...     def propose(self, proposal, state):
        ...         return TradeProposal(proposal.target_weights / 2)
        >>> state = ExecutionState.empty(("A",))
        >>> Halve().propose(TradeProposal(np.array([0.5])), state).target_weights
        array([0.25])
    """

    name: str = "agent"
    #: Whether the agent reads the portfolio's fixed allocation (``state.allocation``).
    uses_allocation: bool = False

    def prepare(self, data: MarketData, signals: SignalFrame) -> None:
        """Reset state before a run; precompute causal panels (row t from data up to t) if needed.

        Args:
            data: The whole panel of the run.
            signals: The combined signals of the run.
        """

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        """Adjust ``proposal`` for bar ``state.bar``.

        Args:
            proposal: The previous stage's targets.
            state: What is known at the close of bar t.

        Returns:
            The adjusted proposal.
        """
        raise NotImplementedError


class Orchestrator:
    """Runs the agents in the order of the config on every bar, each on the previous one's proposal.

    The first agent receives a proposal with no orders (every target NaN: keep positions as they are).

    Args:
        agents: Stage name to agent, in pipeline order (a mapping from the ``agent`` config group), or a
            sequence of agents named after their own ``name``.

    Raises:
        ConfigError: If the pipeline is empty or a stage is not an :class:`Agent`.

    Example:
        >>> from framework.agents.sizing import EqualWeightSizing
        >>> orchestrator = Orchestrator({"sizing": EqualWeightSizing()})
        >>> orchestrator.stage_names
        ('sizing',)
    """

    def __init__(self, agents: Mapping[str, Agent] | Sequence[Agent]) -> None:
        if isinstance(agents, Mapping):
            items = list(agents.items())
        else:
            items = [(getattr(a, "name", f"#{i}"), a) for i, a in enumerate(agents)]
        names = [str(stage) for stage, _ in items]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ConfigError(f"agent: stage names must be unique so the decision log can tell them apart: {repeated}")
        if not items:
            raise ConfigError("agent: the pipeline needs at least one agent (a sizing agent)")
        for stage, agent in items:
            if not isinstance(agent, Agent):
                raise ConfigError(
                    f"agent.{stage}: expected an agent (a subclass of framework.agents.Agent), "
                    f"got {type(agent).__name__}"
                )
            agent.name = str(stage)
        self.agents: tuple[Agent, ...] = tuple(agent for _, agent in items)
        self._blank: np.ndarray = np.empty(0)

    @property
    def uses_allocation(self) -> bool:
        """Whether some agent of the pipeline reads the portfolio's allocation."""
        return any(agent.uses_allocation for agent in self.agents)

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The agents' names in pipeline order."""
        return tuple(agent.name for agent in self.agents)

    def prepare(self, data: MarketData, signals: SignalFrame) -> None:
        """Prepare every agent for a run over ``data``."""
        self._blank = np.full(data.n_tickers, np.nan)
        for agent in self.agents:
            agent.prepare(data, signals)

    def decide(self, state: ExecutionState) -> TradeProposal:
        """The pipeline's proposal for bar ``state.bar``."""
        if self._blank.size != len(state.tickers):
            self._blank = np.full(len(state.tickers), np.nan)
        proposal = TradeProposal(self._blank.copy())
        for agent in self.agents:
            proposal = agent.propose(proposal, state)
        return proposal
