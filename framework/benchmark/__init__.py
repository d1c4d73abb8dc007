"""Benchmarking: a portfolio against its baseline on train / val / test, metrics, Sharpe ratio statistics, plots."""

from framework.benchmark.metrics import (
    METRIC_NAMES,
    RELATIVE_METRIC_NAMES,
    compute_metrics,
    drawdown_curve,
    relative_metrics,
    segment_returns,
)
from framework.benchmark.runner import (
    SEGMENTS,
    BenchmarkReport,
    baseline_backtest,
    check_metric_key,
    run_benchmark,
)
from framework.benchmark.statistics import (
    SharpeMoments,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    min_track_record_length,
    probabilistic_sharpe_ratio,
    sharpe_confidence_interval,
    sharpe_moments,
)

__all__ = [
    "METRIC_NAMES",
    "RELATIVE_METRIC_NAMES",
    "SEGMENTS",
    "BenchmarkReport",
    "SharpeMoments",
    "baseline_backtest",
    "check_metric_key",
    "compute_metrics",
    "deflated_sharpe_ratio",
    "drawdown_curve",
    "expected_max_sharpe",
    "min_track_record_length",
    "probabilistic_sharpe_ratio",
    "relative_metrics",
    "run_benchmark",
    "segment_returns",
    "sharpe_confidence_interval",
    "sharpe_moments",
]
