"""Several portfolios on the same data and the same splits, beside baselines, in one comparison.

A benchmark with ``benchmark.portfolios`` runs each listed portfolio (with its own pipeline) through
:func:`~framework.benchmark.runner.run_benchmark` on the same data, broker and split, and measures the baselines
of :data:`BASELINES` on the same bars. The result is a :class:`ComparisonReport`: each portfolio's own
:class:`~framework.benchmark.runner.BenchmarkReport` and one flat metric mapping keyed ``<row>/<segment>/<metric>``
where a row is a portfolio's label or a baseline's name.

Baselines (all on every ticker of the data, with the portfolios' broker):

==================  =========================================================================================
``equal_weight``    equal-weight buy-and-hold: bought at the first fill, never rebalanced (the runner's baseline)
``inverse_volatility``  weights in proportion to 1 / volatility of the last 252 daily returns, rebalanced
                    monthly; cash until 63 returns exist
``cash``            the initial cash earning ``risk_free_rate``
``index``           the index of ``benchmark.index`` (the S&P 500 level), when one is set
==================  =========================================================================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framework.backtest.result import BacktestResult
from framework.benchmark.metrics import METRIC_NAMES, RELATIVE_METRIC_NAMES, better_direction, compute_metrics
from framework.benchmark.runner import (
    BenchmarkReport,
    baseline_backtest,
    index_relative_metrics,
    segment_metrics,
)
from framework.core.checks import check_choice
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.execution.broker import SimulatedBroker

#: Baselines a comparison can measure beside its portfolios (``benchmark.baselines``).
BASELINES: tuple[str, ...] = ("equal_weight", "inverse_volatility", "cash", "index")

#: Columns of the printed comparison table, in order.
TABLE_METRICS: tuple[str, ...] = (
    "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar", "turnover",
)  # fmt: skip


def check_portfolio_entries(entries: object, baselines: Sequence[str]) -> dict[str, list[str]]:
    """Check ``benchmark.portfolios``: a label for each portfolio and the overrides that compose it.

    Args:
        entries: Label -> Hydra overrides, as a list (``[portfolio=multi_strategy, agent/sizing=risk_parity]``)
            or one string separated by spaces (``"portfolio=multi_strategy agent/sizing=risk_parity"``, easier to
            type on a command line). A label whose overrides are empty is the portfolio of that name
            (``portfolio=<label>``).
        baselines: The baselines of the comparison, whose names a label may not take.

    Returns:
        Label -> overrides, with ``portfolio=<label>`` filled in for empty lists.

    Raises:
        ConfigError: Naming the entry: not a mapping, an override that is not ``key=value``, or one that changes
            what every portfolio must share (``data``, ``benchmark``, ``seed``), a label taken by a baseline.

    Example:
        >>> check_portfolio_entries({"ms": ["portfolio=multi_strategy"], "risk_managed": []}, ["cash"])
        {'ms': ['portfolio=multi_strategy'], 'risk_managed': ['portfolio=risk_managed']}
        >>> check_portfolio_entries({"rp": "agent/sizing=risk_parity"}, [])
        {'rp': ['portfolio=rp', 'agent/sizing=risk_parity']}
        >>> check_portfolio_entries({"ms": ["data=synthetic"]}, [])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: benchmark.portfolios.ms: 'data=synthetic' changes data, which every ...
    """
    if not isinstance(entries, Mapping) or not entries:
        raise ConfigError(
            "benchmark.portfolios: expected a mapping of label -> list of overrides, e.g. "
            "{ms: [portfolio=multi_strategy], rp: [portfolio=ma_crossover, agent/sizing=risk_parity]}, "
            f"got {entries!r}"
        )
    checked: dict[str, list[str]] = {}
    for label, overrides in entries.items():
        key = f"benchmark.portfolios.{label}"
        if str(label) in baselines or "/" in str(label):
            raise ConfigError(f"{key}: the label may not contain '/' or be a baseline's name ({', '.join(BASELINES)})")
        if overrides is None:
            overrides = []
        if isinstance(overrides, str):
            overrides = overrides.split()
        if not isinstance(overrides, Sequence):
            raise ConfigError(f"{key}: expected a list of overrides like [portfolio=multi_strategy], got {overrides!r}")
        items = [str(o) for o in overrides]
        for item in items:
            name = item.lstrip("+~").split("=", 1)[0]
            if "=" not in item and not item.startswith("~"):
                raise ConfigError(f"{key}: '{item}' is not an override; use key=value (portfolio=multi_strategy)")
            root = name.split(".")[0].split("/")[0]
            if root in ("data", "benchmark", "seed", "hydra", "tracking", "experiment_name"):
                raise ConfigError(
                    f"{key}: '{item}' changes {root}, which every portfolio of a comparison shares; set it for the "
                    "whole run on the command line instead"
                )
        if not any(item.split("=", 1)[0] == "portfolio" for item in items):
            items = [f"portfolio={label}", *items]
        checked[str(label)] = items
    return checked


def baseline_equities(
    data: MarketData,
    broker: SimulatedBroker,
    names: Sequence[str],
    *,
    periods_per_year: int = 252,
    risk_free_rate: float = 0.0,
    index_equity: np.ndarray | None = None,
) -> dict[str, np.ndarray | BacktestResult]:
    """The baselines of a comparison on ``data``: a backtest for the traded ones, an equity curve for the others.

    Args:
        data: The panel every portfolio draws from.
        broker: The portfolios' broker (costs, cash).
        names: Baselines among :data:`BASELINES`; ``index`` is left out when ``index_equity`` is None.
        periods_per_year: Bars per year (for the cash's daily rate).
        risk_free_rate: Annual rate the cash earns.
        index_equity: The index as the value of the initial cash invested in it, or None.

    Returns:
        Name -> :class:`BacktestResult` (``equal_weight``, ``inverse_volatility``) or equity per bar (``cash``,
        ``index``).

    Raises:
        ConfigError: For an unknown baseline.

    Example:
        >>> close = np.array([[10.0, 10.0], [10.0, 10.0], [20.0, 10.0]])
        >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B"), close)
        >>> out = baseline_equities(data, SimulatedBroker(initial_cash=100.0), ["equal_weight", "cash"])
        >>> out["equal_weight"].equity.tolist(), out["cash"].tolist()
        ([100.0, 100.0, 150.0], [100.0, 100.0, 100.0])
    """
    from framework.agents import EqualWeightSizing, InverseVolatilitySizing, Orchestrator, Recovery
    from framework.backtest.engine import run_backtest
    from framework.core.types import SignalFrame

    out: dict[str, np.ndarray | BacktestResult] = {}
    for name in names:
        check_choice("benchmark.baselines", name, BASELINES)
        if name == "equal_weight":
            out[name] = baseline_backtest(data, broker)
        elif name == "inverse_volatility":
            signal = np.where(data.tradable, 1.0, np.nan)
            sizing = InverseVolatilitySizing(rebalance="monthly")
            fallback = Recovery("fallback", EqualWeightSizing(rebalance="monthly"))
            pipeline = Orchestrator({"sizing": sizing}, recovery={"sizing": fallback})
            out[name] = run_backtest(data, SignalFrame(signal, data.tradable.astype(np.float64)), pipeline, broker)
        elif name == "cash":
            daily = (1.0 + risk_free_rate) ** (1.0 / periods_per_year) - 1.0
            out[name] = broker.initial_cash * (1.0 + daily) ** np.arange(data.n_days, dtype=np.float64)
        elif index_equity is not None:
            out[name] = np.asarray(index_equity, dtype=np.float64)
    return out


@dataclass
class ComparisonReport:
    """Portfolios and baselines on the same data and segments.

    Attributes:
        reports: Label -> the portfolio's own report (its metrics, files and its equal-weight baseline on its
            tickers).
        baselines: Baseline name -> equity per bar.
        segments: Segment name -> (start, stop) bars, shared by every row.
        dates: Bar dates.
        metrics: ``<row>/<segment>/<metric>`` for every portfolio label and baseline, e.g.
            ``{"multi_strategy/test/sharpe": 0.81, "cash/test/total_return": 0.0, ...}``; with an index, the
            relative metrics (``beta``...) against it too. The primary portfolio's own metrics are there as well
            without a prefix (``test/sharpe``, ``baseline/test/sharpe``...), as in a single run, so that a sweep
            of comparisons ranks and charts them like any jobs.
        primary: The label whose ``optimized_metric`` the job returns.
        warnings: The portfolios' warnings, each prefixed with its label.

    Example:
        >>> dates = np.arange(4).astype("datetime64[D]")
        >>> result = BacktestResult.empty(dates, ("A",), 100.0)
        >>> report = BenchmarkReport("p", result, result, {"test": (1, 4)}, {"test/sharpe": 0.5}, "ab")
        >>> ComparisonReport({"p": report}, {}, {"test": (1, 4)}, dates, {"p/test/sharpe": 0.5}, "p").rows()
        ['p']
    """

    reports: dict[str, BenchmarkReport]
    baselines: dict[str, np.ndarray]
    segments: dict[str, tuple[int, int]]
    dates: np.ndarray
    metrics: dict[str, float]
    primary: str
    warnings: list[str] = field(default_factory=list)

    def rows(self) -> list[str]:
        """Portfolio labels, then baseline names, in config order.

        Returns:
            The row names of the comparison.

        Example:
            >>> ComparisonReport({}, {"cash": np.ones(2)}, {}, np.arange(2), {}, "").rows()
            ['cash']
        """
        return [*self.reports, *self.baselines]

    def table(self, segment: str = "test", rank_by: str = "sharpe") -> list[dict[str, Any]]:
        """One row per portfolio and baseline with the segment's metrics, ranked by one of them.

        Args:
            segment: The segment measured (``test``, ``val``, ``full``...).
            rank_by: The metric that orders the rows; its direction (higher or lower is better) is the metric's
                own (:func:`~framework.benchmark.metrics.better_direction`), highest first for a metric with no
                better direction (``beta``, ``exposure``). Rows where it is undefined come last.

        Returns:
            Dicts with ``rank``, ``name``, ``kind`` (``portfolio`` or ``baseline``) and one key per metric.

        Raises:
            ConfigError: For a segment or metric the comparison does not have.

        Example:
            >>> dates = np.arange(3).astype("datetime64[D]")
            >>> metrics = {"a/test/sharpe": 0.2, "b/test/sharpe": 0.9, "cash/test/sharpe": float("nan")}
            >>> result = BacktestResult.empty(dates, ("A",), 1.0)
            >>> reports = {k: BenchmarkReport(k, result, result, {}, {}, "") for k in "ab"}
            >>> report = ComparisonReport(reports, {"cash": np.ones(3)}, {"test": (0, 3)}, dates, metrics, "a")
            >>> [(row["rank"], row["name"]) for row in report.table("test", "sharpe")]
            [(1, 'b'), (2, 'a'), (3, 'cash')]
        """
        if segment not in (*self.segments, "full"):
            raise ConfigError(f"segment: '{segment}' is not a segment of this comparison; use one of "
                              f"{', '.join([*self.segments, 'full'])}")  # fmt: skip
        names = [*METRIC_NAMES, *RELATIVE_METRIC_NAMES]
        if rank_by not in names:
            raise ConfigError(f"rank_by: '{rank_by}' is not a metric; use one of {', '.join(names)}")
        maximize = better_direction(rank_by) != "minimize"
        rows = []
        for row in self.rows():
            values = {m: self.metrics.get(f"{row}/{segment}/{m}", float("nan")) for m in names}
            kind = "portfolio" if row in self.reports else "baseline"
            rows.append({"name": row, "kind": kind, **values})

        def order(row: dict[str, Any]) -> tuple[bool, float]:
            value = float(row[rank_by])
            return (bool(np.isnan(value)), -value if maximize else value)

        ranked = sorted(rows, key=order)
        return [{"rank": k + 1, **row} for k, row in enumerate(ranked)]

    def summary_table(self, segment: str = "test", rank_by: str = "sharpe") -> str:
        """The comparison as text: the rows ranked by ``rank_by`` on ``segment``.

        Args:
            segment: The segment shown.
            rank_by: The metric that orders the rows.

        Returns:
            A fixed-width table, one line per row.

        Example:
            >>> dates = np.arange(3).astype("datetime64[D]")
            >>> report = ComparisonReport({}, {"cash": np.ones(3)}, {"test": (0, 3)}, dates, {}, "")
            >>> print(report.summary_table().splitlines()[0])  # doctest: +ELLIPSIS
            test segment, ranked by sharpe
        """
        shown = [*TABLE_METRICS, *(m for m in RELATIVE_METRIC_NAMES if any(
            f"{row}/{segment}/{m}" in self.metrics for row in self.rows()))]  # fmt: skip
        width = max([len(row) for row in self.rows()] + [12]) + 2
        short = {"total_return": "total return", "max_drawdown": "max drawdown", "tracking_error": "track. error",
                 "information_ratio": "info. ratio"}  # fmt: skip
        header = f"{'#':>3} {'':<{width}}" + "".join(f"{short.get(m, m):>14}" for m in shown)
        lines = [f"{segment} segment, ranked by {rank_by}", header, "-" * len(header)]
        for row in self.table(segment, rank_by):
            cells = "".join(f"{row[m]:>14.4f}" if np.isfinite(row[m]) else f"{'-':>14}" for m in shown)
            name = row["name"] + ("" if row["kind"] == "portfolio" else " *")
            lines.append(f"{row['rank']:>3} {name:<{width}}{cells}")
        lines.append("* baseline")
        return "\n".join(lines)

    def write(self, folder: Path, rank_by: str = "sharpe", plot: bool = True) -> dict[str, Path]:
        """Write the comparison's files into ``folder``.

        ``comparison.csv`` (every segment), ``comparison.md`` (test), ``metrics.json``, ``equity.parquet`` (each
        row's equity per bar) and ``comparison.png`` (equity and drawdown overlay). Each portfolio's own files
        are written by the caller (``portfolios/<label>/``).

        Args:
            folder: Output folder, created if needed.
            rank_by: The metric that orders the tables.
            plot: Draw ``comparison.png``.

        Returns:
            File role -> path.

        Example:
            >>> import tempfile
            >>> dates = np.arange("2024-01-01", "2024-01-05", dtype="datetime64[D]")
            >>> report = ComparisonReport({}, {"cash": np.ones(4)}, {"test": (1, 4)}, dates,
            ...                           {"cash/test/sharpe": float("nan")}, "")
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     sorted(report.write(Path(folder), plot=False))
            ['comparison_csv', 'comparison_md', 'equity', 'metrics']
        """
        import pandas as pd

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files: dict[str, Path] = {}
        segments = [*self.segments, "full"]
        frames = []
        for segment in segments:
            frame = pd.DataFrame(self.table(segment, rank_by))
            frame.insert(0, "segment", segment)
            frames.append(frame)
        table = pd.concat(frames, ignore_index=True)
        files["comparison_csv"] = folder / "comparison.csv"
        table.to_csv(files["comparison_csv"], index=False)
        shown = "test" if "test" in self.segments else segments[-2 if len(segments) > 1 else 0]
        files["comparison_md"] = folder / "comparison.md"
        files["comparison_md"].write_text(_markdown(self.table(shown, rank_by), shown, rank_by), encoding="utf-8")
        files["metrics"] = folder / "metrics.json"
        summary = {
            "portfolios": list(self.reports), "baselines": list(self.baselines), "primary": self.primary,
            "segments": {k: [str(self.dates[a]), str(self.dates[b - 1])] for k, (a, b) in self.segments.items()},
            "metrics": self.metrics, "warnings": self.warnings,
        }  # fmt: skip
        files["metrics"].write_text(json.dumps(summary, indent=2, allow_nan=True))
        curves = self.curves()
        equity = pd.DataFrame(curves, index=pd.DatetimeIndex(self.dates, name="date"))
        files["equity"] = folder / "equity.parquet"
        equity.to_parquet(files["equity"], compression="zstd")
        if plot:
            from framework.benchmark.plots import plot_comparison

            files["plot"] = plot_comparison(self.dates, curves, self.segments, folder / "comparison.png")
        return files

    def curves(self) -> dict[str, np.ndarray]:
        """Each row's equity per bar.

        Returns:
            Row name -> equity.

        Example:
            >>> ComparisonReport({}, {"cash": np.ones(2)}, {}, np.arange(2), {}, "").curves()["cash"].tolist()
            [1.0, 1.0]
        """
        curves = {label: report.result.equity for label, report in self.reports.items()}
        return {**curves, **self.baselines}


def compare(
    reports: Mapping[str, BenchmarkReport],
    data: MarketData,
    broker: SimulatedBroker,
    segments: Mapping[str, tuple[int, int]],
    *,
    baselines: Sequence[str] = ("equal_weight",),
    periods_per_year: int = 252,
    risk_free_rate: float = 0.0,
    index_equity: np.ndarray | None = None,
    primary: str | None = None,
) -> ComparisonReport:
    """Put the portfolios' reports beside the baselines, measured on the same segments.

    Args:
        reports: Label -> the portfolio's report, from :func:`~framework.benchmark.runner.run_benchmark` on
            ``data`` (or a selection of its tickers) and ``segments``.
        data: The panel the baselines hold.
        broker: The broker of the portfolios.
        segments: Segment name -> (start, stop) bars.
        baselines: Names among :data:`BASELINES`.
        periods_per_year: Bars per year.
        risk_free_rate: Annual risk-free rate.
        index_equity: The index as the value of the initial cash, or None (the ``index`` baseline is then
            skipped, and no relative metrics are computed).
        primary: The label whose metric the job returns; None for the first.

    Returns:
        The :class:`ComparisonReport`.

    Raises:
        ConfigError: For an unknown baseline or a primary that is not a label.

    Example:
        >>> from framework.benchmark.runner import run_benchmark
        >>> from framework.agents import EqualWeightSizing, Orchestrator
        >>> from framework.backtest import PortfolioStrategy, Sleeve, StrategySlot
        >>> from framework.aggregation import WeightedAverage
        >>> from framework.data import HoldoutSplit, SyntheticLoader
        >>> from framework.strategies import MACrossover
        >>> data = SyntheticLoader(n_tickers=3, n_days=300, seed=1).load()
        >>> broker, split = SimulatedBroker(), HoldoutSplit()
        >>> portfolio = PortfolioStrategy([Sleeve(data.tickers, [StrategySlot("ma", MACrossover(5, 20))],
        ...                                       WeightedAverage())], name="ma")
        >>> one = run_benchmark(data, portfolio, Orchestrator({"sizing": EqualWeightSizing()}), broker, split)
        >>> report = compare({"ma": one}, data, broker, split.segments(data.dates), baselines=["cash"])
        >>> report.rows(), report.metrics["cash/test/total_return"]
        (['ma', 'cash'], 0.0)
    """
    if primary is not None and primary not in reports:
        raise ConfigError(f"benchmark.primary: '{primary}' is not a portfolio of the comparison; use one of "
                          f"{', '.join(reports)}")  # fmt: skip
    metrics: dict[str, float] = {}
    for label, report in reports.items():
        metrics.update({f"{label}/{key}": value for key, value in report.metrics.items()
                        if key.split("/")[0] in (*segments, "full")})  # fmt: skip
    built = baseline_equities(data, broker, baselines, periods_per_year=periods_per_year,
                              risk_free_rate=risk_free_rate, index_equity=index_equity)  # fmt: skip
    curves: dict[str, np.ndarray] = {}
    spans = {**segments, "full": (0, data.n_days)}
    for name, value in built.items():
        if isinstance(value, BacktestResult):
            metrics.update(segment_metrics(value, segments, periods_per_year, risk_free_rate, prefix=f"{name}/"))
            curves[name] = value.equity
        else:
            curves[name] = value
            for segment, (start, stop) in spans.items():
                values = compute_metrics(value, start, stop, periods_per_year=periods_per_year,
                                         risk_free_rate=risk_free_rate)  # fmt: skip
                metrics.update({f"{name}/{segment}/{m}": v for m, v in values.items()})
        if index_equity is not None:
            metrics.update(index_relative_metrics(curves[name], index_equity, segments, periods_per_year,
                                                  risk_free_rate, prefix=f"{name}/"))  # fmt: skip
    first = primary or next(iter(reports))
    # The job's own metrics are its primary portfolio's, unprefixed, as a single run's: what a sweep ranks.
    metrics.update({key: value for key, value in reports[first].metrics.items()})
    warnings = [f"{label}: {line}" for label, report in reports.items() for line in report.warnings]
    return ComparisonReport(dict(reports), curves, dict(segments), data.dates, metrics, first, warnings)


def _markdown(rows: list[dict[str, Any]], segment: str, rank_by: str) -> str:
    """A Markdown table of :meth:`ComparisonReport.table` rows."""
    shown = [m for m in (*TABLE_METRICS, *RELATIVE_METRIC_NAMES) if any(np.isfinite(r[m]) for r in rows)]
    lines = [f"Segment `{segment}`, ranked by `{rank_by}`; baselines in italics.", "",
             "| # | name | " + " | ".join(shown) + " |", "|---:|:---|" + "---:|" * len(shown)]  # fmt: skip
    for row in rows:
        name = row["name"] if row["kind"] == "portfolio" else f"*{row['name']}*"
        cells = " | ".join(f"{row[m]:.4f}" if np.isfinite(row[m]) else "" for m in shown)
        lines.append(f"| {row['rank']} | {name} | {cells} |")
    return "\n".join(lines) + "\n"
