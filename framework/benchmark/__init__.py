"""Benchmarking: a portfolio against its baseline on train / val / test, metrics, plots."""

from framework.benchmark.metrics import METRIC_NAMES, compute_metrics, drawdown_curve, segment_returns
from framework.benchmark.runner import (
    SEGMENTS,
    BenchmarkReport,
    baseline_backtest,
    check_metric_key,
    run_benchmark,
)

__all__ = [
    "METRIC_NAMES",
    "SEGMENTS",
    "BenchmarkReport",
    "baseline_backtest",
    "check_metric_key",
    "compute_metrics",
    "drawdown_curve",
    "run_benchmark",
    "segment_returns",
]
