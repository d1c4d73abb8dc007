"""``${metric_direction:...}``: the direction a sweep moves a metric, as the hparams_search presets use it."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf
from omegaconf.errors import InterpolationResolutionError

from framework.backtest.monitoring import EXECUTION_METRIC_NAMES, PIPELINE_METRIC_NAMES
from framework.benchmark.metrics import METRIC_NAMES, RELATIVE_METRIC_NAMES
from framework.benchmark.runner import check_metric_key
from framework.config.resolvers import METRIC_DIRECTIONS, metric_direction, register_resolvers
from framework.core.errors import ConfigError


class TestMetricDirection:
    @pytest.mark.parametrize(
        "metric",
        ["val/sharpe", "test/cagr", "train/sortino", "full/calmar", "val/total_return", "val/max_drawdown",
         "val/hit_rate", "val/fill_rate", "baseline/val/sharpe", "index/test/cagr"],
    )  # fmt: skip
    def test_higher_is_better_maximizes(self, metric: str) -> None:
        assert metric_direction(metric) == "maximize"

    @pytest.mark.parametrize(
        "metric",
        ["val/volatility", "val/turnover", "test/n_trades", "val/ex_ante_volatility", "val/bars_at_limit",
         "val/slippage_bps", "val/orders_expired", "val/cost_per_share", "val/resizes_risk"],
    )  # fmt: skip
    def test_lower_is_better_minimizes(self, metric: str) -> None:
        assert metric_direction(metric) == "minimize"

    def test_every_metric_of_the_runner_has_a_decision(self) -> None:
        # A metric added to the runner must be given a direction here, or be named as one without.
        produced = set(METRIC_NAMES + RELATIVE_METRIC_NAMES + PIPELINE_METRIC_NAMES + EXECUTION_METRIC_NAMES)
        assert produced - set(METRIC_DIRECTIONS) == {"exposure", "avg_positions", "beta"}

    @pytest.mark.parametrize("name", sorted(METRIC_DIRECTIONS))
    def test_every_metric_with_a_direction_is_one_the_runner_accepts(self, name: str) -> None:
        check_metric_key(f"val/{name}")

    def test_unknown_metric_names_the_key_and_the_valid_choices(self) -> None:
        with pytest.raises(ConfigError) as error:
            metric_direction("val/sharp")
        message = str(error.value)
        assert message.startswith("optimized_metric: 'val/sharp' is not a metric")
        for valid in ("train", "val", "test", "sharpe", "volatility", "turnover"):
            assert valid in message

    def test_unknown_segment_is_an_error(self) -> None:
        with pytest.raises(ConfigError, match="'validation/sharpe' is not a metric.*segment in train, val, test"):
            metric_direction("validation/sharpe")

    def test_metric_without_a_direction_asks_for_it(self) -> None:
        with pytest.raises(ConfigError) as error:
            metric_direction("val/exposure", key="hydra.sweeper.direction")
        message = str(error.value)
        assert message.startswith("hydra.sweeper.direction: 'val/exposure' has no better direction")
        assert "maximize, minimize" in message and "sharpe" in message and "cost_<model>" in message


class TestRegistration:
    def test_importing_the_app_registers_the_resolver(self) -> None:
        import framework.app  # noqa: F401

        config = OmegaConf.create({"optimized_metric": "val/calmar", "d": "${metric_direction:${optimized_metric}}"})
        assert config.d == "maximize"
        config.optimized_metric = "test/turnover"
        assert config.d == "minimize"

    def test_registering_again_is_harmless(self) -> None:
        register_resolvers()
        register_resolvers()
        assert OmegaConf.create({"d": "${metric_direction:val/volatility}"}).d == "minimize"

    def test_an_error_surfaces_through_the_interpolation(self) -> None:
        register_resolvers()
        config = OmegaConf.create({"optimized_metric": "val/sharp", "d": "${metric_direction:${optimized_metric}}"})
        with pytest.raises(InterpolationResolutionError, match="optimized_metric: 'val/sharp' is not a metric"):
            _ = config.d
