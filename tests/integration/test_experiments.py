"""Experiment presets (``experiment=NAME``) compose over the defaults."""

from __future__ import annotations

from framework.config import CONFIG_DIR


def test_presets_are_found_through_the_experiment_group() -> None:
    names = {path.stem for path in (CONFIG_DIR / "experiment").glob("*.yaml")}
    assert {"costs", "ma_grid"} <= names


def test_costs_preset_overrides_the_broker(compose_config) -> None:
    cfg = compose_config(["experiment=costs"])
    assert (cfg.broker.cost_bps, cfg.broker.slippage_bps, cfg.broker.fractional_shares) == (5.0, 2.0, False)
    assert cfg.experiment_name == "with_costs"


def test_grid_preset_defines_the_sweep(compose_config) -> None:
    from hydra import compose

    cfg = compose(config_name="config", overrides=["experiment=ma_grid"], return_hydra_config=True)
    assert dict(cfg.hydra.sweeper.params) == {"strategy.short_window": "5,10,20", "strategy.long_window": "50,100"}
    assert cfg.experiment_name == "ma_grid"
