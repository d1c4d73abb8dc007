"""The per-bar loop that wires signals, agents, broker and books into one run."""

from __future__ import annotations

from typing import Any

import numpy as np

from framework.agents.base import Orchestrator
from framework.backtest.result import BacktestResult
from framework.core.errors import DataError
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog, ExecutionState, SignalFrame
from framework.execution.broker import Fills, SimulatedBroker
from framework.execution.portfolio import attribute_pnl


def run_backtest(
    data: MarketData,
    signals: SignalFrame,
    orchestrator: Orchestrator,
    broker: SimulatedBroker,
) -> BacktestResult:
    """Run the decision pipeline on every bar and fill its orders at the next bar.

    On bar t: first the orders decided at the close of t-1 fill (at t's open or close, per the broker);
    then the books are marked at t's close; then the agents decide the targets of t from what is known at that
    close. Nothing in the loop reads a row after t.

    Args:
        data: The price panel.
        signals: The combined signals, same shape as ``data``; row t uses data up to t only.
        orchestrator: The agents, in order.
        broker: Fills, costs, slippage and starting cash.

    Returns:
        The :class:`BacktestResult` with the equity curve, positions, trades, orders and the decision log.

    Raises:
        DataError: If the signals do not have the data's shape.

    Example:
        >>> from framework.agents import EqualWeightSizing, Orchestrator
        >>> close = np.array([[10.0, 20.0], [11.0, 20.0], [12.0, 22.0]])
        >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B"), close)
        >>> always_long = SignalFrame(np.ones((3, 2)), np.ones((3, 2)))
        >>> result = run_backtest(data, always_long, Orchestrator({"sizing": EqualWeightSizing()}),
        ...                       SimulatedBroker(initial_cash=100.0))
        >>> result.equity.round(6).tolist()  # bought at bar 1's close, gains from bar 2 on
        [100.0, 100.0, 109.545455]
    """
    if signals.shape != data.shape:
        raise DataError(f"signals have shape {signals.shape}, but the data has (days, tickers) = {data.shape}")
    n_days, n = data.shape
    close = data.close
    fill_prices = broker.fill_prices(data)
    signal = np.asarray(signals.signal, dtype=np.float64)
    confidence = np.asarray(signals.confidence, dtype=np.float64)
    dates = data.dates

    books = broker.open_books(data.tickers)
    log = DecisionLog()
    orchestrator.prepare(data, signals)
    state = ExecutionState.empty(data.tickers)
    state.log = log

    equity = np.empty(n_days)
    cash = np.empty(n_days)
    positions = np.empty((n_days, n))
    targets = np.full((n_days, n), np.nan)
    fills_per_bar: list[tuple[int, Fills]] = []

    # The loop body is the run's hot path: a few numpy calls on length-N rows, results written by index.
    pending: np.ndarray | None = None
    for t in range(n_days):
        if pending is not None:
            fills = broker.execute(t, pending, fill_prices[t], books, log)
            if fills.assets.size:
                fills_per_bar.append((t, fills))
        row = close[t]
        value = books.cash + float(books.positions @ row)
        equity[t] = value
        cash[t] = books.cash
        positions[t] = books.positions

        state.bar = t
        state.date = dates[t]
        state.close = row
        state.signal = signal[t]
        state.confidence = confidence[t]
        state.positions = books.positions
        state.weights = books.positions * row / value
        state.cash = books.cash
        state.equity = value
        proposal = orchestrator.decide(state).target_weights
        targets[t] = proposal
        pending = None if np.isnan(proposal).all() else proposal

    trades = _concat_fills(fills_per_bar, n)
    exec_prices = fill_prices.copy()
    exec_prices[trades["trade_bar"], trades["trade_asset"]] = trades["trade_price"]
    return BacktestResult(
        dates=data.dates,
        tickers=data.tickers,
        equity=equity,
        cash=cash,
        positions=positions,
        close=close,
        target_weights=targets,
        traded_value=np.bincount(
            trades["trade_bar"],
            weights=np.abs(trades["trade_quantity"] * trades["trade_price"]),
            minlength=n_days,
        ),
        trade_counts=np.bincount(trades["trade_bar"], minlength=n_days).astype(np.float64),
        costs=np.bincount(trades["trade_bar"], weights=trades["trade_cost"], minlength=n_days),
        **trades,
        **_orders(targets, equity, positions, close),
        pnl=attribute_pnl(positions, exec_prices, close),
        log=log,
        next_target_weights=targets[-1].copy(),
        initial_cash=books.initial_cash,
    )


def _concat_fills(per_bar: list[tuple[int, Fills]], n_tickers: int) -> dict[str, Any]:
    """The fills of every bar as flat arrays, in time order."""
    if not per_bar:
        none_f, none_i = np.empty(0), np.empty(0, dtype=np.intp)
        return dict(trade_bar=none_i, trade_asset=none_i, trade_quantity=none_f, trade_price=none_f, trade_cost=none_f)
    bars = np.array([t for t, _ in per_bar], dtype=np.intp)
    sizes = [fills.assets.size for _, fills in per_bar]
    return dict(
        trade_bar=np.repeat(bars, sizes),
        trade_asset=np.concatenate([fills.assets for _, fills in per_bar]),
        trade_quantity=np.concatenate([fills.quantities for _, fills in per_bar]),
        trade_price=np.concatenate([fills.prices for _, fills in per_bar]),
        trade_cost=np.concatenate([fills.costs for _, fills in per_bar]),
    )


def _orders(targets: np.ndarray, equity: np.ndarray, positions: np.ndarray, close: np.ndarray) -> dict[str, Any]:
    """Orders sent at each close: tickers with a target, and the quantity it implied at that close."""
    with np.errstate(invalid="ignore"):
        quantity = targets * (equity[:, None] / close) - positions
    bar, asset = np.nonzero(~np.isnan(targets) & (quantity != 0))
    return dict(
        order_bar=bar.astype(np.intp),
        order_asset=asset.astype(np.intp),
        order_target_weight=targets[bar, asset],
        order_quantity=quantity[bar, asset],
    )
