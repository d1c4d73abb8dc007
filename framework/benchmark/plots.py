"""Plots of a run, as PNG files (matplotlib with the non-interactive Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from framework.benchmark.metrics import drawdown_curve

if TYPE_CHECKING:
    from framework.benchmark.runner import BenchmarkReport


def plot_equity_drawdown(report: BenchmarkReport, path: Path) -> Path:
    """Equity (log scale), drawdown and risk of the portfolio against its baseline, split boundaries marked.

    The bottom panel shows the run's risk series: ex-ante volatility and 1-day VaR (in %), and the number of
    positions held (right axis).

    Args:
        report: The run's report.
        path: Where to write the PNG.

    Returns:
        ``path``.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from framework.backtest.result import BacktestResult
        >>> from framework.benchmark.runner import BenchmarkReport
        >>> dates = np.arange("2024-01-01", "2024-01-11", dtype="datetime64[D]")
        >>> result, baseline = (BacktestResult.empty(dates, ("A",), 100.0) for _ in range(2))
        >>> result.equity = 100.0 * 1.01 ** np.arange(10)
        >>> report = BenchmarkReport("demo", result, baseline, {"train": (0, 6), "test": (6, 10)}, {}, "")
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = plot_equity_drawdown(report, Path(folder) / "equity.png")
        ...     path.name, path.read_bytes()[1:4]
        ('equity.png', b'PNG')
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dates = report.result.dates.astype("datetime64[D]").astype(object)
    has_risk = "ex_ante_volatility" in report.risk
    rows = 3 if has_risk else 2
    fig, axes = plt.subplots(
        rows, 1, figsize=(11, 8.5 if has_risk else 6.5), sharex=True,
        gridspec_kw={"height_ratios": [3, 1.3, 1.3][:rows]}, constrained_layout=True,
    )  # fmt: skip
    top, bottom = axes[0], axes[1]
    for result, label, style in (
        (report.result, report.name, "-"),
        (report.baseline, "baseline: equal-weight buy & hold", "--"),
    ):
        top.plot(dates, result.equity, style, lw=1.1, label=label)
        bottom.plot(dates, 100 * drawdown_curve(result.equity), style, lw=0.9, label=label)
    if report.index_equity is not None:
        top.plot(dates, report.index_equity, ":", lw=1.0, color="gray", label="index")
        bottom.plot(dates, 100 * drawdown_curve(report.index_equity), ":", lw=0.8, color="gray", label="index")
    top.set_yscale("log")
    top.set_ylabel("equity")
    bottom.set_ylabel("drawdown (%)")
    if has_risk:
        risk = axes[2]
        risk.plot(dates, 100 * report.risk["ex_ante_volatility"], lw=0.9, label="ex-ante volatility (annual, %)")
        risk.plot(dates, 100 * report.risk["var_parametric"], lw=0.8, label="1-day VaR (%)")
        risk.set_ylabel("risk (%)")
        risk.grid(alpha=0.3)
        count = risk.twinx()
        count.plot(dates, report.risk["positions"], lw=0.7, color="gray", alpha=0.6, label="positions")
        count.set_ylabel("positions")
        lines = risk.get_legend_handles_labels()
        more = count.get_legend_handles_labels()
        risk.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize=8)
    colors = {"train": "#dde8f5", "val": "#f7ecd9", "test": "#e2f2df"}
    for name, (start, stop) in report.segments.items():
        for axis in axes:
            axis.axvspan(dates[start], dates[stop - 1], color=colors.get(name, "#eeeeee"), alpha=0.6, lw=0)
        top.text(dates[start], 1.01, f" {name}", transform=top.get_xaxis_transform(), fontsize=9, va="bottom")
    top.legend(loc="upper left", fontsize=9)
    top.set_title(f"{report.name}: equity and drawdown against the baseline", fontsize=11, loc="left", pad=16)
    top.grid(alpha=0.3, which="both")
    bottom.grid(alpha=0.3)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


__all__ = ["plot_equity_drawdown"]
