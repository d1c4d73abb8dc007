"""The per-bar loop: reproduction against plain numpy, accounting invariants, causality, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from framework.agents import Agent, EqualWeightSizing, Orchestrator
from framework.aggregation import WeightedAverage
from framework.backtest import PortfolioStrategy, Sleeve, StrategySlot, run_backtest
from framework.core import DataError, ExecutionState, MarketData, SignalFrame, TradeProposal
from framework.data import SP500Loader, SyntheticLoader
from framework.execution import SimulatedBroker


def ma_portfolio(tickers: tuple[str, ...], short: int = 10, long: int = 50) -> PortfolioStrategy:
    from framework.strategies import MACrossover

    slot = StrategySlot("ma_crossover", MACrossover(short_window=short, long_window=long))
    return PortfolioStrategy([Sleeve(tickers, [slot], WeightedAverage())])


def numpy_ma_equal_weight(close: np.ndarray, short: int, long: int, cash: float) -> np.ndarray:
    """Equity of the MA crossover, equal weight over long tickers, decided at close t, filled at close t+1."""
    n_days = close.shape[0]

    def moving_average(window: int) -> np.ndarray:
        out = np.full(close.shape, np.nan)
        out[window - 1 :] = sliding_window_view(close, window, axis=0).mean(axis=-1)
        return out

    fast, slow = moving_average(short), moving_average(long)
    with np.errstate(invalid="ignore"):
        held = fast > slow * (1 + 1e-9)  # "above" means above by more than rounding
    count = held.sum(axis=1, keepdims=True)
    weights = np.divide(held, count, out=np.zeros(close.shape), where=count > 0)
    returns = np.zeros(close.shape)
    returns[1:] = close[1:] / close[:-1] - 1
    portfolio_returns = np.zeros(n_days)
    # Weights decided at the close of t are bought at the close of t+1 and earn the return of t+2.
    portfolio_returns[2:] = (weights[:-2] * returns[2:]).sum(axis=1)
    return cash * np.cumprod(1 + portfolio_returns)


class TestReproduction:
    def test_sp500_ma_10_50_matches_plain_numpy(self) -> None:
        data = SP500Loader().load()
        portfolio = ma_portfolio(data.tickers)
        signals = portfolio.fit(data, train_stop=4000).generate(data)
        broker = SimulatedBroker(initial_cash=1_000_000.0, fractional_shares=True, fill_price="close")
        result = run_backtest(data, signals, Orchestrator({"sizing": EqualWeightSizing()}), broker)

        expected = numpy_ma_equal_weight(data.close, 10, 50, 1_000_000.0)
        assert result.equity[-1] == pytest.approx(expected[-1], rel=1e-6)
        np.testing.assert_allclose(result.equity, expected, rtol=1e-6)
        assert result.equity[-1] > 1e8  # the strategy did trade and compound, not a flat line

    def test_reproduction_is_sensitive_to_the_fill_timing(self) -> None:
        """The independent computation would not match a same-bar fill: the test can fail."""
        data = SP500Loader(tickers=["AAPL", "KO", "XOM"]).load()
        expected = numpy_ma_equal_weight(data.close, 10, 50, 1e6)
        signals = ma_portfolio(data.tickers).generate(data)
        # Shift the signal one bar earlier: a look-ahead of one day.
        cheat = SignalFrame(np.vstack([signals.signal[1:], signals.signal[-1:]]), signals.confidence)
        result = run_backtest(data, cheat, Orchestrator({"sizing": EqualWeightSizing()}), SimulatedBroker())
        assert abs(result.equity[-1] / expected[-1] - 1) > 1e-3


class RandomTargets(Agent):
    """Test agent: random long/short target weights (some NaN), seeded."""

    def __init__(self, seed: int = 0, gross: float = 1.5) -> None:
        self.seed = seed
        self.gross = gross

    def prepare(self, data: MarketData, signals: SignalFrame) -> None:
        self._rng = np.random.default_rng(self.seed)

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        weights = self._rng.normal(size=len(state.tickers))
        weights *= self.gross / max(np.abs(weights).sum(), 1e-12)
        weights[self._rng.random(len(weights)) < 0.3] = np.nan
        return TradeProposal(weights)


def synthetic(n_tickers: int, n_days: int, seed: int) -> MarketData:
    return SyntheticLoader(n_tickers=n_tickers, n_days=n_days, seed=seed).load()


class TestAccounting:
    @settings(max_examples=25, deadline=None)
    @given(
        seed=st.integers(0, 10_000),
        cost_bps=st.sampled_from([0.0, 1.0, 25.0]),
        slippage_bps=st.sampled_from([0.0, 5.0]),
        fractional=st.booleans(),
    )
    def test_books_balance_at_every_bar(
        self, seed: int, cost_bps: float, slippage_bps: float, fractional: bool
    ) -> None:
        data = synthetic(4, 60, seed)
        broker = SimulatedBroker(
            initial_cash=100_000.0, cost_bps=cost_bps, slippage_bps=slippage_bps, fractional_shares=fractional
        )
        nothing = SignalFrame(np.zeros(data.shape), np.zeros(data.shape))
        result = run_backtest(data, nothing, Orchestrator({"random": RandomTargets(seed=seed)}), broker)

        holdings = (result.positions * data.close).sum(axis=1)
        np.testing.assert_allclose(result.cash + holdings, result.equity, rtol=1e-12)
        # The P&L decomposition, computed from the position path, adds up to the equity.
        pnl = result.pnl.realized.sum(axis=1) + result.pnl.unrealized.sum(axis=1)
        np.testing.assert_allclose(
            result.equity - result.initial_cash, pnl - np.cumsum(result.costs), atol=1e-6 * result.initial_cash
        )
        # Cash only moves through fills: replaying the trades from the initial cash gives the cash curve.
        flows = np.zeros(len(data.dates))
        np.add.at(flows, result.trade_bar, -(result.trade_quantity * result.trade_price) - result.trade_cost)
        np.testing.assert_allclose(result.initial_cash + np.cumsum(flows), result.cash, atol=1e-6)
        if cost_bps:
            assert result.costs.sum() > 0
        if not fractional:
            assert np.all(result.positions == np.round(result.positions))

    def test_buys_never_spend_missing_cash(self) -> None:
        data = synthetic(5, 80, 3)
        broker = SimulatedBroker(initial_cash=50_000.0, cost_bps=30.0, slippage_bps=10.0)
        always = SignalFrame(np.ones(data.shape), np.ones(data.shape))
        result = run_backtest(data, always, Orchestrator({"sizing": EqualWeightSizing()}), broker)
        assert result.cash.min() >= -1e-9 * result.equity.max()
        log = result.decisions_frame()
        assert (log["agent"] == "broker").any()  # costs make a full reinvestment impossible: buys were scaled
        assert log.loc[log["agent"] == "broker", "reason"].str.contains("scaled").all()

    def test_signal_shape_mismatch_is_an_error(self) -> None:
        data = synthetic(3, 10, 0)
        wrong = SignalFrame(np.ones((10, 2)), np.ones((10, 2)))
        with pytest.raises(DataError, match="shape"):
            run_backtest(data, wrong, Orchestrator({"sizing": EqualWeightSizing()}), SimulatedBroker())


class TestCausality:
    @settings(max_examples=20, deadline=None)
    @given(seed=st.integers(0, 10_000), cut=st.integers(30, 110), shock=st.floats(0.3, 3.0))
    def test_decisions_up_to_t_ignore_prices_after_t(self, seed: int, cut: int, shock: float) -> None:
        data = synthetic(5, 120, seed)
        changed_close = data.close.copy()
        rng = np.random.default_rng(seed + 1)
        changed_close[cut + 1 :] *= shock * np.exp(rng.normal(0, 0.05, changed_close[cut + 1 :].shape))
        changed = MarketData(data.dates, data.tickers, changed_close)
        original = MarketData(data.dates, data.tickers, data.close)

        def run(panel: MarketData):  # type: ignore[no-untyped-def]
            portfolio = ma_portfolio(panel.tickers, short=3, long=12)
            signals = portfolio.fit(panel, train_stop=20).generate(panel)
            broker = SimulatedBroker(initial_cash=10_000.0, cost_bps=5.0)
            return signals, run_backtest(panel, signals, Orchestrator({"sizing": EqualWeightSizing()}), broker)

        (sig_a, a), (sig_b, b) = run(original), run(changed)
        rows = slice(0, cut + 1)
        np.testing.assert_array_equal(sig_a.signal[rows], sig_b.signal[rows])
        np.testing.assert_array_equal(a.target_weights[rows], b.target_weights[rows])
        np.testing.assert_array_equal(a.equity[rows], b.equity[rows])
        np.testing.assert_array_equal(a.positions[rows], b.positions[rows])
        log_a, log_b = a.decisions_frame(), b.decisions_frame()
        np.testing.assert_array_equal(log_a[log_a["bar"] <= cut].to_numpy(), log_b[log_b["bar"] <= cut].to_numpy())


class TestDeterminism:
    def test_same_inputs_same_results(self) -> None:
        def run():  # type: ignore[no-untyped-def]
            data = synthetic(6, 300, 11)
            signals = ma_portfolio(data.tickers, 5, 20).generate(data)
            pipeline = Orchestrator({"random": RandomTargets(seed=4)})
            return run_backtest(data, signals, pipeline, SimulatedBroker(cost_bps=3.0, slippage_bps=2.0))

        a, b = run(), run()
        np.testing.assert_array_equal(a.equity, b.equity)
        np.testing.assert_array_equal(a.trade_quantity, b.trade_quantity)
        assert a.decisions_frame().equals(b.decisions_frame())


class TestEquityTable:
    def test_pnl_columns_add_up_to_the_equity(self) -> None:
        data = synthetic(4, 120, 2)
        always = SignalFrame(np.ones(data.shape), np.ones(data.shape))
        broker = SimulatedBroker(initial_cash=10_000.0, cost_bps=10.0)
        table = run_backtest(data, always, Orchestrator({"sizing": EqualWeightSizing()}), broker).equity_frame()
        explained = table["realized_pnl"] + table["unrealized_pnl"] - table["costs"].cumsum()
        np.testing.assert_allclose(table["equity"] - 10_000.0, explained, atol=1e-6)
        assert table["realized_pnl"].abs().max() > 0  # daily rebalancing realises gains and losses
