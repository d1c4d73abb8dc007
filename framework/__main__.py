"""``python -m framework``: the Hydra app, with configuration and data errors reported in one clear message."""

from __future__ import annotations

import os
import signal
import sys


def _explain(error: BaseException) -> str:
    """One readable message for a composition or configuration error, naming the key and the allowed keys."""
    from omegaconf import DictConfig
    from omegaconf.errors import OmegaConfBaseException

    lines = [str(error).strip()]
    cause = error.__cause__ or error.__context__
    while cause is not None:
        if isinstance(cause, OmegaConfBaseException):
            lines.append(str(cause).strip())
            parent = getattr(cause, "parent_node", None)
            if isinstance(parent, DictConfig):
                keys = [str(k) for k in parent.keys()]
                lines.append(f"allowed keys here: {', '.join(keys)}")
                lines += _portfolio_hint(str(getattr(cause, "full_key", "") or ""), keys)
            break
        cause = cause.__cause__ or cause.__context__
    return "\n".join(lines)


def _portfolio_hint(key: str, keys: list[str]) -> list[str]:
    """How to override a parameter of a portfolio strategy whose entry does not spell its parameters out."""
    parts = key.split(".")
    if len(parts) < 4 or parts[:2] != ["portfolio", "strategies"] or "_target_" in keys:
        return []
    label, param = parts[2], ".".join(parts[3:])
    return [
        f"portfolio.strategies.{label} takes its parameters from conf/strategy/{label}.yaml when the run starts; "
        f"to override or sweep them without '+', list it in the portfolio's defaults "
        f"('- /strategy@strategies.{label}: {label}' before '- _self_', as conf/portfolio/multi_strategy.yaml does), "
        f"or write +portfolio.strategies.{label}.{param}=..."
    ]


def main() -> int:
    """Run the app; return the process exit code.

    0 when the backtest ran, also when only its tracking failed (a warning says why and where the results are);
    2 for a configuration or data error, reported in one message before the backtest starts where possible.
    """
    # Let errors reach this function instead of Hydra's own report, so they can be explained in one message.
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from framework.app import main as hydra_main
    from framework.core.errors import PortfolioLabError
    from framework.tracking.credentials import mask_credentials, mask_log_records

    # Hydra logs the overrides of each sweep job, MLflow logs URIs: no log line shows a tracking password.
    mask_log_records()
    from framework.tracking.sweep import INTERRUPTED

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    # SIGTERM (sent by `timeout`, schedulers, `kill`) stops a job the way Ctrl-C does: the job and a sweep's
    # parent run end KILLED in MLflow, with what was written kept.
    signal.signal(signal.SIGTERM, stop)
    try:
        hydra_main()
    except KeyboardInterrupt as stopped:
        INTERRUPTED.set()
        name = str(stopped) or "SIGINT"
        print(f"stopped by {name}: the run is marked KILLED; what was written is kept", file=sys.stderr)
        return 128 + (signal.SIGTERM if name == "SIGTERM" else signal.SIGINT)
    except PortfolioLabError as error:
        print(f"error: {mask_credentials(str(error))}", file=sys.stderr)
        return 2
    except (HydraException, OmegaConfBaseException) as error:
        print(f"error: {mask_credentials(_explain(error))}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
