import pytest

from framework.aggregation import Aggregator, WeightedAverage
from framework.config import build_component, import_target
from framework.core.errors import ConfigError
from framework.strategies import MACrossover, Strategy
from tests.config.strategies_for_tests import Breakout, Composite, Flexible, Window

MA = "framework.strategies.MACrossover"
HERE = "tests.config.strategies_for_tests"


class TestImportTarget:
    def test_imports_the_class(self) -> None:
        assert import_target(MA, "strategy") is MACrossover
        assert import_target(f"{HERE}.Breakout", "strategy") is Breakout

    def test_not_dotted(self) -> None:
        with pytest.raises(ConfigError) as info:
            import_target("MACrossover", "portfolio.strategies.main")
        assert str(info.value) == (
            "portfolio.strategies.main._target_: 'MACrossover' is not a dotted path such as package.module.Class"
        )

    def test_bad_module(self) -> None:
        with pytest.raises(ConfigError, match=r"^agent\.sizing\._target_: cannot import module 'framework\.nope'"):
            import_target("framework.nope.Sizing", "agent.sizing")

    def test_bad_class(self) -> None:
        with pytest.raises(ConfigError) as info:
            import_target("framework.strategies.NoSuchStrategy", "strategy")
        assert str(info.value) == "strategy._target_: module 'framework.strategies' has no 'NoSuchStrategy'"


class TestBuildComponent:
    def test_builds_with_params_and_defaults(self) -> None:
        strategy = build_component({"_target_": MA, "short_window": 5, "tie_tolerance": 0.0}, "s", Strategy)
        assert isinstance(strategy, MACrossover)
        assert strategy.get_params() == {"short_window": 5, "long_window": 50, "tie_tolerance": 0.0}

    def test_does_not_modify_the_spec(self) -> None:
        spec = {"_target_": f"{HERE}.Composite", "inner": {"_target_": MA, "short_window": 3}}
        build_component(spec, "s", Strategy)
        assert spec == {"_target_": f"{HERE}.Composite", "inner": {"_target_": MA, "short_window": 3}}

    def test_a_test_module_class(self) -> None:
        strategy = build_component({"_target_": f"{HERE}.Breakout", "lookback": 7}, "s", Strategy)
        assert isinstance(strategy, Breakout) and strategy.lookback == 7

    def test_nested_targets_are_built(self) -> None:
        spec = {
            "_target_": f"{HERE}.Composite",
            "inner": {"_target_": MA, "short_window": 3, "long_window": 9},
            "windows": [{"_target_": f"{HERE}.Window", "size": 4}, 5, {"plain": 1}],
            "options": {"deep": {"_target_": f"{HERE}.Window"}, "n": 2},
        }
        built = build_component(spec, "portfolio.strategies.mix", Strategy)
        assert isinstance(built, Composite)
        assert isinstance(built.inner, MACrossover) and (built.inner.short_window, built.inner.long_window) == (3, 9)
        assert isinstance(built.windows[0], Window) and built.windows[0].size == 4
        assert built.windows[1:] == [5, {"plain": 1}]
        assert isinstance(built.options["deep"], Window) and built.options["deep"].size == 3
        assert built.options["n"] == 2

    def test_nested_false_leaves_mappings(self) -> None:
        spec = {"_target_": f"{HERE}.Composite", "inner": {"_target_": MA}}
        built = build_component(spec, "s", Strategy, nested=False)
        assert built.inner == {"_target_": MA}

    def test_nested_errors_name_the_nested_key(self) -> None:
        spec = {"_target_": f"{HERE}.Composite", "windows": [1, {"_target_": MA, "short_windw": 3}]}
        with pytest.raises(ConfigError, match=r"^portfolio\.strategies\.mix\.windows\.1\.short_windw: unknown"):
            build_component(spec, "portfolio.strategies.mix", Strategy)
        spec = {"_target_": f"{HERE}.Composite", "inner": {"_target_": MA, "short_window": 0}}
        with pytest.raises(ConfigError) as info:
            build_component(spec, "portfolio.strategies.mix", Strategy)
        assert str(info.value) == "portfolio.strategies.mix.inner.short_window: must be a positive integer, got 0"

    def test_unknown_parameter_lists_the_known_ones(self) -> None:
        with pytest.raises(ConfigError) as info:
            build_component({"_target_": MA, "short_windw": 5}, "portfolio.strategies.main", Strategy)
        assert str(info.value) == (
            "portfolio.strategies.main.short_windw: unknown parameter of MACrossover; "
            "known: short_window, long_window, tie_tolerance"
        )

    def test_class_with_var_keywords_accepts_any_key(self) -> None:
        built = build_component({"_target_": f"{HERE}.Flexible", "anything": 1}, "s", Strategy)
        assert isinstance(built, Flexible) and built.options == {"anything": 1}

    @pytest.mark.parametrize("spec", [{"short_window": 5}, "ma_crossover", None, [MA]])
    def test_missing_target(self, spec: object) -> None:
        with pytest.raises(ConfigError, match=r"^strategy: expected a mapping with a '_target_' entry"):
            build_component(spec, "strategy", Strategy)  # type: ignore[arg-type]

    def test_bad_module_and_class(self) -> None:
        with pytest.raises(ConfigError, match=r"^strategy\._target_: cannot import module 'plugins\.missing'"):
            build_component({"_target_": "plugins.missing.Breakout"}, "strategy", Strategy)
        with pytest.raises(
            ConfigError, match=r"^strategy\._target_: module 'framework\.strategies' has no 'NoSuchStrategy'"
        ):
            build_component({"_target_": "framework.strategies.NoSuchStrategy"}, "strategy", Strategy)

    @pytest.mark.parametrize(
        ("target", "base"),
        [
            ("framework.aggregation.WeightedAverage", Strategy),
            (MA, Aggregator),
            ("framework.strategies.indicators.sma", Strategy),  # a function, not a class
            (f"{HERE}.Window", Strategy),
        ],
    )
    def test_wrong_base_class(self, target: str, base: type) -> None:
        with pytest.raises(ConfigError) as info:
            build_component({"_target_": target}, "aggregator", base)
        assert str(info.value) == f"aggregator._target_: {target} is not a {base.__name__}"

    def test_right_base_class(self) -> None:
        built = build_component({"_target_": "framework.aggregation.WeightedAverage"}, "aggregator", Aggregator)
        assert isinstance(built, WeightedAverage)

    def test_constructor_config_error_gets_the_key(self) -> None:
        with pytest.raises(ConfigError) as info:
            build_component({"_target_": MA, "short_window": -3}, "portfolio.strategies.main", Strategy)
        assert str(info.value) == "portfolio.strategies.main.short_window: must be a positive integer, got -3"
        with pytest.raises(ConfigError) as info:
            build_component(
                {"_target_": f"{HERE}.Breakout", "lookback": 0}, "portfolio.overrides.B.strategies.bo", Strategy
            )
        assert str(info.value) == "portfolio.overrides.B.strategies.bo.lookback: must be a positive integer, got 0"

    def test_message_already_naming_the_key_is_not_doubled(self) -> None:
        with pytest.raises(ConfigError) as info:
            build_component({"_target_": "framework.execution.SimulatedBroker", "cost_bps": -1}, "broker", object)
        assert str(info.value) == "broker.cost_bps: must be a number >= 0, got -1"

    def test_key_that_is_a_prefix_of_the_message_is_still_added(self) -> None:
        with pytest.raises(ConfigError) as info:
            build_component({"_target_": MA, "short_window": -3}, "s", Strategy)
        assert str(info.value) == "s.short_window: must be a positive integer, got -3"

    def test_type_and_value_errors_become_config_errors(self) -> None:
        with pytest.raises(ConfigError) as info:
            build_component({"_target_": f"{HERE}.Strict", "level": 11}, "portfolio.strategies.x", Strategy)
        assert str(info.value) == "portfolio.strategies.x: Strict rejected its parameters: level too high: 11"
        with pytest.raises(ConfigError, match=r"^strategy: Strict rejected its parameters: "):
            build_component({"_target_": f"{HERE}.Strict", "level": "high"}, "strategy", Strategy)
