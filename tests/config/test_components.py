import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from sklearn.tree import DecisionTreeClassifier

from framework.aggregation import Aggregator, MLAggregator, VolatilityAdjusted, WeightedAverage
from framework.app import run
from framework.config import CONFIG_DIR, Catalogue, build_component, build_portfolio, import_target
from framework.config.components import (
    DEFAULT_TARGET_PREFIXES,
    allow_config_targets,
    allow_targets,
    allowed_target_prefixes,
    check_targets,
    nested_slots,
)
from framework.core.errors import ConfigError
from framework.strategies import MACrossover, RandomForestStrategy, Strategy
from tests.config.strategies_for_tests import TRIPWIRE_CALLS, Breakout, Composite, Flexible, Holder, Window

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


ALLOWED = "allowed: framework., plugins., sklearn., skfolio. (add a package with allowed_targets=[mypkg.])"
RANDOM_FOREST = "framework.strategies.RandomForestStrategy"


def popen_under_random_forest(folder: Path) -> dict[str, Any]:
    return {
        "_target_": RANDOM_FOREST,
        "estimator": {"_target_": "subprocess.Popen", "args": ["touch", str(folder / "pwned")]},
    }


@pytest.fixture
def default_prefixes() -> None:
    """Only the default prefixes, without the ``tests.config.`` this folder's conftest allows."""
    allow_config_targets({})


@pytest.mark.usefixtures("default_prefixes")
class TestTargetPrefixes:
    """A ``_target_`` outside the allowed prefixes is refused before its module is imported."""

    def test_popen_nested_under_random_forest_creates_no_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError) as info:
            build_component(popen_under_random_forest(tmp_path), "portfolio.strategies.random_forest", Strategy)
        assert str(info.value) == (
            f"portfolio.strategies.random_forest.estimator._target_: 'subprocess.Popen' is not under an allowed "
            f"module prefix; {ALLOWED}"
        )
        assert not (tmp_path / "pwned").exists()

    def test_popen_nested_under_an_ml_aggregator_creates_no_file(self, tmp_path: Path) -> None:
        spec = {
            "_target_": "framework.aggregation.MLAggregator",
            "estimator": {"_target_": "subprocess.Popen", "args": ["touch", str(tmp_path / "pwned")]},
        }
        with pytest.raises(ConfigError, match=r"^portfolio\.aggregator\.estimator\._target_: 'subprocess\.Popen'"):
            build_component(spec, "portfolio.aggregator", Aggregator)
        assert not (tmp_path / "pwned").exists()

    def test_zen_is_not_imported(self, capsys: pytest.CaptureFixture[str]) -> None:
        imported_before = "this" in sys.modules
        with pytest.raises(ConfigError) as info:
            build_component({"_target_": "this.Zen"}, "portfolio.strategies.zen", Strategy)
        assert str(info.value) == (
            f"portfolio.strategies.zen._target_: 'this.Zen' is not under an allowed module prefix; {ALLOWED}"
        )
        assert capsys.readouterr() == ("", "")
        assert ("this" in sys.modules) == imported_before

    @pytest.mark.parametrize("target", ["os.system", "builtins.eval", "subprocess.run", "frameworkx.strategies.X"])
    def test_outside_the_prefixes(self, target: str) -> None:
        with pytest.raises(ConfigError, match=f"^agent.sizing._target_: '{target}' is not under an allowed module"):
            import_target(target, "agent.sizing")

    @pytest.mark.parametrize("target", ["framework..app.Path", "framework.strategies.MA-Crossover", 42, None])
    def test_not_a_dotted_path(self, target: object) -> None:
        with pytest.raises(ConfigError, match=r"^s\._target_: .* is not a dotted path such as package\.module\.Class"):
            build_component({"_target_": target}, "s", Strategy)

    def test_a_nested_entry_at_any_depth_is_checked_before_the_outer_class_is_imported(self) -> None:
        spec = {"_target_": "plugins.not_imported_yet.Mix", "options": {"deep": [1, {"_target_": "os.system"}]}}
        with pytest.raises(ConfigError, match=r"^s\.options\.deep\.1\._target_: 'os\.system' is not under"):
            build_component(spec, "s", Strategy)
        assert "plugins.not_imported_yet" not in sys.modules

    def test_check_targets_imports_nothing(self) -> None:
        code = (
            "import sys; from framework.config.components import check_targets\n"
            "check_targets({'a': {'_target_': 'sklearn.ensemble.RandomForestClassifier'}, "
            "'b': [{'_target_': 'plugins.breakout.Breakout'}]})\n"
            "print(sorted(m for m in ('sklearn', 'plugins', 'plugins.breakout') if m in sys.modules))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                              cwd=Path(__file__).parents[2])  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"


@pytest.mark.usefixtures("default_prefixes")
class TestTargetIsAClass:
    @pytest.mark.parametrize(
        ("target", "kind"),
        [
            ("framework.strategies.indicators.sma", "function"),
            ("framework.strategies.indicators", "module"),
            ("sklearn.set_config", "function"),
        ],
    )
    def test_functions_and_modules_are_refused(self, target: str, kind: str) -> None:
        with pytest.raises(ConfigError) as info:
            build_component({"_target_": target}, "strategy", Strategy)
        assert str(info.value) == f"strategy._target_: {target} is a {kind}, not a class; a _target_ must name a class"

    def test_a_class_re_exported_by_an_allowed_module_is_refused(self) -> None:
        with pytest.raises(ConfigError) as info:
            import_target("framework.app.Path", "data")
        assert str(info.value) == (
            "data._target_: framework.app.Path is pathlib.Path, defined outside the allowed module prefixes "
            "(framework., plugins., sklearn., skfolio.)"
        )


class TestNestedSlots:
    def test_a_sklearn_classifier_under_random_forest_still_works(self) -> None:
        spec = {
            "_target_": RANDOM_FOREST,
            "estimator": {"_target_": "sklearn.tree.DecisionTreeClassifier", "max_depth": 2},
        }
        built = build_component(spec, "portfolio.strategies.random_forest", Strategy)
        assert isinstance(built, RandomForestStrategy)
        assert isinstance(built.estimator, DecisionTreeClassifier) and built.estimator.max_depth == 2

    def test_a_class_outside_the_slot_is_never_called(self) -> None:
        TRIPWIRE_CALLS.clear()
        spec = {"_target_": RANDOM_FOREST, "estimator": {"_target_": f"{HERE}.Tripwire", "x": 1}}
        with pytest.raises(ConfigError) as info:
            build_component(spec, "portfolio.strategies.random_forest", Strategy)
        assert str(info.value) == (
            f"portfolio.strategies.random_forest.estimator._target_: {HERE}.Tripwire is not a BaseEstimator"
        )
        assert TRIPWIRE_CALLS == []

    def test_the_ml_aggregator_estimator_slot(self) -> None:
        spec = {"_target_": "framework.aggregation.MLAggregator", "estimator": {"_target_": "sklearn.utils.Bunch"}}
        with pytest.raises(
            ConfigError, match=r"^aggregator\.estimator\._target_: sklearn\.utils\.Bunch is not a BaseEstimator$"
        ):
            build_component(spec, "aggregator", Aggregator)
        assert nested_slots(MLAggregator)["estimator"][0].__name__ == "BaseEstimator"

    def test_slot_from_the_annotation(self) -> None:
        spec = {"_target_": "framework.aggregation.VolatilityAdjusted", "base": {"_target_": MA}}
        with pytest.raises(
            ConfigError, match=r"^aggregator\.base\._target_: framework\.strategies\.MACrossover is not a Aggregator$"
        ):
            build_component(spec, "aggregator", Aggregator)
        spec["base"] = {"_target_": "framework.aggregation.WeightedAverage"}
        built = build_component(spec, "aggregator", Aggregator)
        assert isinstance(built, VolatilityAdjusted) and isinstance(built.base, WeightedAverage)

    def test_slot_declared_on_the_class_and_no_slot_inside_containers(self) -> None:
        TRIPWIRE_CALLS.clear()
        with pytest.raises(ConfigError, match=r"^s\.inner\._target_: .*\.Tripwire is not a Strategy$"):
            build_component({"_target_": f"{HERE}.Holder", "inner": {"_target_": f"{HERE}.Tripwire"}}, "s", Strategy)
        assert TRIPWIRE_CALLS == []
        built = build_component(
            {"_target_": f"{HERE}.Holder", "inner": {"_target_": MA}, "extra": [{"_target_": f"{HERE}.Window"}]},
            "s",
            Strategy,
        )
        assert isinstance(built, Holder) and isinstance(built.inner, MACrossover) and isinstance(built.extra[0], Window)
        assert nested_slots(Holder) == {"inner": (Strategy,)}


@pytest.mark.usefixtures("default_prefixes")
class TestAllowedTargets:
    @pytest.fixture
    def mypkg(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        package = tmp_path / "mypkg"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "strategies.py").write_text(
            "from framework.strategies import MACrossover\n\n\nclass Mine(MACrossover):\n    pass\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        yield
        for name in ("mypkg", "mypkg.strategies"):
            sys.modules.pop(name, None)

    def test_allowed_targets_lets_a_package_through(self, mypkg: None) -> None:
        spec = {"_target_": "mypkg.strategies.Mine", "short_window": 3}
        with pytest.raises(ConfigError, match="'mypkg.strategies.Mine' is not under an allowed module prefix"):
            allow_config_targets({"portfolio": {"strategies": {"mine": spec}}})
        assert "mypkg" not in sys.modules

        prefixes = allow_config_targets({"allowed_targets": ["mypkg."], "portfolio": {"strategies": {"mine": spec}}})
        try:
            assert prefixes == (*DEFAULT_TARGET_PREFIXES, "mypkg.")
            assert allowed_target_prefixes() == prefixes
            built = build_component(spec, "portfolio.strategies.mine", Strategy)
            assert type(built).__module__ == "mypkg.strategies" and built.short_window == 3
        finally:
            allow_config_targets({})
        assert allowed_target_prefixes() == DEFAULT_TARGET_PREFIXES

    def test_allow_targets_block(self, mypkg: None) -> None:
        with allow_targets(["mypkg"]):
            assert import_target("mypkg.strategies.Mine", "s").__name__ == "Mine"
        with pytest.raises(ConfigError, match="not under an allowed module prefix"):
            import_target("mypkg.strategies.Mine", "s")

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("mypkg.", r"^allowed_targets: must be a list of module prefixes such as \[mypkg\.\], got 'mypkg\.'$"),
            ([""], r"^allowed_targets\.0: must be a module prefix such as mypkg\."),
            (["mypkg.", "."], r"^allowed_targets\.1: must be a module prefix"),
            (["my-pkg."], r"^allowed_targets\.0: .*got 'my-pkg\.'$"),
            ([3], r"^allowed_targets\.0: .*got 3$"),
        ],
    )
    def test_bad_allowed_targets(self, value: object, message: str) -> None:
        with pytest.raises(ConfigError, match=message):
            allow_config_targets({"allowed_targets": value})

    def test_check_targets_with_explicit_prefixes(self) -> None:
        check_targets({"x": {"_target_": "mypkg.A"}}, "", ["mypkg."])
        with pytest.raises(
            ConfigError, match=r"^x\._target_: 'framework\.A' is not under an allowed module prefix; allowed: mypkg\. "
        ):
            check_targets({"x": {"_target_": "framework.A"}}, "", ["mypkg."])


SYNTHETIC = ["data=synthetic", "data.n_tickers=3", "data.n_days=300", "tracking=none"]


@pytest.fixture
def composed() -> Iterator[Any]:
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        yield lambda overrides: compose(config_name="config", overrides=[*SYNTHETIC, *overrides])


class TestRunChecksTargetsFirst:
    """``framework.app.run`` refuses a bad ``_target_`` of the composed config before building anything."""

    def test_popen_under_random_forest(self, composed: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        cfg = composed([
            "~portfolio.strategies.main",
            "+portfolio.strategies.random_forest={estimator:{_target_:subprocess.Popen,args:[touch,pwned]}}",
        ])  # fmt: skip
        message = r"^portfolio\.strategies\.random_forest\.estimator\._target_: 'subprocess\.Popen' is not under"
        with pytest.raises(ConfigError, match=message):
            run(cfg, tmp_path / "out")
        assert not (tmp_path / "pwned").exists()
        assert not (tmp_path / "out").exists()

    def test_popen_under_an_ml_aggregator(self, composed: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        cfg = composed(
            ["portfolio.aggregator={name:ml_based,estimator:{_target_:subprocess.Popen,args:[touch,pwned]}}"]
        )
        with pytest.raises(ConfigError, match=r"^portfolio\.aggregator\.estimator\._target_: 'subprocess\.Popen'"):
            run(cfg, tmp_path / "out")
        assert not (tmp_path / "pwned").exists()

    def test_zen_prints_nothing(self, composed: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        imported_before = "this" in sys.modules
        cfg = composed(["+portfolio.strategies.zen={_target_:this.Zen}"])
        with pytest.raises(ConfigError, match=r"^portfolio\.strategies\.zen\._target_: 'this\.Zen' is not under"):
            run(cfg, tmp_path / "out")
        assert capsys.readouterr() == ("", "")
        assert ("this" in sys.modules) == imported_before

    def test_a_plugin_package_through_allowed_targets(
        self, composed: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        (tmp_path / "labpkg").mkdir()
        (tmp_path / "labpkg" / "__init__.py").write_text(
            "from framework.strategies import MACrossover\n\n\nclass Slow(MACrossover):\n    pass\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        entry = ["~portfolio.strategies.main", "+portfolio.strategies.slow={_target_:labpkg.Slow,short_window:5}"]
        with pytest.raises(ConfigError, match=r"^portfolio\.strategies\.slow\._target_: 'labpkg\.Slow' is not under"):
            run(composed(entry), tmp_path / "refused")
        try:
            value = run(composed([*entry, "allowed_targets=[labpkg.]"]), tmp_path / "out")
        finally:
            allow_config_targets({})
            sys.modules.pop("labpkg", None)
        assert (tmp_path / "out" / "metrics.json").is_file() and isinstance(value, float)

    def test_a_group_file_is_checked_when_it_is_built(self, tmp_path: Path) -> None:
        # Group files are read by the portfolio at build time, after the pre-pass: build_component checks them.
        (tmp_path / "strategy").mkdir()
        (tmp_path / "strategy" / "shell.yaml").write_text(
            f"_target_: {RANDOM_FOREST}\nestimator:\n  _target_: os.system\n  command: touch {tmp_path}/pwned\n"
        )
        with pytest.raises(ConfigError, match=r"^portfolio\.strategies\.shell\.estimator\._target_: 'os\.system'"):
            build_portfolio(
                {"tickers": ["A"], "strategies": {"shell": 1.0}}, ["A"],
                default_aggregator={"_target_": "framework.aggregation.WeightedAverage"},
                strategies=Catalogue("strategy", [tmp_path]),
            )  # fmt: skip
        assert not (tmp_path / "pwned").exists()
