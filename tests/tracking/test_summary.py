"""A sweep's summary read from its folder: jobs ranked by the objective, failed ones kept, swept keys found."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from framework.tracking.summary import ERROR_FILE, JobOutcome, SweepSummary, metric_direction, read_jobs
from framework.tracking.sweep import SUMMARY_FILE, SUMMARY_PLOT, write_summary


def job(folder: Path, number: int, overrides: list[str], metrics: dict[str, float] | None = None,
        error: str | None = None) -> Path:  # fmt: skip
    path = folder / str(number)
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    if metrics is not None:
        (path / "metrics.json").write_text(json.dumps({"portfolio": "p", "metrics": metrics}))
    if error is not None:
        (path / ERROR_FILE).write_text(error)
    return path


class TestReadJobs:
    def test_finished_failed_stopped_and_missing_jobs(self, tmp_path: Path) -> None:
        job(tmp_path, 0, ["strategy.short_window=5", "seed=1"], {"val/sharpe": 0.4})
        job(tmp_path, 1, ["strategy.short_window=80", "seed=1"], error="FAILED\nConfigError: short_window: 80\n")
        job(tmp_path, 2, ["strategy.short_window=20", "seed=1"], error="KILLED\nstopped by SIGTERM\n")
        job(tmp_path, 10, ["strategy.short_window=30", "seed=1"])
        (tmp_path / "sweep_summary.csv").write_text("not a job")
        (tmp_path / ".hydra").mkdir()

        jobs = read_jobs(tmp_path)

        assert [(j.number, j.status) for j in jobs] == [(0, "FINISHED"), (1, "FAILED"), (2, "KILLED"), (10, "MISSING")]
        assert jobs[0].metrics == {"val/sharpe": 0.4} and jobs[0].overrides["strategy.short_window"] == "5"
        assert jobs[1].error == "ConfigError: short_window: 80"
        assert jobs[2].error == "stopped by SIGTERM"

    def test_quoted_and_appended_overrides_are_read_as_typed(self, tmp_path: Path) -> None:
        job(tmp_path, 0, ["+portfolio.strategies.rsi.window=7", "'strategy.expression=\"sign(close)\"'"], {})

        (read,) = read_jobs(tmp_path)

        assert read.overrides == {"portfolio.strategies.rsi.window": "7", "strategy.expression": '"sign(close)"'}

    def test_an_unreadable_metrics_file_is_a_failed_job(self, tmp_path: Path) -> None:
        path = job(tmp_path, 0, ["seed=1"])
        (path / "metrics.json").write_text("{not json")

        (read,) = read_jobs(tmp_path)

        assert read.status == "FAILED" and read.error.startswith("metrics.json:")


class TestRanking:
    def test_maximized_metric_best_first_and_unscored_jobs_last(self) -> None:
        jobs = [
            JobOutcome(0, Path("0"), {"w": "5", "seed": "1"}, {"val/sharpe": 0.1}, "FINISHED"),
            JobOutcome(1, Path("1"), {"w": "10", "seed": "1"}, {}, "FAILED", "boom"),
            JobOutcome(2, Path("2"), {"w": "20", "seed": "1"}, {"val/sharpe": 0.7}, "FINISHED"),
            JobOutcome(3, Path("3"), {"w": "40", "seed": "1"}, {"val/sharpe": math.nan}, "FINISHED"),
        ]

        summary = SweepSummary.of(jobs, "val/sharpe")

        assert [j.number for j in summary.jobs] == [2, 0, 1, 3]
        assert summary.best is jobs[2] and summary.swept == ["w"]  # seed is the same in every job
        assert [r["rank"] for r in summary.rows()] == [1, 2, None, None]
        assert [j.number for j in summary.failed] == [1]

    def test_a_metric_better_low_is_minimized(self) -> None:
        jobs = [JobOutcome(i, Path(str(i)), {"w": str(i)}, {"val/turnover": t}, "FINISHED")
                for i, t in enumerate([3.0, 1.0, 2.0])]  # fmt: skip

        summary = SweepSummary.of(jobs, "val/turnover")

        assert summary.direction == "minimize" and [j.number for j in summary.jobs] == [1, 2, 0]

    def test_ties_keep_job_order(self) -> None:
        jobs = [JobOutcome(i, Path(str(i)), {"w": str(i)}, {"val/sharpe": 0.5}, "FINISHED") for i in range(3)]
        assert [j.number for j in SweepSummary.of(jobs, "val/sharpe").jobs] == [0, 1, 2]

    @pytest.mark.parametrize(
        ("metric", "direction"),
        [("val/sharpe", "maximize"), ("test/cagr", "maximize"), ("full/max_drawdown", "maximize"),
         ("val/volatility", "minimize"), ("baseline/test/turnover", "minimize"), ("val/cost_borrow", "minimize"),
         ("test/slippage_bps", "minimize"), ("val/calmar", "maximize")],
    )  # fmt: skip
    def test_direction_follows_the_metric(self, metric: str, direction: str) -> None:
        assert metric_direction(metric) == direction


class TestWriteSummary:
    def test_writes_the_ranked_csv_and_the_plot(self, tmp_path: Path) -> None:
        job(tmp_path, 0, ["strategy.short_window=5"], {"val/sharpe": 0.2, "test/sharpe": 0.1, "full/cagr": 0.05})
        job(tmp_path, 1, ["strategy.short_window=20"], {"val/sharpe": 0.6, "test/sharpe": 0.3, "full/cagr": 0.07})
        job(tmp_path, 2, ["strategy.short_window=80"], error="FAILED\nConfigError: too long\n")

        summary = write_summary(tmp_path, "val/sharpe")

        assert summary is not None and summary.best is not None and summary.best.number == 1
        lines = (tmp_path / SUMMARY_FILE).read_text().splitlines()
        assert lines[0] == "rank,job,status,strategy.short_window,val/sharpe,test/sharpe,full/cagr"
        assert lines[1:] == ["1,1,FINISHED,20,0.6,0.3,0.07", "2,0,FINISHED,5,0.2,0.1,0.05", ",2,FAILED,80,,,"]
        assert (tmp_path / SUMMARY_PLOT).read_bytes()[:4] == b"\x89PNG"

    def test_an_empty_sweep_folder_has_no_summary(self, tmp_path: Path) -> None:
        assert write_summary(tmp_path, "val/sharpe") is None
        assert not (tmp_path / SUMMARY_FILE).exists()
