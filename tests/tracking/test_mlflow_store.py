from __future__ import annotations

import fcntl
import importlib.util
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from framework.core.errors import TrackingError
from framework.tracking import PartialRunError, TrackedRun, end_run, log_run, resolve_tracking_uri, start_run

if TYPE_CHECKING:
    from conftest import Store  # the fixture's type; tests import in importlib mode, so not at run time

HTTP_ENV = (
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER",
    "MLFLOW_HTTP_REQUEST_TIMEOUT",
)


def client(uri: str) -> Any:  # an MlflowClient; MLflow is imported lazily, as in the code under test
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def runs_of(uri: str, experiment_name: str) -> list[Any]:
    mlflow_client = client(uri)
    experiment = mlflow_client.get_experiment_by_name(experiment_name)
    if experiment is None:
        return []
    return mlflow_client.search_runs([experiment.experiment_id], max_results=1000)


def minimal_run(uri: str, experiment_name: str, **overrides: object) -> TrackedRun:
    arguments: dict[str, object] = dict(
        tracking_uri=uri, experiment_name=experiment_name, run_name="r", params={}, tags={}, metrics={}
    )
    arguments.update(overrides)
    return log_run(**arguments)  # type: ignore[arg-type]


class TestImport:
    def test_importing_the_package_does_not_import_mlflow(self) -> None:
        code = "import sys, framework.tracking; print(sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow'))"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)

        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "[]"


class TestResolveTrackingUri:
    def test_configured_uri_wins_over_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://from-env:5000")

        assert resolve_tracking_uri("http://configured:5000") == "http://configured:5000"
        assert resolve_tracking_uri("sqlite:///mlflow.db") == "sqlite:///mlflow.db"

    def test_environment_is_used_when_nothing_is_configured(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://from-env:5000")

        assert resolve_tracking_uri(None) == "http://from-env:5000"
        assert resolve_tracking_uri("   ") == "http://from-env:5000"

    def test_default_is_an_absolute_sqlite_file_in_the_cwd(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)

        assert resolve_tracking_uri(None) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
        assert resolve_tracking_uri(None).startswith("sqlite:////")


@pytest.fixture(scope="module")
def logged(store: Store, tmp_path_factory: pytest.TempPathFactory) -> tuple[TrackedRun, dict[str, object]]:
    """One run with everything log_run can log, read back by TestLogRun."""
    outputs = tmp_path_factory.mktemp("outputs")
    (outputs / "equity.csv").write_text("bar,equity\n0,1.0\n")
    (outputs / "decisions.parquet").write_bytes(b"PAR1")
    hydra_dir = outputs / ".hydra"
    (hydra_dir / "nested").mkdir(parents=True)
    (hydra_dir / "config.yaml").write_text("seed: 42\n")
    (hydra_dir / "nested" / "overrides.yaml").write_text("- seed=42\n")
    equity = 1e6 * np.cumprod(1 + np.random.default_rng(0).normal(0, 0.01, 2520))
    drawdown = np.array([0.0, -0.1, np.nan, -0.2, np.inf])
    inputs: dict[str, object] = {
        "params": {f"portfolio.p{index:03d}": str(index) for index in range(250)} | {"long": "v" * 7000},
        "tags": {"strategy": "ma_crossover", "data": "sp500"},
        "metrics": {"test/sharpe": 1.25, "val/max_drawdown": -0.2, "test/sortino": float("nan"), "x": np.inf},
        "series": {"equity": equity, "drawdown": drawdown},
    }
    run = log_run(
        tracking_uri=store.uri,
        experiment_name="log-run",
        run_name="ma_crossover short=20",
        artifacts=[outputs / "equity.csv", outputs / "decisions.parquet"],
        artifact_dirs={".hydra": hydra_dir},
        **inputs,  # type: ignore[arg-type]
    )
    return run, inputs


class TestLogRun:
    def test_returns_where_the_run_is(self, store: Store, logged: tuple[TrackedRun, dict[str, object]]) -> None:
        run, _ = logged
        stored = client(store.uri).get_run(run.run_id)

        assert run.tracking_uri == store.uri
        assert run.experiment_id == stored.info.experiment_id
        assert run.artifact_uri == stored.info.artifact_uri
        assert client(store.uri).get_experiment(run.experiment_id).name == "log-run"
        assert run.ui_hint == (
            f"mlflow ui --backend-store-uri {store.uri}  # then open "
            f"http://127.0.0.1:5000/#/experiments/{run.experiment_id}/runs/{run.run_id}"
        )

    def test_run_is_finished_with_its_name(self, store: Store, logged: tuple[TrackedRun, dict[str, object]]) -> None:
        stored = client(store.uri).get_run(logged[0].run_id)

        assert stored.info.status == "FINISHED"
        assert stored.info.run_name == "ma_crossover short=20"
        assert stored.info.end_time is not None

    def test_params_are_all_logged_in_batches(self, store: Store, logged: tuple[TrackedRun, dict[str, object]]) -> None:
        run, inputs = logged
        params = client(store.uri).get_run(run.run_id).data.params
        expected = dict(inputs["params"])  # type: ignore[call-overload]
        expected["long"] = "v" * 6000

        assert len(params) == 251
        assert params == expected

    def test_tags_and_skipped_metrics(self, store: Store, logged: tuple[TrackedRun, dict[str, object]]) -> None:
        tags = client(store.uri).get_run(logged[0].run_id).data.tags

        assert tags["strategy"] == "ma_crossover"
        assert tags["data"] == "sp500"
        assert tags["skipped_metrics"].split(",") == ["test/sortino", "x", "drawdown"]
        assert "mlflow.parentRunId" not in tags

    def test_finite_metrics_are_logged(self, store: Store, logged: tuple[TrackedRun, dict[str, object]]) -> None:
        metrics = client(store.uri).get_run(logged[0].run_id).data.metrics

        assert metrics["test/sharpe"] == 1.25
        assert metrics["val/max_drawdown"] == -0.2
        assert "test/sortino" not in metrics
        assert "x" not in metrics

    def test_series_is_a_history_stepped_by_bar(
        self, store: Store, logged: tuple[TrackedRun, dict[str, object]]
    ) -> None:
        run, inputs = logged
        equity = inputs["series"]["equity"]  # type: ignore[index]
        history = sorted(client(store.uri).get_metric_history(run.run_id, "equity"), key=lambda metric: metric.step)

        assert [metric.step for metric in history] == list(range(2520))
        np.testing.assert_allclose([metric.value for metric in history], equity, rtol=1e-12)

    def test_non_finite_steps_of_a_series_are_left_out(
        self, store: Store, logged: tuple[TrackedRun, dict[str, object]]
    ) -> None:
        history = client(store.uri).get_metric_history(logged[0].run_id, "drawdown")

        assert sorted((metric.step, metric.value) for metric in history) == [(0, 0.0), (1, -0.1), (3, -0.2)]

    def test_artifacts_files_at_root_and_folders_under_their_key(
        self, store: Store, logged: tuple[TrackedRun, dict[str, object]]
    ) -> None:
        mlflow_client = client(store.uri)
        run_id = logged[0].run_id

        assert sorted(item.path for item in mlflow_client.list_artifacts(run_id)) == [
            ".hydra",
            "decisions.parquet",
            "equity.csv",
        ]
        assert sorted(item.path for item in mlflow_client.list_artifacts(run_id, ".hydra")) == [
            ".hydra/config.yaml",
            ".hydra/nested",
        ]
        assert [item.path for item in mlflow_client.list_artifacts(run_id, ".hydra/nested")] == [
            ".hydra/nested/overrides.yaml"
        ]

    def test_artifacts_are_stored_under_mlruns_of_the_cwd_the_store_was_opened_in(
        self, store: Store, logged: tuple[TrackedRun, dict[str, object]]
    ) -> None:
        run = logged[0]
        artifact_root = Path(run.artifact_uri.removeprefix("file://"))

        assert artifact_root == store.folder / "mlruns" / run.experiment_id / run.run_id / "artifacts"
        assert (artifact_root / ".hydra" / "config.yaml").read_text() == "seed: 42\n"

    def test_second_run_reuses_the_experiment(self, store: Store, logged: tuple[TrackedRun, dict[str, object]]) -> None:
        second = minimal_run(store.uri, "log-run")

        assert second.experiment_id == logged[0].experiment_id
        assert second.run_id != logged[0].run_id


class TestParentRuns:
    def test_child_runs_point_to_their_parent(self, store: Store) -> None:
        parent = start_run(
            tracking_uri=store.uri, experiment_name="parents", run_name="sweep x", tags={"sweep_dir": "/s"}
        )
        mlflow_client = client(store.uri)
        assert mlflow_client.get_run(parent.run_id).info.status == "RUNNING"

        children = [minimal_run(store.uri, "parents", run_name=f"job {i}", parent_run_id=parent.run_id) for i in (0, 1)]
        end_run(tracking_uri=store.uri, run_id=parent.run_id)

        stored_parent = mlflow_client.get_run(parent.run_id)
        assert stored_parent.info.status == "FINISHED"
        assert stored_parent.data.tags["sweep_dir"] == "/s"
        assert stored_parent.info.run_name == "sweep x"
        found = mlflow_client.search_runs(
            [parent.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.run_id}'"
        )
        assert sorted(run.info.run_id for run in found) == sorted(child.run_id for child in children)

    def test_end_run_records_the_status(self, store: Store) -> None:
        run = start_run(tracking_uri=store.uri, experiment_name="parents")
        end_run(tracking_uri=store.uri, run_id=run.run_id, status="FAILED")

        assert client(store.uri).get_run(run.run_id).info.status == "FAILED"

    def test_end_run_of_an_unknown_run_is_a_tracking_error(self, store: Store) -> None:
        with pytest.raises(TrackingError, match="cannot end run 0123456789abcdef"):
            end_run(tracking_uri=store.uri, run_id="0123456789abcdef")


class TestInvalidInputs:
    """Bad inputs are refused before the store is touched: no run is created."""

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"params": {"a^b": "1"}}, "param key 'a\\^b' is not valid"),
            ({"params": {"a//b": "1"}}, "param key 'a//b' is not valid"),
            ({"tags": {"x" * 251: "1"}}, "tag key 'x+' is not valid"),
            ({"metrics": {"test/sharpe": "high"}}, "metric 'test/sharpe': 'high' is not a number"),
            ({"series": {"equity": np.ones((3, 2))}}, "series 'equity': expected a 1-D array.*\\(3, 2\\)"),
            ({"artifacts": [Path("/nonexistent/equity.csv")]}, "artifact file '/nonexistent/equity.csv' does not"),
            ({"artifact_dirs": {".hydra": Path("/nonexistent")}}, "artifact folder '/nonexistent' does not exist"),
            ({"artifact_dirs": {"../up": Path("/")}}, "artifact folder '../up' must be a relative path"),
        ],
    )
    def test_no_run_is_created(self, store: Store, overrides: dict[str, object], message: str) -> None:
        before = len(runs_of(store.uri, "invalid"))

        with pytest.raises(TrackingError, match=message):
            minimal_run(store.uri, "invalid", **overrides)

        assert len(runs_of(store.uri, "invalid")) == before

    def test_deleted_experiment_names_the_way_out(self, store: Store) -> None:
        mlflow_client = client(store.uri)
        mlflow_client.delete_experiment(mlflow_client.create_experiment("deleted"))

        with pytest.raises(TrackingError, match="experiment 'deleted' .* is deleted; restore it"):
            minimal_run(store.uri, "deleted")

    def test_failure_midway_ends_the_run_failed(self, store: Store, tmp_path: Path) -> None:
        # A dangling symlink passes the up-front check of the folder but cannot be copied.
        (tmp_path / "plots").mkdir()
        (tmp_path / "plots" / "equity.png").symlink_to(tmp_path / "missing.png")

        with pytest.raises(PartialRunError, match=f"MLflow tracking store {store.uri}: cannot log a run") as raised:
            minimal_run(store.uri, "midway", metrics={"m": 1.0}, artifact_dirs={"plots": tmp_path / "plots"})

        (run,) = runs_of(store.uri, "midway")
        assert run.info.status == "FAILED"
        assert run.data.metrics == {"m": 1.0}
        assert raised.value.run.run_id == run.info.run_id
        assert run.data.tags["tracking_error"] == str(raised.value)


class TestPartialRuns:
    """A run that exists in the store but could not be logged whole is ended FAILED and says what it holds."""

    def test_unwritable_artifact_location(self, store: Store, tmp_path: Path) -> None:
        (tmp_path / "a-file").write_text("")
        artifact_location = tmp_path / "a-file" / "artifacts"  # below a regular file: cannot be created, even by root
        client(store.uri).create_experiment("unwritable-artifacts", artifact_location=str(artifact_location))
        (tmp_path / "metrics.json").write_text("{}")

        with pytest.raises(PartialRunError) as raised:
            minimal_run(
                store.uri, "unwritable-artifacts", params={"seed": "3"}, tags={"t": "v"}, metrics={"test/sharpe": 1.5},
                artifacts=[tmp_path / "metrics.json"],
            )  # fmt: skip

        (run,) = runs_of(store.uri, "unwritable-artifacts")
        message = str(raised.value)
        assert message == (
            f"MLflow tracking store {store.uri}: cannot log a run to experiment 'unwritable-artifacts' completely: "
            f"run {run.info.run_id} holds its params, tags and metrics, but its artifacts "
            f"(to {run.info.artifact_uri}) could not be written: [Errno 20] Not a directory: "
            f"'{artifact_location}'; the run is marked FAILED"
        )
        assert raised.value.run.run_id == run.info.run_id
        assert run.info.status == "FAILED"
        assert run.data.params == {"seed": "3"}
        assert run.data.metrics == {"test/sharpe": 1.5}
        assert run.data.tags["t"] == "v"
        assert run.data.tags["tracking_error"] == message


class TestCredentials:
    SECRET = "s3cret-Pw"

    def test_params_tags_and_run_name_are_stored_masked(self, store: Store) -> None:
        uri = f"http://lab:{self.SECRET}@mlflow.lab:5000"
        run = minimal_run(
            store.uri, "credentials", run_name=f"ma_crossover tracking.tracking_uri={uri}",
            params={"tracking.tracking_uri": uri, "seed": "1"},
            tags={"overrides": f"tracking.tracking_uri={uri} seed=1"},
        )  # fmt: skip

        stored = client(store.uri).get_run(run.run_id)
        assert stored.info.run_name == "ma_crossover tracking.tracking_uri=http://lab:***@mlflow.lab:5000"
        assert stored.data.params == {"tracking.tracking_uri": "http://lab:***@mlflow.lab:5000", "seed": "1"}
        assert stored.data.tags["overrides"] == "tracking.tracking_uri=http://lab:***@mlflow.lab:5000 seed=1"
        assert self.SECRET.encode() not in Path(store.uri.removeprefix("sqlite:///")).read_bytes()

    def test_a_parent_run_is_stored_masked(self, store: Store) -> None:
        uri = f"postgresql://lab:{self.SECRET}@db/mlflow"
        parent = start_run(
            tracking_uri=store.uri, experiment_name="credentials", run_name=f"sweep {uri}",
            tags={"sweep_overrides": f"tracking.tracking_uri={uri}"},
        )  # fmt: skip
        end_run(tracking_uri=store.uri, run_id=parent.run_id)

        stored = client(store.uri).get_run(parent.run_id)
        assert stored.info.run_name == "sweep postgresql://lab:***@db/mlflow"
        assert stored.data.tags["sweep_overrides"] == "tracking.tracking_uri=postgresql://lab:***@db/mlflow"

    def test_the_ui_hint_is_masked(self) -> None:
        run = TrackedRun("ab12", "3", f"https://lab:{self.SECRET}@mlflow.lab/", "mlflow-artifacts:/3/ab12/artifacts")
        assert run.ui_hint == "https://lab:***@mlflow.lab/#/experiments/3/runs/ab12"
        run = TrackedRun("ab12", "3", f"mysql://lab:{self.SECRET}@db/m", "/a")
        assert run.ui_hint.startswith("mlflow ui --backend-store-uri 'mysql://lab:***@db/m'  # then open")


class TestUnusableStores:
    def test_unreachable_server_fails_fast(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "77")
        before = {name: os.environ.get(name) for name in HTTP_ENV}
        started = time.perf_counter()

        with pytest.raises(TrackingError) as raised:
            minimal_run("http://127.0.0.1:9", "unreachable")

        assert time.perf_counter() - started < 10
        message = str(raised.value)
        assert message.startswith("MLflow tracking store http://127.0.0.1:9: cannot log a run")
        assert "Connection refused" in message
        assert "\n" not in message
        # The fail-fast settings were for the call only.
        assert {name: os.environ.get(name) for name in HTTP_ENV} == before

    def test_password_in_uri_is_not_shown(self) -> None:
        with pytest.raises(TrackingError) as raised:
            minimal_run("http://lab:s3cret@127.0.0.1:9", "unreachable")

        assert "s3cret" not in str(raised.value)
        assert "http://lab:***@127.0.0.1:9" in str(raised.value)

    @pytest.mark.parametrize("uri", ["sqlite:///:memory:", "sqlite://", "sqlite:///", "sqlite+pysqlite:///:memory:"])
    def test_in_memory_sqlite_is_refused(self, uri: str) -> None:
        with pytest.raises(TrackingError) as raised:
            minimal_run(uri, "memory")
        assert str(raised.value) == (
            f"MLflow tracking store {uri}: cannot log a run to experiment 'memory': an in-memory SQLite database loses "
            "its runs when the process ends; use a file (sqlite:///mlflow.db), a database server or a tracking server"
        )
        with pytest.raises(TrackingError, match="in-memory SQLite database"):
            start_run(tracking_uri=uri, experiment_name="memory")

    @pytest.mark.parametrize(
        ("uri", "module", "install"),
        [
            ("postgresql://u@localhost/db", "psycopg", "pip install 'psycopg[binary]'"),
            ("postgresql+psycopg2://u:s3cret@localhost/db", "psycopg2", "pip install psycopg2-binary"),
            ("mysql://u@localhost/db", "MySQLdb", "pip install mysqlclient"),
        ],
    )
    def test_missing_database_driver(self, uri: str, module: str, install: str) -> None:
        if importlib.util.find_spec(module) is not None:
            pytest.skip(f"{module} is installed here")
        scheme = uri.split(":")[0].split("+")[0]
        started = time.perf_counter()

        with pytest.raises(TrackingError) as raised:
            minimal_run(uri, "driver")

        assert time.perf_counter() - started < 10
        assert str(raised.value) == (
            f"MLflow tracking store {uri.replace('s3cret', '***')}: cannot log a run to experiment 'driver': the "
            f"{scheme} driver '{module}' is not installed; install it ({install}) or name an installed driver in "
            f"the URI ({scheme}+<driver>://...)"
        )

    def test_a_broken_store_fails_in_one_line_and_mlflow_prints_nothing(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.chdir(tmp_path)
        uri = f"sqlite:///{tmp_path}/mlflow.db"
        minimal_run(uri, "broken")
        assert "Creating initial MLflow database tables" in capfd.readouterr().err  # held, then passed on
        connection = sqlite3.connect(tmp_path / "mlflow.db")
        connection.execute("DROP TABLE tags")  # MLflow logs the SQLAlchemy error with its traceback
        connection.commit()
        connection.close()

        with pytest.raises(TrackingError) as raised:
            minimal_run(uri, "broken")

        assert str(raised.value) == (
            f"MLflow tracking store {uri}: cannot log a run to experiment 'broken': "
            "OperationalError: no such table: tags"
        )
        assert capfd.readouterr() == ("", "")
        assert {logger.name for logger in _loggers_holding_back()} == set()

    def test_unknown_scheme(self) -> None:
        with pytest.raises(
            TrackingError, match=r"store mlfow://x: .*unsupported URI scheme; supported schemes: .*sqlite"
        ):
            minimal_run("mlfow://x", "bad-scheme")

    def test_sqlite_file_below_a_file_is_unwritable(self, tmp_path: Path) -> None:
        (tmp_path / "not-a-folder").write_text("")
        uri = f"sqlite:///{tmp_path}/not-a-folder/mlflow.db"
        started = time.perf_counter()

        with pytest.raises(TrackingError, match=f"MLflow tracking store {uri}: cannot log a run.*not-a-folder"):
            minimal_run(uri, "unwritable")

        assert time.perf_counter() - started < 2

    def test_sqlite_path_that_is_a_folder(self, tmp_path: Path) -> None:
        with pytest.raises(TrackingError, match="is not a database file"):
            minimal_run(f"sqlite:///{tmp_path}", "folder")

    def test_sqlite_file_that_is_not_a_database(self, tmp_path: Path) -> None:
        (tmp_path / "mlflow.db").write_text("not a database" * 100)
        started = time.perf_counter()

        with pytest.raises(TrackingError, match="file is not a database"):
            minimal_run(f"sqlite:///{tmp_path}/mlflow.db", "garbage")

        assert time.perf_counter() - started < 2


class TestDefaultStore:
    def test_default_uri_puts_database_and_artifacts_in_the_cwd(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        (tmp_path / "report.txt").write_text("ok")

        run = minimal_run(resolve_tracking_uri(None), "default", artifacts=[Path("report.txt")])

        assert (tmp_path / "mlflow.db").is_file()
        assert (tmp_path / "mlflow.db.lock").is_file()
        assert (tmp_path / "mlruns" / run.experiment_id / run.run_id / "artifacts" / "report.txt").read_text() == "ok"


def _loggers_holding_back() -> list[Any]:
    import logging

    return [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and any(type(h).__name__ == "_Holder" for h in logger.handlers)
    ]


def _log_two_runs(uri: str, worker: int, barrier: multiprocessing.synchronize.Barrier) -> None:
    barrier.wait()  # start together, so both processes hit the new database at once
    for index in range(2):
        log_run(
            tracking_uri=uri,
            experiment_name="parallel",
            run_name=f"worker {worker} run {index}",
            params={f"p{i}": str(i) for i in range(150)},
            tags={"worker": str(worker)},
            metrics={"score": float(index)},
            series={"equity": np.linspace(1.0, 2.0, 1500)},
        )


class TestSqliteLock:
    def test_parallel_processes_on_one_new_database(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        uri = f"sqlite:///{tmp_path}/mlflow.db"
        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(2)
        workers = [context.Process(target=_log_two_runs, args=(uri, worker, barrier)) for worker in (0, 1)]
        for process in workers:
            process.start()
        for process in workers:
            process.join(timeout=60)

        assert [process.exitcode for process in workers] == [0, 0]
        runs = runs_of(uri, "parallel")
        assert sorted(run.info.run_name for run in runs) == [f"worker {w} run {i}" for w in (0, 1) for i in (0, 1)]
        assert {run.info.status for run in runs} == {"FINISHED"}
        assert all(len(run.data.params) == 150 for run in runs)

    def test_logging_waits_for_the_lock_holder(self, store: Store) -> None:
        database = Path(store.uri.removeprefix("sqlite:///"))
        finished = threading.Event()
        errors: list[BaseException] = []

        def log() -> None:
            try:
                minimal_run(store.uri, "locked")
            except BaseException as error:  # reported by the assertion below
                errors.append(error)
            finished.set()

        with open(f"{database}.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            thread = threading.Thread(target=log)
            thread.start()
            waited = finished.wait(timeout=0.5)
            runs_while_locked = len(runs_of(store.uri, "locked"))
            fcntl.flock(lock_file, fcntl.LOCK_UN)
        thread.join(timeout=30)

        assert not waited
        assert runs_while_locked == 0
        assert finished.is_set() and not errors
        assert len(runs_of(store.uri, "locked")) == 1
