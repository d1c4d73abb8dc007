"""Shared set-up of the tracking tests: a real MLflow SQLite store, no telemetry, no inherited tracking URI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="module")
def _mlflow_environment() -> Iterator[None]:
    # Module scope so that module-scoped stores are created with it too. MLflow reads
    # MLFLOW_DISABLE_TELEMETRY when it is first imported, which happens inside the first tracking call.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        yield


@dataclass(frozen=True)
class Store:
    """A SQLite tracking store in its own folder; ``./mlruns`` of that folder holds the artifacts."""

    folder: Path
    uri: str


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One store per test module: creating the tables of a new database takes about 1.3 s."""
    from framework.tracking import end_run, start_run

    folder = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{folder}/mlflow.db"
    with pytest.MonkeyPatch.context() as patch:
        # MLflow resolves ./mlruns when it first opens the store in this process, so open it from its folder.
        patch.chdir(folder)
        warm_up = start_run(tracking_uri=uri, experiment_name="warm-up")
        end_run(tracking_uri=uri, run_id=warm_up.run_id)
        yield Store(folder, uri)
