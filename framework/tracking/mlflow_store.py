"""Write runs to an MLflow tracking store: one call logs a whole run, and any store failure is a TrackingError.

MLflow is imported inside the functions, never at module level: it takes about 1 s to import, which every job
(and every test collecting this package) would otherwise pay. Each call makes its own
``MlflowClient(tracking_uri=...)`` instead of using MLflow's global active run, so parallel jobs and a sweep's
parent run do not interfere.

Two things make a store usable from Hydra sweeps:

- Fail fast on HTTP stores. MLflow's defaults (7 retries with exponential backoff, 120 s timeout) take minutes
  to give up on an unreachable server. The first request probes the server with one retry and a 4 s timeout
  (a refused connection fails at once, a server that never answers in about 9 s); once it answered, the run is
  logged with 3 retries for transient errors. The environment variables MLflow reads for this
  (``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, ``_BACKOFF_FACTOR``, ``_BACKOFF_JITTER``, ``_TIMEOUT``) are set for the
  call only and restored afterwards.
- Serialize SQLite writers. The joblib launcher runs jobs in parallel processes against one SQLite file. SQLite
  allows one writer at a time and answers others with "database is locked" after a 5 s busy wait, and two
  processes creating the tables of a new database at once collide. A call holds an exclusive ``fcntl.flock`` on
  ``<database>.lock`` next to the database while it logs (POSIX only; elsewhere no lock is taken). Logging a run
  takes about 150 ms, so the wait is short.

And a failure is one line, whatever the store:

- Every store error becomes a :class:`~framework.core.errors.TrackingError` whose message names the store (its
  credentials masked by :func:`~framework.tracking.credentials.mask_credentials`) and the cause on one line; a
  missing database driver names the package to install. An in-memory SQLite store is refused: its runs would
  vanish with the process.
- What MLflow, SQLAlchemy, alembic and urllib3 log while the store is used is held back: when the call fails,
  the error says it all (MLflow would otherwise print a whole SQLAlchemy traceback); when it succeeds, each held
  record is passed on as its first line.
- A run that fails after it was created is ended FAILED, tagged ``tracking_error``, and reported by a
  :class:`PartialRunError` that says what the run holds and what could not be written.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import posixpath
import re
import shlex
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from framework.core.errors import TrackingError
from framework.tracking.credentials import mask_credentials

if TYPE_CHECKING:
    from mlflow import MlflowClient

_T = TypeVar("_T")

# Limits of MLflow 3 (mlflow.utils.validation): entities per log_batch call, key and value lengths.
_PARAMS_PER_BATCH = 100  # MAX_PARAMS_TAGS_PER_BATCH
_TAGS_PER_BATCH = 100  # MAX_PARAMS_TAGS_PER_BATCH
_METRICS_PER_BATCH = 1000  # MAX_METRICS_PER_BATCH (and MAX_ENTITIES_PER_BATCH for all three together)
_MAX_KEY_LENGTH = 250  # MAX_ENTITY_KEY_LENGTH
_MAX_PARAM_VALUE_LENGTH = 6000  # MAX_PARAM_VAL_LENGTH
_MAX_TAG_VALUE_LENGTH = 8000  # MAX_TAG_VAL_LENGTH
# Keys MLflow accepts (mlflow.utils.validation.validate_param_and_metric_name, POSIX).
_VALID_KEY = re.compile(r"^[/\w.\- :]+$")

# Read by MLflow at every HTTP request (mlflow/environment_variables.py in 3.17).
_HTTP_PROBE_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "4",
}
# After a successful probe; values the user set in the environment win.
_HTTP_LOGGING_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
}
# How long a call waits for another process's SQLite lock before it gives up.
_SQLITE_LOCK_TIMEOUT_S = 300.0
_SQLITE_URI = re.compile(r"^sqlite(\+\w+)?:///(?P<path>[^?]*)")
_DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")
# Errors from these packages (and any OSError) mean the store failed; anything else is a bug and is re-raised.
_STORE_ERROR_PACKAGES = frozenset({"mlflow", "sqlalchemy", "alembic", "sqlite3", "requests", "urllib3"})
_RUN_STATUSES = ("FINISHED", "FAILED", "KILLED")
# Loggers whose records are held back while a store is used (see the module docstring).
_STORE_LOGGERS = ("mlflow", "sqlalchemy", "alembic", "urllib3", "huey")
# The pip package of a database driver SQLAlchemy imports, by module name.
_DRIVER_PACKAGES = {
    "psycopg": "'psycopg[binary]'",
    "psycopg2": "psycopg2-binary",
    "pg8000": "pg8000",
    "MySQLdb": "mysqlclient",
    "pymysql": "PyMySQL",
    "mysql": "mysql-connector-python",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
}


class PartialRunError(TrackingError):
    """A run was created in the store, but not everything could be logged to it.

    The run is ended FAILED and tagged ``tracking_error``; the message says what it holds and what is missing.

    Args:
        message: What the run holds and what is missing.
        run: The run, as far as it was logged.

    Attributes:
        run: The run, as far as it was logged.

    Example:
        >>> run = TrackedRun("ab12", "3", "sqlite:///mlflow.db", "/lab/mlruns/3/ab12/artifacts")
        >>> error = PartialRunError("run ab12 holds its params; its artifacts could not be written", run)
        >>> isinstance(error, TrackingError), error.run.run_id
        (True, 'ab12')
    """

    def __init__(self, message: str, run: TrackedRun) -> None:
        super().__init__(message)
        self.run = run


def is_memory_store(tracking_uri: str) -> bool:
    """Whether a tracking URI names an in-memory SQLite database, whose runs vanish when the process ends.

    Args:
        tracking_uri: A store URI.

    Returns:
        True for ``sqlite://``, ``sqlite:///``, ``sqlite:///:memory:`` and SQLite URIs in memory mode.

    Example:
        >>> [is_memory_store(u) for u in ("sqlite:///:memory:", "sqlite://", "sqlite+pysqlite:///", "SQLite:///:memory:")]
        [True, True, True, True]
        >>> [is_memory_store(u) for u in ("sqlite:///mlflow.db", "sqlite:////tmp/m.db", "http://h:5000")]
        [False, False, False]
    """
    match = re.match(r"^sqlite(\+\w+)?://(?P<rest>.*)$", tracking_uri.strip(), re.IGNORECASE)
    if match is None:
        return False
    path, _, query = match["rest"].partition("?")
    path = path[1:] if path.startswith("/") else path
    return path in ("", ":memory:") or path.startswith("file::memory:") or "mode=memory" in query


def resolve_tracking_uri(configured: str | None) -> str:
    """Choose the tracking URI: the configured one, else ``$MLFLOW_TRACKING_URI``, else SQLite in the cwd.

    The fallback is ``sqlite:///<absolute cwd>/mlflow.db``, MLflow 3's own default, made absolute so that
    the run's hint and the sweep's jobs name one file. A relative URI such as ``sqlite:///mlflow.db`` is
    kept as given.

    Args:
        configured: ``tracking.tracking_uri`` from the config; ``None`` or blank for the default.

    Returns:
        The tracking URI to use.

    Example:
        >>> resolve_tracking_uri("http://127.0.0.1:5000")
        'http://127.0.0.1:5000'
        >>> resolve_tracking_uri(" sqlite:///mlflow.db ")
        'sqlite:///mlflow.db'
        >>> resolve_tracking_uri("") == resolve_tracking_uri(None)
        True
    """
    if configured is not None and configured.strip():
        return configured.strip()
    from_environment = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if from_environment:
        return from_environment
    return f"sqlite:///{Path.cwd().resolve().as_posix()}/mlflow.db"


@dataclass(frozen=True)
class TrackedRun:
    """Where a logged run lives.

    Attributes:
        run_id: MLflow run id.
        experiment_id: MLflow experiment id.
        tracking_uri: The store the run was written to.
        artifact_uri: The run's artifact root (``<cwd>/mlruns/<experiment id>/<run id>/artifacts`` for SQLite).

    Example:
        >>> run = TrackedRun("ab12", "3", "sqlite:////tmp/lab/mlflow.db", "/tmp/lab/mlruns/3/ab12/artifacts")
        >>> run.ui_hint.split("  # ")  # doctest: +NORMALIZE_WHITESPACE
        ['mlflow ui --backend-store-uri sqlite:////tmp/lab/mlflow.db',
         'then open http://127.0.0.1:5000/#/experiments/3/runs/ab12']
        >>> TrackedRun("ab12", "3", "http://mlflow.lab:5000/", "mlflow-artifacts:/3/ab12/artifacts").ui_hint
        'http://mlflow.lab:5000/#/experiments/3/runs/ab12'
    """

    run_id: str
    experiment_id: str
    tracking_uri: str
    artifact_uri: str

    @property
    def run_path(self) -> str:
        """The run's page in the MLflow UI, relative to the UI's address (``#/experiments/<id>/runs/<id>``).

        Example:
            >>> TrackedRun("ab12", "3", "sqlite:///mlflow.db", "mlruns/3/ab12/artifacts").run_path
            '#/experiments/3/runs/ab12'
        """
        return f"#/experiments/{self.experiment_id}/runs/{self.run_id}"

    @property
    def ui_hint(self) -> str:
        """How to look at the run: its URL for a tracking server, the ``mlflow ui`` command for a database.

        The password of the tracking URI is masked; another store is named as it is.

        Example:
            >>> TrackedRun("ab12", "3", "https://alice:s3cret@mlflow.lab", "mlflow-artifacts:/3/ab12").ui_hint
            'https://alice:***@mlflow.lab/#/experiments/3/runs/ab12'
            >>> TrackedRun("ab12", "3", "file:///lab/mlruns", "/lab/mlruns/3/ab12/artifacts").ui_hint
            'run ab12 of experiment 3 in file:///lab/mlruns'
        """
        uri = mask_credentials(self.tracking_uri)
        scheme = uri.split(":", 1)[0].split("+", 1)[0].lower()
        if scheme in ("http", "https"):
            return f"{uri.rstrip('/')}/{self.run_path}"
        if scheme in _DATABASE_SCHEMES:
            return (
                f"mlflow ui --backend-store-uri {shlex.quote(uri)}  # then open http://127.0.0.1:5000/{self.run_path}"
            )
        return f"run {self.run_id} of experiment {self.experiment_id} in {uri}"


def log_run(
    *,
    tracking_uri: str,
    experiment_name: str,
    run_name: str | None,
    params: Mapping[str, str],
    tags: Mapping[str, str],
    metrics: Mapping[str, float],
    series: Mapping[str, np.ndarray | tuple[np.ndarray, np.ndarray]] | None = None,
    artifacts: Sequence[Path] = (),
    artifact_dirs: Mapping[str, Path] | None = None,
    parent_run_id: str | None = None,
    status: str = "FINISHED",
) -> TrackedRun:
    """Log one finished job as one MLflow run, creating the experiment if it does not exist.

    The inputs are checked before the store is touched, so a bad key or a missing file creates no run. Then the
    run is created (a child of ``parent_run_id`` through the ``mlflow.parentRunId`` tag), and params, tags and
    metrics are logged in batches within MLflow's limits (100 params or tags, 1000 metrics per call; params cut
    to 6000 characters, tags to 8000). A metric that is NaN or infinite is not logged; its name goes to the tag
    ``skipped_metrics`` (comma-separated), as does the name of a series with non-finite steps, which are left
    out. Each series is a metric history stepped by index (``equity`` at step = bar). Files in ``artifacts``
    go to the artifact root, each folder of ``artifact_dirs`` under its key. The run ends FINISHED. If the
    store fails once the run exists (an artifact folder that cannot be written, a database that fails midway),
    the run is ended FAILED and tagged ``tracking_error``, and a :class:`PartialRunError` says what the run holds
    and what is missing.

    Credentials in the run name and in param and tag values are masked
    (:func:`~framework.tracking.credentials.mask_credentials`) before they are sent.

    A new experiment gets MLflow's default artifact location: for a SQLite store, ``./mlruns/<experiment id>``
    under the working directory of the first process that opened the store.

    Args:
        tracking_uri: Store URI (see :func:`resolve_tracking_uri`).
        experiment_name: MLflow experiment; created if missing.
        run_name: Run name shown in the UI; ``None`` lets MLflow pick one.
        params: Param key to value (see :func:`~framework.tracking.params.flatten_params`).
        tags: Tag key to value.
        metrics: Metric key (``test/sharpe``) to value.
        series: Metric key to a 1-D array logged as a history stepped by index, or to ``(steps, values)``
            (see :func:`sample_series`).
        artifacts: Files logged at the artifact root.
        artifact_dirs: Artifact folder name to local folder, e.g. ``{".hydra": output_dir / ".hydra"}``.
        parent_run_id: The sweep's parent run, or ``None`` for a top-level run.
        status: How the run ends: ``FINISHED``, or ``FAILED`` / ``KILLED`` for a job that failed or was stopped
            (logged with what it has).

    Returns:
        The logged run.

    Raises:
        PartialRunError: The run was created but the store failed before everything was logged.
        TrackingError: A key MLflow would refuse, a value that is not a number, a series that is not 1-D, a
            missing artifact, a deleted experiment, an in-memory SQLite store, a missing database driver, or a
            store that cannot be reached or written; the message names the store URI and the cause on one line.

    Example:
        Not run here: the first use of a SQLite store creates its tables (about 1.3 s), too slow for a doctest;
        ``tests/tracking/test_mlflow_store.py`` runs the same calls against a real store.

        >>> run = log_run(  # doctest: +SKIP
        ...     tracking_uri="sqlite:///mlflow.db", experiment_name="portfolio-lab", run_name="ma_crossover",
        ...     params={"strategy.short_window": "20"}, tags={"strategy": "ma_crossover"},
        ...     metrics={"test/sharpe": 1.2, "test/sortino": float("nan")},
        ...     series={"equity": np.array([1.0, 1.01, 1.03])}, artifact_dirs={".hydra": Path("outputs/.hydra")})
        >>> run.ui_hint  # doctest: +SKIP
        'mlflow ui --backend-store-uri sqlite:///mlflow.db  # then open http://127.0.0.1:5000/#/experiments/1/runs/...'
    """
    if status not in _RUN_STATUSES:
        raise ValueError(f"run status must be one of {', '.join(_RUN_STATUSES)}; got {status!r}")
    param_values = {
        _checked_key("param", key): mask_credentials(str(value))[:_MAX_PARAM_VALUE_LENGTH]
        for key, value in params.items()
    }
    tag_values = _checked_tags(tags)
    finite_metrics, skipped = _checked_metrics(metrics)
    histories = {_checked_key("series", key): _checked_series(key, values) for key, values in (series or {}).items()}
    skipped += [key for key, (_, values) in histories.items() if not np.isfinite(values).all()]
    if skipped:
        tag_values["skipped_metrics"] = ",".join(skipped)[:_MAX_TAG_VALUE_LENGTH]
    files = [_checked_path(Path(path), "file") for path in artifacts]
    folders = {
        _checked_artifact_path(key): _checked_path(Path(path), "folder") for key, path in (artifact_dirs or {}).items()
    }

    action = f"log a run to experiment {experiment_name!r}"
    with _open_store(tracking_uri, action) as client:
        run = _start_run(client, tracking_uri, experiment_name, run_name, parent_run_id)
        logged: list[str] = []
        part = "params and tags"
        try:
            _log_batches(client, run.run_id, params=param_values, tags=tag_values)
            logged.append(part)
            part = "metrics"
            _log_metrics(client, run.run_id, finite_metrics, histories)
            logged.append(part)
            part = f"artifacts (to {run.artifact_uri})"
            for file in files:
                client.log_artifact(run.run_id, str(file))
            for artifact_path, folder in folders.items():
                client.log_artifacts(run.run_id, str(folder), artifact_path=artifact_path or None)
        except Exception as error:
            if not _is_store_error(error):
                _end_failed(client, run.run_id, mask_credentials(f"{type(error).__name__}: {error}"))
                raise
            holds = ("at most part of its params and tags", "its params and tags", "its params, tags and metrics")[
                len(logged)
            ]
            message = mask_credentials(
                f"MLflow tracking store {tracking_uri}: cannot {action} completely: run {run.run_id} holds {holds}, "
                f"but its {part} could not be written: {_cause(error)}; the run is marked FAILED"
            )
            _end_failed(client, run.run_id, message)
            raise PartialRunError(message, run) from error
        except BaseException:
            _end_failed(client, run.run_id, "interrupted")
            raise
        client.set_terminated(run.run_id, status)
    return run


def log_to_run(
    *,
    tracking_uri: str,
    run_id: str,
    params: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    metrics: Mapping[str, float] | None = None,
    artifacts: Sequence[Path] = (),
) -> None:
    """Add params, tags, metrics and files to an existing run (a sweep's parent, before it ends).

    Checked as in :func:`log_run`: a key MLflow would refuse or a missing file fails before the store is touched;
    NaN metrics are skipped.

    Args:
        tracking_uri: The store the run is in.
        run_id: The run.
        params: Param key to value (a param already logged with another value is an error in MLflow).
        tags: Tag key to value.
        metrics: Metric key to value.
        artifacts: Files logged at the artifact root.

    Raises:
        TrackingError: A refused key, a missing file, or a store that cannot be reached or written.

    Example:
        >>> log_to_run(tracking_uri="sqlite:///mlflow.db", run_id="ab12", tags={"bad key!": "x"})
        Traceback (most recent call last):
        ...
        framework.core.errors.TrackingError: tag key 'bad key!' is not valid in MLflow: use at most 250 letters, \
digits, spaces and '_-.:/', not starting or ending with '/' and without '//', '.' or '..' path segments
    """
    param_values = {
        _checked_key("param", key): mask_credentials(str(value))[:_MAX_PARAM_VALUE_LENGTH]
        for key, value in (params or {}).items()
    }
    tag_values = _checked_tags(tags or {})
    finite_metrics, _ = _checked_metrics(metrics or {})
    files = [_checked_path(Path(path), "file") for path in artifacts]
    with _open_store(tracking_uri, f"log to run {run_id}") as client:
        _log_batches(client, run_id, params=param_values, tags=tag_values)
        _log_metrics(client, run_id, finite_metrics, {})
        for file in files:
            client.log_artifact(run_id, str(file))


def start_run(
    *,
    tracking_uri: str,
    experiment_name: str,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
    parent_run_id: str | None = None,
) -> TrackedRun:
    """Create a run that stays RUNNING until :func:`end_run`, such as a sweep's parent run.

    Args:
        tracking_uri: Store URI (see :func:`resolve_tracking_uri`).
        experiment_name: MLflow experiment; created if missing.
        run_name: Run name shown in the UI; ``None`` lets MLflow pick one.
        tags: Tag key to value.
        parent_run_id: A parent run, or ``None`` for a top-level run.

    Returns:
        The created run.

    Raises:
        TrackingError: A tag key MLflow would refuse, a deleted experiment, or a store that cannot be reached or
            written.

    Example:
        Not run here, for the reason given in :func:`log_run`.

        >>> parent = start_run(tracking_uri="sqlite:///mlflow.db", experiment_name="portfolio-lab",
        ...                    run_name="sweep multirun/2026-11-24/10-12-33")  # doctest: +SKIP
        >>> end_run(tracking_uri=parent.tracking_uri, run_id=parent.run_id)  # doctest: +SKIP
    """
    tag_values = _checked_tags(tags or {})
    with _open_store(tracking_uri, f"start a run in experiment {experiment_name!r}") as client:
        run = _start_run(client, tracking_uri, experiment_name, run_name, parent_run_id)
        try:
            _log_batches(client, run.run_id, params={}, tags=tag_values)
        except BaseException as error:
            _end_failed(client, run.run_id, mask_credentials(f"{type(error).__name__}: {error}"))
            raise
    return run


def end_run(*, tracking_uri: str, run_id: str, status: str = "FINISHED") -> None:
    """End a run created by :func:`start_run`.

    Args:
        tracking_uri: The store the run is in.
        run_id: The run to end.
        status: ``FINISHED``, ``FAILED`` or ``KILLED``.

    Raises:
        ValueError: ``status`` is not one of the three.
        TrackingError: The store cannot be reached or written, or has no such run.

    Example:
        >>> end_run(tracking_uri="sqlite:///mlflow.db", run_id="ab12", status="DONE")
        Traceback (most recent call last):
        ...
        ValueError: run status must be one of FINISHED, FAILED, KILLED; got 'DONE'
    """
    if status not in _RUN_STATUSES:
        raise ValueError(f"run status must be one of {', '.join(_RUN_STATUSES)}; got {status!r}")
    with _open_store(tracking_uri, f"end run {run_id}") as client:
        client.set_terminated(run_id, status)


def _start_run(
    client: MlflowClient, tracking_uri: str, experiment_name: str, run_name: str | None, parent_run_id: str | None
) -> TrackedRun:
    """Create a RUNNING run in ``experiment_name`` (created if missing); credentials in its name are masked."""
    experiment_id = _experiment_id(client, tracking_uri, experiment_name)
    system_tags = {"mlflow.parentRunId": parent_run_id} if parent_run_id else {}
    name = mask_credentials(run_name) if run_name is not None else None
    run = client.create_run(experiment_id, run_name=name, tags=system_tags)
    return TrackedRun(run.info.run_id, experiment_id, tracking_uri, run.info.artifact_uri)


def _experiment_id(client: MlflowClient, tracking_uri: str, experiment_name: str) -> str:
    """The id of the active experiment ``experiment_name``, created with the default artifact location if missing."""
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        try:
            return str(client.create_experiment(experiment_name))
        except MlflowException as error:
            # Another process created it in between (only possible without the SQLite lock, e.g. on a server).
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            experiment = client.get_experiment_by_name(experiment_name)
            if experiment is None:
                raise
    if experiment.lifecycle_stage == "deleted":
        raise TrackingError(
            f"MLflow tracking store {mask_credentials(tracking_uri)}: experiment {experiment_name!r} "
            f"(id {experiment.experiment_id}) is deleted; restore it with `mlflow experiments restore "
            f"--experiment-id {experiment.experiment_id}` or choose another experiment_name"
        )
    return str(experiment.experiment_id)


def _end_failed(client: MlflowClient, run_id: str, reason: str) -> None:
    """End a run FAILED with the reason as its ``tracking_error`` tag, as far as the store still answers."""
    with contextlib.suppress(Exception):
        client.set_tag(run_id, "tracking_error", reason[:_MAX_TAG_VALUE_LENGTH])
    with contextlib.suppress(Exception):
        client.set_terminated(run_id, "FAILED")


def _checked_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Tag values as strings, credentials masked and cut to MLflow's limit; a key MLflow refuses raises."""
    return {
        _checked_key("tag", key): mask_credentials(str(value))[:_MAX_TAG_VALUE_LENGTH] for key, value in tags.items()
    }


def _log_batches(client: MlflowClient, run_id: str, *, params: Mapping[str, str], tags: Mapping[str, str]) -> None:
    """Log params and tags in batches of at most 100 each."""
    from mlflow.entities import Param, RunTag

    for param_batch in _chunks([Param(key, value) for key, value in params.items()], _PARAMS_PER_BATCH):
        client.log_batch(run_id, params=param_batch)
    for tag_batch in _chunks([RunTag(key, value) for key, value in tags.items()], _TAGS_PER_BATCH):
        client.log_batch(run_id, tags=tag_batch)


def _log_metrics(
    client: MlflowClient,
    run_id: str,
    metrics: Mapping[str, float],
    histories: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    """Log scalar metrics at step 0 and each history at its finite steps, in batches of at most 1000."""
    from mlflow.entities import Metric

    timestamp = int(time.time() * 1000)
    entries = [Metric(key, value, timestamp, 0) for key, value in metrics.items()]
    for key, (steps, values) in histories.items():
        finite = np.isfinite(values)
        entries += [
            Metric(key, value, timestamp, step)
            for step, value in zip(steps[finite].tolist(), values[finite].tolist(), strict=True)
        ]
    for metric_batch in _chunks(entries, _METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=metric_batch)


def _chunks(items: Sequence[_T], size: int) -> Iterable[Sequence[_T]]:
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    return (items[start : start + size] for start in range(0, len(items), size))


def _checked_key(kind: str, key: str) -> str:
    """``key`` if MLflow accepts it as a param, metric or tag key, else a TrackingError naming it."""
    if (
        not isinstance(key, str)
        or len(key) > _MAX_KEY_LENGTH
        or not _VALID_KEY.match(key)
        or posixpath.normpath(key) != key
        or key.startswith("/")
    ):
        raise TrackingError(
            f"{kind} key {key!r} is not valid in MLflow: use at most {_MAX_KEY_LENGTH} letters, digits, spaces "
            "and '_-.:/', not starting or ending with '/' and without '//', '.' or '..' path segments"
        )
    return key


def _checked_metrics(metrics: Mapping[str, float]) -> tuple[dict[str, float], list[str]]:
    """The finite metrics as floats, and the names of the non-finite ones."""
    finite: dict[str, float] = {}
    skipped: list[str] = []
    for key, value in metrics.items():
        _checked_key("metric", key)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TrackingError(f"metric {key!r}: {value!r} is not a number") from None
        if math.isfinite(number):
            finite[key] = number
        else:
            skipped.append(key)
    return finite, skipped


def _checked_series(key: str, values: Any) -> tuple[np.ndarray, np.ndarray]:
    """``values`` (an array stepped by index, or ``(steps, values)``) as steps and floats, or a TrackingError."""
    steps = None
    if isinstance(values, tuple) and len(values) == 2:
        steps, values = values
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TrackingError(f"series {key!r}: values are not numbers") from None
    if array.ndim != 1:
        raise TrackingError(f"series {key!r}: expected a 1-D array (one value per bar), got shape {array.shape}")
    index = np.arange(array.size) if steps is None else np.asarray(steps, dtype=np.int64)
    if index.shape != array.shape:
        raise TrackingError(f"series {key!r}: {index.size} steps for {array.size} values")
    return index, array


def sample_series(values: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points of a series for MLflow's charts: evenly spaced steps, the last included.

    The full series belongs in an artifact; a chart needs a few hundred points, and each logged step costs a
    database row.

    Args:
        values: Shape (days,).
        max_points: Most points kept, >= 2.

    Returns:
        ``(steps, values)``: the bar of each point kept and its value.

    Example:
        >>> steps, kept = sample_series(np.arange(10.0), 4)
        >>> steps.tolist(), kept.tolist()
        ([0, 3, 6, 9], [0.0, 3.0, 6.0, 9.0])
    """
    values = np.asarray(values, dtype=float)
    if values.size <= max_points:
        return np.arange(values.size), values
    steps = np.unique(np.linspace(0, values.size - 1, max_points).round().astype(np.int64))
    return steps, values[steps]


def _checked_artifact_path(artifact_path: str) -> str:
    """``artifact_path`` if it is a folder inside the run's artifacts (``""`` for the root), else a TrackingError."""
    if artifact_path and (
        posixpath.normpath(artifact_path) != artifact_path
        or artifact_path.startswith("/")
        or artifact_path.split("/", 1)[0] in (".", "..")
    ):
        raise TrackingError(f"artifact folder {artifact_path!r} must be a relative path inside the run's artifacts")
    return artifact_path


def _checked_path(path: Path, kind: str) -> Path:
    """``path`` if it is an existing file (``kind="file"``) or folder, else a TrackingError naming it."""
    if not (path.is_file() if kind == "file" else path.is_dir()):
        raise TrackingError(f"artifact {kind} {str(path)!r} does not exist")
    return path


def warm_up(tracking_uri: str) -> None:
    """Import MLflow and open the store once (creating its tables if needed), so the next run logs at once.

    Failures are left for the run that follows to report: a store that cannot be reached now may be later.

    Args:
        tracking_uri: The store.

    Example:
        >>> warm_up("sqlite:///:memory:")  # refused stores are left to the run, which says why
    """
    try:
        with _open_store(tracking_uri, "open the store") as client:
            client.search_experiments(max_results=1)
    except TrackingError:
        pass


@contextlib.contextmanager
def _open_store(tracking_uri: str, action: str) -> Iterator[MlflowClient]:
    """A client for ``tracking_uri`` with fail-fast HTTP settings and the SQLite lock; store errors as TrackingError.

    MLflow is imported before the store's loggers are held back: importing it configures them.
    """
    if is_memory_store(tracking_uri):
        raise TrackingError(
            f"MLflow tracking store {tracking_uri}: cannot {action}: an in-memory SQLite database loses its runs when "
            "the process ends; use a file (sqlite:///mlflow.db), a database server or a tracking server"
        )
    from mlflow import MlflowClient

    with _held_store_logs(), _store_errors(tracking_uri, action), contextlib.ExitStack() as stack:
        database = _sqlite_database(tracking_uri)
        if database is not None:
            stack.enter_context(_sqlite_write_lock(database))
            _probe_sqlite(database)

        if tracking_uri.lower().startswith(("http://", "https://")):
            with _environ(_HTTP_PROBE_ENV, override=True):
                client = MlflowClient(tracking_uri=tracking_uri)
                client.search_experiments(max_results=1)
            stack.enter_context(_environ(_HTTP_LOGGING_ENV, override=False))
        else:
            client = MlflowClient(tracking_uri=tracking_uri)
        yield client


@contextlib.contextmanager
def _store_errors(tracking_uri: str, action: str) -> Iterator[None]:
    """Turn an error raised by the store into a one-line TrackingError naming the URI and the cause."""
    try:
        yield
    except TrackingError:
        raise
    except ImportError as error:
        scheme = tracking_uri.split(":", 1)[0].split("+", 1)[0].lower()
        if scheme not in _DATABASE_SCHEMES or scheme == "sqlite":
            raise
        module = error.name or "the driver"
        package = _DRIVER_PACKAGES.get(module.partition(".")[0], module)
        raise TrackingError(
            mask_credentials(
                f"MLflow tracking store {tracking_uri}: cannot {action}: the {scheme} driver '{module}' is not "
                f"installed; install it (pip install {package}) or name an installed driver in the URI "
                f"({scheme}+<driver>://...)"
            )
        ) from error
    except Exception as error:
        if not _is_store_error(error):
            raise
        raise TrackingError(
            mask_credentials(f"MLflow tracking store {tracking_uri}: cannot {action}: {_cause(error)}")
        ) from error


@contextlib.contextmanager
def _held_store_logs() -> Iterator[None]:
    """Hold back the records of the store's loggers; pass on their first lines if the block ends without error.

    Each logger of :data:`_STORE_LOGGERS`, and each descendant with its own handlers or not propagating, sends
    its records to one holding handler for the duration of the block; their handlers are restored after it.
    """
    held: list[logging.LogRecord] = []
    holder = _Holder(held)
    saved = []
    manager = logging.Logger.manager
    descendants = [
        logger
        for name, logger in list(manager.loggerDict.items())
        if isinstance(logger, logging.Logger) and name.partition(".")[0] in _STORE_LOGGERS
    ]
    for logger in {*(logging.getLogger(name) for name in _STORE_LOGGERS), *descendants}:
        if logger.name in _STORE_LOGGERS or logger.handlers or not logger.propagate:
            saved.append((logger, logger.handlers, logger.propagate))
            logger.handlers, logger.propagate = [holder], False
    succeeded = False
    try:
        yield
        succeeded = True
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers, logger.propagate = handlers, propagate
        for record in held if succeeded else []:
            lines = record.getMessage().strip().splitlines()
            record.msg, record.args = (lines[0] if lines else ""), ()
            record.exc_info, record.exc_text, record.stack_info = None, None, None
            logging.getLogger(record.name).handle(record)


class _Holder(logging.Handler):
    """A handler that keeps the records it is given."""

    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _is_store_error(error: BaseException) -> bool:
    """Whether ``error`` comes from the store (I/O, MLflow, SQLAlchemy, HTTP) rather than from a bug."""
    if isinstance(error, OSError):
        return True
    return any(cls.__module__.partition(".")[0] in _STORE_ERROR_PACKAGES for cls in type(error).__mro__)


def _cause(error: BaseException) -> str:
    """A short one-line cause: the OS error of a failed connection, the supported schemes of a bad URI, ..."""
    schemes = getattr(error, "supported_uri_schemes", None)
    if schemes is not None:
        return f"unsupported URI scheme; supported schemes: {', '.join(sorted(s for s in schemes if s))}"
    database_error = _database_error(error)
    if database_error is not None:  # not SQLAlchemy's statement, parameters and help link
        text = " ".join(str(database_error).split())
        return f"{type(database_error).__name__}: {text}" if text else type(database_error).__name__
    text = " ".join(str(error).split()) or type(error).__name__
    if not isinstance(error, OSError):  # an OSError's own text is short; others wrap it in a long story
        for pattern in (r"\[Errno -?\d+\][^'\"()]*", r"Read timed out", r"Connection to \S+ timed out"):
            found = re.search(pattern, text)
            if found is not None:
                return found.group(0).strip()
    return text if len(text) <= 300 else f"{text[:297]}..."


def _database_error(error: BaseException) -> BaseException | None:
    """The database driver's own error behind a SQLAlchemy error (``error.orig``), also one MLflow wrapped."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        original = getattr(current, "orig", None)
        if isinstance(original, BaseException):
            return original
        current = current.__cause__ or current.__context__
    return None


def _sqlite_database(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (relative to the cwd unless absolute), ``None`` otherwise."""
    match = _SQLITE_URI.match(tracking_uri)
    if match is None or match["path"] in ("", ":memory:"):
        return None
    return Path(match["path"])


def _probe_sqlite(database: Path) -> None:
    """Open the database once with sqlite3, so a bad path fails now rather than after MLflow's ~100 s of retries."""
    if database.exists() and not database.is_file():
        raise IsADirectoryError(f"{str(database)!r} is not a database file")
    connection = sqlite3.connect(database, timeout=_SQLITE_LOCK_TIMEOUT_S)
    try:
        connection.execute("PRAGMA schema_version").fetchone()
    finally:
        connection.close()


@contextlib.contextmanager
def _sqlite_write_lock(database: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<database>.lock`` so that one process at a time writes the database."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock; parallel jobs then need a tracking server
        yield
        return
    lock_path = database.with_name(f"{database.name}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as lock_file:
        deadline = time.monotonic() + _SQLITE_LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"another process held {str(lock_path)!r} for more than {_SQLITE_LOCK_TIMEOUT_S:.0f} s"
                    ) from None
                time.sleep(0.01)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


@contextlib.contextmanager
def _environ(values: Mapping[str, str], *, override: bool) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore the previous values."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if override or name not in os.environ:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous
