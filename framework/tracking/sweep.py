"""A sweep's parent run: a Hydra callback opens it before the jobs start and ends it when they are done.

The callback runs in the process that launches the sweep; the jobs may run in other processes (joblib, Ray), so
the parent's run id is handed to them in a file in the sweep folder, read with :func:`sweep_parent_run_id`.
Tracking must never break a sweep: every failure of the callback is logged as a warning and the jobs are then
tracked as top-level runs.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from framework.tracking.credentials import mask_credentials_in_file
from framework.tracking.mlflow_store import TrackedRun, end_run, log_to_run, resolve_tracking_uri, start_run
from framework.tracking.summary import SweepSummary, read_jobs

PARENT_RUN_ID_FILE = "mlflow_parent_run_id"
#: The sweep's ranked table, written into the sweep folder and logged to the parent run.
SUMMARY_FILE = "sweep_summary.csv"
#: The objective against each swept parameter.
SUMMARY_PLOT = "sweep_objective.png"

#: Set when the process is stopped by SIGINT or SIGTERM (see ``framework.__main__``): runs end KILLED.
INTERRUPTED = threading.Event()

_log = logging.getLogger(__name__)


class MlflowSweepCallback(Callback):
    """Open an MLflow parent run for a Hydra multirun; each job logs its run as a child of it.

    The parent run is named ``sweep <hydra.sweep.dir>``, lives in ``experiment_name`` of the store
    ``tracking.tracking_uri`` (see :func:`~framework.tracking.mlflow_store.resolve_tracking_uri`), and has the
    tags ``sweep_dir`` (absolute) and ``sweep_overrides``. Its id is written to ``<sweep dir>/mlflow_parent_run_id``.
    It ends FINISHED when the sweep ends, or FAILED when the process exits before that (a job raised, which
    makes Hydra stop the sweep without calling ``on_multirun_end``). Nothing is tracked when ``tracking.enabled``
    is false. Either way, credentials in Hydra's ``multirun.yaml`` of the sweep folder are masked at the end
    (see :mod:`framework.tracking.credentials`); the parent run's tags are masked when logged.

    Registered in ``conf/config.yaml``::

        hydra:
          callbacks:
            mlflow_sweep:
              _target_: framework.tracking.MlflowSweepCallback

    Example:
        The callback reads only the composed config, so it can be driven without Hydra; with tracking disabled
        it touches no store:

        >>> import shutil, tempfile
        >>> sweep_dir = Path(tempfile.mkdtemp()) / "multirun"
        >>> config = OmegaConf.create({"experiment_name": "portfolio-lab", "tracking": {"enabled": False},
        ...                            "hydra": {"sweep": {"dir": str(sweep_dir)}}})
        >>> callback = MlflowSweepCallback()
        >>> callback.on_multirun_start(config)
        >>> callback.on_multirun_end(config)
        >>> callback.parent_run is None, sweep_parent_run_id(sweep_dir)
        (True, None)
        >>> shutil.rmtree(sweep_dir.parent)
    """

    def __init__(self) -> None:
        self.parent_run: TrackedRun | None = None
        self.sweep_dir: Path | None = None
        self.config: DictConfig | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Create the parent run and write its id into the sweep folder.

        Args:
            config: The composed config of the sweep, with its ``hydra`` node.
            **kwargs: Passed by Hydra (``config_name``); unused.

        Example:
            With tracking disabled, the callback only removes the id an earlier sweep left in the folder:

            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     _ = (Path(folder) / PARENT_RUN_ID_FILE).write_text("0f3c9a")
            ...     config = OmegaConf.create({"tracking": {"enabled": False}, "hydra": {"sweep": {"dir": folder}}})
            ...     callback = MlflowSweepCallback()
            ...     callback.on_multirun_start(config)
            ...     callback.on_multirun_end(config)
            ...     callback.parent_run, sweep_parent_run_id(folder)
            (None, None)
        """
        atexit.register(self._end_unfinished)  # unregistered by on_multirun_end
        self.config = config
        try:
            sweep_dir = self.sweep_dir = Path(str(config.hydra.sweep.dir))
            marker = sweep_dir / PARENT_RUN_ID_FILE
            marker.unlink(missing_ok=True)  # never hand the jobs the parent of an earlier sweep in this folder
            if not OmegaConf.select(config, "tracking.enabled", default=True):
                return
            overrides = OmegaConf.select(config, "hydra.overrides.task", default=None) or []
            sweep_dir.mkdir(parents=True, exist_ok=True)
            self.parent_run = start_run(
                tracking_uri=resolve_tracking_uri(OmegaConf.select(config, "tracking.tracking_uri", default=None)),
                experiment_name=str(OmegaConf.select(config, "experiment_name", default=None) or "Default"),
                run_name=f"sweep {sweep_dir}",
                tags={"sweep_dir": str(sweep_dir.resolve()), "sweep_overrides": " ".join(map(str, overrides))},
            )
            marker.write_text(f"{self.parent_run.run_id}\n", encoding="utf-8")
        except Exception as error:  # tracking must not break the sweep
            _log.warning("MLflow: no parent run for this sweep, jobs are logged as top-level runs: %s", error)
            self._end("FAILED")
            return
        _log.info("MLflow: sweep parent run %s", self.parent_run.ui_hint)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """End the parent run FINISHED, and mask credentials in the sweep's ``multirun.yaml``.

        Hydra writes ``multirun.yaml`` (the sweep's config and overrides) into the sweep folder once the
        callback has started; a password in ``tracking.tracking_uri`` is masked there as in each job's files.

        Args:
            config: The composed config of the sweep.
            **kwargs: Passed by Hydra (``config_name``); unused.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     config = OmegaConf.create({"tracking": {"enabled": False}, "hydra": {"sweep": {"dir": folder}}})
            ...     _ = (Path(folder) / "multirun.yaml").write_text("tracking_uri: http://alice:s3cret@mlflow.lab")
            ...     MlflowSweepCallback().on_multirun_end(config)
            ...     (Path(folder) / "multirun.yaml").read_text()
            'tracking_uri: http://alice:***@mlflow.lab'
        """
        atexit.unregister(self._end_unfinished)
        _finish_queued_runs()  # the jobs of the basic launcher handed their runs to this process's worker
        self._summarize(config)
        self._end("FINISHED")
        with contextlib.suppress(Exception):  # tracking must not break the sweep
            mask_credentials_in_file(Path(str(config.hydra.sweep.dir)) / "multirun.yaml")

    def _end_unfinished(self) -> None:
        """At exit before the sweep's end (a job failed, or the sweep was stopped): wrap up what ran.

        Summarize the jobs, end the parent run FAILED (KILLED when stopped by SIGINT or SIGTERM), and mask
        ``multirun.yaml``.
        """
        _finish_queued_runs()
        if self.config is not None:
            self._summarize(self.config)
        self._end("KILLED" if INTERRUPTED.is_set() else "FAILED")
        if self.sweep_dir is not None:
            with contextlib.suppress(Exception):
                mask_credentials_in_file(self.sweep_dir / "multirun.yaml")

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Note when a job starts, to say how long it took.

        Args:
            config: The job's config.
            **kwargs: Passed by Hydra (``task_function``); unused.

        Example:
            >>> callback = MlflowSweepCallback()
            >>> callback.on_job_start(OmegaConf.create({}))
            >>> callback.job_started > 0
            True
        """
        self.job_started = time.monotonic()

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        """On a terminal (``outputs.progress``), one line per job of a sweep: its status, objective and time.

        Args:
            config: The job's config.
            job_return: Hydra's ``JobReturn`` (status, return value, the job's number).
            **kwargs: Passed by Hydra; unused.

        Example:
            >>> from framework.core.progress import configure
            >>> _ = configure(True)
            >>> from hydra.core.utils import JobReturn, JobStatus
            >>> done = JobReturn(status=JobStatus.COMPLETED, _return_value=0.53)
            >>> config = OmegaConf.create({"optimized_metric": "val/sharpe", "hydra": {"job": {"num": 3},
            ...                                                                     "mode": "MULTIRUN"}})
            >>> MlflowSweepCallback().on_job_end(config, done)  # doctest: +ELLIPSIS
            sweep job 3 finished: val/sharpe = 0.5300 (... s)
            >>> _ = configure(False)
        """
        from framework.core.progress import enabled

        if not enabled() or str(OmegaConf.select(config, "hydra.mode", default="")) != "MULTIRUN":
            return
        number = OmegaConf.select(config, "hydra.job.num", default="?")
        took = time.monotonic() - getattr(self, "job_started", time.monotonic())
        status = str(getattr(getattr(job_return, "status", None), "name", ""))
        if status == "COMPLETED":
            metric = OmegaConf.select(config, "optimized_metric", default="objective")
            print(f"sweep job {number} finished: {metric} = {float(job_return.return_value):.4f} ({took:.1f} s)")
        else:
            print(f"sweep job {number} failed after {took:.1f} s")

    def _summarize(self, config: DictConfig) -> None:
        """Rank the jobs by the objective: print the table, write it and the plot, log them to the parent run."""
        if self.sweep_dir is None or not self.sweep_dir.is_dir():
            return
        try:
            metric = str(OmegaConf.select(config, "optimized_metric", default="val/sharpe"))
            plot = bool(OmegaConf.select(config, "outputs.plot", default=True))
            summary = write_summary(self.sweep_dir, metric, plot, _sweeper_direction(config))
        except Exception as error:  # the summary must not break the sweep
            _log.warning("sweep summary: %s", error)
            return
        if summary is None:
            return
        print(f"\nsweep {self.sweep_dir}: {len(summary.jobs)} jobs, {len(summary.failed)} not finished; "
              f"ranked by {summary.metric} ({summary.direction})")  # fmt: skip
        print(summary.table())
        for job in summary.failed:
            print(f"job {job.number} {job.status}: {job.error.splitlines()[0] if job.error else ''}")
        print(f"summary: {self.sweep_dir / SUMMARY_FILE}")
        parent = self.parent_run
        if parent is None:
            return
        best = summary.best
        files = [self.sweep_dir / name for name in (SUMMARY_FILE, SUMMARY_PLOT) if (self.sweep_dir / name).is_file()]
        try:
            tags = {"optimized_metric": summary.metric, "direction": summary.direction}
            metrics = {"jobs": float(len(summary.jobs)), "jobs_failed": float(len(summary.failed))}
            params: dict[str, str] = {}
            if best is not None:  # the best job's swept parameters (all its overrides when nothing varied)
                params = {f"best.{key}": best.overrides[key] for key in summary.swept or best.overrides}
                tags.update(best_job=str(best.number), best_output_dir=str(best.folder.resolve()))
                metrics.update({f"best/{key}": value for key, value in best.metrics.items()})
            log_to_run(
                tracking_uri=parent.tracking_uri,
                run_id=parent.run_id,
                params=params,
                tags=tags,
                metrics=metrics,
                artifacts=files,
            )
        except Exception as error:  # tracking must not break the sweep
            _log.warning("MLflow: cannot log the sweep summary to the parent run %s: %s", parent.run_id, error)

    def _end(self, status: str) -> None:
        """End the parent run, if any, with ``status``; a failure is only a warning."""
        parent, self.parent_run = self.parent_run, None
        if parent is None:
            return
        try:
            end_run(tracking_uri=parent.tracking_uri, run_id=parent.run_id, status=status)
        except Exception as error:  # tracking must not break the sweep
            _log.warning("MLflow: cannot end the sweep parent run %s: %s", parent.run_id, error)


def write_summary(sweep_dir: Path, metric: str, plot: bool = True, direction: str | None = None) -> SweepSummary | None:
    """Rank a sweep's jobs and write ``sweep_summary.csv`` (and ``sweep_objective.png``) into its folder.

    Args:
        sweep_dir: The sweep folder.
        metric: The objective.
        plot: Also draw the objective against each swept parameter.
        direction: ``maximize`` or ``minimize`` (a sweeper's), or None for the metric's own.

    Returns:
        The summary, or None when the folder holds no job.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     for number, sharpe in ((0, 0.4), (1, 0.6)):
        ...         job = Path(folder) / str(number)
        ...         (job / ".hydra").mkdir(parents=True)
        ...         _ = (job / ".hydra" / "overrides.yaml").write_text(f"- seed={number}" + chr(10))
        ...         _ = (job / "metrics.json").write_text(f'{{"metrics": {{"val/sharpe": {sharpe}}}}}')
        ...     summary = write_summary(Path(folder), "val/sharpe", plot=False)
        ...     (Path(folder) / SUMMARY_FILE).read_text().splitlines()
        ['rank,job,status,seed,val/sharpe', '1,1,FINISHED,1,0.6', '2,0,FINISHED,0,0.4']
    """
    jobs = read_jobs(sweep_dir)
    if not jobs:
        return None
    summary = SweepSummary.of(jobs, metric, direction)
    (sweep_dir / SUMMARY_FILE).write_text(summary.csv(), encoding="utf-8")
    scored = [job for job in jobs if job.status == "FINISHED"]
    if plot and scored:
        from framework.benchmark.plots import plot_sweep

        swept = {key: [job.overrides.get(key, "") for job in jobs] for key in summary.swept}
        best = jobs.index(summary.best) if summary.best is not None else None
        plot_sweep(metric, swept, [job.objective(metric) for job in jobs], best, sweep_dir / SUMMARY_PLOT)
    return summary


def _sweeper_direction(config: DictConfig) -> str | None:
    """The direction a sweeper was told (Optuna's ``hydra.sweeper.direction``), when it is one string."""
    try:
        direction = OmegaConf.select(config, "hydra.sweeper.direction", default=None)
    except Exception:  # noqa: BLE001 - an interpolation that does not resolve here: the metric's own direction
        return None
    return str(direction) if direction in ("maximize", "minimize") else None


def _finish_queued_runs() -> None:
    """Wait for the runs the sweep's jobs handed to the tracking worker of this process; say what became of each."""
    from framework.tracking.worker import drain_workers

    for outcome in drain_workers():
        outcome.report()


def sweep_parent_run_id(sweep_dir: str | Path) -> str | None:
    """The parent run id that :class:`MlflowSweepCallback` wrote into a sweep folder, if any.

    Args:
        sweep_dir: The sweep folder (``HydraConfig.get().sweep.dir`` in a job).

    Returns:
        The run id, or ``None`` when the sweep has no parent run (tracking off or failed, or not a sweep).

    Example:
        >>> import shutil, tempfile
        >>> sweep_dir = Path(tempfile.mkdtemp())
        >>> print(sweep_parent_run_id(sweep_dir))
        None
        >>> _ = (sweep_dir / PARENT_RUN_ID_FILE).write_text("0f3c9a" + chr(10))
        >>> sweep_parent_run_id(sweep_dir)
        '0f3c9a'
        >>> shutil.rmtree(sweep_dir)
    """
    with contextlib.suppress(OSError):
        return (Path(sweep_dir) / PARENT_RUN_ID_FILE).read_text(encoding="utf-8").strip() or None
    return None
