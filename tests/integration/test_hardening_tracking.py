"""Tracking failures end in one clear message with every result on disk; tracking passwords are never written.

Whole runs, through ``framework.app.run`` (Hydra's compose API) or ``python -m framework`` in a subprocess, with
real MLflow SQLite stores in temporary folders.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from framework.app import run
from framework.core import ConfigError
from framework.tracking import end_run, start_run

SMALL = ["data=synthetic", "data.n_tickers=3", "data.n_days=300"]
RESULTS = (
    "metrics.json",
    "equity.parquet",
    "trades.parquet",
    "decisions.parquet",
    "equity_drawdown.png",
    "config.yaml",
)
SECRET = "s3cret-Pw"


def run_cli(args: list[str], cwd: Path, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("HYDRA_FULL_ERROR", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "framework", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def assert_not_tracked_message(stderr: str, reason: str, folder: Path) -> None:
    """The whole of stderr: the warning with its reason on one line, then where the results are."""
    lines = stderr.splitlines()
    assert len(lines) == 2, stderr
    assert lines[0].startswith("warning: the run was not tracked: MLflow tracking store ")
    assert reason in lines[0]
    assert lines[1] == f"nothing is lost: every result of this run is in {folder.resolve()}"
    for name in RESULTS:
        assert (folder / name).is_file(), name


def files_holding(folder: Path, text: str) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() and text.encode() in path.read_bytes()]


class TestUnusableStores:
    def test_read_only_store(self, tmp_path: Path) -> None:
        store = tmp_path / "store"
        database = store / "mlflow.db"
        uri = f"sqlite:///{database}"
        first = start_run(tracking_uri=uri, experiment_name="portfolio-lab")
        end_run(tracking_uri=uri, run_id=first.run_id)
        prefix: list[str] = []
        if os.geteuid() == 0:
            # Root writes read-only files anyway; without these capabilities it obeys the file modes.
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("running as root and setpriv is missing: a read-only file cannot be made here")
            prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]
        database.chmod(0o444)
        store.chmod(0o555)  # the lock file next to the database stays writable, as after an earlier run
        try:
            probe = subprocess.run(
                [*prefix, sys.executable, "-c", f"open({str(database)!r}, 'a')"], capture_output=True
            )
            if probe.returncode == 0:
                pytest.skip("file modes are not enforced for this user here")
            done = run_cli(
                [*SMALL, f"tracking.tracking_uri={uri}", f"hydra.run.dir={tmp_path / 'out'}"], tmp_path, prefix
            )
        finally:
            store.chmod(0o755)
            database.chmod(0o644)

        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert_not_tracked_message(
            done.stderr, "OperationalError: attempt to write a readonly database", tmp_path / "out"
        )
        assert len(MlflowClient(uri).search_runs([first.experiment_id])) == 1

    def test_database_without_its_driver(self, tmp_path: Path) -> None:
        if importlib.util.find_spec("psycopg") is not None:
            pytest.skip("psycopg is installed here")

        done = run_cli([*SMALL, "tracking.tracking_uri=postgresql://u@localhost/db", "hydra.run.dir=out"], tmp_path)

        assert done.returncode == 0, done.stderr
        assert_not_tracked_message(
            done.stderr,
            "the postgresql driver 'psycopg' is not installed; install it (pip install 'psycopg[binary]') or name an "
            "installed driver in the URI (postgresql+<driver>://...)",
            tmp_path / "out",
        )

    @pytest.mark.parametrize("uri", ["sqlite:///:memory:", "sqlite://"])
    def test_in_memory_store_is_refused_before_the_backtest(self, compose_config, tmp_path, uri) -> None:
        with pytest.raises(ConfigError) as raised:
            run(compose_config([*SMALL, f"tracking.tracking_uri={uri}"]), tmp_path / "out")

        assert str(raised.value).startswith(f"tracking.tracking_uri: '{uri}' is an in-memory SQLite database")
        assert "sqlite:///mlflow.db" in str(raised.value)
        assert not (tmp_path / "out").exists()

    def test_in_memory_store_from_the_environment(self, compose_config, tmp_path, monkeypatch) -> None:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///:memory:")

        with pytest.raises(ConfigError, match=r"^MLFLOW_TRACKING_URI \(used as tracking\.tracking_uri is null\): "):
            run(compose_config(SMALL), tmp_path / "out")
        assert not (tmp_path / "out").exists()

        run(compose_config([*SMALL, "tracking=none"]), tmp_path / "untracked")  # nothing to refuse
        assert (tmp_path / "untracked" / "metrics.json").is_file()


class TestUnwritableArtifacts:
    def test_the_message_says_what_was_tracked_and_the_run_is_failed(self, store, compose_config, tmp_path, capsys):
        client = MlflowClient(store)
        (tmp_path / "a-file").write_text("")
        client.create_experiment("artifacts", artifact_location=str(tmp_path / "a-file" / "artifacts"))
        capsys.readouterr()  # MLflow's own notes on creating the store's tables

        value = run(compose_config([*SMALL, "experiment_name=artifacts"]), tmp_path / "out")

        (logged,) = client.search_runs([client.get_experiment_by_name("artifacts").experiment_id])
        captured = capsys.readouterr()
        lines = captured.err.splitlines()
        assert lines == [
            f"warning: the run was tracked only in part: MLflow tracking store {store}: cannot log a run to "
            f"experiment 'artifacts' completely: run {logged.info.run_id} holds its params, tags and metrics, but its "
            f"artifacts (to {logged.info.artifact_uri}) could not be written: [Errno 20] Not a directory: "
            f"'{tmp_path / 'a-file' / 'artifacts'}'; the run is marked FAILED",
            f"nothing is lost: every result of this run is in {(tmp_path / 'out').resolve()}",
        ]
        assert "mlflow run" not in captured.out
        assert logged.info.status == "FAILED"
        assert logged.data.tags["tracking_error"] in lines[0]
        assert logged.data.metrics["val/sharpe"] == pytest.approx(value) or not np.isfinite(value)
        assert logged.data.params["data.n_tickers"] == "3"
        for name in RESULTS:
            assert (tmp_path / "out" / name).is_file()


class TestCredentials:
    def test_unreachable_server_with_a_password(self, compose_config, tmp_path, monkeypatch, capsys) -> None:
        monkeypatch.chdir(tmp_path)
        uri = f"http://lab:{SECRET}@127.0.0.1:9"
        out = tmp_path / "out"
        (out / ".hydra").mkdir(parents=True)  # as Hydra leaves it before the job starts
        (out / ".hydra" / "overrides.yaml").write_text(f"- tracking.tracking_uri={uri}\n")
        (out / ".hydra" / "hydra.yaml").write_text(f"    - tracking.tracking_uri={uri.replace(':', chr(92) + ':')}\n")

        run(compose_config([*SMALL, f"tracking.tracking_uri={uri}"]), out, overrides=[f"tracking.tracking_uri={uri}"])

        captured = capsys.readouterr()
        assert SECRET not in captured.out + captured.err
        assert "MLflow tracking store http://lab:***@127.0.0.1:9: cannot log a run" in captured.err
        assert files_holding(tmp_path, SECRET) == []
        assert "tracking_uri: http://lab:***@127.0.0.1:9" in (out / "config.yaml").read_text()
        assert (out / ".hydra" / "overrides.yaml").read_text() == "- tracking.tracking_uri=http://lab:***@127.0.0.1:9\n"

    def test_run_name_params_tags_and_artifacts_are_masked(self, store, compose_config, tmp_path, capsys) -> None:
        uri = f"postgresql://lab:{SECRET}@db.lab/mlflow"
        out = tmp_path / "out"
        (out / ".hydra").mkdir(parents=True)
        (out / ".hydra" / "overrides.yaml").write_text(f"- tracking.run_name={uri}\n")

        run(
            compose_config([*SMALL, f"tracking.run_name={uri}", "experiment_name=credentials"]), out,
            overrides=[f"tracking.run_name={uri}", "data.n_tickers=3"],
        )  # fmt: skip

        client = MlflowClient(store)
        (logged,) = client.search_runs([client.get_experiment_by_name("credentials").experiment_id])
        masked = "postgresql://lab:***@db.lab/mlflow"
        assert logged.info.status == "FINISHED"
        assert logged.info.run_name == masked
        assert logged.data.params["tracking.run_name"] == masked
        assert logged.data.tags["overrides"] == f"tracking.run_name={masked} data.n_tickers=3"
        artifacts = Path(logged.info.artifact_uri.removeprefix("file://"))
        assert (artifacts / ".hydra" / "overrides.yaml").read_text() == f"- tracking.run_name={masked}\n"
        assert f"run_name: {masked}" in (artifacts / "config.yaml").read_text()
        captured = capsys.readouterr()
        assert SECRET not in captured.out + captured.err
        assert files_holding(tmp_path, SECRET) == []  # the output folder, the artifacts and the database itself

    def test_a_sweep_writes_and_prints_no_password(self, tmp_path: Path) -> None:
        uri = f"http://lab:{SECRET}@127.0.0.1:9"

        done = run_cli(["-m", *SMALL, "strategy.short_window=5,10", f"tracking.tracking_uri={uri}"], tmp_path)

        assert done.returncode == 0, done.stderr
        assert "#1 : " in done.stdout and "tracking.tracking_uri=http\\://lab\\:***@127.0.0.1\\:9" in done.stdout
        assert done.stderr.count("warning: the run was not tracked: MLflow tracking store http://lab:***@") == 2
        assert SECRET not in done.stdout + done.stderr
        assert len(list(tmp_path.glob("multirun/*/*/*/metrics.json"))) == 2
        assert files_holding(tmp_path, SECRET) == []  # jobs' .hydra/, their logs, the sweep's multirun.yaml
