"""A tracking worker: a second process that owns MLflow and the plots, so that a job's work runs beside them.

Importing MLflow and opening its store take about 3 s, drawing the plot about 1 s, logging a run about 0.5 s:
more than the backtest itself. On a machine with two cores, a process forked when the job starts imports MLflow
and matplotlib and opens the store while the job loads its data and runs; the job then hands it the finished
run (the plot's inputs and what to log) and the worker draws and logs it.

A job that is alone (``python -m framework``) waits for its run to be logged and prints where it is. The jobs of
a sweep launched in this process (Hydra's basic launcher) hand their runs over and go on; the sweep's end (or
the process's exit) waits for the worker to finish them all, and reports any that could not be tracked. Every
request is answered in order; an error of one run never stops the worker.
"""

from __future__ import annotations

import atexit
import multiprocessing
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from framework.benchmark.plots import PlotInput


@dataclass
class Outcome:
    """What became of one run handed to the worker.

    Attributes:
        run_id: The MLflow run, or "" when it was not tracked.
        ui_hint: How to open it in the MLflow UI, or "".
        error: Why it was not tracked (in full or in part), or "".
        partial: Whether the run exists but holds only part of what was sent.
        experiment_name: The run's experiment.
        tracking_uri: The store.
        output_dir: The run's output folder, where every result is whatever became of the run ("" if unknown).

    Example:
        >>> done = Outcome("3f2c", "mlflow ui ...", "", False, "lab", "sqlite:///mlflow.db", "/tmp/out")
        >>> done.report()
        mlflow run 3f2c in experiment 'lab' at sqlite:///mlflow.db
        view it with: mlflow ui ...
    """

    run_id: str
    ui_hint: str
    error: str
    partial: bool
    experiment_name: str = ""
    tracking_uri: str = ""
    output_dir: str = ""

    def report(self) -> None:
        """Say where the run was logged, or, in one message on stderr, why it was not and where its files are.

        Example:
            >>> import sys
            >>> sys.stderr = sys.stdout  # to show it here
            >>> Outcome("", "", "store unreachable", False, "lab", "http://lab:pw@mlflow", "/tmp/out").report()
            warning: the run was not tracked: store unreachable
            nothing is lost: every result of this run is in /tmp/out
            >>> sys.stderr = sys.__stderr__
        """
        from framework.tracking.credentials import mask_credentials

        if self.error:
            state = "tracked only in part" if self.partial else "not tracked"
            where = f"every result of this run is in {self.output_dir}" if self.output_dir else "its files are on disk"
            print(f"warning: the run was {state}: {mask_credentials(self.error)}\nnothing is lost: {where}",
                  file=sys.stderr)  # fmt: skip
            return
        store = mask_credentials(self.tracking_uri)
        print(f"mlflow run {self.run_id} in experiment '{self.experiment_name}' at {store}")
        print(f"view it with: {self.ui_hint}")


class TrackingWorker:
    """The worker process and the requests waiting for an answer.

    Args:
        tracking_uri: The store the worker opens at once (to have it ready when the first run arrives).
        warm: Import MLflow and matplotlib and open the store as soon as the worker starts (False: on the first
            request).

    Example:
        A worker that is not warmed up starts at once; ``tests/tracking/test_worker.py`` logs real runs with it:

        >>> worker = TrackingWorker("sqlite:///mlflow.db", warm=False)
        >>> worker.alive, worker.pending
        (True, 0)
        >>> worker.close()
        >>> worker.alive
        False
    """

    def __init__(self, tracking_uri: str, warm: bool = True) -> None:
        context = multiprocessing.get_context("fork")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, tracking_uri, warm), daemon=True)
        self._process.start()
        child.close()
        self.tracking_uri = tracking_uri
        self.pending = 0

    @property
    def alive(self) -> bool:
        """Whether the worker process still runs.

        Example:
            >>> TrackingWorker.__new__(TrackingWorker).__dict__.get("pending") is None
            True
        """
        return self._process.is_alive()

    def submit(
        self, log: dict[str, Any], plot: PlotInput | None, plot_path: Path | None, output_dir: Path | None = None
    ) -> None:
        """Hand a finished run over: draw ``plot`` into ``plot_path`` (if given), then ``log_run(**log)``.

        Args:
            log: The keyword arguments of :func:`framework.tracking.log_run` (the plot is added to its artifacts),
                and optionally ``children``: a list of keyword arguments (``run_name``, ``params``, ``tags``,
                ``metrics``) of runs logged under it, in its store and experiment.
            plot: The plot's inputs, or None.
            plot_path: Where the PNG goes.
            output_dir: The run's output folder, named in its outcome.

        Example:
            A request the worker cannot log comes back as an outcome that says why:

            >>> worker = TrackingWorker("sqlite:///mlflow.db", warm=False)
            >>> worker.submit({"tracking_uri": "sqlite:///mlflow.db"}, None, None)
            >>> worker.pending
            1
            >>> worker.wait()[0].error
            "TypeError: log_run() missing 5 required keyword-only arguments: 'experiment_name', 'run_name', \
'params', 'tags', and 'metrics'"
            >>> worker.close()
        """
        where = str(output_dir.resolve()) if output_dir is not None else ""
        self._connection.send({"log": log, "plot": plot, "plot_path": plot_path, "output_dir": where})
        self.pending += 1

    def wait(self) -> list[Outcome]:
        """Wait for every run handed over so far; their outcomes, in the order they were handed over.

        Returns:
            One :class:`Outcome` per run.

        Example:
            >>> worker = TrackingWorker("sqlite:///mlflow.db", warm=False)
            >>> worker.wait()  # nothing handed over
            []
            >>> worker.close()
        """
        outcomes = []
        while self.pending:
            try:
                outcome = self._connection.recv()
            except (EOFError, OSError):  # the worker died (killed): what is left cannot be tracked
                outcome = Outcome("", "", "the tracking worker stopped before logging the run", False,
                                  tracking_uri=self.tracking_uri)  # fmt: skip
            outcomes.append(outcome)
            self.pending -= 1
        return outcomes

    def close(self) -> None:
        """Stop the worker once its queue is done.

        Example:
            >>> worker = TrackingWorker("sqlite:///mlflow.db", warm=False)
            >>> worker.close()
            >>> worker.alive
            False
        """
        if self._process.is_alive():
            try:
                self._connection.send(None)
            except (BrokenPipeError, OSError):
                pass
            self._process.join(timeout=30)


def _serve(connection: Connection, tracking_uri: str, warm: bool) -> None:
    """The worker's loop: warm up, then answer each request in order until None arrives."""
    import signal

    # The job's process decides when to stop (and logs a stopped run as KILLED); the worker finishes its queue.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from framework.tracking.mlflow_store import PartialRunError

    if warm:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401 - imported now, while the job runs

        from framework.tracking.mlflow_store import warm_up

        warm_up(tracking_uri)
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        if request is None:
            return
        connection.send(_handle(request, PartialRunError))


def _handle(request: dict[str, Any], partial_error: type) -> Outcome:
    """Draw and log one run; any failure becomes the outcome's error."""
    from framework.core.errors import TrackingError
    from framework.tracking.mlflow_store import log_run

    log = dict(request["log"])
    plot, plot_path = request["plot"], request["plot_path"]
    where = (str(log.get("experiment_name", "")), str(log.get("tracking_uri", "")), request.get("output_dir", ""))
    try:
        if plot is not None and plot_path is not None:
            from framework.benchmark.plots import plot_equity_drawdown

            plot_equity_drawdown(plot, Path(plot_path))
            log["artifacts"] = [*log.get("artifacts", ()), Path(plot_path)]
        run = _log_tree(log, log_run)
    except TrackingError as error:
        return Outcome("", "", str(error), isinstance(error, partial_error), *where)
    except Exception as error:  # noqa: BLE001 - the worker answers every request, whatever went wrong
        return Outcome("", "", f"{type(error).__name__}: {error}", False, *where)
    return Outcome(run.run_id, run.ui_hint, "", False, *where)


def _log_tree(log: dict[str, Any], log_run: Any) -> Any:
    """Log a run, then its ``children`` under it (a comparison's portfolios, a walk-forward's folds), depth first."""
    children = log.pop("children", None) or []
    run = log_run(**log)
    for child in children:
        child = dict(child)
        _log_tree({"tracking_uri": log["tracking_uri"], "experiment_name": log["experiment_name"],
                   "parent_run_id": run.run_id, **child}, log_run)  # fmt: skip
    return run


_WORKERS: dict[str, TrackingWorker] = {}


def tracking_worker(tracking_uri: str) -> TrackingWorker:
    """The process's worker for ``tracking_uri``, started on first use and stopped at exit.

    Args:
        tracking_uri: The store.

    Returns:
        The worker.

    Example:
        Not run here: it starts a process that imports MLflow.

        >>> tracking_worker("sqlite:///mlflow.db").alive  # doctest: +SKIP
        True
    """
    worker = _WORKERS.get(tracking_uri)
    if worker is None or not worker.alive:
        worker = TrackingWorker(tracking_uri)
        _WORKERS[tracking_uri] = worker
    return worker


def drain_workers() -> list[Outcome]:
    """Wait for every run handed to any worker of this process; their outcomes.

    Returns:
        One :class:`Outcome` per run handed over since the last wait, in order.

    Example:
        >>> drain_workers()  # no worker started in this process
        []
    """
    outcomes: list[Outcome] = []
    for worker in _WORKERS.values():
        outcomes += worker.wait()
    return outcomes


@atexit.register
def _stop_workers() -> None:
    """At exit: finish the runs still queued (a sweep that stopped early), say what became of them, stop."""
    for worker in _WORKERS.values():
        for outcome in worker.wait():
            outcome.report()
        worker.close()
