"""BacktestResult: everything one run produced, as arrays, with tables built on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from framework.core.types import DecisionLog
from framework.execution.orders import OrderRecords
from framework.execution.portfolio import PnL, attribute_pnl

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class BacktestResult:
    """The outcome of one backtest.

    Per-bar arrays have one row per bar of the data; trade and order arrays have one entry per fill or order.

    Attributes:
        dates: Bar dates, shape (days,).
        tickers: Column names.
        equity: Cash plus holdings at each close, shape (days,).
        cash: Cash at each close, shape (days,).
        positions: Shares held at each close, shape (days, tickers).
        close: Closing prices used to value the positions, shape (days, tickers).
        target_weights: Targets decided at each close (NaN: no order), shape (days, tickers).
        traded_value: Absolute notional traded on each bar, shape (days,).
        trade_counts: Number of fills on each bar, shape (days,).
        costs: Commission paid on each bar, shape (days,).
        trade_bar: Bar of each fill.
        trade_asset: Column index of each fill.
        trade_quantity: Shares of each fill (> 0 bought, < 0 sold).
        trade_price: Execution price of each fill (slippage included).
        trade_cost: Commission of each fill.
        trade_order: The order id of each fill (every fill names its order).
        orders: The broker's record of every order, field -> array (see
            :class:`framework.execution.orders.OrderRecords`): ``id``, ``decision_bar``, ``end_bar``, ``asset``,
            ``quantity`` (signed), ``order_type``, ``limit_price``, ``time_in_force``, ``status``, ``filled``
            (signed), ``notional``, ``cost``.
        exec_prices: The price each position changed at on each bar (the fill price where a fill happened, the
            bar's fill price elsewhere), shape (days, tickers); :attr:`pnl` is computed from it when asked.
        log: Decision log of the agents and the broker.
        next_target_weights: Targets decided at the last close, which no bar of the data fills: the orders
            for the next session.
        initial_cash: Starting cash.
        agent_series: Per-bar series the agents recorded (``risk_volatility``, ``at_limit``, ``recoveries_risk``...),
            each of shape (days,).
        agent_tables: Tables the agents save with the run (``correlation``: the last correlation matrix).
        cost_labels: The broker's cost models, one per column of ``model_costs``.
        model_costs: What each cost model charged on each bar, shape (days, models), or None.
        decision_close: The closes the orders were decided at (the marks of each bar), for slippage against
            the decision; shape (days, tickers), or None.

    Example:
        >>> result = BacktestResult.empty(np.arange(2).astype("datetime64[D]"), ("A",), 100.0)
        >>> result.returns().tolist()
        [0.0, 0.0]
    """

    dates: np.ndarray
    tickers: tuple[str, ...]
    equity: np.ndarray
    cash: np.ndarray
    positions: np.ndarray
    close: np.ndarray
    target_weights: np.ndarray
    traded_value: np.ndarray
    trade_counts: np.ndarray
    costs: np.ndarray
    trade_bar: np.ndarray
    trade_asset: np.ndarray
    trade_quantity: np.ndarray
    trade_price: np.ndarray
    trade_cost: np.ndarray
    trade_order: np.ndarray
    orders: dict[str, np.ndarray]
    exec_prices: np.ndarray
    log: DecisionLog
    next_target_weights: np.ndarray
    initial_cash: float
    agent_series: dict[str, np.ndarray] = field(default_factory=dict)
    agent_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    cost_labels: tuple[str, ...] = ()
    model_costs: np.ndarray | None = None
    decision_close: np.ndarray | None = None
    _frames: dict[str, object] = field(default_factory=dict, repr=False)

    @classmethod
    def empty(cls, dates: np.ndarray, tickers: tuple[str, ...], initial_cash: float) -> BacktestResult:
        """A result with flat equity and no trades, for the shape of things (tests, documentation).

        Args:
            dates: Bar dates, shape (days,).
            tickers: Column names.
            initial_cash: Starting cash, also the equity and the cash of every bar.

        Returns:
            A result with no positions, prices of 1, NaN targets and an empty decision log.

        Example:
            >>> result = BacktestResult.empty(np.arange(3).astype("datetime64[D]"), ("A", "B"), 1000.0)
            >>> result.equity.tolist(), result.positions.shape, result.trade_bar.size
            ([1000.0, 1000.0, 1000.0], (3, 2), 0)
        """
        n_days, n = len(dates), len(tickers)
        none_f, none_i = np.empty(0), np.empty(0, dtype=np.intp)
        return cls(
            dates=dates, tickers=tickers, equity=np.full(n_days, initial_cash), cash=np.full(n_days, initial_cash),
            positions=np.zeros((n_days, n)), close=np.ones((n_days, n)), target_weights=np.full((n_days, n), np.nan),
            traded_value=np.zeros(n_days), trade_counts=np.zeros(n_days), costs=np.zeros(n_days),
            trade_bar=none_i, trade_asset=none_i, trade_quantity=none_f, trade_price=none_f, trade_cost=none_f,
            trade_order=none_i, orders=OrderRecords().arrays(), exec_prices=np.ones((n_days, n)),
            log=DecisionLog(), next_target_weights=np.full(n, np.nan), initial_cash=initial_cash,
        )  # fmt: skip

    @property
    def pnl(self) -> PnL:
        """Average cost, cumulative realised and unrealised P&L per bar and ticker (commissions excluded).

        Computed from the path of positions the first time it is asked (a run that writes no equity table
        never pays for it), then kept.

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]")
            >>> result = BacktestResult.empty(dates, ("A", "B"), 100.0)
            >>> result.positions = np.array([[0.0, 0.0], [5.0, 2.0], [5.0, 2.0]])  # bought on bar 1
            >>> result.close = result.exec_prices = np.array([[10.0, 20.0], [10.0, 20.0], [12.0, 20.0]])
            >>> result.cash, result.equity = np.array([100.0, 10.0, 10.0]), np.array([100.0, 100.0, 110.0])
            >>> result.pnl.avg_cost.tolist(), result.pnl.unrealized.tolist()  # A gained 2 a share
            ([[0.0, 0.0], [10.0, 20.0], [10.0, 20.0]], [[0.0, 0.0], [0.0, 0.0], [10.0, 0.0]])
        """
        cached = self._frames.get("pnl")
        if cached is None:
            cached = attribute_pnl(self.positions, self.exec_prices, self.close)
            self._frames["pnl"] = cached
        return cached  # type: ignore[return-value]

    def returns(self) -> np.ndarray:
        """Daily simple returns of the equity curve; the first bar's is 0.

        Returns:
            Shape (days,).

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]")
            >>> result = BacktestResult.empty(dates, ("A", "B"), 100.0)
            >>> result.positions = np.array([[0.0, 0.0], [5.0, 2.0], [5.0, 2.0]])  # bought on bar 1
            >>> result.close = result.exec_prices = np.array([[10.0, 20.0], [10.0, 20.0], [12.0, 20.0]])
            >>> result.cash, result.equity = np.array([100.0, 10.0, 10.0]), np.array([100.0, 100.0, 110.0])
            >>> result.returns().round(12).tolist()
            [0.0, 0.0, 0.1]
        """
        out = np.zeros_like(self.equity)
        out[1:] = self.equity[1:] / self.equity[:-1] - 1.0
        return out

    def position_values(self) -> np.ndarray:
        """Value of each position at each close, shape (days, tickers).

        Returns:
            ``positions * close`` (negative for a short).

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]")
            >>> result = BacktestResult.empty(dates, ("A", "B"), 100.0)
            >>> result.positions = np.array([[0.0, 0.0], [5.0, 2.0], [5.0, 2.0]])  # bought on bar 1
            >>> result.close = result.exec_prices = np.array([[10.0, 20.0], [10.0, 20.0], [12.0, 20.0]])
            >>> result.cash, result.equity = np.array([100.0, 10.0, 10.0]), np.array([100.0, 100.0, 110.0])
            >>> result.position_values().tolist()
            [[0.0, 0.0], [50.0, 40.0], [60.0, 40.0]]
        """
        return self.positions * self.close

    def weights(self) -> np.ndarray:
        """Fraction of equity in each ticker at each close, shape (days, tickers).

        Returns:
            The position values over the equity of the bar.

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]")
            >>> result = BacktestResult.empty(dates, ("A", "B"), 100.0)
            >>> result.positions = np.array([[0.0, 0.0], [5.0, 2.0], [5.0, 2.0]])  # bought on bar 1
            >>> result.close = result.exec_prices = np.array([[10.0, 20.0], [10.0, 20.0], [12.0, 20.0]])
            >>> result.cash, result.equity = np.array([100.0, 10.0, 10.0]), np.array([100.0, 100.0, 110.0])
            >>> result.weights().round(4).tolist()
            [[0.0, 0.0], [0.5, 0.4], [0.5455, 0.3636]]
        """
        return self.position_values() / self.equity[:, None]

    def gross_exposure(self) -> np.ndarray:
        """Sum of absolute position values over equity at each close, shape (days,).

        Returns:
            The gross exposure of each bar (0.9: 90 % of equity invested, 10 % in cash for a long book).

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]")
            >>> result = BacktestResult.empty(dates, ("A", "B"), 100.0)
            >>> result.positions = np.array([[0.0, 0.0], [5.0, 2.0], [5.0, 2.0]])  # bought on bar 1
            >>> result.close = result.exec_prices = np.array([[10.0, 20.0], [10.0, 20.0], [12.0, 20.0]])
            >>> result.cash, result.equity = np.array([100.0, 10.0, 10.0]), np.array([100.0, 100.0, 110.0])
            >>> result.gross_exposure().round(4).tolist()
            [0.0, 0.9, 0.9091]
        """
        return np.abs(self.position_values()).sum(axis=1) / self.equity

    def equity_frame(self) -> pd.DataFrame:
        """Table indexed by date: equity, cash, returns, gross exposure, costs, traded value and P&L.

        ``realized_pnl`` and ``unrealized_pnl`` are summed over tickers (commissions excluded), so
        ``equity - initial_cash == realized_pnl + unrealized_pnl - cumulative costs`` on every row.

        Returns:
            One row per bar.

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]")
            >>> result = BacktestResult.empty(dates, ("A", "B"), 100.0)
            >>> result.positions = np.array([[0.0, 0.0], [5.0, 2.0], [5.0, 2.0]])  # bought on bar 1
            >>> result.close = result.exec_prices = np.array([[10.0, 20.0], [10.0, 20.0], [12.0, 20.0]])
            >>> result.cash, result.equity = np.array([100.0, 10.0, 10.0]), np.array([100.0, 100.0, 110.0])
            >>> result.equity_frame().round(4).loc["2024-01-03"].to_dict()
            {'equity': 110.0, 'cash': 10.0, 'returns': 0.1, 'gross_exposure': 0.9091, 'costs': 0.0, \
'traded_value': 0.0, 'realized_pnl': 0.0, 'unrealized_pnl': 10.0}
        """
        import pandas as pd

        return pd.DataFrame(
            {
                "equity": self.equity,
                "cash": self.cash,
                "returns": self.returns(),
                "gross_exposure": self.gross_exposure(),
                "costs": self.costs,
                "traded_value": self.traded_value,
                "realized_pnl": self.pnl.realized.sum(axis=1),
                "unrealized_pnl": self.pnl.unrealized.sum(axis=1),
            },
            index=pd.DatetimeIndex(self.dates, name="date"),
        )

    def positions_frame(self) -> pd.DataFrame:
        """Shares held at each close, one column per ticker.

        Returns:
            One row per bar, indexed by date.

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]")
            >>> result = BacktestResult.empty(dates, ("A", "B"), 100.0)
            >>> result.positions = np.array([[0.0, 0.0], [5.0, 2.0], [5.0, 2.0]])  # bought on bar 1
            >>> result.close = result.exec_prices = np.array([[10.0, 20.0], [10.0, 20.0], [12.0, 20.0]])
            >>> result.cash, result.equity = np.array([100.0, 10.0, 10.0]), np.array([100.0, 100.0, 110.0])
            >>> result.positions_frame().loc["2024-01-02"].to_dict()
            {'A': 5.0, 'B': 2.0}
        """
        import pandas as pd

        return pd.DataFrame(self.positions, index=pd.DatetimeIndex(self.dates, name="date"), columns=self.tickers)

    def targets_frame(self) -> pd.DataFrame:
        """Final target weights decided at each close, one column per ticker (NaN: no order, keep the position).

        Returns:
            One row per bar, indexed by date.

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]")
            >>> result = BacktestResult.empty(dates, ("A", "B"), 100.0)
            >>> result.target_weights[0] = [0.5, 0.4]  # decided at the first close, held afterwards
            >>> result.targets_frame().to_dict("list")
            {'A': [0.5, nan, nan], 'B': [0.4, nan, nan]}
        """
        import pandas as pd

        frame = pd.DataFrame(self.target_weights, index=pd.DatetimeIndex(self.dates, name="date"), columns=self.tickers)
        return frame

    def weights_frame(self) -> pd.DataFrame:
        """Weights at each close, one column per ticker.

        Returns:
            :meth:`weights` as one row per bar, indexed by date.

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]")
            >>> result = BacktestResult.empty(dates, ("A", "B"), 100.0)
            >>> result.positions = np.array([[0.0, 0.0], [5.0, 2.0], [5.0, 2.0]])  # bought on bar 1
            >>> result.close = result.exec_prices = np.array([[10.0, 20.0], [10.0, 20.0], [12.0, 20.0]])
            >>> result.cash, result.equity = np.array([100.0, 10.0, 10.0]), np.array([100.0, 100.0, 110.0])
            >>> result.weights_frame().round(4).loc["2024-01-03"].to_dict()
            {'A': 0.5455, 'B': 0.3636}
        """
        import pandas as pd

        return pd.DataFrame(self.weights(), index=pd.DatetimeIndex(self.dates, name="date"), columns=self.tickers)

    def trades_frame(self) -> pd.DataFrame:
        """One row per fill: date, ticker, side, quantity (> 0), price, cost, value and the order it fills.

        Returns:
            The fills in the order they were booked.

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]")
            >>> result = BacktestResult.empty(dates, ("A", "B"), 100.0)
            >>> result.trade_bar, result.trade_asset = np.array([1, 2]), np.array([0, 0])
            >>> result.trade_quantity, result.trade_price = np.array([5.0, -2.0]), np.array([10.0, 12.0])
            >>> result.trade_cost, result.trade_order = np.array([0.05, 0.02]), np.array([0, 1])
            >>> result.trades_frame()[["ticker", "side", "quantity", "price", "cost", "value"]].to_dict("records")[1]
            {'ticker': 'A', 'side': 'SELL', 'quantity': 2.0, 'price': 12.0, 'cost': 0.02, 'value': 24.0}
        """
        import pandas as pd

        names = np.array(self.tickers, dtype=object)
        return pd.DataFrame(
            {
                "date": pd.to_datetime(self.dates[self.trade_bar]),
                "ticker": names[self.trade_asset],
                "side": np.where(self.trade_quantity > 0, "BUY", "SELL"),
                "quantity": np.abs(self.trade_quantity),
                "price": self.trade_price,
                "cost": self.trade_cost,
                "value": np.abs(self.trade_quantity) * self.trade_price,
                "order_id": self.trade_order,
            }
        )

    def orders_frame(self) -> pd.DataFrame:
        """One row per order, as the broker recorded it.

        Columns: id, decision date, ticker, side, type, limit, time in force, quantity, status, filled quantity,
        average price, cost and the date it ended.

        Returns:
            The orders by id (the order of decision).

        Example:
            >>> from framework.execution.orders import OrderRecords
            >>> dates = np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]")
            >>> result = BacktestResult.empty(dates, ("A", "B"), 100.0)
            >>> records = OrderRecords()
            >>> records.append(id=np.array([0]), decision_bar=np.array([0]), end_bar=np.array([1]),
            ...                asset=np.array([1]), quantity=np.array([2.0]), order_type=np.array([0]),
            ...                limit_price=np.array([np.nan]), time_in_force=np.array([0]), status=np.array([0]),
            ...                filled=np.array([2.0]), notional=np.array([20.0]), cost=np.array([0.0]))
            >>> result.orders = records.arrays()
            >>> result.orders_frame()[["ticker", "side", "type", "status", "filled_quantity", "average_price"]].values
            array([['B', 'BUY', 'market', 'filled', 2.0, 10.0]], dtype=object)
        """
        return OrderRecords([self.orders]).frame(self.dates, self.tickers)

    def decisions_frame(self) -> pd.DataFrame:
        """The decision log: date, bar, agent, ticker, before, after, reason.

        Returns:
            One row per recorded decision (see :meth:`DecisionLog.to_frame`).

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-04", dtype="datetime64[D]")
            >>> result = BacktestResult.empty(dates, ("A", "B"), 100.0)
            >>> result.log.record(0, "sizing", np.array([0, 1]), np.zeros(2), np.array([0.5, 0.4]), "signal")
            >>> result.decisions_frame()[["bar", "agent", "ticker", "after"]].to_dict("records")
            [{'bar': 0, 'agent': 'sizing', 'ticker': 'A', 'after': 0.5}, {'bar': 0, 'agent': 'sizing', 'ticker': 'B', \
'after': 0.4}]
        """
        return self.log.to_frame(self.dates, self.tickers)
