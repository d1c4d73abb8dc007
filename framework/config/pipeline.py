"""Building the decision pipeline from the ``agent`` config: stages, their order and their recovery policies.

The ``agent`` mapping holds one entry per stage (``sizing``, ``selection``, ``correlation``, ``risk``...), each a
component with ``_target_``, plus two settings:

- ``order``: the stage names in the order to run them (null: the order of the mapping, which is the order of
  the defaults list in ``conf/agent/default.yaml``);
- ``max_gross_exposure``: the largest sum of absolute target weights any agent may propose.

A stage entry may also carry ``on_error`` (``raise``, ``skip``, ``hold`` or ``fallback``) and ``fallback`` (an
agent entry, which may have its own ``on_error`` and ``fallback``): these belong to the stage, not to the agent's
constructor, and are taken out before the agent is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from framework.agents.base import Agent
from framework.agents.orchestrator import ON_ERROR, Orchestrator, Recovery
from framework.config.components import build_component
from framework.core.errors import ConfigError

#: Keys of the ``agent`` mapping that are settings of the pipeline, not stages.
PIPELINE_SETTINGS: tuple[str, ...] = ("order", "max_gross_exposure")
#: Keys of a stage entry that configure its recovery, not the agent.
RECOVERY_KEYS: tuple[str, ...] = ("on_error", "fallback")


def build_stage(spec: Mapping[str, Any], key: str) -> tuple[Agent, Recovery]:
    """Build one stage's agent and its recovery chain.

    Args:
        spec: The stage's entry: ``_target_``, the agent's parameters, optional ``on_error`` and ``fallback``.
        key: Its config key (``agent.sizing``), for messages.

    Returns:
        The agent and its :class:`Recovery`.

    Raises:
        ConfigError: Naming the key at fault.

    Example:
        >>> agent, recovery = build_stage({"_target_": "framework.agents.EqualWeightSizing", "on_error": "hold"},
        ...                               "agent.sizing")
        >>> type(agent).__name__, recovery.on_error
        ('EqualWeightSizing', 'hold')
    """
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{key}: expected an agent entry with '_target_', got {spec!r}")
    params = {k: v for k, v in spec.items() if k not in RECOVERY_KEYS}
    on_error = spec.get("on_error", "raise")
    if on_error not in ON_ERROR:
        raise ConfigError(f"{key}.on_error: must be one of {', '.join(ON_ERROR)}, got {on_error!r}")
    agent = build_component(params, key, Agent)
    fallback_spec = spec.get("fallback")
    if on_error == "fallback" and fallback_spec is None:
        raise ConfigError(f"{key}.fallback: on_error is 'fallback', so a fallback agent ({{_target_: ...}}) is needed")
    if fallback_spec is not None and on_error != "fallback":
        raise ConfigError(f"{key}.fallback: a fallback agent is only used with on_error: fallback, not {on_error!r}")
    if fallback_spec is None:
        return agent, Recovery(on_error)
    fallback, fallback_recovery = build_stage(fallback_spec, f"{key}.fallback")
    return agent, Recovery(on_error, fallback, fallback_recovery)


def build_pipeline(agents: Mapping[str, Any]) -> Orchestrator:
    """The orchestrator of the ``agent`` config (see the module docstring).

    Args:
        agents: The resolved ``agent`` mapping.

    Returns:
        The :class:`Orchestrator`.

    Raises:
        ConfigError: Naming the key at fault (an unknown stage in ``order``, a bad recovery...).

    Example:
        >>> pipeline = build_pipeline({
        ...     "sizing": {"_target_": "framework.agents.EqualWeightSizing"},
        ...     "risk": {"_target_": "framework.agents.NoOp"},
        ...     "order": ["risk", "sizing"],
        ... })
        >>> pipeline.stage_names
        ('risk', 'sizing')
    """
    if not isinstance(agents, Mapping):
        raise ConfigError(f"agent: expected a mapping stage name -> agent, got {agents!r}")
    stages: dict[str, Agent] = {}
    recovery: dict[str, Recovery] = {}
    for name, spec in agents.items():
        if name in PIPELINE_SETTINGS:
            continue
        if spec is None:
            raise ConfigError(
                f"agent.{name}: a stage needs an agent; use agent/{name}=none for a stage that does nothing"
            )
        stages[str(name)], recovery[str(name)] = build_stage(spec, f"agent.{name}")
    order = agents.get("order")
    if order is not None and (isinstance(order, str) or not isinstance(order, (list, tuple))):
        raise ConfigError(f"agent.order: must be null or a list of stage names, got {order!r}")
    max_gross = agents.get("max_gross_exposure", 10.0)
    return Orchestrator(stages, order=order, recovery=recovery, max_gross_exposure=max_gross)
