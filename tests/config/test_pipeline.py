"""Building the decision pipeline from the ``agent`` config: stages, order, settings and recovery chains."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from framework.agents import (
    CorrelationLimit,
    EqualWeightSizing,
    ExecutionRules,
    InverseVolatilitySizing,
    NoOp,
    RiskLimits,
    RiskParitySizing,
    TopKSelection,
)
from framework.config import CONFIG_DIR
from framework.config.pipeline import build_pipeline, build_stage
from framework.core.errors import ConfigError

EQUAL = {"_target_": "framework.agents.EqualWeightSizing"}
NOOP = {"_target_": "framework.agents.NoOp"}
INVERSE = {"_target_": "framework.agents.InverseVolatilitySizing", "lookback": 60, "min_history": 20}


def stages() -> dict[str, Any]:
    return {"sizing": dict(EQUAL), "selection": dict(NOOP), "risk": dict(NOOP)}


@pytest.fixture(scope="module")
def composed_agent() -> Iterator[Any]:
    """The resolved ``agent`` mapping of the composed config, for some overrides."""
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):

        def agent_config(overrides: list[str]) -> dict[str, Any]:
            cfg = compose(config_name="config", overrides=["data=synthetic", "tracking=none", *overrides])
            return OmegaConf.to_container(cfg, resolve=True)["agent"]  # type: ignore[index,return-value]

        yield agent_config


class TestBuildStage:
    def test_plain_stage_raises_by_default(self) -> None:
        agent, recovery = build_stage(dict(EQUAL, gross_exposure=0.5), "agent.sizing")
        assert isinstance(agent, EqualWeightSizing) and agent.gross_exposure == 0.5
        assert (recovery.on_error, recovery.fallback, recovery.fallback_recovery) == ("raise", None, None)

    @pytest.mark.parametrize("policy", ["raise", "skip", "hold"])
    def test_policies_without_fallback(self, policy: str) -> None:
        agent, recovery = build_stage(dict(EQUAL, on_error=policy), "agent.sizing")
        assert isinstance(agent, EqualWeightSizing) and recovery.on_error == policy and recovery.agents() == []

    def test_fallback_and_its_own_policy(self) -> None:
        spec = dict(INVERSE, on_error="fallback", fallback=dict(EQUAL, gross_exposure=0.8, on_error="hold"))
        agent, recovery = build_stage(spec, "agent.sizing")
        assert isinstance(agent, InverseVolatilitySizing) and agent.lookback == 60
        assert isinstance(recovery.fallback, EqualWeightSizing) and recovery.fallback.gross_exposure == 0.8
        assert recovery.fallback_recovery is not None and recovery.fallback_recovery.on_error == "hold"

    def test_nested_fallbacks(self) -> None:
        spec = {
            "_target_": "framework.agents.RiskParitySizing",
            "on_error": "fallback",
            "fallback": dict(INVERSE, on_error="fallback", fallback=dict(EQUAL, on_error="skip")),
        }
        agent, recovery = build_stage(spec, "agent.sizing")
        assert [type(a) for a in (agent, *recovery.agents())] == [
            RiskParitySizing,
            InverseVolatilitySizing,
            EqualWeightSizing,
        ]
        last = recovery.fallback_recovery.fallback_recovery  # type: ignore[union-attr]
        assert last is not None and (last.on_error, last.fallback) == ("skip", None)

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            (dict(EQUAL, on_error="retry"),
             r"^agent\.sizing\.on_error: must be one of raise, skip, hold, fallback, got 'retry'$"),
            (dict(EQUAL, on_error=None), r"^agent\.sizing\.on_error: must be one of .*, got None$"),
            (dict(EQUAL, on_error="fallback"),
             r"^agent\.sizing\.fallback: on_error is 'fallback', so a fallback agent \(\{_target_: \.\.\.\}\) is "
             r"needed$"),
            (dict(EQUAL, fallback=dict(EQUAL)),
             r"^agent\.sizing\.fallback: a fallback agent is only used with on_error: fallback, not 'raise'$"),
            (dict(EQUAL, on_error="skip", fallback=dict(EQUAL)),
             r"^agent\.sizing\.fallback: a fallback agent is only used with on_error: fallback, not 'skip'$"),
            (dict(EQUAL, on_error="fallback", fallback="equal_weight"),
             r"^agent\.sizing\.fallback: expected an agent entry with '_target_', got 'equal_weight'$"),
            (dict(EQUAL, on_error="fallback", fallback={"lookback": 3}),
             r"^agent\.sizing\.fallback: expected a mapping with a '_target_' entry"),
            (dict(EQUAL, on_error="fallback", fallback={"_target_": "framework.execution.SimulatedBroker"}),
             r"^agent\.sizing\.fallback\._target_: framework\.execution\.SimulatedBroker is not a Agent$"),
            (dict(EQUAL, on_error="fallback", fallback=dict(EQUAL, on_error="again")),
             r"^agent\.sizing\.fallback\.on_error: must be one of raise, skip, hold, fallback, got 'again'$"),
            (dict(EQUAL, on_error="fallback", fallback=dict(EQUAL, on_error="fallback")),
             r"^agent\.sizing\.fallback\.fallback: on_error is 'fallback', so a fallback agent"),
            (dict(EQUAL, on_error="fallback", fallback=dict(INVERSE, lookbak=5)),
             r"^agent\.sizing\.fallback\.lookbak: unknown parameter of InverseVolatilitySizing; known: lookback"),
            (dict(EQUAL, on_error="fallback",
                  fallback=dict(EQUAL, on_error="fallback", fallback=dict(EQUAL, on_error=1))),
             r"^agent\.sizing\.fallback\.fallback\.on_error: must be one of"),
            (dict(EQUAL, gross_exposure=-1),
             r"^agent\.sizing\.gross_exposure: must be a number > 0 and <= 10, got -1$"),
            ([EQUAL], r"^agent\.sizing: expected an agent entry with '_target_', got \["),
        ],
    )  # fmt: skip
    def test_errors_name_the_full_key(self, spec: Any, message: str) -> None:
        with pytest.raises(ConfigError, match=message):
            build_stage(spec, "agent.sizing")


class TestBuildPipeline:
    def test_mapping_order_without_order(self) -> None:
        pipeline = build_pipeline({"risk": dict(NOOP), "sizing": dict(EQUAL), "order": None})
        assert pipeline.stage_names == ("risk", "sizing")
        assert [type(a) for a in pipeline.agents] == [NoOp, EqualWeightSizing]

    @pytest.mark.parametrize("order", list(itertools.permutations(["sizing", "selection", "risk"])))
    def test_every_permutation_is_an_order(self, order: tuple[str, ...]) -> None:
        pipeline = build_pipeline({**stages(), "order": list(order)})
        assert pipeline.stage_names == order
        assert [a.name for a in pipeline.agents] == list(order)
        assert isinstance(pipeline.agents[order.index("sizing")], EqualWeightSizing)

    @pytest.mark.parametrize(
        "order",
        [
            ["sizing", "risk"],  # a stage left out
            ["sizing", "selection", "risk", "risk"],  # a stage twice
            ["sizing", "selection", "risk", "correlation"],  # an unknown stage
            ["sizing", "selection", "riks"],  # a misspelled stage
            [],
        ],
    )
    def test_order_must_be_a_permutation(self, order: list[str]) -> None:
        with pytest.raises(ConfigError, match=r"^agent\.order: must list every stage exactly once; stages: "
                                              r"sizing, selection, risk, got "):  # fmt: skip
            build_pipeline({**stages(), "order": order})

    @pytest.mark.parametrize("order", ["sizing,selection,risk", 3, {"sizing": 1}])
    def test_order_must_be_a_list(self, order: object) -> None:
        with pytest.raises(ConfigError, match=r"^agent\.order: must be null or a list of stage names, got "):
            build_pipeline({**stages(), "order": order})

    def test_settings_are_not_stages(self) -> None:
        pipeline = build_pipeline({**stages(), "order": ["risk", "selection", "sizing"], "max_gross_exposure": 2.5})
        assert pipeline.stage_names == ("risk", "selection", "sizing")
        assert pipeline.max_gross_exposure == 2.5
        assert build_pipeline(stages()).max_gross_exposure == 10.0

    @pytest.mark.parametrize("value", [0, -1.0, None, "high"])
    def test_bad_max_gross_exposure(self, value: object) -> None:
        with pytest.raises(ConfigError, match=r"^agent\.max_gross_exposure: "):
            build_pipeline({**stages(), "max_gross_exposure": value})

    def test_stage_without_agent(self) -> None:
        with pytest.raises(ConfigError, match=r"^agent\.risk: a stage needs an agent; use agent/risk=none"):
            build_pipeline({"sizing": dict(EQUAL), "risk": None})

    def test_agent_config_must_be_a_mapping(self) -> None:
        with pytest.raises(ConfigError, match=r"^agent: expected a mapping stage name -> agent"):
            build_pipeline([EQUAL])  # type: ignore[arg-type]

    def test_empty_pipeline(self) -> None:
        with pytest.raises(ConfigError, match=r"^agent: the pipeline needs at least one agent"):
            build_pipeline({"order": None, "max_gross_exposure": 1.0})

    def test_stage_errors_name_the_stage(self) -> None:
        with pytest.raises(ConfigError, match=r"^agent\.risk\.on_error: must be one of"):
            build_pipeline({"sizing": dict(EQUAL), "risk": dict(NOOP, on_error="ignore")})
        with pytest.raises(ConfigError, match=r"^agent\.risk\.fallback\.on_error: must be one of"):
            build_pipeline({"sizing": dict(EQUAL), "risk": dict(NOOP, on_error="fallback",
                                                                 fallback=dict(NOOP, on_error="x"))})  # fmt: skip

    def test_recovery_chains_reach_the_orchestrator(self) -> None:
        spec = dict(INVERSE, on_error="fallback", fallback=dict(EQUAL, on_error="hold"))
        pipeline = build_pipeline({"sizing": spec, "risk": dict(NOOP, on_error="skip")})
        sizing, risk = pipeline.recovery
        assert (sizing.on_error, risk.on_error) == ("fallback", "skip")
        assert sizing.fallback is not None and sizing.fallback.name == "sizing.fallback"
        assert sizing.fallback_recovery is not None and sizing.fallback_recovery.on_error == "hold"

    def test_nested_fallbacks_are_named_after_their_stage(self) -> None:
        spec = {
            "_target_": "framework.agents.RiskParitySizing",
            "on_error": "fallback",
            "fallback": dict(INVERSE, on_error="fallback", fallback=dict(EQUAL)),
        }
        pipeline = build_pipeline({"sizing": spec})
        assert [a.name for a in pipeline.recovery[0].agents()] == ["sizing.fallback", "sizing.fallback.fallback"]

    def test_shipped_risk_parity_preset(self) -> None:
        spec = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "agent/sizing/risk_parity.yaml"), resolve=True)
        pipeline = build_pipeline({"sizing": spec})  # type: ignore[dict-item]
        sizing, chain = pipeline.agents[0], pipeline.recovery[0].agents()
        assert [type(a) for a in (sizing, *chain)] == [RiskParitySizing, InverseVolatilitySizing, EqualWeightSizing]
        # the fallbacks take the stage's settings by interpolation
        assert (chain[0].lookback, chain[0].min_history, chain[0].gross_exposure) == (252, 63, 1.0)  # type: ignore[attr-defined]
        assert pipeline.recovery[0].fallback_recovery.fallback_recovery.on_error == "raise"  # type: ignore[union-attr]

    def test_composed_pipeline(self, composed_agent: Any) -> None:
        agent = composed_agent(["agent/sizing=risk_parity", "agent/selection=top_k", "agent/correlation=threshold",
                                "agent/risk=limits", "agent.max_gross_exposure=3"])  # fmt: skip
        pipeline = build_pipeline(agent)
        assert pipeline.stage_names == ("sizing", "selection", "correlation", "risk", "execution")
        assert [type(a) for a in pipeline.agents] == [
            RiskParitySizing, TopKSelection, CorrelationLimit, RiskLimits, ExecutionRules
        ]  # fmt: skip
        assert pipeline.max_gross_exposure == 3
        assert [a.name for a in pipeline.recovery[0].agents()] == ["sizing.fallback", "sizing.fallback.fallback"]

    def test_composed_order_override(self, composed_agent: Any) -> None:
        agent = composed_agent(["agent.order=[risk,sizing,correlation,selection,execution]"])
        assert build_pipeline(agent).stage_names == ("risk", "sizing", "correlation", "selection", "execution")
