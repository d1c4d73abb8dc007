"""Plots of a run, as PNG files (matplotlib with the non-interactive Agg backend)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from framework.benchmark.metrics import drawdown_curve

if TYPE_CHECKING:
    from framework.benchmark.runner import BenchmarkReport

#: The risk series the plot draws.
PLOTTED_RISK: tuple[str, ...] = ("ex_ante_volatility", "var_parametric", "positions")
#: Most points drawn per line: a 11-inch figure shows no more, and drawing costs per point.
MAX_DRAWN_POINTS = 2000


@dataclass
class PlotInput:
    """What the equity, drawdown and risk plot needs: light, so it can be sent to another process.

    Attributes:
        name: The portfolio's name.
        dates: Bar dates.
        equity: The portfolio's equity per bar.
        baseline: The baseline's equity per bar.
        index_equity: The index's equity per bar, or None.
        segments: Segment name -> (start, stop).
        risk: The risk series drawn (see :data:`PLOTTED_RISK`), absent ones not drawn.

    Example:
        >>> PlotInput("p", np.arange(2).astype("datetime64[D]"), np.ones(2), np.ones(2), None, {}).name
        'p'
    """

    name: str
    dates: np.ndarray
    equity: np.ndarray
    baseline: np.ndarray
    index_equity: np.ndarray | None
    segments: dict[str, tuple[int, int]]
    risk: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def of(cls, report: BenchmarkReport) -> PlotInput:
        """The plot's inputs from a run's report.

        Args:
            report: The report.

        Returns:
            The inputs.

        Example:
            >>> from framework.backtest.result import BacktestResult
            >>> from framework.benchmark.runner import BenchmarkReport
            >>> result = BacktestResult.empty(np.arange(3).astype("datetime64[D]"), ("A",), 100.0)
            >>> PlotInput.of(BenchmarkReport("demo", result, result, {"train": (0, 3)}, {}, "")).segments
            {'train': (0, 3)}
        """
        return cls(
            report.name, report.result.dates, report.result.equity, report.baseline.equity, report.index_equity,
            dict(report.segments), {k: report.risk[k] for k in PLOTTED_RISK if k in report.risk},
        )  # fmt: skip


def plot_equity_drawdown(report: BenchmarkReport | PlotInput, path: Path) -> Path:
    """Equity (log scale), drawdown and risk of the portfolio against its baseline, split boundaries marked.

    The bottom panel shows the run's risk series: ex-ante volatility and 1-day VaR (in %), and the number of
    positions held (right axis). Long runs are drawn with at most :data:`MAX_DRAWN_POINTS` points per line
    (every k-th bar, with the lowest and highest drawdowns kept), which the figure cannot tell apart.

    Args:
        report: The run's report, or its :class:`PlotInput`.
        path: Where to write the PNG.

    Returns:
        ``path``.

    Example:
        >>> import tempfile
        >>> dates = np.arange("2024-01-01", "2024-01-11", dtype="datetime64[D]")
        >>> data = PlotInput("demo", dates, 100.0 * 1.01 ** np.arange(10), np.full(10, 100.0), None,
        ...                  {"train": (0, 6), "test": (6, 10)})
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = plot_equity_drawdown(data, Path(folder) / "equity.png")
        ...     path.name, path.read_bytes()[1:4]
        ('equity.png', b'PNG')
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = report if isinstance(report, PlotInput) else PlotInput.of(report)
    all_dates = data.dates.astype("datetime64[D]").astype(object)
    curves = {"equity": data.equity, "baseline": data.baseline}
    if data.index_equity is not None:
        curves["index"] = data.index_equity
    drawdowns = {name: drawdown_curve(values) for name, values in curves.items()}
    drawn = _drawn_bars(len(data.dates), drawdowns["equity"])
    dates = all_dates[drawn]
    has_risk = "ex_ante_volatility" in data.risk
    rows = 3 if has_risk else 2
    fig, axes = plt.subplots(
        rows, 1, figsize=(11, 8.5 if has_risk else 6.5), sharex=True,
        gridspec_kw={"height_ratios": [3, 1.3, 1.3][:rows]}, constrained_layout=True,
    )  # fmt: skip
    top, bottom = axes[0], axes[1]
    styles = {"equity": ("-", 1.1, None, data.name), "baseline": ("--", 1.0, None, "baseline: equal-weight buy & hold"),
              "index": (":", 1.0, "gray", "index")}  # fmt: skip
    for name, values in curves.items():
        style, width, color, label = styles[name]
        top.plot(dates, values[drawn], style, lw=width, color=color, label=label)
        bottom.plot(dates, 100 * drawdowns[name][drawn], style, lw=width * 0.8, color=color, label=label)
    top.set_yscale("log")
    top.set_ylabel("equity")
    bottom.set_ylabel("drawdown (%)")
    if has_risk:
        risk = axes[2]
        risk.plot(dates, 100 * data.risk["ex_ante_volatility"][drawn], lw=0.9, label="ex-ante volatility (annual, %)")
        if "var_parametric" in data.risk:
            risk.plot(dates, 100 * data.risk["var_parametric"][drawn], lw=0.8, label="1-day VaR (%)")
        risk.set_ylabel("risk (%)")
        risk.grid(alpha=0.3)
        if "positions" in data.risk:
            count = risk.twinx()
            count.plot(dates, data.risk["positions"][drawn], lw=0.7, color="gray", alpha=0.6, label="positions")
            count.set_ylabel("positions")
            lines, more = risk.get_legend_handles_labels(), count.get_legend_handles_labels()
            risk.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize=8)
    colors = {"train": "#dde8f5", "val": "#f7ecd9", "test": "#e2f2df"}
    for name, (start, stop) in data.segments.items():
        if name.startswith("fold_"):  # a walk-forward's test windows: a thin line where each starts
            for axis in axes:
                axis.axvline(all_dates[start], color="#999999", lw=0.5, alpha=0.6)
            continue
        for axis in axes:
            axis.axvspan(all_dates[start], all_dates[stop - 1], color=colors.get(name, "#eeeeee"), alpha=0.6, lw=0)
        top.text(all_dates[start], 1.01, f" {name}", transform=top.get_xaxis_transform(), fontsize=9, va="bottom")
    top.legend(loc="upper left", fontsize=9)
    top.set_title(f"{data.name}: equity and drawdown against the baseline", fontsize=11, loc="left", pad=16)
    top.grid(alpha=0.3, which="both")
    bottom.grid(alpha=0.3)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def plot_comparison(
    dates: np.ndarray, curves: dict[str, np.ndarray], segments: dict[str, tuple[int, int]], path: Path
) -> Path:
    """Equity (log scale) and drawdown of several portfolios and baselines on the same bars, segments shaded.

    Args:
        dates: Bar dates.
        curves: Name -> equity per bar; names of the baselines (``equal_weight``, ``inverse_volatility``,
            ``cash``, ``index``) are drawn dashed.
        segments: Segment name -> (start, stop); a walk-forward's ``fold_<k>`` are drawn as thin lines.
        path: Where to write the PNG.

    Returns:
        ``path``.

    Example:
        >>> import tempfile
        >>> dates = np.arange("2024-01-01", "2024-01-11", dtype="datetime64[D]")
        >>> curves = {"a": 1.01 ** np.arange(10), "cash": np.ones(10)}
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     plot_comparison(dates, curves, {"test": (5, 10)}, Path(folder) / "c.png").read_bytes()[1:4]
        b'PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    baselines = ("equal_weight", "inverse_volatility", "cash", "index")
    all_dates = dates.astype("datetime64[D]").astype(object)
    drawn = _drawn_bars(len(dates), np.zeros(len(dates)))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]},
                                      constrained_layout=True)  # fmt: skip
    for name, values in curves.items():
        style = "--" if name in baselines else "-"
        width = 0.9 if name in baselines else 1.2
        label = f"{name} (baseline)" if name in baselines else name
        line = top.plot(all_dates[drawn], values[drawn], style, lw=width, label=label)[0]
        bottom.plot(all_dates[drawn], 100 * drawdown_curve(values)[drawn], style, lw=width * 0.8,
                    color=line.get_color())  # fmt: skip
    colors = {"train": "#dde8f5", "val": "#f7ecd9", "test": "#e2f2df"}
    for name, (start, stop) in segments.items():
        if name.startswith("fold_"):
            for axis in (top, bottom):
                axis.axvline(all_dates[start], color="#999999", lw=0.5, alpha=0.6)
            continue
        for axis in (top, bottom):
            axis.axvspan(all_dates[start], all_dates[stop - 1], color=colors.get(name, "#eeeeee"), alpha=0.6, lw=0)
        top.text(all_dates[start], 1.01, f" {name}", transform=top.get_xaxis_transform(), fontsize=9, va="bottom")
    top.set_yscale("log")
    top.set_ylabel("equity")
    bottom.set_ylabel("drawdown (%)")
    top.legend(loc="upper left", fontsize=8, ncol=2)
    top.set_title("portfolios and baselines on the same data", fontsize=11, loc="left", pad=16)
    top.grid(alpha=0.3, which="both")
    bottom.grid(alpha=0.3)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def _drawn_bars(n_bars: int, drawdown: np.ndarray) -> np.ndarray:
    """The bars drawn: every k-th bar, the last, and the deepest drawdown (which thinning must not hide)."""
    if n_bars <= MAX_DRAWN_POINTS:
        return np.arange(n_bars)
    step = -(-n_bars // MAX_DRAWN_POINTS)
    bars = np.arange(0, n_bars, step)
    return np.unique(np.concatenate([bars, [n_bars - 1, int(np.argmin(drawdown))]]))


def plot_sweep(metric: str, swept: dict[str, list[str]], values: list[float], best: int | None, path: Path) -> Path:
    """The objective of a sweep's jobs against each swept parameter: one panel per parameter.

    A numeric parameter is drawn on a numeric axis, any other on evenly spaced categories; the best job is
    circled. Jobs without a value of the objective (failed) are left out.

    Args:
        metric: The objective's name (the y axis).
        swept: Parameter key -> each job's value as typed (``"20"``), in job order.
        values: Each job's objective (NaN for none), in the same order.
        best: Position of the best job in that order, or None.
        path: Where the PNG goes.

    Returns:
        ``path``.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = plot_sweep("val/sharpe", {"short_window": ["5", "10", "20"], "cost": ["a", "b", "a"]},
        ...                       [0.2, 0.5, float("nan")], 1, Path(folder) / "sweep.png")
        ...     path.read_bytes()[1:4]
        b'PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = np.asarray(values, dtype=np.float64)
    done = np.isfinite(scores)
    keys = list(swept) or ["job"]
    columns = min(len(keys), 3)
    rows = -(-len(keys) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False,
                             constrained_layout=True)  # fmt: skip
    for axis, key in zip(axes.flat, keys, strict=False):
        raw = swept.get(key, [str(i) for i in range(len(values))])
        numbers = _as_numbers(raw)
        if numbers is not None:
            x = numbers
        else:
            categories = sorted(set(raw), key=raw.index)
            x = np.array([categories.index(v) for v in raw], dtype=np.float64)
            axis.set_xticks(range(len(categories)), categories, rotation=30, ha="right", fontsize=8)
        axis.scatter(x[done], scores[done], s=22, alpha=0.8)
        if best is not None and done[best]:
            axis.scatter([x[best]], [scores[best]], s=110, facecolors="none", edgecolors="red", label="best")
            axis.legend(fontsize=8, loc="best")
        axis.set_xlabel(".".join(key.split(".")[-2:]) if len(key) > 30 else key, fontsize=9)
        axis.set_ylabel(metric, fontsize=9)
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(keys) :]:
        axis.set_visible(False)
    fig.suptitle(f"{metric} of {int(done.sum())} jobs against the swept parameters", fontsize=10)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def _as_numbers(values: list[str]) -> np.ndarray | None:
    """The values as floats when every one is a number, else None."""
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        return None


__all__ = ["MAX_DRAWN_POINTS", "PlotInput", "plot_equity_drawdown", "plot_sweep"]
