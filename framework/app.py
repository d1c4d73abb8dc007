"""The Hydra entry point: compose the config, build the components, run the benchmark, track it in MLflow."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hydra
import numpy as np
from omegaconf import DictConfig, OmegaConf

import framework
import framework.config.resolvers  # noqa: F401  registers ${metric_direction:...} for the sweep presets
from framework.benchmark.comparison import ComparisonReport
from framework.benchmark.metrics import METRIC_NAMES, RELATIVE_METRIC_NAMES
from framework.benchmark.plots import PlotInput
from framework.benchmark.runner import BenchmarkReport, check_metric_key, run_benchmark
from framework.config.catalogue import CONFIG_DIR
from framework.config.components import allow_config_targets, build_component
from framework.config.pipeline import build_pipeline
from framework.config.portfolio import build_portfolio
from framework.config.schema import validate_run_config
from framework.core.errors import ConfigError, DataError
from framework.core.market_data import MarketData
from framework.execution.broker import SimulatedBroker
from framework.tracking.worker import TrackingWorker

log = logging.getLogger("framework")

#: The files of a run logged to MLflow by default (``tracking.artifacts: summary``); the panels and logs stay in
#: the output folder, named by the run's ``output_dir`` tag, so the store holds no second copy of them.
SUMMARY_ARTIFACTS: tuple[str, ...] = ("metrics", "equity", "plot")

#: The repository root (where ``conf/`` lives), used to read the git commit of a run.
PROJECT_DIR = Path(__file__).resolve().parents[1]


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> float:
    """Hydra task: one backtest job (``python -m framework``), the entry point Hydra composes the config for.

    Args:
        cfg: The config Hydra composed from ``conf/`` and the command line.

    Returns:
        The value of ``optimized_metric``, for sweepers (Optuna...).

    Example:
        >>> import subprocess, sys
        >>> done = subprocess.run([sys.executable, "-m", "framework", "data=synthetic", "data.n_days=300",
        ...                        "tracking=none", "--cfg", "job"], capture_output=True, text=True, check=True)
        >>> "n_days: 300" in done.stdout
        True
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hydra_cfg = HydraConfig.get()
    # A group placed at another package (a portfolio's `/strategy@strategies.rsi: rsi`) is in the params already.
    choices = {k: str(v) for k, v in hydra_cfg.runtime.choices.items() if not k.startswith("hydra") and "@" not in k
               and v}  # fmt: skip
    sweep_dir = hydra_cfg.sweep.dir if hydra_cfg.mode == RunMode.MULTIRUN else None
    # The overrides as typed: an override holding ${...} must not be resolved here, but where it lands.
    overrides = [str(o) for o in OmegaConf.to_container(hydra_cfg.overrides.task, resolve=False)]  # type: ignore[union-attr]
    # The basic launcher runs a sweep's jobs one after the other in this process: a job hands its run to the
    # tracking worker and goes on; the sweep's end waits for them all.
    in_process_sweep = sweep_dir is not None and "BasicLauncher" in str(hydra_cfg.launcher.get("_target_", ""))
    return run(cfg, Path(hydra_cfg.runtime.output_dir), choices=choices, overrides=overrides, sweep_dir=sweep_dir,
               wait_for_tracking=not in_process_sweep)  # fmt: skip


def run(
    cfg: DictConfig,
    output_dir: Path,
    *,
    choices: Mapping[str, str] | None = None,
    overrides: list[str] | None = None,
    sweep_dir: str | None = None,
    wait_for_tracking: bool = True,
) -> float:
    """Run one job from a composed config and return its ``optimized_metric``.

    Everything is written to ``output_dir`` first (metrics, equity, trades, decisions, resolved config), then
    the plot is drawn and the run logged to MLflow by the tracking worker
    (:mod:`framework.tracking.worker`), a second process started when the job starts so that importing MLflow
    and opening the store happen while the job runs. A tracking store that cannot be reached loses nothing.

    Args:
        cfg: The composed config (from ``@hydra.main`` or Hydra's compose API).
        output_dir: Where the job's files go (Hydra's ``runtime.output_dir``).
        choices: The group choices (``strategy: ma_crossover`` ...), logged as tags.
        overrides: The job's command-line overrides, used to name the run.
        sweep_dir: The sweep folder when the job is part of a multirun (its parent MLflow run id lives there).
        wait_for_tracking: Wait for the run to be logged and say where it is; False hands it over and returns
            (the jobs of a sweep in this process; the sweep's end waits for them).

    Returns:
        The value of ``cfg.optimized_metric``.

    A job that fails or is stopped (SIGINT, SIGTERM) leaves ``error.txt`` in ``output_dir`` (its status, then the
    error); a failed job of a sweep, and any stopped job, is also logged as a FAILED or KILLED run with its params,
    the error and the files it wrote, so the sweep's runs account for every job.

    Raises:
        ConfigError: For an invalid key or value, naming it.
        DataError: For invalid data, naming the ticker and date.

    Example:
        >>> import contextlib, io, tempfile
        >>> from hydra import compose, initialize_config_dir
        >>> with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        ...     cfg = compose("config", ["data=synthetic", "data.n_days=300", "tracking=none", "outputs.plot=false"])
        >>> with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(io.StringIO()):
        ...     value = run(cfg, Path(folder))
        >>> isinstance(value, float)
        True
    """
    output_dir = Path(output_dir)
    try:
        return _run(cfg, output_dir, choices or {}, overrides or [], sweep_dir, wait_for_tracking)
    except BaseException as error:
        stopped = isinstance(error, KeyboardInterrupt)
        if stopped or isinstance(error, Exception):
            _record_stop(cfg, output_dir, "KILLED" if stopped else "FAILED", error, overrides or [], sweep_dir)
        raise


def _run(
    cfg: DictConfig,
    output_dir: Path,
    choices: Mapping[str, str],
    overrides: list[str],
    sweep_dir: str | None,
    wait_for_tracking: bool,
) -> float:
    """The body of :func:`run`."""
    container = _resolve(cfg)
    allow_config_targets(container)
    validate_run_config(container)
    check_metric_key(container["optimized_metric"])
    from framework.core.progress import configure

    configure((container.get("outputs") or {}).get("progress", "auto"))
    tracking = container.get("tracking") or {}
    worker = None
    if tracking.get("enabled", True):
        from framework.tracking import resolve_tracking_uri
        from framework.tracking.worker import tracking_worker

        worker = tracking_worker(resolve_tracking_uri(tracking.get("tracking_uri")))  # warms up while the job runs
    if (container.get("benchmark") or {}).get("portfolios"):
        return _run_comparison(cfg, container, output_dir, choices, overrides, sweep_dir, worker, wait_for_tracking)
    report = build_and_run(cfg, container)
    outputs = container.get("outputs") or {}
    plot = bool(outputs.get("plot", True))
    files = report.write(output_dir, outputs.get("format", "parquet"), outputs.get("level", "full"),
                         plot and worker is None)  # fmt: skip
    from framework.tracking.credentials import mask_credentials_in, mask_credentials_in_files

    # Credentials in a tracking URI stay out of the job's files: this config and Hydra's record of the job.
    # What the run used: every strategy's parameters spelled out, the groups nothing refers to left out.
    effective, unused = effective_config(cfg, container)
    config_file = output_dir / "config.yaml"
    config_file.write_text(OmegaConf.to_yaml(OmegaConf.create(mask_credentials_in(effective))))
    mask_credentials_in_files(output_dir / ".hydra")

    print(report.summary_table())
    if worker is not None:
        used_choices = {group: option for group, option in (choices or {}).items() if group not in unused}
        _track(effective, report, files, config_file, output_dir, used_choices, overrides or [], sweep_dir,
               worker, plot, wait_for_tracking)  # fmt: skip
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"results: {output_dir.resolve()}")
    value = report.metrics[container["optimized_metric"]]
    return float(value)


#: Groups of a comparison job that its portfolios choose for themselves: not the job's, so not logged on it.
PORTFOLIO_GROUPS: tuple[str, ...] = ("portfolio", "strategy", "aggregator", "agent")


def _run_comparison(
    cfg: DictConfig,
    container: Mapping[str, Any],
    output_dir: Path,
    choices: Mapping[str, str],
    overrides: list[str],
    sweep_dir: str | None,
    worker: TrackingWorker | None,
    wait_for_tracking: bool,
) -> float:
    """:func:`run` for a benchmark with ``benchmark.portfolios``: one parent run, a child per portfolio."""
    from framework.tracking.credentials import mask_credentials_in, mask_credentials_in_files

    comparison, details = run_comparison(container, overrides, output_dir)
    outputs = container.get("outputs") or {}
    metric = str(container["optimized_metric"])
    segment, _, rank_by = metric.rpartition("/")
    if rank_by not in (*METRIC_NAMES, *RELATIVE_METRIC_NAMES) or segment not in (*comparison.segments, "full"):
        segment, rank_by = ("test" if "test" in comparison.segments else "full"), "sharpe"
    files = comparison.write(output_dir, rank_by, bool(outputs.get("plot", True)))
    effective = {k: v for k, v in effective_config(cfg, container)[0].items() if k not in PORTFOLIO_GROUPS}
    config_file = output_dir / "config.yaml"
    config_file.write_text(OmegaConf.to_yaml(OmegaConf.create(mask_credentials_in(effective))))
    mask_credentials_in_files(output_dir / ".hydra")
    print()
    print(comparison.summary_table(segment, rank_by))
    if segment != "test" and "test" in comparison.segments:
        print()
        print(comparison.summary_table("test", rank_by))
    if worker is not None:
        _track_comparison(effective, comparison, details, files, config_file, output_dir, choices, overrides,
                          sweep_dir, worker, wait_for_tracking)  # fmt: skip
    for warning in comparison.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"results: {output_dir.resolve()}")
    key = f"{comparison.primary}/{metric}"
    if key not in comparison.metrics:
        raise ConfigError(f"optimized_metric: '{metric}' is not measured for the portfolio {comparison.primary!r} "
                          "of the comparison")  # fmt: skip
    return float(comparison.metrics[key])


def _track_comparison(
    effective: Mapping[str, Any],
    comparison: ComparisonReport,
    details: Mapping[str, tuple[dict[str, Any], list[str], dict[str, Path]]],
    files: Mapping[str, Path],
    config_file: Path,
    output_dir: Path,
    choices: Mapping[str, str],
    overrides: list[str],
    sweep_dir: str | None,
    worker: TrackingWorker,
    wait: bool,
) -> None:
    """Log a comparison: the job as the parent run, each portfolio as a child (its folds as grandchildren)."""
    from framework.tracking import (
        flatten_params,
        mask_credentials,
        resolve_tracking_uri,
        sample_series,
        sweep_parent_run_id,
    )

    tracking = effective.get("tracking") or {}
    uri = resolve_tracking_uri(tracking.get("tracking_uri"))
    points = int(tracking.get("series_points", 500))
    common = {"package_version": framework.__version__, **_git_tags()}
    run_name = mask_credentials(tracking.get("run_name") or " ".join(["comparison", *overrides]))[:200]
    tags = {
        **{f"choice.{g}": o for g, o in choices.items() if g.split("/")[0] not in PORTFOLIO_GROUPS},
        **common, "portfolio": "comparison", "portfolios": ", ".join(comparison.reports),
        "baselines": ", ".join(comparison.baselines), "primary": comparison.primary,
        "data_fingerprint": next(iter(comparison.reports.values())).data_fingerprint,
        "output_dir": str(output_dir.resolve()),
    }  # fmt: skip
    if overrides:
        tags["overrides"] = mask_credentials(" ".join(overrides))
    if comparison.warnings:
        tags["degenerate"] = "true"
        tags["warnings"] = " | ".join(comparison.warnings)[:5000]
    children = []
    for label, report in comparison.reports.items():
        entry, extra, written = details[label]
        folder = written["config"].parent
        child_tags = {**common, "portfolio": report.name, "label": label, "comparison_label": label,
                      "overrides": mask_credentials(" ".join(extra)), "data_fingerprint": report.data_fingerprint,
                      "output_dir": str(folder.resolve())}  # fmt: skip
        if report.warnings:
            child_tags["degenerate"] = "true"
            child_tags["warnings"] = " | ".join(report.warnings)[:5000]
        curves = {"equity": report.result.equity, "baseline_equity": report.baseline.equity}
        children.append({
            "run_name": label,
            "params": flatten_params(entry),
            "tags": child_tags,
            "metrics": report.metrics,
            "series": {k: sample_series(v, points) for k, v in curves.items()}
            if tracking.get("log_equity_series", True) else None,
            "artifacts": [path for role, path in written.items()
                          if tracking.get("artifacts", "summary") == "all" or role in (*SUMMARY_ARTIFACTS, "config")],
            "children": fold_runs(report, label),
        })  # fmt: skip
    worker.submit(
        {
            "tracking_uri": uri,
            "experiment_name": str(effective["experiment_name"]),
            "run_name": run_name,
            "params": flatten_params(effective),
            "tags": tags,
            "metrics": comparison.metrics,
            "artifacts": [*files.values(), config_file],
            "artifact_dirs": {".hydra": output_dir / ".hydra"} if (output_dir / ".hydra").is_dir() else {},
            "parent_run_id": sweep_parent_run_id(sweep_dir) if sweep_dir else None,
            "children": children,
        },
        None,
        None,
        output_dir,
    )
    if wait:
        for outcome in worker.wait():
            outcome.report()


def load_data(container: Mapping[str, Any]) -> MarketData:
    """Build the ``data`` loader from the config and load the panel.

    Args:
        container: The resolved config.

    Returns:
        The loaded :class:`~framework.core.market_data.MarketData`.

    Raises:
        ConfigError: If ``data._target_`` has no ``load()`` method.
        DataError: For invalid data, naming the ticker and date.

    Example:
        >>> data = load_data({"data": {"_target_": "framework.data.SyntheticLoader", "n_tickers": 2, "n_days": 5}})
        >>> data.tickers, data.n_days
        (('T000', 'T001'), 5)
    """
    loader = build_component(container["data"], "data", object)
    if not hasattr(loader, "load"):
        raise ConfigError(f"data._target_: {container['data']['_target_']} has no load() method")
    data: MarketData = loader.load()
    return data


def build_and_run(cfg: DictConfig, container: Mapping[str, Any], data: MarketData | None = None) -> BenchmarkReport:
    """Build data, portfolio, agents, broker and split from the config, and run the benchmark.

    Args:
        cfg: The composed config (for resolving interpolations in group files).
        container: The same config resolved to plain containers.
        data: The panel, already loaded (the portfolios of a comparison share it); None loads ``data``.

    Returns:
        The :class:`BenchmarkReport`.

    Raises:
        ConfigError: For an invalid component, naming its key.
        DataError: For invalid data or tickers the data does not have.

    Example:
        >>> from hydra import compose, initialize_config_dir
        >>> with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        ...     cfg = compose("config", ["data=synthetic", "data.n_tickers=3", "data.n_days=300"])
        >>> report = build_and_run(cfg, _resolve(cfg))  # doctest: +ELLIPSIS
        <BLANKLINE>
        ma_crossover: 3 tickers, 300 bars (2000-01-03 .. 2001-02-23)
        >>> sorted(report.segments)
        ['test', 'train', 'val']
    """
    if data is None:
        data = load_data(container)
    portfolio = build_portfolio(
        container["portfolio"],
        data.tickers,
        default_aggregator=container["aggregator"],
        resolve=_resolver(cfg),
    )
    if portfolio.tickers != data.tickers:
        data = data.select(portfolio.tickers)
    # The header, before the work: what runs on what, so that a long job says what it is doing.
    print(f"\n{portfolio.name}: {len(data.tickers)} tickers, {len(data.dates)} bars ({data.dates[0]} .. "
          f"{data.dates[-1]})", flush=True)  # fmt: skip
    orchestrator = build_pipeline(container.get("agent") or {})
    if portfolio.allocation is not None and not orchestrator.uses_allocation:
        log.warning(
            "portfolio.allocation is set, but no agent of the pipeline uses it (%s); "
            "choose a sizing agent that does, such as agent/sizing=fixed_allocation",
            ", ".join(f"agent.{agent.name} is {type(agent).__name__}" for agent in orchestrator.agents
                      if type(agent).__name__ != "NoOp"),
        )  # fmt: skip
    broker = build_component(container["broker"], "broker", SimulatedBroker)
    benchmark = container["benchmark"]
    return run_benchmark(
        data, portfolio, orchestrator, broker, _build_split(benchmark),
        periods_per_year=benchmark.get("periods_per_year", 252), risk_free_rate=benchmark.get("risk_free_rate", 0.0),
        index=_index_levels(benchmark.get("index"), data.dates),
    )  # fmt: skip


def _build_split(benchmark: Mapping[str, Any]) -> Any:
    """The benchmark's splitter, checked to have ``segments()``."""
    split: Any = build_component(benchmark["split"], "benchmark.split", object)
    if not hasattr(split, "segments"):
        raise ConfigError(f"benchmark.split._target_: {benchmark['split']['_target_']} has no segments() method")
    return split


def run_comparison(
    container: Mapping[str, Any], overrides: list[str], output_dir: Path
) -> tuple[ComparisonReport, dict[str, tuple[dict[str, Any], list[str], dict[str, Path]]]]:
    """Run every portfolio of ``benchmark.portfolios`` on the same data and split, and compare them with baselines.

    Each portfolio's config is composed by Hydra from the job's overrides and the entry's own (the entry's win
    where both set a key), so a portfolio file keeps its own pipeline. The data is loaded once; the split, the
    broker of the baselines and the index are the job's. Each portfolio's files go to
    ``output_dir/portfolios/<label>/`` (with its ``config.yaml``).

    Args:
        container: The job's resolved config, with ``benchmark.portfolios``.
        overrides: The job's command-line overrides.
        output_dir: The job's output folder.

    Returns:
        The :class:`~framework.benchmark.comparison.ComparisonReport` and, per label, the portfolio's effective
        config, its overrides and the files it wrote.

    Raises:
        ConfigError: For an invalid entry (naming ``benchmark.portfolios.<label>``) or baseline.
        DataError: For invalid data.

    Example:
        >>> import tempfile
        >>> from hydra import compose, initialize_config_dir
        >>> job = ["data=synthetic", "data.n_tickers=3", "data.n_days=300", "tracking=none", "outputs.plot=false",
        ...        "benchmark.portfolios={ma_crossover: [], rsi: 'portfolio=ma_crossover strategy=rsi'}"]
        >>> with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        ...     container = _resolve(compose("config", job))
        ...     with tempfile.TemporaryDirectory() as folder:  # doctest: +ELLIPSIS
        ...         report, entries = run_comparison(container, job, Path(folder))
        <BLANKLINE>
        ...
        >>> report.rows(), entries["rsi"][1]
        (['ma_crossover', 'rsi', 'equal_weight'], ['portfolio=ma_crossover', 'strategy=rsi'])
    """
    from framework.benchmark.comparison import check_portfolio_entries, compare

    benchmark = container["benchmark"]
    baselines = list(benchmark.get("baselines") or ["equal_weight"])
    entries = check_portfolio_entries(benchmark.get("portfolios"), baselines)
    data = load_data(container)
    outputs = container.get("outputs") or {}
    reports: dict[str, BenchmarkReport] = {}
    details: dict[str, tuple[dict[str, Any], list[str], dict[str, Path]]] = {}
    composed = {}
    for label, extra in entries.items():  # every entry checked before any runs
        entry_cfg = _compose_entry(label, overrides, extra)
        entry = _resolve(entry_cfg)
        allow_config_targets(entry)
        validate_run_config(entry)
        composed[label] = (entry_cfg, entry)
    for number, (label, extra) in enumerate(entries.items(), 1):
        print(f"\n[{number}/{len(entries)}] {label}: {' '.join(extra)}", flush=True)
        entry_cfg, entry = composed[label]
        report = build_and_run(entry_cfg, entry, data=data)
        folder = output_dir / "portfolios" / label
        files = report.write(folder, outputs.get("format", "parquet"), outputs.get("level", "full"),
                             bool(outputs.get("plot", True)))  # fmt: skip
        effective = effective_config(entry_cfg, entry)[0]
        from framework.tracking.credentials import mask_credentials_in

        files["config"] = folder / "config.yaml"
        files["config"].write_text(OmegaConf.to_yaml(OmegaConf.create(mask_credentials_in(effective))))
        reports[label] = report
        details[label] = (effective, extra, files)
    tickers = {t for report in reports.values() for t in report.result.tickers}
    if len(tickers) < len(data.tickers):
        data = data.select([t for t in data.tickers if t in tickers])
    broker = build_component(container["broker"], "broker", SimulatedBroker)
    index = _index_levels(benchmark.get("index"), data.dates)
    index_equity = None if index is None else broker.initial_cash * index / float(index[0])
    segments = next(iter(reports.values())).segments
    comparison = compare(
        reports, data, broker, segments, baselines=baselines,
        periods_per_year=benchmark.get("periods_per_year", 252), risk_free_rate=benchmark.get("risk_free_rate", 0.0),
        index_equity=index_equity, primary=benchmark.get("primary"),
    )  # fmt: skip
    return comparison, details


def _compose_entry(label: str, job_overrides: list[str], extra: list[str]) -> DictConfig:
    """Compose one portfolio of a comparison: the job's overrides, then the entry's (which win on a shared key)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    def key(override: str) -> str:
        return override.lstrip("+~").split("=", 1)[0]

    taken = {key(o) for o in extra}
    merged = [o for o in job_overrides if key(o) not in taken] + list(extra)
    try:
        if GlobalHydra.instance().is_initialized():
            return compose(config_name="config", overrides=merged)
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            return compose(config_name="config", overrides=merged)
    except Exception as error:  # noqa: BLE001 - Hydra's composition errors, named after the entry
        raise ConfigError(f"benchmark.portfolios.{label}: {str(error).splitlines()[0]} (composed from: "
                          f"{' '.join(merged)})") from None  # fmt: skip


#: Groups a run may leave unused: their keys are then neither written to ``config.yaml`` nor logged.
OPTIONAL_GROUPS: tuple[str, ...] = ("strategy", "aggregator")


def effective_config(cfg: DictConfig, container: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The run's config as it ran: each portfolio strategy spelled out, unused groups left out.

    Every strategy entry of the portfolio gets its class and all its parameters (its group file's defaults with
    the portfolio's values on top, see :func:`~framework.config.portfolio.effective_portfolio`). The ``strategy``
    group is used only when some key refers to it (``main: ${strategy}``), the ``aggregator`` group only when
    some ticker's aggregator is null; an unused one is dropped, so a compare view shows only parameters that
    mattered.

    Args:
        cfg: The composed config (its interpolations show which groups are referred to).
        container: The same config resolved (see :func:`run`).

    Returns:
        ``(config, unused)``: a new resolved mapping and the names of the groups left out.

    Example:
        >>> cfg = OmegaConf.create({"strategy": {"_target_": "framework.strategies.RSI", "window": 14},
        ...     "aggregator": {"_target_": "framework.aggregation.WeightedAverage"},
        ...     "portfolio": {"name": "p", "strategies": {"ma_crossover": {"short_window": 5}},
        ...                   "aggregator": "weighted_average"}})
        >>> effective, unused = effective_config(cfg, OmegaConf.to_container(cfg, resolve=True))
        >>> unused, sorted(effective), effective["portfolio"]["strategies"]["ma_crossover"]["long_window"]
        (['strategy', 'aggregator'], ['portfolio'], 50)
    """
    import re

    from framework.config.portfolio import effective_portfolio, uses_aggregator_group

    effective = dict(container)
    portfolio = container.get("portfolio")
    if not isinstance(portfolio, Mapping):
        return effective, []
    effective["portfolio"] = effective_portfolio(portfolio, resolve=_resolver(cfg))
    raw = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(raw, dict)
    unused = []
    for group in OPTIONAL_GROUPS:
        if group not in container:
            continue
        rest = json.dumps({key: value for key, value in raw.items() if key not in (group, "hydra")}, default=str)
        referred = re.search(r"\$\{\s*" + group + r"\b", rest) is not None
        if not referred and not (group == "aggregator" and uses_aggregator_group(portfolio)):
            unused.append(group)
            effective.pop(group)
    return effective, unused


def _index_levels(name: str | None, dates: np.ndarray) -> np.ndarray | None:
    """The benchmark index's level on each date of the data (the last level known on that date)."""
    if name is None:
        return None
    import pandas as pd

    from framework.data import load_sp500_index

    series = load_sp500_index()
    levels = series.reindex(pd.DatetimeIndex(dates), method="ffill").to_numpy()
    if np.isnan(levels[0]):
        first, last = series.index[0].date(), series.index[-1].date()
        raise DataError(
            f"benchmark.index: the {name} index starts on {first} (and ends on {last}); the data starts on "
            f"{dates[0]}. Start the data on or after {first}, or set benchmark.index=null"
        )
    return np.asarray(levels, dtype=np.float64)


def _resolve(cfg: DictConfig) -> dict[str, Any]:
    from omegaconf.errors import OmegaConfBaseException

    try:
        container: Any = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", "") or ""
        raise ConfigError(f"{key}: {str(error).splitlines()[0]}" if key else str(error).splitlines()[0]) from None
    assert isinstance(container, dict)
    container.pop("hydra", None)
    return container


def _resolver(cfg: DictConfig) -> Any:
    """Resolve interpolations (``${seed}``) of a group file read by the portfolio against the run's config.

    A portfolio asks for the same group file once per ticker: the run's config is copied once and each distinct
    content resolved once; every caller gets its own copy.
    """
    root: Any = None
    resolved: dict[str, dict[str, Any]] = {}

    def resolve(content: dict[str, Any]) -> dict[str, Any]:
        nonlocal root
        key = json.dumps(content, sort_keys=True, default=str)
        if "${" not in key:
            return content
        if key not in resolved:
            if root is None:
                root = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))
                OmegaConf.set_struct(root, False)
            root["__entry__"] = content
            entry: Any = OmegaConf.to_container(root["__entry__"], resolve=True)
            assert isinstance(entry, dict)
            resolved[key] = entry
        return copy.deepcopy(resolved[key])

    return resolve


def _track(
    container: Mapping[str, Any],
    report: BenchmarkReport,
    files: Mapping[str, Path],
    config_file: Path,
    output_dir: Path,
    choices: Mapping[str, str],
    overrides: list[str],
    sweep_dir: str | None,
    worker: TrackingWorker,
    plot: bool,
    wait: bool,
) -> None:
    from framework.tracking import (
        flatten_params,
        mask_credentials,
        resolve_tracking_uri,
        sample_series,
        sweep_parent_run_id,
    )

    tracking = container.get("tracking") or {}
    uri = resolve_tracking_uri(tracking.get("tracking_uri"))
    tags = {
        **{f"choice.{group}": option for group, option in choices.items()},
        "portfolio": report.name,
        "data_fingerprint": report.data_fingerprint,
        "package_version": framework.__version__,
        **_git_tags(),
    }
    tags["output_dir"] = str(output_dir.resolve())  # where the panels and logs not sent to MLflow are
    if report.warnings:  # a degenerate run is marked, so a sweep's compare view can filter it out
        tags["degenerate"] = "true"
        tags["warnings"] = " | ".join(report.warnings)[:5000]
    if overrides:
        tags["overrides"] = mask_credentials(" ".join(overrides))
    # A chart needs a few hundred points; every bar is in the equity file logged beside.
    points = int(tracking.get("series_points", 500))
    curves = {"equity": report.result.equity, "baseline_equity": report.baseline.equity}
    series = {name: sample_series(values, points) for name, values in curves.items()}
    dirs = {".hydra": output_dir / ".hydra"} if (output_dir / ".hydra").is_dir() else {}
    run_name = mask_credentials(tracking.get("run_name") or " ".join([report.name, *overrides]))[:200]
    artifacts = [path for role, path in files.items()
                 if tracking.get("artifacts", "summary") == "all" or role in SUMMARY_ARTIFACTS]  # fmt: skip
    worker.submit(
        {
            "tracking_uri": uri,
            "experiment_name": str(container["experiment_name"]),
            "run_name": run_name,
            "params": flatten_params(container),
            "tags": tags,
            "metrics": report.metrics,
            "series": series if tracking.get("log_equity_series", True) else None,
            "artifacts": [*artifacts, config_file],
            "artifact_dirs": dirs,
            "parent_run_id": sweep_parent_run_id(sweep_dir) if sweep_dir else None,
            "children": fold_runs(report, run_name),
        },
        PlotInput.of(report) if plot else None,
        output_dir / "equity_drawdown.png" if plot else None,
        output_dir,
    )
    if wait:
        for outcome in worker.wait():
            outcome.report()


def fold_runs(report: BenchmarkReport, run_name: str) -> list[dict[str, Any]]:
    """One child run per walk-forward fold: the fold's window measured as ``test/<metric>`` (portfolio and baseline).

    Args:
        report: The run's report; its segments ``fold_<k>`` are the folds (none for a holdout split).
        run_name: The parent run's name.

    Returns:
        The keyword arguments of each child's :func:`framework.tracking.log_run` (``run_name``, ``params``,
        ``tags``, ``metrics``); empty without folds.

    Example:
        >>> from framework.backtest import BacktestResult
        >>> from framework.benchmark.runner import BenchmarkReport
        >>> dates = np.arange("2024-01-01", "2024-01-07", dtype="datetime64[D]")
        >>> result = BacktestResult.empty(dates, ("A",), 100.0)
        >>> report = BenchmarkReport("p", result, result, {"test": (2, 6), "fold_0": (2, 4), "fold_1": (4, 6)},
        ...     {"fold_0/sharpe": 0.5, "baseline/fold_0/sharpe": 0.1, "fold_1/sharpe": 0.7}, "ab12")
        >>> runs = fold_runs(report, "p walk-forward")
        >>> runs[0]["run_name"], runs[0]["metrics"], runs[0]["tags"]["test_start"]
        ('p walk-forward fold 0', {'test/sharpe': 0.5, 'baseline/test/sharpe': 0.1}, '2024-01-03')
    """
    dates = report.result.dates
    train_dates = {f"fold_{k}": {"train_start": str(dates[f.train[0]]), "train_end": str(dates[f.train[1] - 1])}
                   for k, f in enumerate(report.folds)}  # fmt: skip
    children = []
    for name, (start, stop) in report.segments.items():
        if not name.startswith("fold_"):
            continue
        metrics = {}
        for key, value in report.metrics.items():
            prefix, _, rest = key.rpartition(f"{name}/")
            if rest and prefix in ("", "baseline/", "index/") and key == f"{prefix}{name}/{rest}":
                metrics[f"{prefix}test/{rest}"] = value
        children.append({
            "run_name": f"{run_name} fold {name[5:]}"[:250],
            "params": {"fold": name[5:]},
            "tags": {"fold": name[5:], "test_start": str(dates[start]), "test_end": str(dates[stop - 1]),
                     "portfolio": report.name, **train_dates.get(name, {})},
            "metrics": metrics,
        })  # fmt: skip
    return children


def _record_stop(
    cfg: DictConfig, output_dir: Path, status: str, error: BaseException, overrides: list[str], sweep_dir: str | None
) -> None:
    """Write ``error.txt`` for a job that failed or was stopped, and log it as a FAILED or KILLED run.

    A single run that fails is only reported (its error is printed); a failed job of a sweep and any stopped job
    become runs, so that MLflow accounts for them. This never raises: the job's own error is what matters.
    """
    from framework.tracking.credentials import mask_credentials

    message = mask_credentials(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
    if isinstance(error, KeyboardInterrupt):
        message = f"stopped by {error or 'SIGINT'} before the job finished"
    if output_dir.is_dir():  # Hydra made it; a job stopped by bad input before that leaves nothing behind
        with contextlib.suppress(OSError):
            (output_dir / "error.txt").write_text(f"{status}\n{message}\n", encoding="utf-8")
    if status == "FAILED" and sweep_dir is None:
        return
    try:
        raw: Any = OmegaConf.to_container(cfg, resolve=False)
        tracking = raw.get("tracking") or {}
        if not tracking.get("enabled", True):
            return
        from framework.tracking import flatten_params, resolve_tracking_uri, sweep_parent_run_id
        from framework.tracking.worker import tracking_worker

        try:
            params = flatten_params(effective_config(cfg, _resolve(cfg))[0])
        except Exception:  # noqa: BLE001 - a config that does not resolve: its overrides are what is known
            params = dict(o.lstrip("+~").split("=", 1) for o in overrides if "=" in o)
        uri = resolve_tracking_uri(OmegaConf.select(cfg, "tracking.tracking_uri", default=None))
        name = OmegaConf.select(cfg, "portfolio.name", default=None) or "job"
        tags = {"error": message[:5000], "output_dir": str(output_dir.resolve())}
        if overrides:
            tags["overrides"] = mask_credentials(" ".join(overrides))
        files = [p for p in (output_dir / "config.yaml", output_dir / "error.txt") if p.is_file()]
        worker = tracking_worker(uri)
        worker.submit(
            {
                "tracking_uri": uri,
                "experiment_name": str(OmegaConf.select(cfg, "experiment_name", default="portfolio-lab")),
                "run_name": mask_credentials(" ".join([str(name), *overrides]))[:200],
                "params": params,
                "tags": tags,
                "metrics": {},
                "artifacts": files,
                "parent_run_id": sweep_parent_run_id(sweep_dir) if sweep_dir else None,
                "status": status,
            },
            None,
            None,
            output_dir,
        )
        for outcome in worker.wait():
            outcome.report()
    except BaseException as failure:  # noqa: BLE001 - recording the stop must never hide the job's own error
        print(f"warning: the {status.lower()} job could not be logged to MLflow: {failure}", file=sys.stderr)


def _git_tags() -> dict[str, str]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"mlflow.source.git.commit": commit, "git_commit": commit, "git_dirty": str(bool(dirty)).lower()}
