"""A sweep's summary: its jobs ranked by the objective, as a table printed, written and logged to the parent run.

Read from the sweep folder once the jobs are done, whatever launched them (basic, joblib, Ray, Optuna): each
job's folder holds ``metrics.json`` (a finished job), or ``error.txt`` (a job that failed or was stopped), and
Hydra's ``.hydra/overrides.yaml`` (the job's overrides). The swept parameters are the override keys whose value
differs between jobs.

The shape of :class:`SweepSummary`'s table (``sweep_summary.csv``), best job first::

    rank,job,status,portfolio.strategies.ma_crossover.short_window,val/sharpe,test/sharpe,full/cagr,...
    1,1,FINISHED,20,0.93,0.41,0.071,...
    2,0,FINISHED,10,0.55,0.12,0.048,...
    ,2,FAILED,30,,,,...
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Metrics shown beside the objective in the table (those a job has).
SHOWN_METRICS: tuple[str, ...] = (
    "val/sharpe",
    "test/sharpe",
    "full/sharpe",
    "full/cagr",
    "full/max_drawdown",
    "full/turnover",
)

#: The file a job writes into its folder when it fails or is stopped: status on the first line, then the error.
ERROR_FILE = "error.txt"


def metric_direction(metric: str) -> str:
    """Whether a metric is better high or low: ``maximize`` or ``minimize``.

    The direction of :func:`framework.config.resolvers.metric_direction`; a metric without one (exposure) or
    unknown to the runner ranks high first.

    Args:
        metric: A metric key such as ``val/sharpe`` or ``baseline/test/volatility``.

    Returns:
        ``minimize`` for volatility, turnover, trades, costs and the like; ``maximize`` otherwise (returns,
        ratios, drawdowns, which are negative).

    Example:
        >>> metric_direction("val/sharpe"), metric_direction("test/max_drawdown"), metric_direction("val/turnover")
        ('maximize', 'maximize', 'minimize')
        >>> metric_direction("full/cost_square_root_impact"), metric_direction("val/exposure")
        ('minimize', 'maximize')
    """
    from framework.config.resolvers import metric_direction as direction_of
    from framework.core.errors import ConfigError

    try:
        return direction_of(metric)
    except ConfigError:
        return "maximize"


@dataclass
class JobOutcome:
    """One job of a sweep, as its folder tells it.

    Attributes:
        number: Hydra's job number (its folder's name).
        folder: The job's output folder.
        overrides: Override key to value, as typed (``strategy.short_window`` -> ``"20"``).
        metrics: Metric key to value (empty for a job that did not finish).
        status: ``FINISHED``, ``FAILED`` or ``KILLED`` (or ``MISSING``: no result in the folder).
        error: Why the job did not finish, or "".

    Example:
        >>> JobOutcome(0, Path("multirun/0"), {"seed": "1"}, {"val/sharpe": 0.5}, "FINISHED").objective("val/sharpe")
        0.5
    """

    number: int
    folder: Path
    overrides: dict[str, str]
    metrics: dict[str, float]
    status: str
    error: str = ""

    def objective(self, metric: str) -> float:
        """The job's value of ``metric``; NaN when it has none.

        Args:
            metric: A metric key.

        Returns:
            The value, or NaN.

        Example:
            >>> JobOutcome(1, Path("1"), {}, {}, "FAILED", "boom").objective("val/sharpe")
            nan
        """
        value = self.metrics.get(metric)
        return float(value) if isinstance(value, (int, float)) else math.nan


def read_jobs(sweep_dir: Path) -> list[JobOutcome]:
    """Every job folder of a sweep, in job order.

    Args:
        sweep_dir: The sweep folder (``hydra.sweep.dir``), whose numbered sub-folders are the jobs.

    Returns:
        One :class:`JobOutcome` per numbered folder.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     job = Path(folder) / "0"
        ...     (job / ".hydra").mkdir(parents=True)
        ...     _ = (job / ".hydra" / "overrides.yaml").write_text("- strategy.short_window=20" + chr(10))
        ...     _ = (job / "metrics.json").write_text('{"metrics": {"val/sharpe": 0.7}}')
        ...     read_jobs(Path(folder))[0].overrides, read_jobs(Path(folder))[0].status
        ({'strategy.short_window': '20'}, 'FINISHED')
    """
    jobs = []
    folders = [f for f in Path(sweep_dir).iterdir() if f.is_dir() and f.name.isdigit()]
    for folder in sorted(folders, key=lambda f: int(f.name)):
        overrides = _read_overrides(folder / ".hydra" / "overrides.yaml")
        metrics_file, error_file = folder / "metrics.json", folder / ERROR_FILE
        if metrics_file.is_file():
            try:
                metrics = json.loads(metrics_file.read_text(encoding="utf-8")).get("metrics", {})
            except (OSError, ValueError) as unreadable:
                reason = f"metrics.json: {unreadable}"
                jobs.append(JobOutcome(int(folder.name), folder, overrides, {}, "FAILED", reason))
                continue
            jobs.append(JobOutcome(int(folder.name), folder, overrides, dict(metrics), "FINISHED"))
        elif error_file.is_file():
            status, _, message = error_file.read_text(encoding="utf-8").partition("\n")
            status = status.strip() or "FAILED"
            jobs.append(JobOutcome(int(folder.name), folder, overrides, {}, status, message.strip()))
        else:
            jobs.append(JobOutcome(int(folder.name), folder, overrides, {}, "MISSING", "no result in the job folder"))
    return jobs


def _read_overrides(path: Path) -> dict[str, str]:
    """Hydra's ``overrides.yaml`` of a job as key -> value (a list of ``key=value`` lines)."""
    overrides: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return overrides
    for line in lines:
        text = line.strip()
        if not text.startswith("- "):
            continue
        text = text[2:].strip()
        if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
            text = text[1:-1]
        key, _, value = text.partition("=")
        overrides[key.lstrip("+~")] = value
    return overrides


@dataclass
class SweepSummary:
    """The jobs of a sweep ranked by the objective.

    Attributes:
        metric: The objective (``optimized_metric``).
        direction: ``maximize`` or ``minimize``.
        jobs: Every job, best first; jobs without a value of the objective last, in job order.
        swept: The override keys whose value differs between jobs.
        metrics: The metric columns of the table (the objective first).

    Example:
        >>> jobs = [JobOutcome(0, Path("0"), {"w": "10"}, {"val/sharpe": 0.2}, "FINISHED"),
        ...         JobOutcome(1, Path("1"), {"w": "20"}, {"val/sharpe": 0.9}, "FINISHED"),
        ...         JobOutcome(2, Path("2"), {"w": "30"}, {}, "FAILED", "ConfigError: w: too long")]
        >>> summary = SweepSummary.of(jobs, "val/sharpe")
        >>> [job.number for job in summary.jobs], summary.best.overrides, summary.swept
        ([1, 0, 2], {'w': '20'}, ['w'])
        >>> print(summary.table())
        rank  job  status    w   val/sharpe
        -----------------------------------
           1    1  FINISHED  20      0.9000
           2    0  FINISHED  10      0.2000
                2  FAILED    30
    """

    metric: str
    direction: str
    jobs: list[JobOutcome]
    swept: list[str]
    metrics: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, jobs: list[JobOutcome], metric: str, direction: str | None = None) -> SweepSummary:
        """Rank ``jobs`` by ``metric`` in its direction.

        Args:
            jobs: The sweep's jobs (see :func:`read_jobs`).
            metric: The objective.
            direction: ``maximize`` or ``minimize``; None for the metric's own (see :func:`metric_direction`).

        Returns:
            The summary.

        Example:
            >>> SweepSummary.of([], "val/sharpe").best is None
            True
        """
        direction = direction if direction in ("maximize", "minimize") else metric_direction(metric)
        sign = -1.0 if direction == "maximize" else 1.0
        scored = [job for job in jobs if math.isfinite(job.objective(metric))]
        rest = [job for job in jobs if not math.isfinite(job.objective(metric))]
        ranked = sorted(scored, key=lambda job: (sign * job.objective(metric), job.number)) + rest
        keys: list[str] = []
        for job in jobs:
            keys += [key for key in job.overrides if key not in keys]
        swept = [key for key in keys if len({job.overrides.get(key) for job in jobs}) > 1]
        present = {key for job in jobs for key in job.metrics}
        metrics = [metric, *(m for m in SHOWN_METRICS if m != metric and m in present)]
        return cls(metric, direction, ranked, swept, metrics)

    @property
    def best(self) -> JobOutcome | None:
        """The best job with a value of the objective, or None.

        Example:
            >>> job = JobOutcome(0, Path("0"), {}, {"val/sharpe": 0.2}, "FINISHED")
            >>> SweepSummary.of([job], "val/sharpe").best is job
            True
        """
        if self.jobs and math.isfinite(self.jobs[0].objective(self.metric)):
            return self.jobs[0]
        return None

    @property
    def failed(self) -> list[JobOutcome]:
        """The jobs that did not finish.

        Example:
            >>> stopped = JobOutcome(0, Path("0"), {}, {}, "KILLED", "interrupted")
            >>> SweepSummary.of([stopped], "val/sharpe").failed[0].status
            'KILLED'
        """
        return [job for job in self.jobs if job.status != "FINISHED"]

    def rows(self) -> list[dict[str, Any]]:
        """The table as rows: rank (None for a job without an objective), job, status, swept keys, metrics.

        Returns:
            One mapping per job, best first.

        Example:
            >>> job = JobOutcome(0, Path("0"), {"w": "10"}, {"val/sharpe": 0.2}, "FINISHED")
            >>> SweepSummary.of([job], "val/sharpe").rows()
            [{'rank': 1, 'job': 0, 'status': 'FINISHED', 'val/sharpe': 0.2}]
        """
        rows = []
        for index, job in enumerate(self.jobs):
            scored = math.isfinite(job.objective(self.metric))
            row: dict[str, Any] = {"rank": index + 1 if scored else None, "job": job.number, "status": job.status}
            row.update({key: job.overrides.get(key) for key in self.swept})
            row.update({key: job.metrics.get(key) for key in self.metrics})
            rows.append(row)
        return rows

    def csv(self) -> str:
        """The table as CSV (empty cells for missing values).

        Returns:
            The CSV text, header first.

        Example:
            >>> job = JobOutcome(0, Path("0"), {"w": "10"}, {"val/sharpe": 0.25}, "FINISHED")
            >>> SweepSummary.of([job], "val/sharpe").csv().splitlines()
            ['rank,job,status,val/sharpe', '1,0,FINISHED,0.25']
        """
        rows = self.rows()
        columns = ["rank", "job", "status", *self.swept, *self.metrics]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else row[c] for c in columns])
        return out.getvalue()

    def table(self, limit: int = 20) -> str:
        """The table as aligned text for a terminal: the ``limit`` best jobs, then any that failed.

        Args:
            limit: Most ranked jobs shown.

        Returns:
            The text (no trailing newline).

        Example:
            >>> job = JobOutcome(0, Path("0"), {}, {"val/sharpe": 0.25}, "FINISHED")
            >>> print(SweepSummary.of([job], "val/sharpe").table())
            rank  job  status    val/sharpe
            -------------------------------
               1    0  FINISHED      0.2500
        """
        rows = self.rows()
        shown = [r for r in rows if r["rank"] is not None][:limit] + [r for r in rows if r["rank"] is None]
        columns = ["rank", "job", "status", *self.swept, *self.metrics]

        def cell(value: Any) -> str:
            if value is None:
                return ""
            if isinstance(value, float):
                return f"{value:.4f}" if math.isfinite(value) else "nan"
            return str(value)

        cells = [[cell(r[c]) for c in columns] for r in shown]
        widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
        numeric = [c in ("rank", "job") or c in self.metrics for c in columns]

        def line(values: list[str]) -> str:
            text = "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True))
            return text.rstrip()

        header = line(columns)
        return "\n".join([header, "-" * len(header), *(line(row) for row in cells)])
