"""The per-bar loop that wires signals, agents, broker and books into one run."""

from __future__ import annotations

from typing import Any

import numpy as np

from framework.agents.orchestrator import Orchestrator
from framework.backtest.result import BacktestResult
from framework.core.errors import DataError
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog, ExecutionState, SignalFrame
from framework.execution.broker import SimulatedBroker
from framework.execution.portfolio import attribute_pnl


def run_backtest(
    data: MarketData,
    signals: SignalFrame,
    orchestrator: Orchestrator,
    broker: SimulatedBroker,
    allocation: np.ndarray | None = None,
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
        allocation: The portfolio's fixed allocation per ticker, shape (tickers,), for sizing agents that use it.

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
    state.allocation = None if allocation is None else np.asarray(allocation, dtype=np.float64)

    equity = np.empty(n_days)
    cash = np.empty(n_days)
    positions = np.empty((n_days, n))
    targets = np.full((n_days, n), np.nan)
    fill_quantity = np.zeros((n_days, n))
    fill_price = np.zeros((n_days, n))
    fill_cost = np.zeros((n_days, n))

    # The loop body is the run's hot path: a few numpy calls on length-N rows, results written by index.
    pending: np.ndarray | None = None
    for t in range(n_days):
        if pending is not None:
            fill_quantity[t], fill_price[t], fill_cost[t] = broker.execute(t, pending, fill_prices[t], books, log)
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
        state.cash = books.cash
        state.equity = value
        proposal = orchestrator.decide(state).target_weights
        targets[t] = proposal
        # fmax ignores NaN, so the reduction is NaN only when every target is NaN: nothing to send.
        pending = None if np.isnan(np.fmax.reduce(proposal)) else proposal

    trade_bar, trade_asset = fill_quantity.nonzero()
    trade_quantity = fill_quantity[trade_bar, trade_asset]
    trade_price = fill_price[trade_bar, trade_asset]
    exec_prices = np.where(fill_quantity != 0, fill_price, fill_prices)
    return BacktestResult(
        dates=data.dates,
        tickers=data.tickers,
        equity=equity,
        cash=cash,
        positions=positions,
        close=close,
        target_weights=targets,
        traded_value=np.abs(fill_quantity * fill_price).sum(axis=1),
        trade_counts=np.count_nonzero(fill_quantity, axis=1).astype(np.float64),
        costs=fill_cost.sum(axis=1),
        trade_bar=trade_bar.astype(np.intp),
        trade_asset=trade_asset.astype(np.intp),
        trade_quantity=trade_quantity,
        trade_price=trade_price,
        trade_cost=fill_cost[trade_bar, trade_asset],
        **_orders(targets, equity, positions, close),
        pnl=attribute_pnl(positions, exec_prices, close),
        log=log,
        next_target_weights=targets[-1].copy(),
        initial_cash=books.initial_cash,
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
