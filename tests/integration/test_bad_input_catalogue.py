"""A catalogue of bad inputs, each run as ``python -m framework`` runs it (the CLI entry point, in-process).

Every case asserts the exit code, that the message names what is wrong (the key, file, ticker or date) and what
would be valid, and that no traceback is printed. Configuration and data errors exit 2 before the backtest;
degenerate runs and tracking failures finish (exit 0) with a warning that says what and where.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SHORT = ["data.start=2021-01-01", "data.end=2022-12-28"]
CSV = "data=csv"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data files with one defect each, beside a good one."""
    folder = tmp_path_factory.mktemp("bad_data")
    dates = pd.date_range("2020-01-01", periods=300, freq="B").strftime("%Y-%m-%d")
    rng = np.random.default_rng(0)
    good = pd.DataFrame(100 * np.cumprod(1 + rng.normal(0, 0.01, (300, 3)), axis=0), columns=["AAA", "BBB", "CCC"])
    good.insert(0, "date", dates)
    good.to_csv(folder / "good.csv", index=False)
    good.assign(FLAG=True).to_csv(folder / "bool.csv", index=False)
    frame = good.copy()
    frame.insert(2, "", 1.0)
    frame.to_csv(folder / "unnamed.csv", index=False)
    for name, row, column, value in (("huge", 10, "AAA", 1e300), ("negative", 10, "AAA", -5.0),
                                     ("gap", 20, "BBB", np.nan), ("text", 12, "CCC", "twelve")):  # fmt: skip
        frame = good.copy().astype({column: object})
        frame.loc[row, column] = value
        frame.to_csv(folder / f"{name}.csv", index=False)
    frame = good.copy()
    frame.loc[5, "date"] = frame.loc[4, "date"]
    frame.to_csv(folder / "duplicate_date.csv", index=False)
    frame = good.copy()
    frame.loc[7, "date"] = "2020-13-45"
    frame.to_csv(folder / "bad_date.csv", index=False)
    frame = good.copy()
    frame["date"] = [f"{d} 00:00:00{'+09:00' if i % 2 else '+01:00'}" for i, d in enumerate(frame["date"])]
    frame.to_csv(folder / "mixed_offsets.csv", index=False)
    rows = [{"date": d, "ticker": "AAA", "open": 10.0, "high": 11.0, "low": 12.0 if i == 3 else 9.0,
             "close": 10.5, "volume": 100.0} for i, d in enumerate(dates)]  # fmt: skip
    pd.DataFrame(rows).to_csv(folder / "high_below_low.csv", index=False)
    pd.DataFrame(rows).assign(volume=-1.0).to_csv(folder / "negative_volume.csv", index=False)
    (folder / "garbage.parquet").write_text("not parquet")
    (folder / "empty.csv").write_text("date,AAA\n")
    return folder


# (id, arguments, exit code, fragments the message must contain); {files} is the folder of the data files.
CASES: list[tuple[str, list[str], int, list[str]]] = [
    # configuration keys
    ("misspelled key", ["broker.cost_bsp=1"], 2, ["broker.cost_bsp", "cost_bps", "slippage_bps"]),
    ("unknown strategy", ["strategy=nope"], 2, ["strategy", "nope", "ma_crossover", "rsi"]),
    ("unknown sizing", ["agent/sizing=nope"], 2, ["agent/sizing", "nope", "risk_parity"]),
    ("unknown portfolio", ["portfolio=nope"], 2, ["portfolio", "nope", "multi_strategy"]),
    ("unknown aggregator", ["aggregator=nope"], 2, ["aggregator", "nope", "weighted_average"]),
    ("unknown experiment", ["experiment=nope"], 2, ["experiment", "nope", "ma_grid"]),
    ("unknown interpolation", ["strategy.short_window=${nope}"], 2, ["strategy.short_window", "nope"]),
    ("missing data path", [CSV], 2, ["data.path", "Missing mandatory value"]),
    ("pipeline order", ["agent.order=[sizing,risk]"], 2, ["agent.order", "every stage", "selection"]),
    ("on_error", ["agent.sizing.on_error=retry"], 2, ["agent.sizing.on_error", "raise, skip, hold, fallback"]),
    ("allowed targets type", ["allowed_targets=os."], 2, ["allowed_targets", "list of module prefixes"]),
    # configuration values
    ("negative window", ["strategy.short_window=-3"], 2, ["portfolio.strategies.main.short_window", "-3"]),
    ("windows out of order", ["strategy.short_window=80"], 2, ["short_window", "80", "long_window=50"]),
    ("seed", ["seed=-1"], 2, ["seed", "non-negative integer", "-1"]),
    ("optimized metric", ["optimized_metric=val/sharp"], 2, ["optimized_metric", "val/sharp", "sharpe"]),
    ("tracking flag", ["tracking.enabled=yes"], 2, ["tracking.enabled", "true or false", "yes"]),
    ("periods per year", ["benchmark.periods_per_year=0"], 2, ["benchmark.periods_per_year", "positive integer"]),
    ("risk-free rate", ["benchmark.risk_free_rate=2"], 2, ["benchmark.risk_free_rate", "(-1, 1)"]),
    ("benchmark index", ["benchmark.index=nasdaq"], 2, ["benchmark.index", "sp500", "nasdaq"]),
    (
        "split date",
        ["benchmark.split.train_end=2010-13-45", "benchmark.split.val_end=2015-01-01"],
        2,
        ["benchmark.split.train_end", "YYYY-MM-DD", "2010-13-45"],
    ),
    ("split fractions", ["benchmark.split.train=1.5"], 2, ["benchmark.split", "sum to 1", "1.5"]),
    ("data start format", ["data.start=01/02/2015"], 2, ["data.start", "YYYY-MM-DD", "01/02/2015"]),
    ("start after end", ["data.start=2020-01-01", "data.end=2019-01-01"], 2, ["data.start", "2020-01-01", "end"]),
    ("unknown ticker", ["data.tickers=[AAPL,NOPE]"], 2, ["NOPE", "available", "MSFT"]),
    ("no tickers", ["data.tickers=[]"], 2, ["data.tickers", "non-empty"]),
    ("missing policy", ["data.missing=interpolate"], 2, ["data.missing", "interpolate", "skip, drop_ticker"]),
    ("ffill limit", ["data.ffill_limit=0"], 2, ["data.ffill_limit", "positive integer"]),
    ("daily move factor", ["data.max_daily_move=0.5"], 2, ["data.max_daily_move", "> 1", "0.5"]),
    ("synthetic tickers", ["data=synthetic", "data.n_tickers=0"], 2, ["data.n_tickers", ">= 1"]),
    ("synthetic correlation", ["data=synthetic", "data.correlation=2"], 2, ["data.correlation", "[0, 1]"]),
    (
        "negative weight",
        ["portfolio=multi_strategy", "portfolio.strategies.rsi.weight=-1"],
        2,
        ["portfolio.strategies.rsi.weight", "finite number >= 0", "-1"],
    ),
    (
        "infinite weight",
        ["portfolio=multi_strategy", "portfolio.strategies.rsi.weight=inf"],
        2,
        ["portfolio.strategies.rsi.weight", "finite number >= 0", "inf"],
    ),
    ("initial cash", ["broker.initial_cash=0"], 2, ["broker.initial_cash", "> 0"]),
    ("fill price", ["broker.fill_price=midday"], 2, ["broker.fill_price", "auto, open, close", "midday"]),
    ("fractional shares", ["broker.fractional_shares=maybe"], 2, ["broker.fractional_shares", "true or false"]),
    ("rebalance", ["agent.sizing.rebalance=yearly"], 2, ["agent.sizing.rebalance", "monthly", "yearly"]),
    ("gross exposure", ["agent.sizing.gross_exposure=0"], 2, ["agent.sizing.gross_exposure", "> 0 and <= 10"]),
    ("position bound", ["agent.sizing.max_position_size=-1"], 2, ["agent.sizing.max_position_size", "> 0"]),
    ("allocation required", ["agent/sizing=fixed_allocation"], 2, ["agent.sizing", "allocation"]),
    (
        "VaR confidence",
        ["agent/risk=limits", "agent.risk.var_confidence=95"],
        2,
        ["agent.risk.var_confidence", "> 0.5", "95"],
    ),
    (
        "history too long",
        [*SHORT, "agent/risk=limits", "agent.risk.min_history=5000", "agent.risk.lookback=6000"],
        2,
        ["agent.risk.min_history", "5000", "bars"],
    ),
    (
        "correlation limit",
        ["agent/correlation=threshold", "agent.correlation.max_correlation=2"],
        2,
        ["agent.correlation.max_correlation", "got 2"],
    ),
    (
        "top k",
        ["agent/selection=top_k", "agent.selection.max_positions=0"],
        2,
        ["agent.selection.max_positions", "positive integer"],
    ),
    (
        "ewma without half-life",
        ["agent/sizing=risk_parity", "agent.sizing.covariance=ewma"],
        2,
        ["agent.sizing.halflife", "ewma", "half-life"],
    ),
    (
        "risk budget ticker",
        ["agent/sizing=risk_parity", "+agent.sizing.risk_budgets={NOPE: 2}"],
        2,
        ["agent.sizing.risk_budgets", "NOPE", "AAPL"],
    ),
    # expressions
    (
        "unknown function",
        ["portfolio=expression", "portfolio.strategies.expression.expression='foo(close)'"],
        2,
        ["portfolio.strategies.expression.expression", "foo"],
    ),
    (
        "negative lag",
        ["portfolio=expression", "portfolio.strategies.expression.expression='delay(close, -1)'"],
        2,
        ["portfolio.strategies.expression.expression", "look ahead"],
    ),
    (
        "unclosed call",
        ["portfolio=expression", "portfolio.strategies.expression.expression='sma(close, 5'"],
        2,
        ["portfolio.strategies.expression.expression", "expected ')'"],
    ),
    (
        "absent input",
        ["portfolio=expression", "portfolio.strategies.expression.expression='sma(volume, 5)'"],
        2,
        ["portfolio.strategies.expression.expression", "volume", "absent", "close"],
    ),
    # targets
    (
        "process as a target",
        [
            "portfolio=multi_strategy",
            "+portfolio.strategies.random_forest.estimator={_target_: subprocess.Popen, args: [touch, pwned]}",
        ],
        2,
        ["portfolio.strategies.random_forest.estimator._target_", "subprocess.Popen", "framework., plugins."],
    ),
    ("module as a target", ["strategy._target_=this.Zen"], 2, ["strategy._target_", "this.Zen", "allowed"]),
    (
        "regressor as a classifier",
        [
            "portfolio=multi_strategy",
            # The portfolio spells the forest's estimator out: a new one replaces it (delete, then add).
            "~portfolio.strategies.random_forest.estimator",
            "+portfolio.strategies.random_forest.estimator={_target_: sklearn.linear_model.LinearRegression}",
        ],
        2,
        ["portfolio.strategies.random_forest.estimator", "classifier", "predict_proba"],
    ),
    # tracking URIs
    ("in-memory store", ["tracking.tracking_uri=sqlite:///:memory:"], 2, ["tracking.tracking_uri", ":memory:"]),
    (
        "database driver missing",
        [*SHORT, "tracking.tracking_uri=postgresql://u@localhost/db"],
        0,
        ["not tracked", "postgresql", "driver", "nothing is lost"],
    ),
    (
        "credentials in the URI",
        [*SHORT, "tracking.tracking_uri=http://user:secret@127.0.0.1:9"],
        0,
        ["not tracked", "user:***@", "nothing is lost"],
    ),
    # data files
    ("file not found", [CSV, "data.path=/nonexistent/prices.csv"], 2, ["/nonexistent/prices.csv", "not found"]),
    ("directory as path", [CSV, "data.path={files}"], 2, ["is a directory", "data.path", "bool.csv"]),
    ("boolean column", [CSV, "data.path={files}/bool.csv"], 2, ["bool.csv", "FLAG", "true/false"]),
    ("unnamed column", [CSV, "data.path={files}/unnamed.csv"], 2, ["unnamed.csv", "no name", "Unnamed"]),
    ("text in prices", [CSV, "data.path={files}/text.csv"], 2, ["text.csv", "CCC", "twelve"]),
    ("absurd price", [CSV, "data.path={files}/huge.csv"], 2, ["huge.csv", "AAA", "2020-01-15", "1e+12"]),
    ("negative price", [CSV, "data.path={files}/negative.csv"], 2, ["negative.csv", "AAA", "2020-01-15", "> 0"]),
    ("duplicate date", [CSV, "data.path={files}/duplicate_date.csv"], 2, ["duplicate_date.csv", "2020-01-07", "twice"]),
    ("unparseable date", [CSV, "data.path={files}/bad_date.csv"], 2, ["bad_date.csv", "row 7", "2020-13-45"]),
    ("mixed offsets", [CSV, "data.path={files}/mixed_offsets.csv"], 2, ["mixed_offsets.csv", "row 1", "+09:00"]),
    (
        "high below low",
        [CSV, "data.path={files}/high_below_low.csv", "data.layout=long"],
        2,
        ["high_below_low.csv", "AAA", "2020-01-06", "low <= open, close <= high"],
    ),
    (
        "negative volume",
        [CSV, "data.path={files}/negative_volume.csv", "data.layout=long"],
        2,
        ["negative_volume.csv", "volume", ">= 0"],
    ),
    ("gap inside the data", [CSV, "data.path={files}/gap.csv"], 2, ["gap.csv", "BBB", "2020-01-29", "missing='skip'"]),
    ("empty file", [CSV, "data.path={files}/empty.csv"], 2, ["empty.csv"]),
    ("unknown layout", [CSV, "data.path={files}/good.csv", "data.layout=diagonal"], 2, ["data.layout", "wide, long"]),
    ("not a parquet file", ["data=parquet", "data.path={files}/garbage.parquet"], 2, ["garbage.parquet", "Parquet"]),
    # degenerate runs: they finish, and say what is wrong
    (
        "threshold above every signal",
        [*SHORT, "agent.sizing.threshold=2"],
        0,
        ["warning: agent.sizing: no position", "agent.sizing.threshold", "no trade"],
    ),
    (
        "minimum trade value",
        [*SHORT, "broker.min_trade_value=1e12"],
        0,
        ["warning: the run made no trade", "broker.min_trade_value"],
    ),
    (
        "expression NaN everywhere",
        [*SHORT, "portfolio=expression", "portfolio.strategies.expression.expression='log(-close)'"],
        0,
        ["warning: portfolio.strategies.expression", "missing on every bar", "AAPL"],
    ),
    (
        "fewer bars than the window",
        ["data.start=2022-10-01", "strategy.long_window=200"],
        0,
        ["warning: portfolio.strategies.main", "61 bars"],
    ),
]


def run_cli(args: list[str], out: Path) -> tuple[int, str]:
    """``python -m framework ARGS`` in this process; the exit code and what went to stderr."""
    from framework.__main__ import main

    tracked = any(a.startswith("tracking.tracking_uri") for a in args)
    argv = ["framework", *args, *([] if tracked or "tracking.enabled=yes" in args else ["tracking=none"]),
            f"hydra.run.dir={out}", "hydra/job_logging=disabled", "hydra/hydra_logging=disabled"]  # fmt: skip
    saved = sys.argv
    # Hydra configures logging for the job (disabling existing loggers): restore it for the tests that follow.
    loggers = {name: (lg.disabled, lg.level, list(lg.handlers), lg.propagate)
               for name, lg in logging.Logger.manager.loggerDict.items() if isinstance(lg, logging.Logger)}  # fmt: skip
    root = logging.getLogger()
    root_state = (root.level, list(root.handlers), list(root.filters))
    factory = logging.getLogRecordFactory()
    errors, printed = io.StringIO(), io.StringIO()
    try:
        sys.argv = argv
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(printed):
            code = main()
    finally:
        sys.argv = saved
        for name, (disabled, level, handlers, propagate) in loggers.items():
            logger = logging.getLogger(name)
            logger.disabled, logger.level, logger.handlers, logger.propagate = disabled, level, handlers, propagate
        root.level, root.handlers, root.filters = root_state[0], root_state[1], root_state[2]
        logging.setLogRecordFactory(factory)
    return code, errors.getvalue()


def test_the_catalogue_is_large_and_distinct() -> None:
    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)
    assert len({tuple(case[1]) for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("args", "code", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_reported_clearly(
    args: list[str], code: int, fragments: list[str], files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    exit_code, stderr = run_cli([a.replace("{files}", str(files)) for a in args], tmp_path / "out")
    assert exit_code == code, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment.replace("{files}", str(files)) in stderr, stderr
    assert "secret" not in stderr
    assert not (tmp_path / "pwned").exists()
    if code == 2:
        assert not (tmp_path / "out" / "metrics.json").exists()  # stopped before the backtest
    else:
        assert (tmp_path / "out" / "metrics.json").is_file()  # the run finished and kept its results
