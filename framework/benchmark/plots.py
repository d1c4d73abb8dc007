"""Plots of a run, as PNG files (matplotlib with the non-interactive Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from framework.benchmark.metrics import drawdown_curve

if TYPE_CHECKING:
    from framework.benchmark.runner import BenchmarkReport


def plot_equity_drawdown(report: BenchmarkReport, path: Path) -> Path:
    """Equity (log scale) and drawdown of the portfolio against its baseline, split boundaries marked.

    Args:
        report: The run's report.
        path: Where to write the PNG.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dates = report.result.dates.astype("datetime64[D]").astype(object)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]}, constrained_layout=True
    )
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
    colors = {"train": "#dde8f5", "val": "#f7ecd9", "test": "#e2f2df"}
    for name, (start, stop) in report.segments.items():
        for axis in (top, bottom):
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
