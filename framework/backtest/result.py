"""BacktestResult: everything one run produced, as arrays, with tables built on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from framework.core.types import DecisionLog
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
        trade_bar, trade_asset, trade_quantity, trade_price, trade_cost: One entry per fill.
        order_bar, order_asset, order_target_weight, order_quantity: One entry per order sent (decided at the
            close of ``order_bar``, estimated quantity at that close).
        exec_prices: The price each position changed at on each bar (the fill price where a fill happened, the
            bar's fill price elsewhere), shape (days, tickers); :attr:`pnl` is computed from it when asked.
        log: Decision log of the agents and the broker.
        next_target_weights: Targets decided at the last close, which no bar of the data fills: the orders
            for the next session.
        initial_cash: Starting cash.
        agent_series: Per-bar series the agents recorded (``risk_volatility``, ``at_limit``, ``recoveries_risk``...),
            each of shape (days,).
        agent_tables: Tables the agents save with the run (``correlation``: the last correlation matrix).

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
    order_bar: np.ndarray
    order_asset: np.ndarray
    order_target_weight: np.ndarray
    order_quantity: np.ndarray
    exec_prices: np.ndarray
    log: DecisionLog
    next_target_weights: np.ndarray
    initial_cash: float
    agent_series: dict[str, np.ndarray] = field(default_factory=dict)
    agent_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    _frames: dict[str, object] = field(default_factory=dict, repr=False)

    @classmethod
    def empty(cls, dates: np.ndarray, tickers: tuple[str, ...], initial_cash: float) -> BacktestResult:
        """A result with flat equity and no trades, for the shape of things (tests, documentation)."""
        n_days, n = len(dates), len(tickers)
        none_f, none_i = np.empty(0), np.empty(0, dtype=np.intp)
        return cls(
            dates=dates, tickers=tickers, equity=np.full(n_days, initial_cash), cash=np.full(n_days, initial_cash),
            positions=np.zeros((n_days, n)), close=np.ones((n_days, n)), target_weights=np.full((n_days, n), np.nan),
            traded_value=np.zeros(n_days), trade_counts=np.zeros(n_days), costs=np.zeros(n_days),
            trade_bar=none_i, trade_asset=none_i, trade_quantity=none_f, trade_price=none_f, trade_cost=none_f,
            order_bar=none_i, order_asset=none_i, order_target_weight=none_f, order_quantity=none_f,
            exec_prices=np.ones((n_days, n)),
            log=DecisionLog(), next_target_weights=np.full(n, np.nan), initial_cash=initial_cash,
        )  # fmt: skip

    @property
    def pnl(self) -> PnL:
        """Average cost, cumulative realised and unrealised P&L per bar and ticker (commissions excluded).

        Computed from the path of positions the first time it is asked (a run that writes no equity table
        never pays for it), then kept.
        """
        cached = self._frames.get("pnl")
        if cached is None:
            cached = attribute_pnl(self.positions, self.exec_prices, self.close)
            self._frames["pnl"] = cached
        return cached  # type: ignore[return-value]

    def returns(self) -> np.ndarray:
        """Daily simple returns of the equity curve; the first bar's is 0."""
        out = np.zeros_like(self.equity)
        out[1:] = self.equity[1:] / self.equity[:-1] - 1.0
        return out

    def position_values(self) -> np.ndarray:
        """Value of each position at each close, shape (days, tickers)."""
        return self.positions * self.close

    def weights(self) -> np.ndarray:
        """Fraction of equity in each ticker at each close, shape (days, tickers)."""
        return self.position_values() / self.equity[:, None]

    def gross_exposure(self) -> np.ndarray:
        """Sum of absolute position values over equity at each close, shape (days,)."""
        return np.abs(self.position_values()).sum(axis=1) / self.equity

    def equity_frame(self) -> pd.DataFrame:
        """Table indexed by date: equity, cash, returns, gross exposure, costs, traded value and P&L.

        ``realized_pnl`` and ``unrealized_pnl`` are summed over tickers (commissions excluded), so
        ``equity - initial_cash == realized_pnl + unrealized_pnl - cumulative costs`` on every row.
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
        """Shares held at each close, one column per ticker."""
        import pandas as pd

        return pd.DataFrame(self.positions, index=pd.DatetimeIndex(self.dates, name="date"), columns=self.tickers)

    def targets_frame(self) -> pd.DataFrame:
        """Final target weights decided at each close, one column per ticker (NaN: no order, keep the position)."""
        import pandas as pd

        frame = pd.DataFrame(self.target_weights, index=pd.DatetimeIndex(self.dates, name="date"), columns=self.tickers)
        return frame

    def weights_frame(self) -> pd.DataFrame:
        """Weights at each close, one column per ticker."""
        import pandas as pd

        return pd.DataFrame(self.weights(), index=pd.DatetimeIndex(self.dates, name="date"), columns=self.tickers)

    def trades_frame(self) -> pd.DataFrame:
        """One row per fill: date, ticker, side, quantity (> 0), price, cost, value."""
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
            }
        )

    def orders_frame(self) -> pd.DataFrame:
        """One row per order: decision date, ticker, side, target weight, estimated quantity at that close."""
        import pandas as pd

        names = np.array(self.tickers, dtype=object)
        return pd.DataFrame(
            {
                "date": pd.to_datetime(self.dates[self.order_bar]),
                "ticker": names[self.order_asset],
                "side": np.where(self.order_quantity > 0, "BUY", "SELL"),
                "target_weight": self.order_target_weight,
                "quantity": np.abs(self.order_quantity),
            }
        )

    def decisions_frame(self) -> pd.DataFrame:
        """The decision log: date, bar, agent, ticker, before, after, reason."""
        return self.log.to_frame(self.dates, self.tickers)
