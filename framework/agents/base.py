"""The agent interface, the no-op agent, and the run context agents are checked against before the loop."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from framework.core.component import Component
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog, ExecutionState, SignalFrame, TradeProposal

if TYPE_CHECKING:
    import pandas as pd

#: What an agent may say it ``requires`` from the run, checked before the loop starts:
#: ``signal`` and ``confidence`` (the combined signal), ``allocation`` (the portfolio's fixed allocation),
#: ``returns`` (``min_history`` bars of returns for its estimates), ``positions`` and ``equity`` (the books).
REQUIREMENTS: tuple[str, ...] = ("signal", "confidence", "allocation", "returns", "positions", "equity")


@dataclass(frozen=True)
class RunContext:
    """What a run provides, to check every agent's requirements before the first bar.

    Attributes:
        n_days: Bars in the run.
        tickers: Column names.
        allocation: The portfolio's fixed allocation per ticker, or None.
        fields: Price fields the data has (``close`` and any of ``open``, ``high``, ``low``, ``volume``).

    Example:
        >>> RunContext(n_days=300, tickers=("A", "B")).n_days
        300
    """

    n_days: int
    tickers: tuple[str, ...]
    allocation: np.ndarray | None = None
    fields: tuple[str, ...] = field(default=("close",))


class Agent(Component):
    """One stage of the per-bar decision pipeline.

    An agent takes the proposal of the stage before it and the execution state of bar t, and returns an
    adjusted proposal. It may keep state between bars (set up in :meth:`prepare`) and records each adjustment
    (ticker, before, after, reason) in ``state.log`` under its ``name``. Work inside :meth:`propose` is numpy
    over the tickers: it runs once per bar. An agent never writes into the arrays of the proposal it receives;
    when it changes nothing it returns that proposal itself.

    Class attributes say what the agent needs and does, so the orchestrator can check a pipeline before the loop:
    ``requires`` (names from :data:`REQUIREMENTS`) and ``sets`` (what the agent changes in the proposal).

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
    #: What the agent reads from the run (see :data:`REQUIREMENTS`).
    requires: ClassVar[tuple[str, ...]] = ()
    #: What the agent sets in the proposal (``target_weights``, ``confidence``).
    sets: ClassVar[tuple[str, ...]] = ("target_weights",)
    #: Whether the agent must be the pipeline's last stage (it turns the final targets into orders).
    last_stage: ClassVar[bool] = False

    def history_needed(self) -> int:
        """Bars of returns the agent needs before it can act (0 for none); checked against the data's length.

        Returns:
            The number of bars; :meth:`check` refuses a run with fewer returns.

        Example:
            >>> NoOp().history_needed()
            0
        """
        return 0

    def check(self, context: RunContext) -> None:
        """Check the agent's ``requires`` against what the run provides, before the loop.

        Args:
            context: What the run provides.

        Raises:
            ConfigError: Naming the agent's config key and what is missing.

        Example:
            >>> from framework.agents.sizing import FixedAllocationSizing
            >>> agent = FixedAllocationSizing()
            >>> agent.name = "sizing"
            >>> agent.check(RunContext(n_days=10, tickers=("A",)))  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            framework.core.errors.ConfigError: agent.sizing: FixedAllocationSizing requires the portfolio's ...
        """
        kind = type(self).__name__
        if "allocation" in self.requires and context.allocation is None:
            raise ConfigError(
                f"agent.{self.name}: {kind} requires the portfolio's allocation "
                "(portfolio.allocation: {TICKER: weight, ...}); this portfolio has none"
            )
        needed = self.history_needed()
        if needed and needed > context.n_days - 1:
            raise ConfigError(
                f"agent.{self.name}.min_history: {kind} needs {needed} bars of returns before it acts, but the data "
                f"has {context.n_days} bars ({context.n_days - 1} returns); lower it or use a longer data range"
            )

    def prepare(self, data: MarketData, signals: SignalFrame) -> None:
        """Reset state before a run; precompute causal panels (row t from data up to t) if needed.

        Args:
            data: The whole panel of the run.
            signals: The combined signals of the run.

        Example:
            >>> class UpDays(Agent):
            ...     def prepare(self, data, signals):
            ...         self.up = data.returns() > 0  # row t uses closes up to t
            >>> data = MarketData(np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[D]"), ("A",),
            ...                   np.array([[10.0], [11.0]]))
            >>> signals = SignalFrame(np.array([[np.nan], [1.0]]), np.array([[0.0], [1.0]]))
            >>> agent = UpDays()
            >>> agent.prepare(data, signals)
            >>> agent.up.ravel().tolist()
            [False, True]
        """

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        """Adjust ``proposal`` for bar ``state.bar``.

        Args:
            proposal: The previous stage's targets.
            state: What is known at the close of bar t.

        Returns:
            The adjusted proposal.

        Raises:
            NotImplementedError: In the base class: every agent defines it.

        Example:
            >>> class Cap(Agent):
            ...     def propose(self, proposal, state):
            ...         return TradeProposal(np.minimum(proposal.target_weights, 0.3), proposal.confidence, "cap")
            >>> state = ExecutionState.empty(("A", "B"))
            >>> Cap().propose(TradeProposal(np.array([0.5, 0.1])), state).target_weights.tolist()
            [0.3, 0.1]
        """
        raise NotImplementedError

    @property
    def supports_panel(self) -> bool:
        """Whether :meth:`panel_targets` can compute this agent's targets for every bar at once.

        Example:
            >>> Agent().supports_panel, NoOp().supports_panel
            (False, True)
        """
        return False

    def panel_targets(
        self,
        previous: np.ndarray,
        data: MarketData,
        signals: SignalFrame,
        allocation: np.ndarray | None,
        log: DecisionLog,
    ) -> np.ndarray:
        """The agent's targets for every bar at once, for agents that need nothing but the panels.

        Only called when :attr:`supports_panel` is true, after :meth:`prepare`; it must give exactly what
        :meth:`propose` would give bar by bar, and record the same decisions in ``log``.

        Args:
            previous: The previous stage's targets, shape (days, tickers) (all NaN for the first stage).
            data: The whole panel.
            signals: The combined signals.
            allocation: The portfolio's fixed allocation, or None.
            log: The run's decision log.

        Returns:
            Shape (days, tickers).

        Raises:
            NotImplementedError: For an agent without a whole-panel form.

        Example:
            >>> data = MarketData(np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[D]"), ("A",),
            ...                   np.array([[10.0], [11.0]]))
            >>> signals = SignalFrame(np.array([[np.nan], [1.0]]), np.array([[0.0], [1.0]]))
            >>> Agent().panel_targets(np.full((2, 1), np.nan), data, signals, None, DecisionLog())
            Traceback (most recent call last):
            ...
            NotImplementedError: Agent has no whole-panel form
        """
        raise NotImplementedError(f"{type(self).__name__} has no whole-panel form")

    def outputs(self, dates: np.ndarray, tickers: tuple[str, ...]) -> Mapping[str, pd.DataFrame]:
        """Tables the agent saves with the run after the loop (``{"correlation": frame}``); none by default.

        Args:
            dates: Bar dates of the run, to index the tables.
            tickers: Column names of the run.

        Returns:
            Table name to table.

        Example:
            >>> NoOp().outputs(np.array(["2024-01-02"], dtype="datetime64[D]"), ("A",))
            {}
        """
        return {}

    def series(self) -> Mapping[str, np.ndarray]:
        """Per-bar series the agent recorded (``{"ex_ante_volatility": array}``), for metrics and plots.

        Returns:
            Series name to a shape (days,) array; none by default.

        Example:
            >>> NoOp().series()
            {}
        """
        return {}


class NoOp(Agent):
    """A stage that does nothing: the proposal passes through unchanged (``agent/risk=none``).

    Requires: nothing.
    Sets: nothing.

    Example:
        >>> proposal = TradeProposal(np.array([0.5, np.nan]))
        >>> NoOp().propose(proposal, ExecutionState.empty(("A", "B"))) is proposal
        True
    """

    sets: ClassVar[tuple[str, ...]] = ()

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        """Return ``proposal`` as it is.

        Args:
            proposal: The previous stage's targets.
            state: What is known at the close of bar t (not read).

        Returns:
            ``proposal`` itself.

        Example:
            >>> proposal = TradeProposal(np.array([0.5]))
            >>> NoOp().propose(proposal, ExecutionState.empty(("A",))) is proposal
            True
        """
        return proposal

    @property
    def supports_panel(self) -> bool:
        """Always: the panel passes through.

        Example:
            >>> NoOp().supports_panel
            True
        """
        return True

    def panel_targets(
        self,
        previous: np.ndarray,
        data: MarketData,
        signals: SignalFrame,
        allocation: np.ndarray | None,
        log: DecisionLog,
    ) -> np.ndarray:
        """Return ``previous`` as it is.

        Args:
            previous: The previous stage's targets, shape (days, tickers).
            data: The whole panel (not read).
            signals: The combined signals (not read).
            allocation: The portfolio's fixed allocation, or None (not read).
            log: The run's decision log (nothing recorded).

        Returns:
            ``previous`` itself.

        Example:
            >>> data = MarketData(np.array(["2024-01-02", "2024-01-03"], dtype="datetime64[D]"), ("A",),
            ...                   np.array([[10.0], [11.0]]))
            >>> signals = SignalFrame(np.array([[np.nan], [1.0]]), np.array([[0.0], [1.0]]))
            >>> previous = np.array([[np.nan], [0.5]])
            >>> NoOp().panel_targets(previous, data, signals, None, DecisionLog()) is previous
            True
        """
        return previous
