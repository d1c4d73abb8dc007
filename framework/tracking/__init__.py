"""MLflow tracking: parameter flattening, logging a run, and a sweep's parent run.

The only layer, with the app, that imports MLflow, and it does so inside functions: importing this package
does not import MLflow.
"""

from framework.tracking.credentials import (
    mask_credentials,
    mask_credentials_in,
    mask_credentials_in_file,
    mask_credentials_in_files,
)
from framework.tracking.mlflow_store import (
    PartialRunError,
    TrackedRun,
    end_run,
    is_memory_store,
    log_run,
    log_to_run,
    resolve_tracking_uri,
    sample_series,
    start_run,
)
from framework.tracking.params import MAX_PARAM_VALUE_LENGTH, flatten_params
from framework.tracking.sweep import PARENT_RUN_ID_FILE, MlflowSweepCallback, sweep_parent_run_id

__all__ = [
    "MAX_PARAM_VALUE_LENGTH",
    "PARENT_RUN_ID_FILE",
    "MlflowSweepCallback",
    "PartialRunError",
    "TrackedRun",
    "end_run",
    "flatten_params",
    "is_memory_store",
    "log_run",
    "log_to_run",
    "mask_credentials",
    "mask_credentials_in",
    "mask_credentials_in_file",
    "mask_credentials_in_files",
    "resolve_tracking_uri",
    "sample_series",
    "start_run",
    "sweep_parent_run_id",
]
