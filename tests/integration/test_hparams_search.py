"""The ``hparams_search`` presets: Optuna sweeps run by ``python -m framework -m``, tracked in MLflow.

Needs the Optuna sweeper (``pip install -e ".[optuna]"``, also in ``dev``); skipped where it is not installed, except
in CI (``CI`` set), which installs ``dev`` and so must run them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hydra import compose, initialize_config_dir
from mlflow import MlflowClient
from mlflow.entities import Run
from omegaconf import DictConfig, OmegaConf

from framework.config import CONFIG_DIR
from tests.integration.test_cli import SHORT, run_cli

if os.environ.get("CI"):  # CI installs the dev extra, which has the sweeper: there its absence is a failure
    import hydra_plugins.hydra_optuna_sweeper  # noqa: F401
else:
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="the Optuna sweeper: pip install -e '.[optuna]'")
import framework.app  # noqa: E402, F401  registers ${metric_direction:...}

PRESETS = sorted(path.stem for path in (CONFIG_DIR / "hparams_search").glob("*.yaml"))
# The MA crossover's windows, as the ma_crossover preset searches them in the default portfolio.
WINDOWS = ("strategy.short_window", "strategy.long_window")
MISSING = object()


@pytest.fixture
def compose_with_hydra() -> Iterator[Any]:
    """Compose the project's config with its ``hydra`` node (the sweeper's settings)."""
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):

        def _compose(overrides: list[str]) -> DictConfig:
            return compose(config_name="config", overrides=overrides, return_hydra_config=True)

        yield _compose


class TestPresets:
    def test_the_three_presets_exist(self) -> None:
        assert {"ma_crossover", "multi_strategy", "risk_managed"} <= set(PRESETS)

    @pytest.mark.parametrize("preset", PRESETS)
    def test_every_searched_key_exists_in_the_config_it_composes(self, compose_with_hydra: Any, preset: str) -> None:
        cfg = compose_with_hydra([f"hparams_search={preset}"])
        params = cfg.hydra.sweeper.params
        assert params, f"{preset}: no search space"
        for key in params:
            # A key missing from the config would need a '+' and would fail every trial: each one must exist.
            assert OmegaConf.select(cfg, key, default=MISSING) is not MISSING, f"{preset}: {key} is not in the config"
        assert cfg.hydra.sweeper.direction in ("maximize", "minimize")
        assert cfg.hydra.sweeper.storage is None  # optuna 2 cannot open a SQLite study with SQLAlchemy 2

    @pytest.mark.parametrize(
        ("overrides", "direction"),
        [
            (["hparams_search=ma_crossover"], "maximize"),  # val/sharpe
            (["hparams_search=risk_managed"], "maximize"),  # val/calmar
            (["hparams_search=ma_crossover", "optimized_metric=val/volatility"], "minimize"),
            (["hparams_search=multi_strategy", "optimized_metric=test/turnover"], "minimize"),
            (["hparams_search=ma_crossover", "optimized_metric=val/max_drawdown"], "maximize"),
            (["hparams_search=ma_crossover", "optimized_metric=val/exposure", "hydra.sweeper.direction=minimize"],
             "minimize"),
        ],
    )  # fmt: skip
    def test_the_direction_follows_the_metric(
        self, compose_with_hydra: Any, overrides: list[str], direction: str
    ) -> None:
        assert compose_with_hydra(overrides).hydra.sweeper.direction == direction

    def test_the_sampler_is_seeded_by_the_seed(self, compose_with_hydra: Any) -> None:
        cfg = compose_with_hydra(["hparams_search=ma_crossover", "seed=7"])
        assert cfg.hydra.sweeper.sampler.seed == 7

    def test_the_presets_select_what_they_search(self, compose_with_hydra: Any) -> None:
        assert compose_with_hydra(["hparams_search=multi_strategy"]).portfolio.name == "multi_strategy"
        agent = compose_with_hydra(["hparams_search=risk_managed"]).agent
        assert agent.sizing._target_.endswith("RiskParitySizing") and agent.risk._target_.endswith("RiskLimits")


def _sweep(tmp: Path, uri: str, name: str, *extra: str) -> None:
    """Run a 3-trial Optuna sweep of the MA crossover's windows into ``multirun/<name>``, experiment ``name``."""
    done = run_cli(
        ["-m", "hparams_search=ma_crossover", "hydra.sweeper.n_trials=3", *SHORT, f"experiment_name={name}",
         "outputs.plot=false", "outputs.level=summary", f"hydra.sweep.dir=multirun/{name}", *extra],
        tmp, {"MLFLOW_TRACKING_URI": uri},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Run]]:
    """The same sweep command twice: ``first`` tracked in MLflow (its runs, parent first, then the trials in
    order), ``second`` untracked (its trials' files only), to check that the seed fixes the trials."""
    tmp = tmp_path_factory.mktemp("optuna")
    uri = f"sqlite:///{tmp}/mlflow.db"
    _sweep(tmp, uri, "first")
    _sweep(tmp, uri, "second", "tracking=none")
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("first").experiment_id])
    parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    children = [run for run in runs if "mlflow.parentRunId" in run.data.tags]
    return tmp, parents + sorted(children, key=lambda run: int(Path(run.data.tags["output_dir"]).name))


def _windows(children: list[Run]) -> list[tuple[int, ...]]:
    return [tuple(int(run.data.params[key]) for key in WINDOWS) for run in children]


class TestOptunaSweep:
    def test_trials_are_finished_child_runs_of_one_finished_parent(self, sweeps: Any) -> None:
        _, runs = sweeps
        parent, children = runs[0], runs[1:]
        assert "mlflow.parentRunId" not in parent.data.tags and len(children) == 3
        assert {run.data.tags["mlflow.parentRunId"] for run in children} == {parent.info.run_id}
        assert {run.info.status for run in runs} == {"FINISHED"}
        assert {run.data.tags["choice.hparams_search"] for run in children} == {"ma_crossover"}

    def test_trials_sample_the_search_space(self, sweeps: Any) -> None:
        _, runs = sweeps
        windows = _windows(runs[1:])
        assert len(set(windows)) == 3  # each trial its own windows
        assert all(5 <= short <= 40 and 50 <= long <= 200 for short, long in windows)

    def test_the_best_trial_is_the_highest_sharpe(self, sweeps: Any) -> None:
        tmp, runs = sweeps
        results = yaml.safe_load((tmp / "multirun/first/optimization_results.yaml").read_text())
        sharpes = [run.data.metrics["val/sharpe"] for run in runs[1:]]
        assert len(set(sharpes)) == 3  # the windows mattered, so the direction decides which trial is best
        assert results["best_value"] == pytest.approx(max(sharpes), rel=1e-9)
        best = runs[1 + sharpes.index(max(sharpes))]
        assert tuple(results["best_params"][key] for key in WINDOWS) == _windows([best])[0]

    def test_the_same_seed_samples_the_same_trials(self, sweeps: Any) -> None:
        tmp, runs = sweeps
        again = [yaml.safe_load((tmp / f"multirun/second/{job}/config.yaml").read_text()) for job in range(3)]
        assert [(job["strategy"]["short_window"], job["strategy"]["long_window"]) for job in again] == _windows(
            runs[1:]
        )
        metrics = [json.loads((tmp / f"multirun/second/{job}/metrics.json").read_text()) for job in range(3)]
        sharpes = [run.data.metrics["val/sharpe"] for run in runs[1:]]
        assert [job["metrics"]["val/sharpe"] for job in metrics] == pytest.approx(sharpes, rel=1e-12)


class TestBadSearch:
    def test_a_metric_without_a_direction_stops_the_sweep_before_any_trial(self, tmp_path: Path) -> None:
        done = run_cli(
            ["-m", "hparams_search=ma_crossover", "optimized_metric=val/exposure", "tracking=none"], tmp_path
        )
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        for words in ("'val/exposure' has no better direction", "hydra.sweeper.direction", "maximize, minimize"):
            assert words in done.stderr, done.stderr
        assert not list(tmp_path.glob("multirun/*/*/0"))
