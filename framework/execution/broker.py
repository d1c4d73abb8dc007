"""Simulated broker: turns the target weights decided at bar t into fills at bar t+1."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from framework.core.checks import check_bool, check_choice, check_number
from framework.core.component import Component
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog
from framework.execution.portfolio import PortfolioManager

_FILL_PRICES = ("auto", "open", "close")
#: Trades smaller than this fraction of the equity are rounding noise and are not made.
_NOISE = 1e-12


class Fills(NamedTuple):
    """The fills of one bar, one entry per ticker of the portfolio (quantity 0: no fill).

    Full-length rows, so the engine writes them into its (days, tickers) arrays by index.

    Attributes:
        quantities: Signed shares traded (buy > 0, sell < 0, 0 for no trade).
        prices: Execution prices, slippage included (the bar's price where nothing traded).
        costs: Commission paid per ticker.
    """

    quantities: np.ndarray
    prices: np.ndarray
    costs: np.ndarray

    @property
    def assets(self) -> np.ndarray:
        """Column indices of the tickers that traded."""
        return self.quantities.nonzero()[0]


class SimulatedBroker(Component):
    """Fills target-weight orders at the next bar with proportional costs and slippage.

    An order decided at the close of bar t fills at bar t+1: at the open when the data has opens (and
    ``fill_price`` is ``auto`` or ``open``), else at the close. Target quantities are computed at the fill
    price from the equity at that price, so "hold 25 %" means 25 % of what the portfolio is worth when the
    order fills. A NaN target leaves that position alone. Sells execute before buys; buys never spend cash
    that is not there: if they would, every buy is scaled down by the same factor and the decision log records
    the scaling. Buys pay ``price * (1 + slippage)``, sells receive ``price * (1 - slippage)``, and each fill
    pays ``cost_bps`` of its notional. A trade worth less than 1e-12 of the equity (the rounding residue of
    rebalancing a position to its own weight) is not made.

    Args:
        initial_cash: Starting cash, > 0.
        cost_bps: Commission in basis points of traded notional, >= 0.
        slippage_bps: Price concession in basis points, >= 0.
        fractional_shares: Trade fractions of a share; otherwise quantities are whole shares, rounded toward
            the current position so a target is never overshot.
        fill_price: ``auto`` (open if the data has it, else close), ``open`` (requires opens) or ``close``.
        min_trade_value: Trades smaller than this notional are skipped (0 trades everything), >= 0.

    Raises:
        ConfigError: For a parameter out of range.

    Example:
        >>> broker = SimulatedBroker(initial_cash=1000.0, cost_bps=10.0)
        >>> books = broker.open_books(("A", "B"))
        >>> fills = broker.execute(1, np.array([0.5, np.nan]), np.array([10.0, 20.0]), books, DecisionLog())
        >>> fills.quantities.tolist(), fills.assets.tolist(), round(books.cash, 4)
        ([50.0, 0.0], [0], 499.5)
    """

    def __init__(
        self,
        initial_cash: float = 1_000_000.0,
        cost_bps: float = 0.0,
        slippage_bps: float = 0.0,
        fractional_shares: bool = True,
        fill_price: str = "auto",
        min_trade_value: float = 0.0,
    ) -> None:
        self.initial_cash = initial_cash
        self.cost_bps = cost_bps
        self.slippage_bps = slippage_bps
        self.fractional_shares = fractional_shares
        self.fill_price = fill_price
        self.min_trade_value = min_trade_value
        check_number("broker.initial_cash", initial_cash, minimum=0, exclusive_minimum=True)
        for key in ("cost_bps", "slippage_bps", "min_trade_value"):
            check_number(f"broker.{key}", getattr(self, key), minimum=0)
        check_bool("broker.fractional_shares", fractional_shares)
        check_choice("broker.fill_price", fill_price, _FILL_PRICES)
        self._slip = slippage_bps * 1e-4
        self._cost_rate = cost_bps * 1e-4

    def open_books(self, tickers: tuple[str, ...]) -> PortfolioManager:
        """Fresh books with ``initial_cash`` and no positions."""
        return PortfolioManager(tickers, self.initial_cash)

    def fill_prices(self, data: MarketData) -> np.ndarray:
        """The (days, tickers) prices orders fill at.

        Raises:
            ConfigError: If ``fill_price`` is ``open`` and the data has no opens.
        """
        if self.fill_price == "open" or (self.fill_price == "auto" and data.has("open")):
            if not data.has("open"):
                raise ConfigError("broker.fill_price: 'open' needs opening prices, and this data has none")
            return data.field("open")
        return data.close

    def books_at_once(self, targets: np.ndarray) -> bool:
        """Whether known ``targets`` can be booked without a loop.

        That needs a frictionless broker, and every order row setting every ticker or none, with a net weight of
        at most 1 (so buys never wait for cash).

        Args:
            targets: Target weights decided at each close, shape (days, tickers); a row of NaN sends nothing.

        Returns:
            True when the engine may book the whole run at once with the same results as :meth:`execute`.

        Example:
            >>> SimulatedBroker().books_at_once(np.array([[0.5, 0.5], [np.nan, np.nan]]))
            True
            >>> SimulatedBroker(cost_bps=1.0).books_at_once(np.array([[0.5, 0.5]]))
            False
        """
        if self._cost_rate or self._slip or not self.fractional_shares or self.min_trade_value:
            return False
        missing = np.isnan(targets)
        none_set = missing.all(axis=1)
        if (missing.any(axis=1) & ~none_set).any():
            return False
        net = np.where(missing, 0.0, targets).sum(axis=1)
        return bool((net <= 1.0 + 1e-13).all())

    def execute(
        self,
        bar: int,
        target_weights: np.ndarray,
        prices: np.ndarray,
        books: PortfolioManager,
        log: DecisionLog,
        marks: np.ndarray | None = None,
    ) -> Fills:
        """Trade ``books`` toward ``target_weights`` at ``prices`` and book the fills.

        Args:
            bar: Index of the bar the fills happen on (for the decision log).
            target_weights: Target fraction of equity per ticker; NaN keeps the position.
            prices: This bar's fill prices, shape (tickers,); NaN where a ticker does not trade on this bar.
            books: The books to trade; cash, positions and costs are updated in place.
            log: Where a scaling of buys for lack of cash, and orders a ticker without a price could not fill,
                are recorded.
            marks: The last known price of each ticker, to value the positions of tickers without a price on
                this bar; needed when ``prices`` has NaN.

        Returns:
            The fills of this bar.
        """
        if marks is not None:
            target_weights, prices = self._without_untradable(bar, target_weights, prices, marks, books, log)
        positions = books.positions
        equity = books.cash + float(positions @ prices)
        delta = target_weights * (equity / prices) - positions
        delta[np.isnan(delta)] = 0.0  # NaN target: keep the position
        if not self.fractional_shares:
            np.trunc(delta, out=delta)
        exec_prices = prices * (1.0 + self._slip * np.sign(delta)) if self._slip else prices
        notional = delta * exec_prices
        # A trade worth less than 1e-12 of the equity is rounding noise of a rebalance, not a trade.
        floor = max(self.min_trade_value, _NOISE * abs(equity))
        small = np.abs(notional) < floor
        if small.any():
            delta[small] = 0.0
            notional[small] = 0.0
        cost_rate = self._cost_rate
        net_value = float(notional.sum())
        # Cash is short when buys and their costs exceed the cash plus what the sells bring in. Without costs
        # that is simply "net notional > cash"; with costs the gross notional is needed, once, for both.
        # Rounding noise of a full reinvestment (1e-12 of equity) is not a shortage of cash.
        if cost_rate:
            traded_value = np.abs(notional)
            buy_value = 0.5 * (float(traded_value.sum()) + net_value)
            cash_for_buys = books.cash + (buy_value - net_value) * (1.0 - cost_rate)
            needed = buy_value * (1.0 + cost_rate)
            short = needed > cash_for_buys + 1e-12 * equity
        else:
            short = net_value > books.cash + 1e-12 * equity
        if short and np.any(notional > 0):
            if not cost_rate:
                buy_value = float(np.maximum(notional, 0.0).sum())
                cash_for_buys, needed = books.cash + (buy_value - net_value), buy_value
            delta, notional = self._scale_buys(bar, delta, exec_prices, needed, cash_for_buys, log)
            net_value = float(notional.sum())
            traded_value = np.abs(notional)
        if cost_rate:
            costs = traded_value * cost_rate
            total_cost = float(costs.sum())
        else:
            costs, total_cost = np.zeros(delta.shape), 0.0
        books.positions = positions + delta
        books.cash -= net_value + total_cost
        books.costs += total_cost
        return Fills(delta, exec_prices, costs)

    def _without_untradable(
        self,
        bar: int,
        target_weights: np.ndarray,
        prices: np.ndarray,
        marks: np.ndarray,
        books: PortfolioManager,
        log: DecisionLog,
    ) -> tuple[np.ndarray, np.ndarray]:
        """No order for a ticker without a price: its target becomes NaN (keep), its position is valued at its mark."""
        missing = np.isnan(prices)
        if not missing.any():
            return target_weights, prices
        valued = np.where(missing, np.where(marks > 0, marks, 1.0), prices)  # 1.0: not listed yet, nothing held
        equity = books.cash + float(books.positions @ valued)
        with np.errstate(invalid="ignore", divide="ignore"):
            wanted = target_weights * equity / valued - books.positions
        blocked = np.flatnonzero(missing & ~np.isnan(target_weights) & (np.abs(np.nan_to_num(wanted)) > 0))
        if blocked.size:
            log.record(bar, "broker", blocked, books.positions[blocked], books.positions[blocked],
                       "not tradable on this bar (no price): the order was not filled", phase=0)  # fmt: skip
        return np.where(missing, np.nan, target_weights), valued

    def close_out(
        self, bar: int, columns: np.ndarray, marks: np.ndarray, books: PortfolioManager, log: DecisionLog
    ) -> Fills:
        """Close the positions in ``columns`` at their last price: their data has ended.

        A ticker whose data ends (delisted, or the data set stops early) leaves the portfolio on the next bar, at
        the last price known, paying ``cost_bps`` but no slippage (there is no market to slip in); the decision
        log says so.

        Args:
            bar: The bar the positions are closed on (the first bar after the data of those tickers ended).
            columns: The tickers' columns.
            marks: The last known price of every ticker, shape (tickers,).
            books: The books; updated in place.
            log: Where the closing is recorded.

        Returns:
            The fills (one per closed position).

        Example:
            >>> broker = SimulatedBroker(initial_cash=100.0)
            >>> books = broker.open_books(("A", "B"))
            >>> books.positions, books.cash = np.array([2.0, 1.0]), 0.0
            >>> fills = broker.close_out(5, np.array([0]), np.array([30.0, 40.0]), books, DecisionLog())
            >>> fills.quantities.tolist(), books.cash, books.positions.tolist()
            ([-2.0, 0.0], 60.0, [0.0, 1.0])
        """
        quantities = np.zeros(books.positions.shape)
        quantities[columns] = -books.positions[columns]
        notional = quantities * marks
        costs = np.abs(notional) * self._cost_rate
        total_cost = float(costs.sum())
        books.positions = books.positions + quantities
        books.cash -= float(notional.sum()) + total_cost
        books.costs += total_cost
        log.record(bar, "broker", columns, -quantities[columns], 0.0,
                   "data ends: position closed at the last price", phase=0)  # fmt: skip
        return Fills(quantities, marks.copy(), costs)

    def _scale_buys(
        self,
        bar: int,
        delta: np.ndarray,
        exec_prices: np.ndarray,
        needed: float,
        available: float,
        log: DecisionLog,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scale every buy by one factor so that buys and their costs fit in ``available`` cash."""
        scale = max(available, 0.0) / needed
        buys = delta > 0
        delta[buys] *= scale
        if not self.fractional_shares:
            delta[buys] = np.floor(delta[buys])
        if scale < 1.0 - 1e-9:
            log.record(
                bar, "broker", -1, needed, max(available, 0.0), f"buys scaled by {scale:.6f}: not enough cash", phase=0
            )
        return delta, delta * exec_prices
