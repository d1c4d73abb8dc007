"""The shape of a run's config: which keys each fixed section allows, checked before anything runs.

Components (``data``, ``strategy``, ``aggregator``, agents, ``broker``, ``benchmark.split``) are checked against
their class's constructor when they are built; the sections below have fixed keys, described by dataclasses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from framework.config.components import target_prefixes
from framework.core.errors import ConfigError


@dataclass
class TrackingConfig:
    """``tracking``: where and what MLflow records.

    Attributes:
        enabled: Log the run to MLflow.
        tracking_uri: Store URI; ``None`` for ``$MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db``.
        run_name: MLflow run name; ``None`` for one made of the portfolio and the overrides.
        log_equity_series: Log the equity curve as a metric series stepped by bar.
        artifacts: ``summary`` (metrics, equity, plot, config: the default) or ``all`` (every file of the run)
            logged as MLflow artifacts; the rest stays in the output folder (the run's ``output_dir`` tag).
        series_points: Most points of a logged series (evenly spaced bars; the whole curve is in the equity file).

    Example:
        >>> TrackingConfig()
        TrackingConfig(enabled=True, tracking_uri=None, run_name=None, log_equity_series=True, series_points=500, \
artifacts='summary')
        >>> check_keys({"enabled": False, "uri": "sqlite:///mlflow.db"}, TrackingConfig, "tracking")
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: tracking.uri: unknown key; allowed keys: enabled, tracking_uri, run_name, \
log_equity_series, series_points, artifacts
    """

    enabled: bool = True
    tracking_uri: str | None = None
    run_name: str | None = None
    log_equity_series: bool = True
    series_points: int = 500
    artifacts: str = "summary"


@dataclass
class BenchmarkConfig:
    """``benchmark``: how the data is split and how metrics are annualized.

    Attributes:
        split: The splitter component (``_target_: framework.data.HoldoutSplit`` ...).
        periods_per_year: Bars per year (252 for daily data).
        risk_free_rate: Annual risk-free rate used by Sharpe and Sortino.
        index: A benchmark index measured beside the portfolio (``sp500``: the S&P 500 index bundled with
            skfolio), or None.
        portfolios: Several portfolios compared on the same data and split: label -> list of overrides
            (``{ms: [portfolio=multi_strategy], rp: [portfolio=ma_crossover, agent/sizing=risk_parity]}``); None
            runs the one ``portfolio`` of the config.
        baselines: The baselines of a comparison (see :mod:`framework.benchmark.comparison`).
        primary: The label whose ``optimized_metric`` a comparison returns; None for the first.

    Example:
        >>> BenchmarkConfig()  # doctest: +NORMALIZE_WHITESPACE
        BenchmarkConfig(split={}, periods_per_year=252, risk_free_rate=0.0, index=None, portfolios=None,
                        baselines=None, primary=None)
    """

    split: dict[str, Any] = field(default_factory=dict)
    periods_per_year: int = 252
    risk_free_rate: float = 0.0
    index: str | None = None
    portfolios: dict[str, Any] | None = None
    baselines: list[str] | None = None
    primary: str | None = None


@dataclass
class OutputsConfig:
    """``outputs``: what a job writes into its output folder.

    Attributes:
        format: ``parquet`` (the default: compact and quick) or ``csv``, for the panels and logs.
        level: ``full`` (every panel and log) or ``summary`` (metrics, equity, plot and config only: for large
            sweeps).
        plot: Draw the equity, drawdown and risk plot.
        progress: Show progress bars on long work (``auto``: only on a terminal; ``true``; ``false``).

    Example:
        >>> OutputsConfig().format, OutputsConfig().level
        ('parquet', 'full')
    """

    format: str = "parquet"
    level: str = "full"
    plot: bool = True
    progress: Any = "auto"


@dataclass
class RunConfig:
    """The root of a run's config: one entry per config group plus the run's own settings.

    Attributes:
        data: The data loader component.
        portfolio: The portfolio (see :mod:`framework.config.portfolio`).
        strategy: The ``strategy`` group's choice (a strategy component).
        aggregator: The ``aggregator`` group's choice.
        agent: The decision pipeline: stage name -> agent component, in order.
        benchmark: See :class:`BenchmarkConfig`.
        tracking: See :class:`TrackingConfig`.
        outputs: See :class:`OutputsConfig`.
        broker: The simulated broker component.
        seed: Seed of every random component.
        experiment_name: MLflow experiment.
        optimized_metric: ``<segment>/<metric>`` the task returns for sweepers.
        allowed_targets: Module prefixes (``mypkg.``) whose classes a ``_target_`` may name, besides
            ``framework.``, ``plugins.``, ``sklearn.`` and ``skfolio.`` (see :mod:`framework.config.components`).

    Example:
        >>> [f.name for f in fields(RunConfig)]  # the keys allowed at the root of a run's config
        ['data', 'portfolio', 'strategy', 'aggregator', 'agent', 'benchmark', 'tracking', 'outputs', 'broker', \
'seed', 'experiment_name', 'optimized_metric', 'allowed_targets']
        >>> RunConfig().optimized_metric
        'val/sharpe'
    """

    data: dict[str, Any] = field(default_factory=dict)
    portfolio: dict[str, Any] = field(default_factory=dict)
    strategy: dict[str, Any] = field(default_factory=dict)
    aggregator: dict[str, Any] = field(default_factory=dict)
    agent: dict[str, Any] = field(default_factory=dict)
    benchmark: dict[str, Any] = field(default_factory=dict)
    tracking: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    broker: dict[str, Any] = field(default_factory=dict)
    seed: int = 42
    experiment_name: str = "portfolio-lab"
    optimized_metric: str = "val/sharpe"
    allowed_targets: list[str] = field(default_factory=list)


_SECTIONS = {"tracking": TrackingConfig, "benchmark": BenchmarkConfig, "outputs": OutputsConfig}
#: Benchmark index series the runner can measure beside the portfolio.
BENCHMARK_INDEXES: tuple[str, ...] = ("sp500",)


def check_keys(config: Mapping[str, Any], schema: type, key: str = "") -> None:
    """Raise for a key of ``config`` that ``schema`` (a dataclass) does not have.

    Args:
        config: The mapping to check.
        schema: Dataclass listing the allowed keys.
        key: Dotted path of ``config``, for the message ("" for the root).

    Raises:
        ConfigError: Naming the full path of the unknown key and the allowed keys.

    Example:
        >>> check_keys({"enabled": True, "tracking_urI": None}, TrackingConfig, "tracking")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: tracking.tracking_urI: unknown key; allowed keys: enabled, tracking_uri, ...
    """
    allowed = [f.name for f in fields(schema)]
    for name in config:
        if name not in allowed:
            path = f"{key}.{name}" if key else str(name)
            raise ConfigError(f"{path}: unknown key; allowed keys: {', '.join(allowed)}")


def _check_tracking_uri(configured: Any) -> None:
    """Refuse a tracking URI that cannot keep runs (in-memory SQLite), configured or from the environment."""
    from framework.tracking.mlflow_store import is_memory_store

    if configured is not None and not isinstance(configured, str):
        raise ConfigError(f"tracking.tracking_uri: must be a URI or null, got {configured!r}")
    key, uri = "tracking.tracking_uri", configured
    if uri is None or not uri.strip():
        key, uri = "MLFLOW_TRACKING_URI (used as tracking.tracking_uri is null)", os.environ.get("MLFLOW_TRACKING_URI")
    if uri and is_memory_store(uri):
        raise ConfigError(
            f"{key}: {uri!r} is an in-memory SQLite database, whose runs vanish when the job ends; use a file "
            "(sqlite:///mlflow.db), a database server (postgresql://...) or a tracking server (http://host:5000), "
            "or tracking=none"
        )


def validate_run_config(config: Mapping[str, Any]) -> None:
    """Check the root and the fixed sections of a resolved run config (``hydra`` is ignored).

    The tracking store is checked too when tracking is enabled: an in-memory SQLite store
    (``sqlite:///:memory:``, ``sqlite://``), configured or taken from ``$MLFLOW_TRACKING_URI``, is refused
    before the backtest runs, since the run would vanish with the process.

    Args:
        config: The resolved config as plain containers.

    Raises:
        ConfigError: For an unknown or missing key, or a value of the wrong kind, naming its full path.

    Example:
        >>> validate_run_config({"seed": 1, "tracking": {"enabled": "yes"}})
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: tracking.enabled: must be true or false, got 'yes'
        >>> validate_run_config({"tracking": {"tracking_uri": "sqlite:///:memory:"}})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: tracking.tracking_uri: 'sqlite:///:memory:' is an in-memory SQLite ...
    """
    check_keys({k: v for k, v in config.items() if k != "hydra"}, RunConfig)
    for section, schema in _SECTIONS.items():
        value = config.get(section)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise ConfigError(f"{section}: expected a mapping, got {value!r}")
        check_keys(value, schema, section)
    tracking = config.get("tracking") or {}
    for name in ("enabled", "log_equity_series"):
        if name in tracking and not isinstance(tracking[name], bool):
            raise ConfigError(f"tracking.{name}: must be true or false, got {tracking[name]!r}")
    if tracking.get("artifacts", "summary") not in ("summary", "all"):
        raise ConfigError(f"tracking.artifacts: must be summary or all, got {tracking['artifacts']!r}")
    points = tracking.get("series_points", 500)
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ConfigError(f"tracking.series_points: must be an integer >= 2, got {points!r}")
    if tracking.get("enabled", True):
        _check_tracking_uri(tracking.get("tracking_uri"))
    benchmark = config.get("benchmark") or {}
    ppy = benchmark.get("periods_per_year", 252)
    if isinstance(ppy, bool) or not isinstance(ppy, int) or ppy < 1:
        raise ConfigError(f"benchmark.periods_per_year: must be a positive integer, got {ppy!r}")
    rate = benchmark.get("risk_free_rate", 0.0)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not -1 < rate < 1:
        raise ConfigError(f"benchmark.risk_free_rate: must be a number in (-1, 1), got {rate!r}")
    index = benchmark.get("index")
    if index is not None and index not in BENCHMARK_INDEXES:
        raise ConfigError(f"benchmark.index: must be null or one of {', '.join(BENCHMARK_INDEXES)}, got {index!r}")
    baselines = benchmark.get("baselines")
    if baselines is not None:
        valid = ("equal_weight", "inverse_volatility", "cash", "index")
        if isinstance(baselines, str) or not isinstance(baselines, Sequence) or not all(b in valid for b in baselines):
            raise ConfigError(f"benchmark.baselines: must be a list of {', '.join(valid)}, got {baselines!r}")
        if "index" in baselines and index is None:
            raise ConfigError("benchmark.baselines: 'index' needs an index to measure: set benchmark.index=sp500, "
                              "or leave index out of the baselines")  # fmt: skip
    target_prefixes(config.get("allowed_targets"))
    outputs = config.get("outputs") or {}
    for name, choices in (("format", ("parquet", "csv")), ("level", ("full", "summary"))):
        if name in outputs and outputs[name] not in choices:
            raise ConfigError(f"outputs.{name}: must be one of {', '.join(choices)}, got {outputs[name]!r}")
    if "plot" in outputs and not isinstance(outputs["plot"], bool):
        raise ConfigError(f"outputs.plot: must be true or false, got {outputs['plot']!r}")
    if "progress" in outputs and outputs["progress"] not in (True, False, "auto"):
        raise ConfigError(f"outputs.progress: must be auto, true or false, got {outputs['progress']!r}")
    seed = config.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed: must be a non-negative integer, got {seed!r}")
