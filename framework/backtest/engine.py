"""The per-bar loop that wires signals, agents, broker and books into one run.

Three paths, one result (the tests hold them to the same numbers):

- **The agent loop**: on every bar the orchestrator runs the agents on the state of that bar, and the broker
  fills the previous bar's targets. Used whenever some agent decides bar by bar (risk, correlation, selection,
  estimate-based sizing).
- **Whole-panel targets, booked bar by bar**: when every agent can compute its targets for the whole panel at
  once (equal weight, fixed allocation, signal-weighted, the no-op stages), the targets are computed first and
  the loop only books the fills (costs, slippage, whole shares, cash shortages).
- **Whole-panel targets, booked at once**: when, in addition, the broker is frictionless (no costs, no
  slippage, fractional shares, no minimum trade) and every order row either sets every ticker or none with a
  net weight of at most 1 (so cash never runs short), the books follow a product formula with no loop at all:
  between two fills the portfolio's value grows by ``1 - sum(w) + sum(w * p_next / p)``.
"""

from __future__ import annotations

import numpy as np

from framework.agents.base import RunContext
from framework.agents.orchestrator import Orchestrator
from framework.backtest.result import BacktestResult
from framework.core.errors import DataError
from framework.core.market_data import OPTIONAL_FIELDS, MarketData
from framework.core.progress import progress
from framework.core.types import DecisionLog, ExecutionState, SignalFrame, TradeProposal
from framework.execution.broker import _NOISE, SimulatedBroker
from framework.execution.portfolio import PortfolioManager


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
    close. Nothing in the loop reads a row after t. Every agent's requirements are checked before the first bar.

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
        ConfigError: If an agent's requirement is not met (an allocation, enough history).

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
    allocation = None if allocation is None else np.asarray(allocation, dtype=np.float64)
    fields = ("close", *(name for name in OPTIONAL_FIELDS if data.has(name)))
    orchestrator.check(RunContext(data.n_days, data.tickers, allocation, fields))
    orchestrator.prepare(data, signals)
    fill_prices = broker.fill_prices(data)
    broker.prepare(data)
    log = DecisionLog()
    at_once = False
    orders_mode = broker.order_path or orchestrator.sends_orders
    if orchestrator.supports_panel and not orders_mode:
        targets = orchestrator.panel_targets(data, signals, allocation, log)
        at_once = data.complete and broker.books_at_once(targets)
        if at_once:
            books = _book_at_once(targets, fill_prices, data.close, broker.initial_cash)
        else:
            books = _book_bar_by_bar(targets, data, fill_prices, broker, log)
    else:
        books = _agent_loop(data, signals, orchestrator, broker, fill_prices, allocation, log, orders_mode)
    equity, cash, positions, targets, fill_quantity, fill_price, fill_cost = books
    fill_order = broker.finalize(fill_quantity, fill_price, fill_cost)
    model_costs = broker.model_costs_
    if not orders_mode and model_costs.shape[1]:  # the fast path charges cost_bps alone: its costs are that model's
        model_costs[:, 0] = fill_cost.sum(axis=1)
    close = data.marks  # positions are valued at the last price known
    trade_bar, trade_asset = fill_quantity.nonzero()
    # Frictionless fills happen at the bar's fill price itself: no need to pick them out.
    exec_prices = fill_prices if at_once else np.where(fill_quantity != 0, fill_price, fill_prices)
    if not data.complete:
        exec_prices = np.where(np.isnan(exec_prices), close, exec_prices)
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
        costs=np.zeros(data.n_days) if at_once else fill_cost.sum(axis=1) + broker.carry_costs_,
        trade_bar=trade_bar.astype(np.intp),
        trade_asset=trade_asset.astype(np.intp),
        trade_quantity=fill_quantity[trade_bar, trade_asset],
        trade_price=fill_price[trade_bar, trade_asset],
        trade_cost=fill_cost[trade_bar, trade_asset],
        trade_order=fill_order[trade_bar, trade_asset],
        orders=broker.records_.arrays(),
        exec_prices=exec_prices,
        log=log,
        next_target_weights=targets[-1].copy(),
        initial_cash=broker.initial_cash,
        agent_series=orchestrator.series(),
        agent_tables=orchestrator.outputs(data.dates, data.tickers),
        cost_labels=broker.cost_labels,
        model_costs=model_costs,
        decision_close=close,
    )


_Books = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class _Fills:
    """The fills of a run, bar by bar, with the time-varying universe's two rules.

    A ticker without a fill price on a bar gets no order filled there (its position is valued at its last price);
    a ticker whose data has ended is closed at its last price on the next bar. Without gaps or endings (a complete
    panel) both rules are skipped at the cost of one lookup per bar.
    """

    def __init__(self, data: MarketData, fill_prices: np.ndarray, broker: SimulatedBroker, log: DecisionLog):
        n_days, n = data.shape
        self.broker, self.log, self.fill_prices = broker, log, fill_prices
        self.marks = data.marks
        self.close = data.close
        self.gappy = ~np.isfinite(fill_prices).all(axis=1) if not data.complete else np.zeros(n_days, dtype=bool)
        last = data.last_bars
        self.endings = {int(t) + 1: np.flatnonzero(last == t) for t in np.unique(last[last < n_days - 1])}
        self.quantity, self.price, self.cost = np.zeros((n_days, n)), np.zeros((n_days, n)), np.zeros((n_days, n))

    def fill(self, t: int, pending: np.ndarray | None, books: PortfolioManager) -> None:
        """Book bar ``t``'s fills: positions whose data ended, then the orders decided at ``t - 1``."""
        ended = self.endings.get(t)
        if ended is not None and books.positions[ended].any():
            closed = ended[books.positions[ended] != 0]
            done = self.broker.close_out(t, closed, self.marks[t], books, self.log)
            self.quantity[t], self.price[t], self.cost[t] = done
        if pending is None:
            return
        marks = self.marks[t] if self.gappy[t] else None
        quantity, price, cost = self.broker.execute(t, pending, self.fill_prices[t], books, self.log, marks)
        self._book(t, quantity, price, cost, ended is not None)

    def fill_orders(self, t: int, proposal: TradeProposal | None, books: PortfolioManager) -> None:
        """The order path: closings, then the broker's working orders and the orders decided at ``t - 1``."""
        ended = self.endings.get(t)
        if ended is not None and books.positions[ended].any():
            closed = ended[books.positions[ended] != 0]
            self.quantity[t], self.price[t], self.cost[t] = self.broker.close_out(t, closed, self.marks[t], books,
                                                                                 self.log)  # fmt: skip
        if proposal is not None or self.broker.has_working_orders:
            quantity, price, cost = self.broker.execute_orders(
                t, proposal, self.fill_prices[t], self.close[t], self.marks[t], books, self.log
            )
            self._book(t, quantity, price, cost, ended is not None)
        self.broker.carry(t, books, self.marks[t])

    def _book(self, t: int, quantity: np.ndarray, price: np.ndarray, cost: np.ndarray, closed: bool) -> None:
        if not closed:
            self.quantity[t], self.price[t], self.cost[t] = quantity, price, cost
        else:  # an ended ticker has no price, so it has no order fill on the same bar
            traded = quantity != 0
            self.quantity[t] += quantity
            self.price[t] = np.where(traded, price, self.price[t])
            self.cost[t] += cost


def _agent_loop(
    data: MarketData,
    signals: SignalFrame,
    orchestrator: Orchestrator,
    broker: SimulatedBroker,
    fill_prices: np.ndarray,
    allocation: np.ndarray | None,
    log: DecisionLog,
    orders_mode: bool = False,
) -> _Books:
    """The full loop: fills of the previous targets, marking, then the agents' decisions, bar by bar.

    In ``orders_mode`` (limit orders, times in force, a participation cap or cost models) the broker's order
    path books every bar, carrying the proposal's order instructions and the working orders.
    """
    n_days, n = data.shape
    marks = data.marks
    tradable = data.tradable
    signal = np.asarray(signals.signal, dtype=np.float64)
    confidence = np.asarray(signals.confidence, dtype=np.float64)
    dates = data.dates
    books = broker.open_books(data.tickers)
    fills = _Fills(data, fill_prices, broker, log)
    state = ExecutionState.empty(data.tickers)
    state.log = log
    state.allocation = allocation
    equity, cash, positions = np.empty(n_days), np.empty(n_days), np.empty((n_days, n))
    targets = np.full((n_days, n), np.nan)
    # The loop body is the run's hot path: a few numpy calls on length-N rows, results written by index.
    pending: np.ndarray | None = None
    decided: TradeProposal | None = None
    bar = progress(n_days, "backtest", "bar")
    step = max(n_days // 100, 1)  # a progress update every 1 % of the bars: one integer test per bar
    for t in range(n_days):
        if t % step == 0:
            bar.update(step if t else 0)
        if orders_mode:
            fills.fill_orders(t, decided, books)
        else:
            fills.fill(t, pending, books)
        row = marks[t]
        value = books.cash + float(books.positions @ row)
        equity[t] = value
        cash[t] = books.cash
        positions[t] = books.positions

        state.bar = t
        state.date = dates[t]
        state.close = row
        state.tradable = tradable[t]
        state.signal = signal[t]
        state.confidence = confidence[t]
        state.positions = books.positions
        state.cash = books.cash
        state.equity = value
        decision = orchestrator.decide(state)
        proposal = decision.target_weights
        targets[t] = proposal
        # fmax ignores NaN, so the reduction is NaN only when every target is NaN: nothing to send.
        pending = None if np.isnan(np.fmax.reduce(proposal)) else proposal
        decided = None if pending is None and decision.order_quantity is None else decision
    bar.update(n_days - step * ((n_days - 1) // step))
    bar.close()
    return equity, cash, positions, targets, fills.quantity, fills.price, fills.cost


def _book_bar_by_bar(
    targets: np.ndarray, data: MarketData, fill_prices: np.ndarray, broker: SimulatedBroker, log: DecisionLog
) -> _Books:
    """Book known targets with the broker, bar by bar (costs, slippage, whole shares, cash shortages, gaps)."""
    n_days, n = targets.shape
    marks = data.marks
    books = broker.open_books(data.tickers)
    fills = _Fills(data, fill_prices, broker, log)
    equity, cash, positions = np.empty(n_days), np.empty(n_days), np.empty((n_days, n))
    sends = ~np.isnan(targets).all(axis=1)
    for t in range(n_days):
        fills.fill(t, targets[t - 1] if t and sends[t - 1] else None, books)
        equity[t] = books.cash + float(books.positions @ marks[t])
        cash[t] = books.cash
        positions[t] = books.positions
    return equity, cash, positions, targets, fills.quantity, fills.price, fills.cost


def _book_at_once(targets: np.ndarray, fill_prices: np.ndarray, close: np.ndarray, initial_cash: float) -> _Books:
    """Frictionless books of known targets without a loop (see the module docstring).

    Orders decided at bar ``s`` fill at ``s + 1``; ``value[k]`` is the portfolio's value at the k-th fill's
    prices just before it trades, ``value[k+1] = value[k] * (1 - sum(w_k) + sum(w_k * p[k+1] / p[k]))``.
    """
    n_days, n = targets.shape
    decided = np.flatnonzero(~np.isnan(targets[:-1]).all(axis=1))
    fills = decided + 1
    if decided.size == n_days - 1:  # an order every bar: views instead of gathered copies
        weights, prices = targets[:-1], fill_prices[1:]
    else:
        weights, prices = targets[decided], fill_prices[fills]
    equity, cash, positions = (
        np.full(n_days, float(initial_cash)),
        np.full(n_days, float(initial_cash)),
        np.zeros((n_days, n)),
    )
    fill_quantity, fill_price, fill_cost = np.zeros((n_days, n)), np.zeros((n_days, n)), np.zeros((n_days, n))
    if not fills.size:
        return equity, cash, positions, targets, fill_quantity, fill_price, fill_cost
    growth = np.ones(fills.size)
    held = weights[:-1]
    growth[1:] = 1.0 - held.sum(axis=1) + (held * (prices[1:] / prices[:-1])).sum(axis=1)
    value = float(initial_cash) * np.cumprod(growth)
    quantities = weights * (value[:, None] / prices)
    traded = np.diff(quantities, axis=0, prepend=np.zeros((1, n)))
    traded[np.abs(traded * prices) < _NOISE * value[:, None]] = 0.0  # rounding residue, as the broker skips it
    quantities = np.cumsum(traded, axis=0)
    cash_after = float(initial_cash) - np.cumsum((traded * prices).sum(axis=1))
    fill_quantity[fills] = traded
    fill_price[fills] = prices
    last_fill = np.searchsorted(fills, np.arange(n_days), side="right") - 1
    after = last_fill >= 0
    positions[after] = quantities[last_fill[after]]
    cash[after] = cash_after[last_fill[after]]
    equity[:] = cash + np.einsum("tn,tn->t", positions, close)
    return equity, cash, positions, targets, fill_quantity, fill_price, fill_cost
