"""The benchmark runner: a portfolio and its baseline on the same data, metrics per segment."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from framework.agents.orchestrator import Orchestrator
from framework.agents.sizing import EqualWeightSizing
from framework.backtest.engine import run_backtest
from framework.backtest.monitoring import (
    EXECUTION_METRIC_NAMES,
    PIPELINE_METRIC_NAMES,
    execution_metrics,
    pipeline_metrics,
    risk_series,
    risk_spec,
)
from framework.backtest.portfolio import PortfolioStrategy
from framework.backtest.result import BacktestResult
from framework.benchmark.metrics import METRIC_NAMES, RELATIVE_METRIC_NAMES, compute_metrics, relative_metrics
from framework.core.checks import check_choice
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.progress import progress
from framework.core.types import SignalFrame
from framework.data.walk_forward import Fold
from framework.execution.broker import SimulatedBroker

#: Formats of the panels and logs a run writes.
OUTPUT_FORMATS: tuple[str, ...] = ("parquet", "csv")
#: What a run writes: everything, or what a large sweep needs.
OUTPUT_LEVELS: tuple[str, ...] = ("full", "summary")
#: Segment names a metric key may start with; ``full`` is the whole span.
SEGMENTS: tuple[str, ...] = ("train", "val", "test", "full")


class Splitter(Protocol):
    """Anything that cuts dates into named contiguous segments (see :class:`framework.data.HoldoutSplit`).

    A walk-forward splitter also has ``folds(dates)`` (see :class:`framework.data.WalkForwardSplit`).

    Example:
        >>> from framework.data import HoldoutSplit
        >>> split: Splitter = HoldoutSplit(train=0.5, val=0.25, test=0.25)
        >>> split.segments(np.arange(8).astype("datetime64[D]"))
        {'train': (0, 4), 'val': (4, 6), 'test': (6, 8)}
    """

    def __init__(self) -> None:
        """A protocol: implementations define their own constructor."""

    def segments(self, dates: np.ndarray) -> dict[str, tuple[int, int]]:
        """Cut the dates into segments.

        Args:
            dates: The bar dates, increasing.

        Returns:
            Ordered segment name -> (start, stop) bar range.

        Example:
            >>> from framework.data import HoldoutSplit
            >>> HoldoutSplit().segments(np.arange(10).astype("datetime64[D]"))["test"]
            (8, 10)
        """
        ...


def check_metric_key(key: str, name: str = "optimized_metric") -> None:
    """Check that ``key`` names a metric the runner produces.

    Args:
        key: ``<segment>/<metric>`` or ``baseline/<segment>/<metric>``.
        name: Config key holding it, for the message.

    Raises:
        ConfigError: Listing the valid segments and metrics.

    Example:
        >>> check_metric_key("val/sharpe")
        >>> check_metric_key("val/sharp")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: optimized_metric: 'val/sharp' is not a metric; use <segment>/<metric> ...
    """
    parts = str(key).split("/")
    pipeline = len(parts) == 2 and (
        parts[1] in PIPELINE_METRIC_NAMES + EXECUTION_METRIC_NAMES or parts[1].startswith(("resizes_", "cost_"))
    )
    if parts and parts[0] in ("baseline", "index"):
        parts = parts[1:]
    fold = len(parts) == 2 and parts[0].startswith("fold_") and parts[0][5:].isdigit()
    known = METRIC_NAMES + RELATIVE_METRIC_NAMES
    if len(parts) != 2 or not (parts[0] in SEGMENTS or fold) or not (parts[1] in known or pipeline):
        raise ConfigError(
            f"{name}: '{key}' is not a metric; use <segment>/<metric> with segment in {', '.join(SEGMENTS)} "
            "(or fold_<k> of a walk-forward) "
            f"and metric in {', '.join(METRIC_NAMES)} (prefix baseline/ for the baseline, index/ for the index), "
            f"or against the index (benchmark.index): {', '.join(RELATIVE_METRIC_NAMES)}, "
            f"or a pipeline metric: {', '.join(PIPELINE_METRIC_NAMES + EXECUTION_METRIC_NAMES)}, resizes_<stage>, "
            "cost_<model>"
        )


def baseline_backtest(data: MarketData, broker: SimulatedBroker) -> BacktestResult:
    """Equal-weight buy-and-hold of every ticker: bought at the first fill, never rebalanced.

    With a time-varying universe (tickers listed late, data ending early, bars without a price), the baseline
    holds the tickers that trade, in equal weight, rebalanced only on the bars where that set changes; a ticker
    whose data ends is sold at its last price.

    Args:
        data: The price panel.
        broker: The same broker (costs, slippage, cash) as the strategy.

    Returns:
        The baseline's :class:`BacktestResult`.

    Example:
        >>> close = np.array([[10.0, 10.0], [10.0, 10.0], [20.0, 10.0]])
        >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B"), close)
        >>> baseline_backtest(data, SimulatedBroker(initial_cash=100.0)).equity.tolist()
        [100.0, 100.0, 150.0]
    """
    if data.complete:
        always = np.ones(data.shape)
        pipeline = Orchestrator({"baseline": EqualWeightSizing(rebalance="never")})
        return run_backtest(data, SignalFrame(always, always), pipeline, broker)
    trading = np.where(data.tradable, 1.0, np.nan)
    pipeline = Orchestrator({"baseline": EqualWeightSizing(rebalance="on_change")})
    return run_backtest(data, SignalFrame(trading, data.tradable.astype(np.float64)), pipeline, broker)


def index_relative_metrics(
    equity: np.ndarray,
    index_equity: np.ndarray,
    segments: Mapping[str, tuple[int, int]],
    periods_per_year: int = 252,
    risk_free_rate: float = 0.0,
    prefix: str = "",
) -> dict[str, float]:
    """Beta, alpha, tracking error and information ratio against the index, per segment and over the whole span.

    Args:
        equity: Shape (days,). The portfolio's (or a baseline's) value per bar.
        index_equity: Shape (days,). The index as the value of the initial cash invested in it.
        segments: Segment name -> (start, stop) bars; ``full`` is added for the whole span.
        periods_per_year: Bars per year.
        risk_free_rate: Annual risk-free rate.
        prefix: Prepended to every key (``baseline/``).

    Returns:
        ``<prefix><segment>/<metric>`` for each metric of
        :data:`~framework.benchmark.metrics.RELATIVE_METRIC_NAMES`.

    Example:
        >>> index = 100.0 * np.cumprod(np.r_[1.0, 1.0 + np.tile([0.01, -0.005], 10)])
        >>> twice = 100.0 * np.cumprod(np.r_[1.0, 1.0 + 2.0 * np.tile([0.01, -0.005], 10)])
        >>> metrics = index_relative_metrics(twice, index, {"test": (10, 21)})
        >>> round(metrics["test/beta"], 6), round(metrics["full/beta"], 6)
        (2.0, 2.0)
    """
    spans = {**segments, "full": (0, len(equity))}
    metrics: dict[str, float] = {}
    for segment, (start, stop) in spans.items():
        values = relative_metrics(equity, index_equity, start, stop, periods_per_year=periods_per_year,
                                  risk_free_rate=risk_free_rate)  # fmt: skip
        metrics.update({f"{prefix}{segment}/{name}": value for name, value in values.items()})
    return metrics


def segment_metrics(
    result: BacktestResult,
    segments: Mapping[str, tuple[int, int]],
    periods_per_year: int = 252,
    risk_free_rate: float = 0.0,
    prefix: str = "",
) -> dict[str, float]:
    """Every metric of every segment, keyed ``<prefix><segment>/<metric>``.

    Args:
        result: A backtest.
        segments: Segment name -> (start, stop) bars; ``full`` is added for the whole span.
        periods_per_year: Bars per year, for annualization.
        risk_free_rate: Annual risk-free rate for Sharpe and Sortino.
        prefix: Prepended to every key (``baseline/``).

    Returns:
        The flat metric mapping.

    Example:
        >>> close = np.array([[10.0], [11.0], [12.1], [11.0], [12.0]])
        >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("A",), close)
        >>> result = baseline_backtest(data, SimulatedBroker(initial_cash=100.0))
        >>> metrics = segment_metrics(result, {"test": (2, 5)}, prefix="baseline/")
        >>> round(metrics["baseline/test/total_return"], 4), round(metrics["baseline/full/total_return"], 4)
        (0.0909, 0.0909)
    """
    exposure = result.gross_exposure()
    spans = {**segments, "full": (0, len(result.equity))}
    metrics: dict[str, float] = {}
    for segment, (start, stop) in spans.items():
        values = compute_metrics(
            result.equity, start, stop,
            traded_value=result.traded_value, gross_exposure=exposure, trade_counts=result.trade_counts,
            periods_per_year=periods_per_year, risk_free_rate=risk_free_rate,
        )  # fmt: skip
        metrics.update({f"{prefix}{segment}/{name}": value for name, value in values.items()})
    return metrics


@dataclass
class BenchmarkReport:
    """A portfolio's backtest beside its baseline's, with metrics per segment.

    Attributes:
        name: The portfolio's name.
        result: The portfolio's backtest.
        baseline: The equal-weight buy-and-hold baseline on the same data and broker.
        segments: Segment name -> (start, stop) bar range.
        metrics: ``<segment>/<metric>`` for the portfolio, ``baseline/<segment>/<metric>`` for the baseline,
            for example ``{"test/sharpe": 0.61, "baseline/test/sharpe": 0.55, ...}``.
        data_fingerprint: Hash of the data the run used.
        index_equity: The benchmark index (``benchmark.index``) as the value of the initial cash invested in it
            at the first bar, one value per bar; None without an index. Its metrics are ``index/<segment>/...``.
        risk: The run's risk series per bar (:func:`framework.backtest.monitoring.risk_series`).
        warnings: What makes the run degenerate, in words naming the key or ticker (:func:`run_warnings`).
        folds: A walk-forward's folds (empty for a holdout split); fold ``k``'s test window is the segment
            ``fold_<k>``.

    Example:
        >>> result = BacktestResult.empty(np.arange(4).astype("datetime64[D]"), ("A",), 100.0)
        >>> report = BenchmarkReport("demo", result, result, {"test": (1, 4)}, {"test/sharpe": 0.4}, "ab12")
        >>> report.name, report.segments, report.folds
        ('demo', {'test': (1, 4)}, [])
    """

    name: str
    result: BacktestResult
    baseline: BacktestResult
    segments: dict[str, tuple[int, int]]
    metrics: dict[str, float]
    data_fingerprint: str
    index_equity: np.ndarray | None = None
    risk: dict[str, np.ndarray] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    folds: list[Fold] = field(default_factory=list)

    def summary_table(self) -> str:
        """A short text table: key metrics per segment, portfolio against baseline.

        Returns:
            One line per segment and row (portfolio, baseline, index when measured), and for a walk-forward one
            line on its folds.

        Example:
            >>> result = BacktestResult.empty(np.arange(6).astype("datetime64[D]"), ("A",), 100.0)
            >>> names = ("total_return", "cagr", "sharpe", "max_drawdown", "turnover")
            >>> metrics = {f"{who}{s}/{m}": 0.0 for who in ("", "baseline/") for s in ("test", "full") for m in names}
            >>> table = BenchmarkReport("p", result, result, {"test": (2, 6)}, metrics, "").summary_table()
            >>> print(table.splitlines()[0])  # doctest: +NORMALIZE_WHITESPACE
            segment total_return cagr sharpe max_drawdown turnover
            >>> print(table.splitlines()[2])  # doctest: +NORMALIZE_WHITESPACE
            test portfolio 0.0000 0.0000 0.0000 0.0000 0.0000
        """
        shown = ("total_return", "cagr", "sharpe", "max_drawdown", "turnover")
        header = f"{'segment':<8}{'':<10}" + "".join(f"{m:>14}" for m in shown)
        lines = [header, "-" * len(header)]
        rows = [("portfolio", ""), ("baseline", "baseline/")]
        if self.index_equity is not None:
            rows.append(("index", "index/"))
        folds = [name for name in self.segments if name.startswith("fold_")]
        for segment in (*(name for name in self.segments if name not in folds), "full"):
            for who, prefix in rows:
                cells = "".join(f"{self.metrics[f'{prefix}{segment}/{m}']:>14.4f}" for m in shown)
                cells = cells.replace("           nan", "             -")  # the index has no turnover
                lines.append(f"{segment if who == 'portfolio' else '':<8}{who:<10}{cells}")
        if folds:  # a walk-forward: one line on the folds rather than one row each (they are in metrics.json)
            sharpe = np.array([self.metrics[f"{name}/sharpe"] for name in folds])
            beat = sum(self.metrics[f"{n}/total_return"] > self.metrics[f"baseline/{n}/total_return"] for n in folds)
            lines.append(f"{len(folds)} folds (test = their windows stitched): sharpe per fold mean "
                         f"{np.nanmean(sharpe):.2f}, min {np.nanmin(sharpe):.2f}, max {np.nanmax(sharpe):.2f}; "
                         f"beat the baseline in {beat} of {len(folds)}")  # fmt: skip
        return "\n".join(lines)

    def segment_dates(self) -> dict[str, tuple[str, str]]:
        """The dates of each segment.

        Returns:
            Segment name -> (first date, last date) as ISO strings.

        Example:
            >>> result = BacktestResult.empty(np.arange("2024-01-01", "2024-01-05", dtype="datetime64[D]"), ("A",), 1.0)
            >>> BenchmarkReport("p", result, result, {"test": (2, 4)}, {}, "").segment_dates()
            {'test': ('2024-01-03', '2024-01-04')}
        """
        dates = self.result.dates
        return {name: (str(dates[start]), str(dates[stop - 1])) for name, (start, stop) in self.segments.items()}

    def write(
        self, folder: Path, output_format: str = "parquet", level: str = "full", plot: bool = True
    ) -> dict[str, Path]:
        """Write the run's results as files into ``folder``.

        ``summary`` keeps what a large sweep needs: the metrics, the equity curve, the plot (and the config the
        app writes beside them); ``full`` adds the panels and logs: positions, target weights, the risk series,
        trades, orders, the decision log and the agents' tables. Panels and logs are Parquet files (compact,
        typed, quick to write and read with pandas), or CSV with ``output_format="csv"``.

        Args:
            folder: Output folder, created if needed.
            output_format: ``parquet`` or ``csv``.
            level: ``full`` or ``summary``.
            plot: Draw the equity, drawdown and risk plot (PNG).

        Returns:
            File role -> path: ``metrics``, ``equity``, ``plot``, and at level ``full`` also ``positions``,
            ``targets``, ``risk``, ``trades``, ``orders``, ``decisions`` and one per agent table (``correlation``).

        Raises:
            ConfigError: For an unknown format or level.

        Example:
            >>> import tempfile
            >>> result = BacktestResult.empty(np.arange(4).astype("datetime64[D]"), ("A",), 100.0)
            >>> report = BenchmarkReport("demo", result, result, {"test": (1, 4)}, {}, "ab12")
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     sorted(report.write(Path(folder), level="summary", plot=False))
            ['equity', 'metrics']
        """
        import pandas as pd

        check_choice("outputs.format", output_format, OUTPUT_FORMATS)
        check_choice("outputs.level", level, OUTPUT_LEVELS)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".parquet" if output_format == "parquet" else ".csv"

        def save(role: str, frame: pd.DataFrame, index: bool = True) -> None:
            path = folder / f"{role}{suffix}"
            if output_format == "parquet":
                frame.to_parquet(path, index=index, compression="zstd")
            else:
                frame.to_csv(path, index=index)
            files[role] = path

        files: dict[str, Path] = {"metrics": folder / "metrics.json"}
        summary: dict[str, Any] = {"portfolio": self.name, "data_fingerprint": self.data_fingerprint,
                   "segments": self.segment_dates(), "metrics": self.metrics, "warnings": self.warnings}  # fmt: skip
        if self.folds:
            dates = self.result.dates

            def span(bars: tuple[int, int]) -> list[str]:
                return [str(dates[bars[0]]), str(dates[bars[1] - 1])]

            summary["folds"] = [{"train": span(f.train), "test": span(f.test)} for f in self.folds]
        files["metrics"].write_text(json.dumps(summary, indent=2, allow_nan=True))
        equity = self.result.equity_frame()
        equity["baseline_equity"] = self.baseline.equity
        if self.index_equity is not None:
            equity["index_equity"] = self.index_equity
        save("equity", equity)
        if level == "full":
            save("positions", self.result.positions_frame())
            save("targets", self.result.targets_frame())
            save("risk", pd.DataFrame(self.risk, index=pd.DatetimeIndex(self.result.dates, name="date")))
            for table, frame in self.result.agent_tables.items():
                save(table, frame)
            save("trades", self.result.trades_frame(), index=False)
            save("orders", self.result.orders_frame(), index=False)
            save("decisions", self.result.decisions_frame(), index=False)
        if plot:
            from framework.benchmark.plots import plot_equity_drawdown

            files["plot"] = plot_equity_drawdown(self, folder / "equity_drawdown.png")
        return files


def run_benchmark(
    data: MarketData,
    portfolio: PortfolioStrategy,
    orchestrator: Orchestrator,
    broker: SimulatedBroker,
    split: Splitter,
    *,
    periods_per_year: int = 252,
    risk_free_rate: float = 0.0,
    index: np.ndarray | None = None,
) -> BenchmarkReport:
    """Fit on train, backtest the whole span, and measure the portfolio and its baseline per segment.

    The backtest runs over every bar (the bars before a segment serve as its warm-up); only the fit of the
    portfolio's learning components is restricted to the train segment.

    Args:
        data: The panel, already cut to the portfolio's tickers.
        portfolio: Strategies and aggregators per ticker.
        orchestrator: The decision pipeline.
        broker: Fills, costs, cash.
        split: Cuts the dates into train / val / test.
        periods_per_year: Bars per year.
        risk_free_rate: Annual risk-free rate.
        index: Optional benchmark index level per bar of ``data`` (e.g. the S&P 500), measured as ``index/...``.

    Returns:
        The :class:`BenchmarkReport`.

    Raises:
        ConfigError: If a holdout split has no ``train`` segment.

    Example:
        >>> from framework.agents import EqualWeightSizing
        >>> from framework.aggregation import WeightedAverage
        >>> from framework.backtest import Sleeve, StrategySlot
        >>> from framework.data import HoldoutSplit, SyntheticLoader
        >>> from framework.strategies import MACrossover
        >>> data = SyntheticLoader(n_tickers=3, n_days=300, seed=1).load()
        >>> portfolio = PortfolioStrategy([Sleeve(data.tickers, [StrategySlot("ma", MACrossover(5, 20))],
        ...                                       WeightedAverage())], name="ma")
        >>> report = run_benchmark(data, portfolio, Orchestrator({"sizing": EqualWeightSizing()}),
        ...                        SimulatedBroker(), HoldoutSplit())
        >>> sorted(report.segments), "baseline/test/sharpe" in report.metrics
        (['test', 'train', 'val'], True)
    """
    segments = split.segments(data.dates)
    folds = split.folds(data.dates) if hasattr(split, "folds") else None
    if folds is not None:
        signals = walk_forward_signals(portfolio, data, folds)
    else:
        if "train" not in segments:
            raise ConfigError(f"benchmark.split: must produce a 'train' segment, got {', '.join(segments)}")
        portfolio.fit(data, train_stop=segments["train"][1])
        signals = portfolio.generate(data)
    result = run_backtest(data, signals, orchestrator, broker, portfolio.allocation_weights(data.tickers))
    baseline = baseline_backtest(data, broker)
    metrics = segment_metrics(result, segments, periods_per_year, risk_free_rate)
    risk = risk_series(result, data, risk_spec(orchestrator.agents, periods_per_year))
    metrics.update(pipeline_metrics(result, risk, segments))
    metrics.update(execution_metrics(result, segments))
    metrics.update(segment_metrics(baseline, segments, periods_per_year, risk_free_rate, prefix="baseline/"))
    index_equity = None
    if index is not None:
        index_equity = broker.initial_cash * np.asarray(index, dtype=np.float64) / float(index[0])
        for segment, (start, stop) in {**segments, "full": (0, len(index_equity))}.items():
            values = compute_metrics(index_equity, start, stop, periods_per_year=periods_per_year,
                                     risk_free_rate=risk_free_rate)  # fmt: skip
            metrics.update({f"index/{segment}/{name}": value for name, value in values.items()})
        metrics.update(index_relative_metrics(result.equity, index_equity, segments, periods_per_year, risk_free_rate))
        metrics.update(index_relative_metrics(baseline.equity, index_equity, segments, periods_per_year,
                                              risk_free_rate, prefix="baseline/"))  # fmt: skip
    return BenchmarkReport(
        portfolio.name, result, baseline, segments, metrics, data.fingerprint(), index_equity, risk=risk,
        warnings=run_warnings(result, getattr(portfolio, "silent_", {}), orchestrator), folds=list(folds or []),
    )  # fmt: skip


def walk_forward_signals(portfolio: PortfolioStrategy, data: MarketData, folds: Sequence[Fold]) -> SignalFrame:
    """The out-of-sample signals of a walk-forward: each fold's test bars from a fit on that fold's train bars.

    For each fold in turn, the portfolio's learners are refitted on the fold's training window only, and the
    signals of its test window are computed from the data up to the window's end (the strategies are causal, so
    that is what they would have said live). Bars outside every test window get no signal (NaN), so the
    backtest holds cash there; where test windows overlap (``step`` shorter than ``test``), the later fold's fit
    decides.

    Args:
        portfolio: Strategies and aggregators per ticker (refitted in place, fold by fold).
        data: The whole panel.
        folds: The folds (see :class:`framework.data.WalkForwardSplit`).

    Returns:
        Signal and confidence for every bar and ticker of ``data``.

    Example:
        >>> from framework.aggregation import WeightedAverage
        >>> from framework.backtest import Sleeve, StrategySlot
        >>> from framework.data import Fold
        >>> from framework.strategies import MACrossover
        >>> close = np.linspace(10.0, 20.0, 12).reshape(12, 1)
        >>> data = MarketData(np.arange(12).astype("datetime64[D]"), ("A",), close)
        >>> portfolio = PortfolioStrategy([Sleeve(("A",), [StrategySlot("ma", MACrossover(2, 3))], WeightedAverage())])
        >>> walk_forward_signals(portfolio, data, [Fold((0, 6), (6, 9)), Fold((3, 9), (9, 12))]).signal.ravel()
        array([nan, nan, nan, nan, nan, nan,  1.,  1.,  1.,  1.,  1.,  1.])
    """
    signal = np.full(data.shape, np.nan)
    confidence = np.zeros(data.shape)
    silent: dict[str, tuple[str, ...]] | None = None
    bar = progress(len(folds), "walk-forward folds", "fold")
    for fold in folds:
        (train_start, train_stop), (start, stop) = fold.train, fold.test
        portfolio.fit(data, train_stop=train_stop, train_start=train_start)
        frame = portfolio.generate(data.slice_rows(0, stop))
        signal[start:stop] = np.asarray(frame.signal, dtype=np.float64)[start:stop]
        confidence[start:stop] = np.asarray(frame.confidence, dtype=np.float64)[start:stop]
        quiet = dict(getattr(portfolio, "silent_", {}))
        silent = quiet if silent is None else {
            label: tuple(t for t in tickers if t in quiet.get(label, ())) for label, tickers in silent.items()
        }  # fmt: skip
        bar.update(1)
    bar.close()
    portfolio.silent_ = {label: tickers for label, tickers in (silent or {}).items() if tickers}  # in every fold
    return SignalFrame(signal=signal, confidence=confidence)


def run_warnings(
    result: BacktestResult, silent: Mapping[str, tuple[str, ...]], orchestrator: Orchestrator
) -> list[str]:
    """What makes a run degenerate, each in words that name the key or the tickers to look at.

    - a strategy whose signal is missing on every bar for some tickers (a window longer than the data, an
      expression that is NaN everywhere);
    - a sizing stage that never proposed a position;
    - a run that made no trade.

    Args:
        result: The backtest.
        silent: Strategy label -> tickers its signal never covered (``PortfolioStrategy.silent_``).
        orchestrator: The pipeline, to name its first stage.

    Returns:
        The warnings, in that order; empty for a healthy run.

    Example:
        >>> from framework.agents import EqualWeightSizing
        >>> result = BacktestResult.empty(np.arange(3).astype("datetime64[D]"), ("A",), 100.0)
        >>> pipeline = Orchestrator({"sizing": EqualWeightSizing()})
        >>> for line in run_warnings(result, {"rsi": ("A",)}, pipeline):  # doctest: +ELLIPSIS
        ...     print(line)
        portfolio.strategies.rsi: the signal is missing on every bar for A (a window longer than the data's 3 ...
        agent.sizing: no position was ever proposed (is agent.sizing.threshold above every signal?)
        the run made no trade (check the signals, agent.sizing and broker.min_trade_value)
    """
    out = []
    bars = result.equity.shape[0]
    for label, tickers in silent.items():
        shown = ", ".join(tickers[:10]) + (f" and {len(tickers) - 10} more" if len(tickers) > 10 else "")
        out.append(
            f"portfolio.strategies.{label}: the signal is missing on every bar for {shown} (a window longer than "
            f"the data's {bars} bars, or an expression that is NaN everywhere?)"
        )
    if not np.nan_to_num(result.target_weights).any():
        stage = orchestrator.agents[0].name
        out.append(f"agent.{stage}: no position was ever proposed (is agent.{stage}.threshold above every signal?)")
    if result.trade_bar.size == 0:
        out.append("the run made no trade (check the signals, agent.sizing and broker.min_trade_value)")
    return out
