"""Sweeps as a user runs them: the ranked summary, a failed job's run, and SIGTERM ending runs as KILLED."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mlflow import MlflowClient

SHORT = ["data.start=2014-01-01", "data.end=2016-12-31"]


def environment(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"}
    env.pop("HYDRA_FULL_ERROR", None)
    return env


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "framework", *args], cwd=cwd, env=environment(cwd),
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def runs_of(tmp_path: Path, experiment: str) -> tuple[list[object], list[object]]:
    """(parents, children) of an experiment."""
    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return [r for r in runs if "mlflow.parentRunId" not in r.data.tags], children


class TestSweepSummary:
    def test_jobs_ranked_best_on_the_parent_and_a_failed_job_is_a_failed_run(self, tmp_path: Path) -> None:
        # short_window=60 >= long_window=50 of the portfolio's MA crossover: that job fails on its config.
        done = run_cli(["-m", "portfolio=plugin_example", "portfolio.strategies.ma_crossover.short_window=5,20,60",
                        *SHORT, "experiment_name=summary"], tmp_path)  # fmt: skip

        assert done.returncode == 2  # Hydra stops the sweep with the failed job's error, after all jobs ran
        assert "must be smaller than long_window" in done.stderr
        (sweep_dir,) = tmp_path.glob("multirun/*/*")
        rows = list(csv.DictReader((sweep_dir / "sweep_summary.csv").open()))
        key = "portfolio.strategies.ma_crossover.short_window"
        assert [(r["status"], r[key]) for r in rows][-1] == ("FAILED", "60")
        finished = rows[:2]
        assert [r["rank"] for r in finished] == ["1", "2"]
        assert float(finished[0]["val/sharpe"]) >= float(finished[1]["val/sharpe"])
        assert "ranked by val/sharpe (maximize)" in done.stdout and "job 2 FAILED: ConfigError" in done.stdout
        assert (sweep_dir / "sweep_objective.png").is_file()

        (parent,), children = runs_of(tmp_path, "summary")
        assert parent.info.status == "FAILED"
        assert parent.data.params == {f"best.{key}": finished[0][key]}
        assert parent.data.metrics["best/val/sharpe"] == float(finished[0]["val/sharpe"])
        assert parent.data.metrics["jobs"] == 3 and parent.data.metrics["jobs_failed"] == 1
        assert parent.data.tags["best_job"] == finished[0]["job"]
        artifacts = {a.path for a in MlflowClient(f"sqlite:///{tmp_path}/mlflow.db").list_artifacts(parent.info.run_id)}
        assert artifacts == {"sweep_summary.csv", "sweep_objective.png"}
        statuses = sorted((r.data.params[key], r.info.status) for r in children)
        assert statuses == [("20", "FINISHED"), ("5", "FINISHED"), ("60", "FAILED")]
        (failed,) = [r for r in children if r.info.status == "FAILED"]
        assert failed.data.tags["error"].startswith("ConfigError: portfolio.strategies.ma_crossover.short_window")
        assert "strategy.short_window" not in failed.data.params  # the effective parameters, as for a finished job
        assert (sweep_dir / "2" / "error.txt").read_text().startswith("FAILED\n")


def wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


class TestSignals:
    def test_sigterm_ends_the_job_and_the_sweep_parent_killed(self, tmp_path: Path) -> None:
        # A sweep whose first job is long (random forests on every ticker for 25 years): stopped while it runs.
        process = subprocess.Popen(
            [sys.executable, "-m", "framework", "-m", "portfolio=multi_strategy,plugin_example",
             "experiment_name=stopped"],
            cwd=tmp_path, env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob("multirun/*/*/0/.hydra/config.yaml")):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1.0)  # the job is running its backtest
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)

        assert process.returncode == 128 + signal.SIGTERM, err
        assert "stopped by SIGTERM" in err
        (sweep_dir,) = tmp_path.glob("multirun/*/*")
        assert (sweep_dir / "0" / "error.txt").read_text() == "KILLED\nstopped by SIGTERM before the job finished\n"
        assert not (sweep_dir / "1").exists()  # the sweep stopped: the second job never started
        (parent,), (child,) = runs_of(tmp_path, "stopped")
        assert parent.info.status == "KILLED" and child.info.status == "KILLED"
        assert child.data.params["portfolio.name"] == "multi_strategy"
        assert (sweep_dir / "sweep_summary.csv").read_text().splitlines()[1].startswith(",0,KILLED")

    def test_sigterm_ends_a_single_run_killed(self, tmp_path: Path) -> None:
        process = subprocess.Popen(
            [sys.executable, "-m", "framework", "portfolio=multi_strategy", "experiment_name=single",
             "hydra.run.dir=out"],
            cwd=tmp_path, env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        wait_for(tmp_path / "out" / ".hydra" / "config.yaml", process)
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)

        assert process.returncode == 128 + signal.SIGTERM, err
        assert (tmp_path / "out" / "error.txt").read_text().startswith("KILLED\n")
        parents, children = runs_of(tmp_path, "single")
        assert [r.info.status for r in parents] == ["KILLED"] and children == []
