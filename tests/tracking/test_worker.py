"""The tracking worker: a forked process that draws the plot and logs the run into a real store."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from framework.benchmark.plots import PlotInput
from framework.tracking.worker import Outcome, TrackingWorker

if TYPE_CHECKING:
    from conftest import Store


def request(uri: str, folder: Path, name: str, **extra: Any) -> dict[str, Any]:
    metrics = folder / f"{name}.json"
    metrics.write_text('{"sharpe": 1.0}')
    return {
        "tracking_uri": uri,
        "experiment_name": "worker",
        "run_name": name,
        "params": {"seed": "1"},
        "tags": {"kind": "test"},
        "metrics": {"val/sharpe": 1.25},
        "series": {"equity": (np.array([0, 5, 9]), np.array([1.0, 1.1, 1.2]))},
        "artifacts": [metrics],
        **extra,
    }


def plot_input() -> PlotInput:
    dates = np.arange("2020-01-01", "2020-01-11", dtype="datetime64[D]")
    equity = np.linspace(1.0, 1.2, 10)
    return PlotInput("demo", dates, equity, equity * 0.99, None, {"train": (0, 6), "test": (6, 10)})


@pytest.fixture
def worker(store: Store) -> Any:
    started = TrackingWorker(store.uri)
    yield started
    started.close()


def runs(uri: str, name: str) -> list[Any]:
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("worker")
    found = client.search_runs([experiment.experiment_id], filter_string=f"attributes.run_name = '{name}'")
    return list(found)


class TestTrackingWorker:
    def test_draws_the_plot_and_logs_the_run(self, store: Store, worker: TrackingWorker, tmp_path: Path) -> None:
        png = tmp_path / "equity_drawdown.png"
        worker.submit(request(store.uri, tmp_path, "drawn"), plot_input(), png, tmp_path)

        (outcome,) = worker.wait()

        assert outcome.error == "" and outcome.run_id
        assert (outcome.experiment_name, outcome.tracking_uri) == ("worker", store.uri)
        assert outcome.output_dir == str(tmp_path.resolve())
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        (logged,) = runs(store.uri, "drawn")
        assert logged.info.run_id == outcome.run_id and logged.info.status == "FINISHED"
        assert logged.data.metrics["val/sharpe"] == 1.25
        from mlflow import MlflowClient

        client = MlflowClient(store.uri)
        assert [(m.step, m.value) for m in client.get_metric_history(outcome.run_id, "equity")] == [
            (0, 1.0),
            (5, 1.1),
            (9, 1.2),
        ]
        assert {a.path for a in client.list_artifacts(outcome.run_id)} == {"drawn.json", "equity_drawdown.png"}

    def test_answers_every_request_in_order_after_a_failure(
        self, store: Store, worker: TrackingWorker, tmp_path: Path
    ) -> None:
        worker.submit(request(store.uri, tmp_path, "first"), None, None)
        worker.submit(request(store.uri, tmp_path, "missing", artifacts=[tmp_path / "absent.json"]), None, None)
        worker.submit(request(store.uri, tmp_path, "third"), None, None)
        assert worker.pending == 3

        first, failed, third = worker.wait()

        assert first.run_id and third.run_id and worker.pending == 0
        assert failed.run_id == "" and "absent.json" in failed.error
        assert runs(store.uri, "missing") == []  # inputs are checked before the store is touched
        assert [r.info.run_id for r in runs(store.uri, "third")] == [third.run_id]

    def test_an_unreachable_store_is_an_outcome_not_an_exception(self, tmp_path: Path, capsys: Any) -> None:
        uri = "http://lab:s3cret@127.0.0.1:9"
        unreachable = TrackingWorker(uri)
        try:
            unreachable.submit(request(uri, tmp_path, "lost"), None, None, tmp_path)
            (outcome,) = unreachable.wait()
        finally:
            unreachable.close()

        assert outcome.run_id == "" and outcome.error
        outcome.report()
        err = capsys.readouterr().err
        assert err.startswith("warning: the run was not tracked") and "s3cret" not in err
        assert f"every result of this run is in {tmp_path.resolve()}" in err

    def test_a_killed_worker_fails_the_runs_left_and_does_not_hang(self, store: Store, tmp_path: Path) -> None:
        doomed = TrackingWorker(store.uri)
        doomed.submit(request(store.uri, tmp_path, "orphan"), None, None)
        os.kill(doomed._process.pid, signal.SIGKILL)
        doomed._process.join(timeout=10)

        (outcome,) = doomed.wait()

        assert not doomed.alive
        assert outcome.run_id == "" and "stopped before logging" in outcome.error
        doomed.close()


class TestOutcome:
    def test_reports_where_the_run_is(self, capsys: Any) -> None:
        Outcome("ab12", "mlflow ui --backend-store-uri sqlite:///m.db", "", False, "lab", "sqlite:///m.db").report()

        out = capsys.readouterr().out
        assert out == (
            "mlflow run ab12 in experiment 'lab' at sqlite:///m.db\n"
            "view it with: mlflow ui --backend-store-uri sqlite:///m.db\n"
        )

    def test_a_partial_run_says_so(self, capsys: Any) -> None:
        Outcome("", "", "artifacts not written", True, "lab", "sqlite:///m.db", "/data/out").report()

        assert capsys.readouterr().err.startswith("warning: the run was tracked only in part: artifacts not written")
