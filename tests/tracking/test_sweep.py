from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from omegaconf import DictConfig, OmegaConf

from framework.tracking import PARENT_RUN_ID_FILE, MlflowSweepCallback, log_run, sweep_parent_run_id

if TYPE_CHECKING:
    from conftest import Store  # the fixture's type; tests import in importlib mode, so not at run time


def client(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def sweep_config(sweep_dir: Path, tracking_uri: str, *, enabled: bool = True) -> DictConfig:
    return OmegaConf.create(
        {
            "experiment_name": "sweeps",
            "tracking": {"enabled": enabled, "tracking_uri": tracking_uri},
            "hydra": {"sweep": {"dir": str(sweep_dir)}, "overrides": {"task": ["x=1,2", "seed=3"]}},
        }
    )


class TestSweepParentRunId:
    def test_none_without_a_parent_run(self, tmp_path: Path) -> None:
        assert sweep_parent_run_id(tmp_path) is None
        assert sweep_parent_run_id(tmp_path / "missing") is None
        (tmp_path / PARENT_RUN_ID_FILE).write_text("\n")
        assert sweep_parent_run_id(tmp_path) is None

    def test_reads_the_id_written_into_the_sweep_folder(self, tmp_path: Path) -> None:
        (tmp_path / PARENT_RUN_ID_FILE).write_text("5e3f\n")

        assert sweep_parent_run_id(str(tmp_path)) == "5e3f"


class TestMlflowSweepCallback:
    def test_parent_run_spans_the_sweep(self, store: Store, tmp_path: Path) -> None:
        sweep_dir = tmp_path / "multirun" / "2026-11-24" / "10-12-33"
        config = sweep_config(sweep_dir, store.uri)
        callback = MlflowSweepCallback()

        callback.on_multirun_start(config, config_name="config")

        parent_id = sweep_parent_run_id(sweep_dir)
        assert parent_id is not None and callback.parent_run is not None
        assert parent_id == callback.parent_run.run_id
        mlflow_client = client(store.uri)
        parent = mlflow_client.get_run(parent_id)
        assert parent.info.status == "RUNNING"
        assert parent.info.run_name == f"sweep {sweep_dir}"
        assert parent.data.tags["sweep_dir"] == str(sweep_dir)
        assert parent.data.tags["sweep_overrides"] == "x=1,2 seed=3"
        assert mlflow_client.get_experiment(parent.info.experiment_id).name == "sweeps"

        child = log_run(
            tracking_uri=store.uri,
            experiment_name="sweeps",
            run_name="job 0",
            params={},
            tags={},
            metrics={},
            parent_run_id=sweep_parent_run_id(sweep_dir),
        )
        callback.on_multirun_end(config, config_name="config")

        assert mlflow_client.get_run(parent_id).info.status == "FINISHED"
        assert mlflow_client.get_run(child.run_id).data.tags["mlflow.parentRunId"] == parent_id
        assert callback.parent_run is None

    def test_unreachable_store_only_warns(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        sweep_dir = tmp_path / "sweep"
        sweep_dir.mkdir()
        (sweep_dir / PARENT_RUN_ID_FILE).write_text("parent-of-an-earlier-sweep\n")
        config = sweep_config(sweep_dir, "http://127.0.0.1:9")
        callback = MlflowSweepCallback()

        with caplog.at_level(logging.WARNING, logger="framework.tracking.sweep"):
            callback.on_multirun_start(config)
            callback.on_multirun_end(config)

        assert sweep_parent_run_id(sweep_dir) is None
        assert callback.parent_run is None
        (record,) = [record for record in caplog.records if record.name == "framework.tracking.sweep"]
        assert record.levelno == logging.WARNING
        assert "no parent run for this sweep" in record.getMessage()
        assert "http://127.0.0.1:9" in record.getMessage()

    def test_nothing_is_tracked_when_tracking_is_disabled(self, store: Store, tmp_path: Path) -> None:
        config = sweep_config(tmp_path / "sweep", store.uri, enabled=False)
        callback = MlflowSweepCallback()

        callback.on_multirun_start(config)
        callback.on_multirun_end(config)

        assert sweep_parent_run_id(tmp_path / "sweep") is None
        assert callback.parent_run is None


APP = """
import hydra
from hydra.core.hydra_config import HydraConfig

from framework.tracking import log_run, resolve_tracking_uri, sweep_parent_run_id


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg):
    if cfg.x == cfg.fail_on:
        raise RuntimeError("job failed on purpose")
    log_run(
        tracking_uri=resolve_tracking_uri(cfg.tracking.tracking_uri),
        experiment_name=cfg.experiment_name,
        run_name=f"x={cfg.x}",
        params={"x": str(cfg.x)},
        tags={},
        metrics={"score": float(cfg.x)},
        parent_run_id=sweep_parent_run_id(HydraConfig.get().sweep.dir),
    )


if __name__ == "__main__":
    main()
"""

CONFIG = """
experiment_name: hydra-sweep
x: 0
fail_on: -1
tracking:
  enabled: true
  tracking_uri: sqlite:///mlflow.db
hydra:
  callbacks:
    mlflow_sweep:
      _target_: framework.tracking.MlflowSweepCallback
"""


def start_sweep(folder: Path, *overrides: str) -> subprocess.Popen[str]:
    """Start a real Hydra multirun of a tiny app in ``folder``, with the default timestamped sweep folder."""
    folder.mkdir(parents=True)
    (folder / "conf").mkdir()
    (folder / "conf" / "config.yaml").write_text(textwrap.dedent(CONFIG))
    (folder / "app.py").write_text(textwrap.dedent(APP))
    environment = {name: value for name, value in os.environ.items() if name != "MLFLOW_TRACKING_URI"}
    environment["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return subprocess.Popen(
        [sys.executable, "app.py", "-m", *overrides],
        cwd=folder,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass(frozen=True)
class Sweep:
    folder: Path
    returncode: int
    stderr: str

    def runs(self) -> list[Any]:
        """The runs of the sweep's experiment, read back from the SQLite file the app wrote."""
        mlflow_client = client(f"sqlite:///{self.folder}/mlflow.db")
        experiment = mlflow_client.get_experiment_by_name("hydra-sweep")
        return mlflow_client.search_runs([experiment.experiment_id])


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sweep]:
    """A sweep that succeeds and one whose second job fails, run at the same time (about 4.5 s each)."""
    root = tmp_path_factory.mktemp("sweeps")
    processes = {
        "succeeds": start_sweep(root / "succeeds", "x=1,2"),
        "fails": start_sweep(root / "fails", "x=1,2", "fail_on=2"),
    }
    results = {}
    for name, process in processes.items():
        _, stderr = process.communicate(timeout=120)
        results[name] = Sweep(root / name, process.returncode, stderr)
    return results


class TestHydraMultirun:
    def test_jobs_are_children_of_the_finished_parent(self, sweeps: dict[str, Sweep]) -> None:
        sweep = sweeps["succeeds"]
        assert sweep.returncode == 0, sweep.stderr

        runs = sweep.runs()
        (parent,) = [run for run in runs if run.info.run_name.startswith("sweep ")]
        children = [run for run in runs if run is not parent]
        assert parent.info.status == "FINISHED"
        assert parent.data.tags["sweep_overrides"] == "x=1,2"
        sweep_dir = Path(parent.data.tags["sweep_dir"])
        assert sweep_dir.parent.parent == sweep.folder / "multirun"  # multirun/<date>/<time>
        assert sweep_parent_run_id(sweep_dir) == parent.info.run_id
        assert sorted(run.info.run_name for run in children) == ["x=1", "x=2"]
        assert {run.data.tags.get("mlflow.parentRunId") for run in children} == {parent.info.run_id}
        assert {run.info.status for run in children} == {"FINISHED"}

    def test_parent_ends_failed_when_a_job_fails(self, sweeps: dict[str, Sweep]) -> None:
        sweep = sweeps["fails"]
        assert sweep.returncode != 0
        assert "job failed on purpose" in sweep.stderr

        runs = sweep.runs()
        (parent,) = [run for run in runs if run.info.run_name.startswith("sweep ")]
        assert parent.info.status == "FAILED"
        assert [(run.info.run_name, run.info.status) for run in runs if run is not parent] == [("x=1", "FINISHED")]
