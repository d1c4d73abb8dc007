"""A time-varying universe: tickers listed late, ending early, bars without a price, under every missing policy."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from framework.agents import EqualWeightSizing, Orchestrator, RiskLimits, RiskParitySizing
from framework.aggregation import WeightedAverage
from framework.backtest import PortfolioStrategy, Sleeve, StrategySlot, run_backtest
from framework.backtest.result import BacktestResult
from framework.benchmark.runner import baseline_backtest
from framework.core import MarketData
from framework.data import SyntheticLoader
from framework.data.validation import MISSING_POLICIES, DataWarning, build_market_data
from framework.execution import SimulatedBroker
from framework.strategies import MACrossover

N_DAYS = 500


def raw_panel(seed: int = 4) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """OHLCV of 6 tickers: T001 lists on bar 120, T002 ends on bar 350, T003 has gaps on bars 200-202 and 300."""
    data = SyntheticLoader(n_tickers=6, n_days=N_DAYS, seed=seed, annual_volatility=0.3).load()
    fields = {name: np.array(data.field(name)) for name in ("open", "high", "low", "close", "volume")}
    for values in fields.values():
        values[:120, 1] = np.nan
        values[351:, 2] = np.nan
        values[200:203, 3] = np.nan
        values[300, 3] = np.nan
    return data.dates, fields


def load(policy: str, fields: dict[str, np.ndarray] | None = None) -> MarketData:
    dates, default = raw_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return build_market_data(dates, [f"T{i:03d}" for i in range(6)], fields or default, missing=policy)


def pipelines() -> dict[str, Orchestrator]:
    return {
        "equal_weight": Orchestrator({"sizing": EqualWeightSizing()}),
        "risk_parity+limits": Orchestrator(
            {
                "sizing": RiskParitySizing(rebalance="weekly", lookback=60, min_history=20),
                "risk": RiskLimits(lookback=60, min_history=20, max_position_risk=0.1),
            }  # fmt: skip
        ),
    }


def backtest(data: MarketData, pipeline: Orchestrator, broker: SimulatedBroker | None = None) -> BacktestResult:
    slot = StrategySlot("ma", MACrossover(short_window=5, long_window=20))
    signals = PortfolioStrategy([Sleeve(data.tickers, [slot], WeightedAverage())]).generate(data)
    return run_backtest(data, signals, pipeline, broker or SimulatedBroker(initial_cash=1e6, cost_bps=2.0))


RUNS = [(policy, name) for policy in ("skip", "drop_ticker", "ffill") for name in pipelines()]


@pytest.mark.parametrize(("policy", "name"), RUNS, ids=[f"{p}-{n}" for p, n in RUNS])
class TestChangingUniverse:
    def test_trades_only_where_a_ticker_trades_and_books_balance(self, policy: str, name: str) -> None:
        data = load(policy)
        result = backtest(data, pipelines()[name])
        tradable = data.tradable
        closing = np.zeros(data.shape, dtype=bool)  # the bar after a ticker's data ends: closed at its last price
        for column, last in enumerate(data.last_bars):
            if last < data.n_days - 1:
                closing[last + 1, column] = True
        traded = result.trade_bar, result.trade_asset
        assert (tradable[traded] | closing[traded]).all()
        holdings = (result.positions * data.marks).sum(axis=1)
        np.testing.assert_allclose(result.cash + holdings, result.equity, rtol=1e-12)
        assert np.isfinite(result.equity).all() and result.trade_bar.size > 0
        ended = data.last_bars < data.n_days - 1
        assert (result.positions[-1, ended] == 0).all()  # no position outlives its data
        assert (result.positions[:120, 1] == 0).all()  # nothing held before a listing
        if policy == "skip":
            # a gap keeps the position as it was: no fill on the gap's bars
            assert not (result.trade_asset[(result.trade_bar >= 200) & (result.trade_bar <= 202)] == 3).any()

    def test_a_position_whose_data_ends_is_closed_at_its_last_price(self, policy: str, name: str) -> None:
        from framework.strategies import BuyAndHold

        data = load(policy)
        slot = StrategySlot("hold", BuyAndHold())
        signals = PortfolioStrategy([Sleeve(data.tickers, [slot], WeightedAverage())]).generate(data)
        result = run_backtest(data, signals, pipelines()[name], SimulatedBroker(initial_cash=1e6, cost_bps=2.0))
        last = int(data.last_bars[2])
        assert result.positions[last, 2] > 0 and result.positions[last + 1, 2] == 0
        log = result.decisions_frame()
        closed = log[log["reason"].str.startswith("data ends") & (log["ticker"] == "T002")]
        assert closed["bar"].tolist() == [last + 1]
        fill = (result.trade_bar == last + 1) & (result.trade_asset == 2)
        assert result.trade_price[fill].tolist() == [data.close[last, 2]]
        assert result.trade_quantity[fill][0] == -result.positions[last, 2]
        assert result.trade_cost[fill][0] == pytest.approx(2e-4 * result.positions[last, 2] * data.close[last, 2])

    def test_baseline_holds_what_trades(self, policy: str, name: str) -> None:
        data = load(policy)
        baseline = baseline_backtest(data, SimulatedBroker(initial_cash=1e6))
        assert np.isfinite(baseline.equity).all()
        assert (baseline.positions[:121, 1] == 0).all() and baseline.positions[200, 1] > 0
        assert baseline.positions[-1, 2] == 0


@pytest.mark.parametrize("policy", MISSING_POLICIES)
@pytest.mark.parametrize("name", list(pipelines()))
@pytest.mark.parametrize("change", ["perturb", "blank"])
def test_data_after_d_changes_no_decision_before_d(policy: str, name: str, change: str) -> None:
    """For every missing policy: prices moved or removed after D leave every decision up to D as it was."""
    cut = 260
    _, fields = raw_panel()
    if policy == "error":  # only leading and trailing gaps are allowed: keep T003 whole, end it after D instead
        for values in fields.values():
            values[200:203, 3] = values[199, 3]
            values[300, 3] = values[299, 3]
    changed = {k: v.copy() for k, v in fields.items()}
    rng = np.random.default_rng(1)
    if change == "perturb":
        factor = np.exp(rng.normal(0, 0.05, (N_DAYS - cut - 1, 6)).cumsum(axis=0))
        for key in ("open", "high", "low", "close"):
            changed[key][cut + 1 :] *= factor
    else:
        for values in changed.values():
            values[cut + 3, 4] = np.nan  # a gap in T004 after D (an error under missing=error: end it instead)
            if policy == "error":
                values[cut + 3 :, 4] = np.nan
    a = backtest(load(policy, fields), pipelines()[name])
    b = backtest(load(policy, changed), pipelines()[name])
    rows = slice(0, cut + 1)
    np.testing.assert_array_equal(a.target_weights[rows], b.target_weights[rows])
    np.testing.assert_array_equal(a.equity[rows], b.equity[rows])
    log_a, log_b = a.decisions_frame(), b.decisions_frame()
    assert log_a[log_a["bar"] <= cut].reset_index(drop=True).equals(log_b[log_b["bar"] <= cut].reset_index(drop=True))


def test_drop_ticker_keeps_the_history_before_the_gap() -> None:
    """The old drop_ticker removed a ticker from the whole history for one gap in its last year."""
    full = load("skip")
    dropped = load("drop_ticker")
    assert dropped.tickers == full.tickers
    np.testing.assert_array_equal(dropped.close[:200, 3], full.close[:200, 3])
    assert np.isnan(dropped.close[200:, 3]).all()


def test_a_csv_with_a_changing_universe_runs_end_to_end(compose_config, tmp_path: Path, monkeypatch) -> None:
    from framework.app import run

    monkeypatch.chdir(tmp_path)
    dates, fields = raw_panel()
    frame = pd.DataFrame(fields["close"], columns=[f"T{i:03d}" for i in range(6)])
    frame.insert(0, "date", pd.DatetimeIndex(dates).strftime("%Y-%m-%d"))
    frame.to_csv(tmp_path / "prices.csv", index=False)
    overrides = ["data=csv", f"data.path={tmp_path / 'prices.csv'}", "data.missing=skip", "tracking=none",
                 "agent/risk=limits", "agent.risk.lookback=60", "agent.risk.min_history=20"]  # fmt: skip
    run(compose_config(overrides), tmp_path / "out")
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())["metrics"]
    assert np.isfinite(metrics["test/sharpe"]) and np.isfinite(metrics["baseline/test/sharpe"])
    decisions = pd.read_parquet(tmp_path / "out" / "decisions.parquet")
    assert decisions["reason"].str.startswith("data ends").any() or decisions["ticker"].eq("T002").any()
