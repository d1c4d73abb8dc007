"""The orchestrator: runs the pipeline's stages in order on every bar, checks and recovers each stage.

Each stage's output is checked on every bar, and a stage's failure is handled as its ``on_error`` policy says.

Recovery policies (the ``on_error`` key of a stage):

=============  =================================================================================================
``raise``      the run stops with an :class:`AgentError` naming the stage, the bar and the date (the default)
``skip``       this bar, the stage is left out: its input passes on unchanged
``hold``       this bar, the stage asks for no orders: every target is NaN (positions are kept)
``fallback``   the stage's ``fallback`` agent answers instead; if it fails too, the fallback's own ``on_error``
               applies, so fallbacks chain (risk parity -> inverse volatility -> equal weight)
=============  =================================================================================================

Every recovery is written to the decision log (agent, bar, the chain that answered and the error) and counted per
stage and bar (:attr:`Orchestrator.recoveries_`). Configuration errors are never recovered from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from framework.agents.base import Agent, RunContext
from framework.core.checks import check_choice, check_number
from framework.core.errors import AgentError, ConfigError
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog, ExecutionState, SignalFrame, TradeProposal

if TYPE_CHECKING:
    import pandas as pd

#: Values of a stage's ``on_error`` key.
ON_ERROR: tuple[str, ...] = ("raise", "skip", "hold", "fallback")
#: What a stage may raise and still be recovered from (an EstimationError is an AgentError).
RECOVERABLE: tuple[type[BaseException], ...] = (AgentError, np.linalg.LinAlgError, FloatingPointError)


@dataclass
class Recovery:
    """What a stage does when its agent fails (see the module docstring).

    Attributes:
        on_error: ``raise``, ``skip``, ``hold`` or ``fallback``.
        fallback: The agent that answers instead, for ``fallback``.
        fallback_recovery: What happens when the fallback fails too (raise when None).

    Raises:
        ConfigError: For an unknown policy, ``fallback`` without a fallback agent, or a fallback agent with
            another policy.

    Example:
        >>> from framework.agents.sizing import EqualWeightSizing
        >>> Recovery("fallback", EqualWeightSizing()).on_error
        'fallback'
        >>> Recovery("fallback")
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: on_error: 'fallback' needs a fallback agent (fallback: {_target_: ...})
    """

    on_error: str = "raise"
    fallback: Agent | None = None
    fallback_recovery: Recovery | None = None

    def __post_init__(self) -> None:
        check_choice("on_error", self.on_error, ON_ERROR)
        if self.on_error == "fallback" and self.fallback is None:
            raise ConfigError("on_error: 'fallback' needs a fallback agent (fallback: {_target_: ...})")
        if self.fallback is not None and self.on_error != "fallback":
            raise ConfigError(f"fallback: a fallback agent is only used with on_error: fallback, not {self.on_error!r}")
        if self.fallback is not None and not isinstance(self.fallback, Agent):
            raise ConfigError(f"fallback: expected an agent, got {type(self.fallback).__name__}")

    def agents(self) -> list[Agent]:
        """The fallback agents of the chain, in order.

        Returns:
            The first fallback, then the fallback's fallback, and so on; empty without ``fallback``.

        Example:
            >>> from framework.agents.sizing import EqualWeightSizing, InverseVolatilitySizing
            >>> last = Recovery("fallback", EqualWeightSizing())
            >>> chain = Recovery("fallback", InverseVolatilitySizing(), fallback_recovery=last)
            >>> [type(agent).__name__ for agent in chain.agents()], Recovery("skip").agents()
            (['InverseVolatilitySizing', 'EqualWeightSizing'], [])
        """
        chain: list[Agent] = []
        recovery: Recovery | None = self
        while recovery is not None and recovery.fallback is not None:
            chain.append(recovery.fallback)
            recovery = recovery.fallback_recovery
        return chain


class Orchestrator:
    """Runs the agents in pipeline order on every bar, each on the previous one's proposal.

    The first agent receives a proposal with no orders (every target NaN: keep positions as they are). After each
    agent that changed something, the orchestrator checks its output (shape, no infinite value, gross exposure at
    most ``max_gross_exposure``); a bad output is an :class:`AgentError` naming the stage, the bar and the date,
    handled by the stage's :class:`Recovery`.

    Args:
        agents: Stage name to agent (a mapping from the ``agent`` config group), or a sequence of agents named
            after their own ``name``.
        order: The stage names in the order to run them; None keeps the order of ``agents``.
        recovery: Stage name to its :class:`Recovery` (``raise`` for stages left out).
        max_gross_exposure: Largest sum of absolute target weights an agent may propose.

    Raises:
        ConfigError: If the pipeline is empty, a stage is not an :class:`Agent`, ``order`` is not a permutation
            of the stage names, or a recovery names an unknown stage.

    Example:
        >>> from framework.agents.sizing import EqualWeightSizing
        >>> orchestrator = Orchestrator({"sizing": EqualWeightSizing()})
        >>> orchestrator.stage_names
        ('sizing',)
    """

    def __init__(
        self,
        agents: Mapping[str, Agent] | Sequence[Agent],
        *,
        order: Sequence[str] | None = None,
        recovery: Mapping[str, Recovery] | None = None,
        max_gross_exposure: float = 10.0,
    ) -> None:
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
        if order is not None:
            order = [str(o) for o in order]
            if sorted(order) != sorted(names):
                raise ConfigError(
                    f"agent.order: must list every stage exactly once; stages: {', '.join(names)}, "
                    f"got {', '.join(order) or '(empty)'}"
                )
            by_name = dict(items)
            items = [(name, by_name[name]) for name in order]
        self.agents: tuple[Agent, ...] = tuple(agent for _, agent in items)
        for position, agent in enumerate(self.agents[:-1]):
            if agent.last_stage:
                after = ", ".join(a.name for a in self.agents[position + 1 :])
                raise ConfigError(
                    f"agent.{agent.name}: {type(agent).__name__} turns the final targets into orders, so it must be "
                    f"the last stage; {after} come(s) after it (agent.order)"
                )
        recovery = dict(recovery or {})
        unknown = sorted(set(recovery) - set(names))
        if unknown:
            raise ConfigError(f"agent: recovery given for unknown stage(s) {', '.join(unknown)}")
        self.recovery: tuple[Recovery, ...] = tuple(recovery.get(agent.name, Recovery()) for agent in self.agents)
        for agent, policy in zip(self.agents, self.recovery, strict=True):
            name = agent.name
            for fallback in policy.agents():
                name = f"{name}.fallback"
                fallback.name = name
        self.max_gross_exposure = check_number("agent.max_gross_exposure", max_gross_exposure, minimum=0,
                                               exclusive_minimum=True)  # fmt: skip
        self._blank: np.ndarray = np.empty(0)
        #: Recoveries per bar, one row per stage in pipeline order, shape (stages, days); set by prepare.
        self.recoveries_: np.ndarray = np.zeros((len(self.agents), 0), dtype=np.int64)

    @property
    def uses_allocation(self) -> bool:
        """Whether some agent of the pipeline (a fallback included) reads the portfolio's allocation.

        Example:
            >>> from framework.agents.sizing import EqualWeightSizing, FixedAllocationSizing
            >>> Orchestrator({"sizing": EqualWeightSizing()}).uses_allocation
            False
            >>> Orchestrator({"sizing": FixedAllocationSizing()}).uses_allocation
            True
        """
        return any(agent.uses_allocation for agent in self._all_agents())

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The agents' names in pipeline order.

        Example:
            >>> from framework.agents.base import NoOp
            >>> from framework.agents.sizing import EqualWeightSizing
            >>> Orchestrator({"risk": NoOp(), "sizing": EqualWeightSizing()}, order=["sizing", "risk"]).stage_names
            ('sizing', 'risk')
        """
        return tuple(agent.name for agent in self.agents)

    @property
    def sends_orders(self) -> bool:
        """Whether some stage sends order instructions beyond plain market orders (limits, GTC, impact cuts).

        Example:
            >>> from framework.agents import EqualWeightSizing, ExecutionRules
            >>> Orchestrator({"sizing": EqualWeightSizing(), "execution": ExecutionRules()}).sends_orders
            False
        """
        return any(getattr(agent, "sends_orders", False) for agent in self._all_agents())

    def _all_agents(self) -> list[Agent]:
        return [agent for stage, policy in zip(self.agents, self.recovery, strict=True)
                for agent in (stage, *policy.agents())]  # fmt: skip

    def check(self, context: RunContext) -> None:
        """Check every agent's requirements (and its fallbacks') before the loop.

        Args:
            context: What the run provides.

        Raises:
            ConfigError: Naming the stage and what is missing.

        Example:
            >>> from framework.agents.sizing import FixedAllocationSizing
            >>> orchestrator = Orchestrator({"sizing": FixedAllocationSizing()})
            >>> orchestrator.check(RunContext(n_days=10, tickers=("A",), allocation=np.ones(1)))
            >>> orchestrator.check(RunContext(n_days=10, tickers=("A",)))  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            framework.core.errors.ConfigError: agent.sizing: FixedAllocationSizing requires the portfolio's ...
        """
        for agent in self._all_agents():
            agent.check(context)

    def prepare(self, data: MarketData, signals: SignalFrame) -> None:
        """Prepare every agent (and every fallback) for a run over ``data``; reset the recovery counts.

        Args:
            data: The whole panel of the run.
            signals: The combined signals of the run.

        Example:
            >>> from framework.agents.sizing import EqualWeightSizing
            >>> closes = np.array([[10.0, 20.0], [11.0, 19.0], [12.0, 18.0]])
            >>> data = MarketData(np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]"), ("A", "B"), closes)
            >>> signals = SignalFrame(np.array([[np.nan, np.nan], [1.0, 1.0], [1.0, -1.0]]), np.ones((3, 2)))
            >>> orchestrator = Orchestrator({"sizing": EqualWeightSizing()})
            >>> orchestrator.prepare(data, signals)
            >>> orchestrator.recoveries_.tolist()  # per stage and bar
            [[0, 0, 0]]
        """
        self._blank = np.full(data.n_tickers, np.nan)
        self.recoveries_ = np.zeros((len(self.agents), data.n_days), dtype=np.int64)
        for agent in self._all_agents():
            agent.prepare(data, signals)

    @property
    def supports_panel(self) -> bool:
        """Whether every stage can compute its targets for the whole panel at once (then the loop only books).

        Not when a stage has a recovery policy other than ``raise``: recovering is decided bar by bar.

        Example:
            >>> from framework.agents.sizing import EqualWeightSizing
            >>> Orchestrator({"sizing": EqualWeightSizing()}).supports_panel
            True
            >>> Orchestrator({"sizing": EqualWeightSizing()}, recovery={"sizing": Recovery("hold")}).supports_panel
            False
        """
        return all(agent.supports_panel for agent in self.agents) and all(r.on_error == "raise" for r in self.recovery)

    def panel_targets(
        self, data: MarketData, signals: SignalFrame, allocation: np.ndarray | None, log: DecisionLog
    ) -> np.ndarray:
        """Every bar's targets at once, when :attr:`supports_panel`; call :meth:`prepare` first.

        Args:
            data: The whole panel of the run.
            signals: The combined signals of the run.
            allocation: The portfolio's fixed allocation, or None.
            log: The run's decision log, where every stage records its decisions.

        Returns:
            The last stage's targets, shape (days, tickers) (NaN: no order on that bar).

        Raises:
            AgentError: If a stage's targets are not finite or exceed ``max_gross_exposure`` on some bar, naming
                the stage and the first such bar, as the bar-by-bar loop would.

        Example:
            >>> from framework.agents.sizing import EqualWeightSizing
            >>> closes = np.array([[10.0, 20.0], [11.0, 19.0], [12.0, 18.0]])
            >>> data = MarketData(np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]"), ("A", "B"), closes)
            >>> signals = SignalFrame(np.array([[np.nan, np.nan], [1.0, 1.0], [1.0, -1.0]]), np.ones((3, 2)))
            >>> orchestrator = Orchestrator({"sizing": EqualWeightSizing()})
            >>> orchestrator.prepare(data, signals)
            >>> orchestrator.panel_targets(data, signals, None, DecisionLog()).tolist()
            [[0.0, 0.0], [0.5, 0.5], [1.0, 0.0]]
        """
        targets = np.full(data.shape, np.nan)
        first: tuple[int, str, float] | None = None  # the earliest bad bar, and the stage at fault
        for agent in self.agents:
            out = agent.panel_targets(targets, data, signals, allocation, log)
            if out is not targets:
                gross = np.nansum(np.abs(out), axis=1)
                bad = ~(gross <= self.max_gross_exposure)
                if bad.any() and (first is None or int(np.argmax(bad)) < first[0]):
                    bar = int(np.argmax(bad))
                    first = (bar, agent.name, float(gross[bar]))
            targets = out
        if first is not None:
            bar, name, value = first
            raise AgentError(self._bad_gross(name, bar, data.dates[bar], value))
        return targets

    def decide(self, state: ExecutionState) -> TradeProposal:
        """The pipeline's proposal for bar ``state.bar``: each stage on the previous one's, checked and recovered.

        Args:
            state: What is known at the close of bar t; recoveries are recorded in ``state.log``.

        Returns:
            The last stage's proposal (NaN targets: no order).

        Raises:
            AgentError: When a stage fails or proposes bad targets and its recovery chain ends in ``raise``.

        Example:
            >>> from framework.agents.sizing import EqualWeightSizing
            >>> closes = np.array([[10.0, 20.0], [11.0, 19.0], [12.0, 18.0]])
            >>> data = MarketData(np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]"), ("A", "B"), closes)
            >>> signals = SignalFrame(np.array([[np.nan, np.nan], [1.0, 1.0], [1.0, -1.0]]), np.ones((3, 2)))
            >>> class Broken(Agent):
            ...     def propose(self, proposal, state):
            ...         raise AgentError("no estimate yet")
            >>> stages = {"sizing": EqualWeightSizing(), "risk": Broken()}
            >>> orchestrator = Orchestrator(stages, recovery={"risk": Recovery("skip")})
            >>> orchestrator.prepare(data, signals)
            >>> state = ExecutionState.empty(data.tickers)
            >>> state.bar, state.signal = 1, signals.signal[1]
            >>> orchestrator.decide(state).target_weights.tolist()  # the risk stage is skipped on this bar
            [0.5, 0.5]
            >>> state.log.to_frame(data.dates, data.tickers)["reason"].iloc[-1]
            'recovered: skipped for this bar; failed: risk (no estimate yet)'
        """
        if self._blank.size != len(state.tickers):
            self._blank = np.full(len(state.tickers), np.nan)
        proposal = TradeProposal(self._blank.copy())
        for index, agent in enumerate(self.agents):
            try:
                out = agent.propose(proposal, state)
                if out is not proposal:
                    self._check_output(agent.name, out, state)
            except RECOVERABLE as error:
                out = self._recover(index, proposal, state, error)
            proposal = out
        return proposal

    def _check_output(self, name: str, out: TradeProposal, state: ExecutionState) -> None:
        weights = out.target_weights
        if weights.shape != self._blank.shape:
            raise AgentError(
                f"agent.{name} on bar {state.bar} ({state.date}): proposed targets of shape {weights.shape}, "
                f"expected ({self._blank.size},), one per ticker"
            )
        gross = float(np.add.reduce(np.abs(weights), where=weights == weights))  # NaN (no order) counts as 0
        if not gross <= self.max_gross_exposure:
            raise AgentError(self._bad_gross(name, state.bar, state.date, gross))

    def _bad_gross(self, name: str, bar: int, date: object, gross: float) -> str:
        return (
            f"agent.{name} on bar {bar} ({date}): the targets' gross exposure (sum of |weight|) is {gross:g}; "
            f"it must be finite and at most agent.max_gross_exposure = {self.max_gross_exposure:g}"
        )

    def _recover(
        self, index: int, proposal: TradeProposal, state: ExecutionState, error: BaseException
    ) -> TradeProposal:
        """Apply stage ``index``'s recovery chain after ``error``; raise when the chain ends in ``raise``."""
        stage = self.agents[index]
        policy: Recovery | None = self.recovery[index]
        failed = [f"{stage.name} ({_message(error)})"]
        while True:
            if policy is None or policy.on_error == "raise":
                name, message = failed[-1].split(" (")[0], _message(error)
                prefix = f"agent.{name} on bar {state.bar} ({state.date}): "
                raise AgentError(message if message.startswith(prefix) else prefix + message) from error
            if policy.on_error == "skip":
                out, how = proposal, "skipped for this bar"
            elif policy.on_error == "hold":
                out, how = TradeProposal(self._blank.copy()), "held: no orders this bar"
            else:
                fallback = policy.fallback
                assert fallback is not None
                try:
                    out = fallback.propose(proposal, state)
                    if out is not proposal:
                        self._check_output(fallback.name, out, state)
                except RECOVERABLE as next_error:
                    error = next_error
                    failed.append(f"{fallback.name} ({_message(next_error)})")
                    policy = policy.fallback_recovery
                    continue
                how = f"answered by {fallback.name} ({type(fallback).__name__})"
            self.recoveries_[index, state.bar] += 1
            reason = f"recovered: {how}; failed: {'; '.join(failed)}"
            # braces in an error's message are text, not the log's {value} and {limit} fields
            state.log.record(state.bar, stage.name, -1, np.nan, np.nan, reason.replace("{", "{{").replace("}", "}}"))
            return out

    def outputs(self, dates: np.ndarray, tickers: tuple[str, ...]) -> dict[str, pd.DataFrame]:
        """The tables every stage saves with the run, keyed by the agent's own names (``correlation``...).

        A fallback's tables are named after the fallback (``sizing.fallback.correlation``).

        Args:
            dates: Bar dates of the run.
            tickers: Column names of the run.

        Returns:
            Table name to table.

        Example:
            >>> import pandas as pd
            >>> from framework.agents.base import NoOp
            >>> class Notes(NoOp):
            ...     def outputs(self, dates, tickers):
            ...         return {"notes": pd.DataFrame({"ticker": list(tickers)})}
            >>> orchestrator = Orchestrator({"risk": Notes()}, recovery={"risk": Recovery("fallback", Notes())})
            >>> sorted(orchestrator.outputs(np.array(["2024-01-02"], dtype="datetime64[D]"), ("A",)))
            ['notes', 'risk.fallback.notes']
        """
        tables: dict[str, pd.DataFrame] = {}
        for agent in self.agents:
            tables.update(agent.outputs(dates, tickers))
        for fallback in self._fallbacks():  # a fallback's tables, named after it (sizing.fallback.correlation)
            tables.update({f"{fallback.name}.{k}": v for k, v in fallback.outputs(dates, tickers).items()})
        return tables

    def series(self) -> dict[str, np.ndarray]:
        """Per-bar series of the stages (``ex_ante_volatility``...) and the recoveries per stage.

        Returns:
            Series name to a shape (days,) array: the stages' own series, ``recoveries_<stage>`` after
            :meth:`prepare`, and the fallbacks' series named after the fallback.

        Example:
            >>> from framework.agents.sizing import EqualWeightSizing
            >>> closes = np.array([[10.0, 20.0], [11.0, 19.0], [12.0, 18.0]])
            >>> data = MarketData(np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]"), ("A", "B"), closes)
            >>> signals = SignalFrame(np.array([[np.nan, np.nan], [1.0, 1.0], [1.0, -1.0]]), np.ones((3, 2)))
            >>> class Broken(Agent):
            ...     def propose(self, proposal, state):
            ...         raise AgentError("no estimate yet")
            >>> stages = {"sizing": EqualWeightSizing(), "risk": Broken()}
            >>> orchestrator = Orchestrator(stages, recovery={"risk": Recovery("skip")})
            >>> orchestrator.prepare(data, signals)
            >>> state = ExecutionState.empty(data.tickers)
            >>> state.bar, state.signal = 1, signals.signal[1]
            >>> _ = orchestrator.decide(state)
            >>> orchestrator.series()["recoveries_risk"].tolist()
            [0, 1, 0]
        """
        out: dict[str, np.ndarray] = {}
        for index, agent in enumerate(self.agents):
            out.update(agent.series())
            if self.recoveries_.shape[1]:
                out[f"recoveries_{agent.name}"] = self.recoveries_[index]
        for fallback in self._fallbacks():
            out.update({f"{fallback.name}.{k}": v for k, v in fallback.series().items()})
        return out

    def _fallbacks(self) -> list[Agent]:
        return [agent for policy in self.recovery for agent in policy.agents()]


def _message(error: BaseException) -> str:
    """The first line of an error's message, with its type when the message is empty."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text
