from pathlib import Path

import numpy as np
import pytest

from framework.aggregation import WeightedAverage
from framework.config import CONFIG_DIR, Catalogue, build_portfolio, resolve_entry
from framework.core.errors import ConfigError, DataError
from framework.core.market_data import MarketData
from framework.strategies import MACrossover
from tests.config.strategies_for_tests import Breakout

AVAILABLE = ["A", "B", "C", "D"]
WEIGHTED_AVERAGE = {"_target_": "framework.aggregation.WeightedAverage"}


@pytest.fixture(scope="module")
def strategies(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    """A group of two options: a copy of the real ma_crossover and a second strategy class, breakout."""
    root = tmp_path_factory.mktemp("conf")
    (root / "strategy").mkdir()
    (root / "strategy" / "ma_crossover.yaml").write_text((CONFIG_DIR / "strategy" / "ma_crossover.yaml").read_text())
    (root / "strategy" / "breakout.yaml").write_text(
        "_target_: tests.config.strategies_for_tests.Breakout\nlookback: 20\n"
    )
    return Catalogue("strategy", [root])


def build(config: dict, strategies: Catalogue | None = None, available: list[str] = AVAILABLE, **kwargs):
    return build_portfolio(config, available, default_aggregator=WEIGHTED_AVERAGE, strategies=strategies, **kwargs)


def summary(portfolio) -> list[tuple]:
    """(tickers, [(label, class, params, weight)...], aggregator params) per sleeve."""
    return [
        (
            sleeve.tickers,
            [(s.label, type(s.strategy).__name__, s.strategy.get_params(), s.weight) for s in sleeve.strategies],
            sleeve.aggregator.get_params(),
        )
        for sleeve in portfolio.sleeves
    ]


MA_DEFAULT = {"short_window": 10, "long_window": 50, "tie_tolerance": 1e-9}
AGG_DEFAULT = {"confidence_weighted": False, "labels": None, "output": "signal"}


class TestCatalogue:
    def test_names_and_get(self, strategies: Catalogue) -> None:
        assert strategies.names() == ["breakout", "ma_crossover"]
        assert strategies.get("breakout", "k") == {
            "_target_": "tests.config.strategies_for_tests.Breakout",
            "lookback": 20,
        }
        assert strategies.get("ma_crossover", "k")["_target_"] == "framework.strategies.MACrossover"

    def test_get_returns_a_copy(self, strategies: Catalogue) -> None:
        strategies.get("breakout", "k")["lookback"] = 99
        assert strategies.get("breakout", "k")["lookback"] == 20

    def test_unknown_name_lists_options(self, strategies: Catalogue) -> None:
        with pytest.raises(ConfigError) as info:
            strategies.get("rsi", "portfolio.strategies.rsi")
        assert str(info.value) == (
            "portfolio.strategies.rsi: 'rsi' is not in the strategy group; options: breakout, ma_crossover"
        )

    def test_first_config_dir_wins_and_defaults_are_dropped(self, tmp_path: Path) -> None:
        (tmp_path / "strategy").mkdir()
        (tmp_path / "strategy" / "ma_crossover.yaml").write_text(
            "defaults:\n  - _self_\n_target_: framework.strategies.MACrossover\nshort_window: 3\n"
        )
        catalogue = Catalogue("strategy", [tmp_path, CONFIG_DIR])
        assert catalogue.get("ma_crossover", "k") == {"_target_": "framework.strategies.MACrossover", "short_window": 3}

    def test_a_file_that_is_not_a_mapping(self, tmp_path: Path) -> None:
        (tmp_path / "strategy").mkdir()
        (tmp_path / "strategy" / "odd.yaml").write_text("- 1\n- 2\n")
        with pytest.raises(ConfigError, match="odd.yaml: expected a mapping"):
            Catalogue("strategy", [tmp_path]).get("odd", "k")


class TestResolveEntry:
    def test_forms_of_an_entry(self, strategies: Catalogue) -> None:
        assert resolve_entry("ma_crossover", None, "k", strategies) is None
        spec, weight = resolve_entry("ma_crossover", 0.25, "k", strategies)
        assert (spec["short_window"], weight) == (10, 0.25)
        spec, weight = resolve_entry("fast", "ma_crossover", "k", strategies)
        assert (spec["_target_"], weight) == ("framework.strategies.MACrossover", 1.0)
        spec, weight = resolve_entry("fast", {"strategy": "breakout", "lookback": 3, "weight": 2}, "k", strategies)
        assert spec == {"_target_": "tests.config.strategies_for_tests.Breakout", "lookback": 3} and weight == 2.0
        spec, weight = resolve_entry("mine", {"_target_": "x.Y", "a": 1, "weight": 0}, "k", strategies)
        assert spec == {"_target_": "x.Y", "a": 1} and weight == 0.0

    def test_resolver_applies_to_group_files(self, strategies: Catalogue) -> None:
        spec, _ = resolve_entry(
            "ma_crossover", {"long_window": 30}, "k", strategies, resolve=lambda content: {**content, "short_window": 7}
        )
        assert (spec["short_window"], spec["long_window"]) == (7, 30)

    @pytest.mark.parametrize("entry", [True, [1, 2], 3 + 0j])
    def test_bad_entry(self, strategies: Catalogue, entry: object) -> None:
        with pytest.raises(ConfigError, match=r"^p\.s\.x: expected a weight, a name in the strategy group"):
            resolve_entry("x", entry, "p.s.x", strategies)


class TestBuildPortfolio:
    def test_tickers_all_one_sleeve(self) -> None:
        portfolio = build({"name": "demo", "tickers": "all", "strategies": {"ma_crossover": {"short_window": 5}}})
        assert portfolio.name == "demo"
        assert portfolio.tickers == tuple(AVAILABLE)
        assert summary(portfolio) == [
            (tuple(AVAILABLE), [("ma_crossover", "MACrossover", {**MA_DEFAULT, "short_window": 5}, 1.0)], AGG_DEFAULT)
        ]

    def test_tickers_default_to_all(self) -> None:
        portfolio = build({"strategies": {"ma_crossover": 1}})
        assert portfolio.tickers == tuple(AVAILABLE) and portfolio.name == "portfolio"

    def test_tickers_list_keeps_its_order(self) -> None:
        assert build({"tickers": ["C", "A"], "strategies": {"ma_crossover": 1}}).tickers == ("C", "A")
        assert build({"tickers": "B", "strategies": {"ma_crossover": 1}}).tickers == ("B",)

    def test_unknown_ticker_lists_available(self) -> None:
        with pytest.raises(DataError) as info:
            build({"tickers": ["A", "ZZ", "YY"], "strategies": {"ma_crossover": 1}})
        assert str(info.value) == "portfolio.tickers: not in the data: ZZ, YY; available: A, B, C, D"

    def test_duplicate_tickers(self) -> None:
        with pytest.raises(ConfigError) as info:
            build({"tickers": ["B", "A", "B", "C", "A"], "strategies": {"ma_crossover": 1}})
        assert str(info.value) == "portfolio.tickers: listed more than once: A, B"

    @pytest.mark.parametrize("tickers", [[], 5, {"A": 1}])
    def test_bad_tickers_value(self, tickers: object) -> None:
        with pytest.raises(ConfigError, match=r"^portfolio\.tickers: expected 'all' or a non-empty list"):
            build({"tickers": tickers, "strategies": {"ma_crossover": 1}})

    def test_overrides_merge_by_label_and_null_removes(self, strategies: Catalogue) -> None:
        config = {
            "strategies": {"ma_crossover": {"short_window": 5, "weight": 2}, "breakout": {"lookback": 10}},
            "overrides": {
                "B": {"strategies": {"ma_crossover": {"long_window": 30}}},
                "C": {"strategies": {"breakout": None}},
            },
        }
        ma = {**MA_DEFAULT, "short_window": 5}
        assert summary(build(config, strategies)) == [
            (
                ("A", "D"),
                [("ma_crossover", "MACrossover", ma, 2.0), ("breakout", "Breakout", {"lookback": 10}, 1.0)],
                AGG_DEFAULT,
            ),
            (
                ("B",),
                [
                    ("ma_crossover", "MACrossover", {**ma, "long_window": 30}, 2.0),
                    ("breakout", "Breakout", {"lookback": 10}, 1.0),
                ],
                AGG_DEFAULT,
            ),
            (("C",), [("ma_crossover", "MACrossover", ma, 2.0)], AGG_DEFAULT),
        ]

    def test_override_can_add_a_strategy(self, strategies: Catalogue) -> None:
        config = {"strategies": {"ma_crossover": 1}, "overrides": {"D": {"strategies": {"breakout": 0.5}}}}
        sleeves = summary(build(config, strategies))
        assert [s[0] for s in sleeves] == [("A", "B", "C"), ("D",)]
        assert sleeves[1][1] == [
            ("ma_crossover", "MACrossover", MA_DEFAULT, 1.0),
            ("breakout", "Breakout", {"lookback": 20}, 0.5),
        ]

    def test_sleeves_group_identical_tickers(self) -> None:
        config = {
            "strategies": {"ma_crossover": {"short_window": 5}},
            "overrides": {
                "B": {"strategies": {"ma_crossover": {"short_window": 5}}},  # same as the default
                "C": {"strategies": {"ma_crossover": {"short_window": 6}}},
                "D": {"strategies": {"ma_crossover": {"short_window": 6}}},
            },
        }
        assert [sleeve.tickers for sleeve in build(config).sleeves] == [("A", "B"), ("C", "D")]

    def test_sleeves_get_their_own_objects(self) -> None:
        portfolio = build({"strategies": {"ma_crossover": 1}, "overrides": {"B": {"strategies": {"ma_crossover": 2}}}})
        first, second = portfolio.sleeves
        assert first.strategies[0].strategy is not second.strategies[0].strategy
        assert first.aggregator is not second.aggregator

    def test_aggregators(self) -> None:
        config = {
            "strategies": {"ma_crossover": 1},
            "aggregator": {"name": "weighted_average", "output": "probability"},
            "overrides": {"C": {"aggregator": {"name": "weighted_average", "confidence_weighted": True}}},
        }
        sleeves = summary(build(config))
        assert [(s[0], s[2]) for s in sleeves] == [
            (("A", "B", "D"), {**AGG_DEFAULT, "output": "probability"}),
            (("C",), {**AGG_DEFAULT, "confidence_weighted": True}),
        ]
        assert all(isinstance(s.aggregator, WeightedAverage) for s in build(config).sleeves)
        named = build({"strategies": {"ma_crossover": 1}, "aggregator": "weighted_average"})
        assert summary(named)[0][2] == AGG_DEFAULT

    def test_aggregator_mapping_without_name(self) -> None:
        with pytest.raises(ConfigError, match=r"^portfolio\.aggregator: name the aggregator"):
            build({"strategies": {"ma_crossover": 1}, "aggregator": {"output": "probability"}})

    def test_unknown_aggregator_lists_options(self) -> None:
        with pytest.raises(ConfigError) as info:
            build({"strategies": {"ma_crossover": 1}, "overrides": {"B": {"aggregator": "no_such_aggregator"}}})
        options = ", ".join(Catalogue("aggregator").names())
        assert "weighted_average" in options
        assert str(info.value) == (
            f"portfolio.overrides.B.aggregator: 'no_such_aggregator' is not in the aggregator group; options: {options}"
        )

    def test_two_entries_of_one_class_on_a_ticker(self, strategies: Catalogue) -> None:
        config = {
            "strategies": {
                "fast": {"strategy": "ma_crossover", "short_window": 5},
                "slow": {"strategy": "ma_crossover", "short_window": 20},
            }
        }
        with pytest.raises(ConfigError) as info:
            build(config, strategies)
        assert str(info.value).startswith("portfolio.strategies: 'fast' and 'slow' are both MACrossover on ticker 'A'")

    def test_two_entries_of_one_class_through_an_override(self, strategies: Catalogue) -> None:
        config = {
            "strategies": {"breakout": 1, "ma_crossover": 1},
            "overrides": {"C": {"strategies": {"bo2": {"_target_": "tests.config.strategies_for_tests.Breakout"}}}},
        }
        with pytest.raises(ConfigError) as info:
            build(config, strategies)
        assert str(info.value).startswith(
            "portfolio.overrides.C.strategies: 'breakout' and 'bo2' are both Breakout on ticker 'C'"
        )

    def test_unknown_strategy_lists_the_group(self, strategies: Catalogue) -> None:
        with pytest.raises(ConfigError) as info:
            build({"strategies": {"rsi": {"window": 14}}}, strategies)
        assert str(info.value) == (
            "portfolio.strategies.rsi: 'rsi' is not in the strategy group; options: breakout, ma_crossover"
        )
        with pytest.raises(ConfigError) as info:
            build({"strategies": {"main": {"strategy": "no_such_strategy"}}})
        options = ", ".join(Catalogue("strategy").names())
        assert "ma_crossover" in options
        assert str(info.value) == (
            f"portfolio.strategies.main: 'no_such_strategy' is not in the strategy group; options: {options}"
        )

    @pytest.mark.parametrize(
        "entry",
        [-1, -0.5, {"weight": -2}, {"weight": "high"}, {"weight": None}, float("inf"), {"weight": float("nan")}],
    )
    def test_negative_or_bad_weight(self, entry: object) -> None:
        with pytest.raises(
            ConfigError, match=r"^portfolio\.strategies\.ma_crossover\.weight: must be a finite number >= 0"
        ):
            build({"strategies": {"ma_crossover": entry}})

    def test_weight_as_a_bare_number(self, strategies: Catalogue) -> None:
        portfolio = build({"strategies": {"ma_crossover": 0.25, "breakout": 0.75}}, strategies)
        assert summary(portfolio)[0][1] == [
            ("ma_crossover", "MACrossover", MA_DEFAULT, 0.25),
            ("breakout", "Breakout", {"lookback": 20}, 0.75),
        ]

    def test_bare_weight_then_override_params_keeps_the_weight(self) -> None:
        config = {
            "strategies": {"ma_crossover": 3},
            "overrides": {"B": {"strategies": {"ma_crossover": {"short_window": 4}}}},
        }
        assert summary(build(config))[1][1] == [("ma_crossover", "MACrossover", {**MA_DEFAULT, "short_window": 4}, 3.0)]

    def test_unknown_portfolio_key_lists_allowed(self) -> None:
        with pytest.raises(ConfigError) as info:
            build({"tickerz": "all", "strategies": {"ma_crossover": 1}})
        message = str(info.value)
        assert message.startswith("portfolio.tickerz: unknown key; allowed keys: name, tickers, strategies, ")
        allowed = message.split("allowed keys: ")[1].split(", ")
        assert {"name", "tickers", "strategies", "aggregator", "overrides"} <= set(allowed)

    def test_unknown_override_key_lists_allowed(self) -> None:
        with pytest.raises(ConfigError) as info:
            build({"strategies": {"ma_crossover": 1}, "overrides": {"B": {"strategy": {"ma_crossover": 2}}}})
        assert str(info.value) == "portfolio.overrides.B.strategy: unknown key; allowed keys: strategies, aggregator"

    def test_override_of_a_ticker_outside_the_portfolio(self) -> None:
        with pytest.raises(ConfigError, match=r"^portfolio\.overrides: D not among the portfolio's tickers \(A, B\)"):
            build({"tickers": ["A", "B"], "strategies": {"ma_crossover": 1}, "overrides": {"D": {}}})

    @pytest.mark.parametrize("strategies_value", [None, {}, ["ma_crossover"]])
    def test_needs_strategies(self, strategies_value: object) -> None:
        with pytest.raises(ConfigError, match=r"^portfolio\.strategies: needs at least one strategy"):
            build({"strategies": strategies_value})

    def test_ticker_left_without_strategy(self) -> None:
        with pytest.raises(ConfigError) as info:
            build({"strategies": {"ma_crossover": 1}, "overrides": {"B": {"strategies": {"ma_crossover": None}}}})
        assert str(info.value) == "portfolio.overrides.B.strategies: ticker 'B' is left with no strategy"

    def test_weights_summing_to_zero(self, strategies: Catalogue) -> None:
        with pytest.raises(ConfigError, match=r"^portfolio\.strategies: the weights sum to 0"):
            build({"strategies": {"ma_crossover": 0, "breakout": 0.0}}, strategies)

    def test_constructor_errors_name_the_entry(self) -> None:
        with pytest.raises(ConfigError) as info:
            build({"strategies": {"ma_crossover": {"short_window": -1}}})
        assert str(info.value) == "portfolio.strategies.ma_crossover.short_window: must be a positive integer, got -1"
        with pytest.raises(
            ConfigError,
            match=r"^portfolio\.overrides\.B\.strategies\.ma_crossover\.short_windw: "
            r"unknown parameter of MACrossover; known: short_window",
        ):
            build(
                {
                    "strategies": {"ma_crossover": 1},
                    "overrides": {"B": {"strategies": {"ma_crossover": {"short_windw": 3}}}},
                }
            )

    def test_error_in_the_defaults_is_reported_at_the_defaults(self) -> None:
        config = {
            "strategies": {"ma_crossover": {"short_window": -1}},
            "overrides": {"B": {"strategies": {"ma_crossover": {"long_window": 30}}}},
        }
        with pytest.raises(ConfigError) as info:
            build(config)
        assert str(info.value).startswith("portfolio.strategies.ma_crossover.short_window:")

    def test_bare_weight_override_keeps_the_default_params(self) -> None:
        config = {
            "strategies": {"ma_crossover": {"short_window": 5}},
            "overrides": {"B": {"strategies": {"ma_crossover": 2}}},
        }
        sleeves = summary(build(config))
        assert sleeves[1][1] == [("ma_crossover", "MACrossover", {**MA_DEFAULT, "short_window": 5}, 2.0)]

    def test_params_override_of_a_named_default(self) -> None:
        config = {
            "strategies": {"fast": "ma_crossover"},
            "overrides": {"B": {"strategies": {"fast": {"short_window": 3}}}},
        }
        sleeves = summary(build(config))
        assert sleeves[1][1] == [("fast", "MACrossover", {**MA_DEFAULT, "short_window": 3}, 1.0)]

    def test_built_portfolio_generates_the_strategies_signals(self, strategies: Catalogue) -> None:
        rng = np.random.default_rng(2)
        close = 20.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, (80, 4)), axis=0)
        data = MarketData(np.datetime64("2024-01-01", "D") + np.arange(80), tuple(AVAILABLE), close)
        config = {
            "tickers": ["D", "B", "A"],
            "strategies": {"ma_crossover": {"short_window": 3, "long_window": 12}},
            "overrides": {"B": {"strategies": {"ma_crossover": None, "breakout": {"lookback": 5}}}},
        }
        signal = build(config, strategies).generate(data).signal
        ma = MACrossover(short_window=3, long_window=12).generate(data).signal
        breakout = Breakout(lookback=5).generate(data).signal
        np.testing.assert_array_equal(signal[:, [0, 3]], ma[:, [0, 3]])
        np.testing.assert_array_equal(signal[:, 1], breakout[:, 1])
        assert np.isnan(signal[:, 2]).all()  # C is not in the portfolio
