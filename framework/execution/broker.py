"""Simulated broker: turns the target weights decided at bar t into fills at bar t+1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from framework.core.checks import check_bool, check_choice, check_int, check_number
from framework.core.component import Component
from framework.core.errors import AgentError, ConfigError
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog, TradeProposal
from framework.execution.costs import CostContext, CostModel, ProportionalCost
from framework.execution.orders import (
    CANCELLED,
    DAY,
    EXPIRED,
    FILLED,
    GTC,
    LIMIT,
    MARKET,
    PARTIAL,
    REJECTED,
    OrderRecords,
    WorkingOrders,
)
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

    **Orders** (see :mod:`framework.execution.orders` and the README's table of fill rules). Plain market
    orders for target weights take the fast path above. Limit orders, times in force, a participation cap or
    cost models take the order path (:meth:`execute_orders`), where the broker keeps working orders, fills them
    on the fill bar's open, high, low and close, and writes a record of every order:

    - a market order fills at the fill price (open or close) with slippage;
    - a buy limit fills when the bar's low reaches the limit, at the better of the open and the limit (a sell
      limit mirrors it on the high); with close-only data the close stands for the whole bar;
    - a fill is at most ``max_participation`` of the fill bar's volume, and at most the order's ``max_fill``
      (its market-impact cut); the rest follows the order's time in force: a DAY order expires at the end of
      its bar, a GTC order keeps working until it fills, is replaced by a newer decision for the ticker, or
      reaches ``gtc_max_age`` bars.

    Args:
        initial_cash: Starting cash, > 0.
        cost_bps: Commission in basis points of traded notional, >= 0.
        slippage_bps: Price concession in basis points, >= 0.
        fractional_shares: Trade fractions of a share; otherwise quantities are whole shares, rounded toward
            the current position so a target is never overshot.
        fill_price: ``auto`` (open if the data has it, else close), ``open`` (requires opens) or ``close``.
        min_trade_value: Trades smaller than this notional are skipped (0 trades everything), >= 0.
        costs: Cost models charged on top of ``cost_bps`` (see :mod:`framework.execution.costs`), or None.
        max_participation: Largest fill as a fraction of the fill bar's volume, in (0, 1], or None (no cap;
            also when the data has no volume, which the run says once).
        gtc_max_age: Bars after which a GTC order still working is cancelled, >= 1.

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
        costs: Sequence[CostModel] | None = None,
        max_participation: float | None = None,
        gtc_max_age: int = 20,
    ) -> None:
        self.initial_cash = initial_cash
        self.cost_bps = cost_bps
        self.slippage_bps = slippage_bps
        self.fractional_shares = fractional_shares
        self.fill_price = fill_price
        self.min_trade_value = min_trade_value
        self.costs = costs
        self.max_participation = max_participation
        self.gtc_max_age = gtc_max_age
        check_number("broker.initial_cash", initial_cash, minimum=0, exclusive_minimum=True)
        for key in ("cost_bps", "slippage_bps", "min_trade_value"):
            check_number(f"broker.{key}", getattr(self, key), minimum=0)
        check_bool("broker.fractional_shares", fractional_shares)
        check_choice("broker.fill_price", fill_price, _FILL_PRICES)
        if costs is not None:
            if isinstance(costs, (str, bytes)) or not isinstance(costs, Sequence):
                raise ConfigError(f"broker.costs: must be a list of cost models ({{_target_: ...}}), got {costs!r}")
            for index, model in enumerate(costs):
                if not isinstance(model, CostModel):
                    raise ConfigError(
                        f"broker.costs.{index}: expected a cost model (framework.execution.costs), got {model!r}"
                    )
        if max_participation is not None:
            check_number("broker.max_participation", max_participation, minimum=0, exclusive_minimum=True, maximum=1)
        check_int("broker.gtc_max_age", gtc_max_age)
        self._slip = slippage_bps * 1e-4
        self._cost_rate = cost_bps * 1e-4
        self._models: list[CostModel] = ([ProportionalCost(cost_bps)] if cost_bps else []) + list(costs or [])

    @property
    def order_path(self) -> bool:
        """Whether every bar goes through the order path (cost models or a participation cap are set)."""
        return bool(self.costs) or self.max_participation is not None

    @property
    def cost_labels(self) -> tuple[str, ...]:
        """The labels of the cost models charged on the order path (``proportional`` for ``cost_bps``)."""
        return tuple(model.label for model in self._models)

    def prepare(self, data: MarketData, periods_per_year: int = 252) -> None:
        """Set up a run over ``data``: working orders, order records and the cost models' causal estimates.

        Args:
            data: The run's data.
            periods_per_year: Bars per year, for holding costs.

        Raises:
            ConfigError: When a cost model needs data fields the data does not have.

        Example:
            >>> close = np.array([[10.0], [11.0]])
            >>> broker = SimulatedBroker()
            >>> broker.prepare(MarketData(np.arange(2).astype("datetime64[D]"), ("A",), close))
            >>> len(broker.records_), broker.model_costs_.shape
            (0, (2, 0))
        """
        for index, model in enumerate(self.costs or []):
            model.check(data, f"broker.costs.{index}")
        window = max([getattr(model, "window", 20) for model in self._models] or [20])
        needs_context = any(model.requires for model in self._models)
        self._context = CostContext.of(data, window) if needs_context else None
        self._book = WorkingOrders(data.n_tickers)
        self.records_ = OrderRecords()
        self.model_costs_ = np.zeros((data.n_days, len(self._models)))
        self.fill_orders_ = np.full(data.shape, -1, dtype=np.int64)
        self.carry_costs_ = np.zeros(data.n_days)
        self._periods_per_year = periods_per_year
        self._holding = [m for m in self._models if type(m).holding_costs is not CostModel.holding_costs]
        self._bar_fields = {name: data.field(name) for name in ("open", "high", "low", "volume") if data.has(name)}
        self._volume_cap = self.max_participation is not None and data.has("volume")
        self._said_close_only = False
        self._said_no_volume = False
        self.intended_ = np.zeros(data.shape)

    @property
    def has_working_orders(self) -> bool:
        """Whether some order is still working (a GTC order, or one cut by a cap)."""
        return bool(self._book.active.any()) if hasattr(self, "_book") else False

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
        intended = getattr(self, "intended_", None)
        if intended is not None:
            intended[bar] = delta  # the orders of this bar, before any scaling for cash
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
            if hasattr(self, "_book"):
                self._reject(bar, blocked, wanted[blocked])
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
        if hasattr(self, "_book"):
            ids = self._record_filled(bar, columns, quantities[columns], marks[columns], costs[columns])
            self.fill_orders_[bar, columns] = ids
            if self.model_costs_.shape[1] and self._cost_rate:
                self.model_costs_[bar, 0] += total_cost
        return Fills(quantities, marks.copy(), costs)

    def _record_filled(
        self, bar: int, columns: np.ndarray, quantities: np.ndarray, prices: np.ndarray, costs: np.ndarray
    ) -> np.ndarray:
        """Record market orders the broker made and filled at once on ``bar`` (closing a delisted position)."""
        ids = np.arange(self._book.next_id, self._book.next_id + columns.size)
        self._book.next_id += columns.size
        self.records_.append(
            id=ids, decision_bar=np.full(columns.size, bar, dtype=np.int64), end_bar=np.full(columns.size, bar),
            asset=columns.astype(np.int64), quantity=quantities.copy(), order_type=np.full(columns.size, MARKET),
            limit_price=np.full(columns.size, np.nan), time_in_force=np.full(columns.size, DAY),
            status=np.full(columns.size, FILLED), filled=quantities.copy(), notional=np.abs(quantities * prices),
            cost=costs.copy(),
        )  # fmt: skip
        return ids

    def _reject(self, bar: int, columns: np.ndarray, quantities: np.ndarray) -> None:
        """Record orders that never worked: their ticker had no price on the bar they were to fill."""
        count = columns.size
        ids = np.arange(self._book.next_id, self._book.next_id + count)
        self._book.next_id += count
        self.records_.append(
            id=ids, decision_bar=np.full(count, bar - 1, dtype=np.int64), end_bar=np.full(count, bar),
            asset=columns.astype(np.int64), quantity=np.nan_to_num(quantities), order_type=np.full(count, MARKET),
            limit_price=np.full(count, np.nan), time_in_force=np.full(count, DAY), status=np.full(count, REJECTED),
            filled=np.zeros(count), notional=np.zeros(count), cost=np.zeros(count),
        )  # fmt: skip

    def execute_orders(
        self,
        bar: int,
        proposal: TradeProposal | None,
        fill_prices: np.ndarray,
        close: np.ndarray,
        marks: np.ndarray,
        books: PortfolioManager,
        log: DecisionLog,
    ) -> Fills:
        """The order path: open the orders decided at ``bar - 1``, fill the working orders on ``bar``, end them.

        Args:
            bar: The fill bar (call :meth:`prepare` first).
            proposal: The proposal decided at the close of ``bar - 1`` (targets and order instructions), or None.
            fill_prices: This bar's market fill prices (open or close), NaN where a ticker does not trade.
            close: This bar's closes (NaN where a ticker does not trade).
            marks: The last known price of each ticker (to value positions).
            books: The books; updated in place.
            log: Where replacements, expiries, cuts and scalings are recorded.

        Returns:
            The fills of this bar; their orders are in ``fill_orders_[bar]``, the records in ``records_``.

        Example:
            >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A",), np.array([[10.0], [10.0], [9.0]]))
            >>> broker = SimulatedBroker(initial_cash=1000.0)
            >>> broker.prepare(data)
            >>> books, log = broker.open_books(("A",)), DecisionLog()
            >>> limit = TradeProposal(np.array([0.5]), order_type=np.array([1]), limit_price=np.array([9.5]),
            ...                       time_in_force=np.array([1]), order_quantity=np.array([50.0]))
            >>> broker.execute_orders(1, limit, data.close[1], data.close[1], data.close[1], books, log).quantities
            array([0.])
            >>> broker.execute_orders(2, None, data.close[2], data.close[2], data.close[2], books, log).quantities
            array([50.])
            >>> broker.records_.frame(data.dates, data.tickers)[["status", "filled_quantity", "average_price"]].values
            array([['filled', 50.0, 9.0]], dtype=object)
        """
        book = self._book
        positions = books.positions
        missing = np.isnan(fill_prices)
        valued = np.where(missing, np.where(marks > 0, marks, 1.0), fill_prices)
        equity = books.cash + float(positions @ valued)
        if proposal is not None:
            self._open_orders(bar, proposal, missing, valued, equity, books, log)
        active = np.flatnonzero(book.active)
        quantities, prices, costs = np.zeros(positions.shape), fill_prices.copy(), np.zeros(positions.shape)
        if not active.size:
            return Fills(quantities, np.where(missing, valued, fill_prices), costs)
        remaining = book.remaining[active]
        limit = book.limit_price[active]
        kind = book.order_type[active]
        tradable = ~missing[active]
        reference = self._bar_price("open", bar, active, fill_prices)  # the bar's first price
        low = self._bar_price("low", bar, active, close)
        high = self._bar_price("high", bar, active, close)
        buy = remaining > 0
        with np.errstate(invalid="ignore"):
            reached = np.where(buy, low <= limit, high >= limit)
            limit_price = np.where(buy, np.minimum(reference, limit), np.maximum(reference, limit))
        market_price = fill_prices[active]
        if self._slip:
            market_price = market_price * (1.0 + self._slip * np.sign(remaining))
        is_market = kind == MARKET
        eligible = tradable & (is_market | reached)
        price = np.where(is_market, market_price, limit_price)
        size = np.minimum(np.abs(remaining), book.max_fill[active])
        if self._volume_cap:
            volume = self._bar_fields["volume"][bar, active]
            size = np.minimum(size, np.nan_to_num(volume, nan=0.0) * self.max_participation)
        elif self.max_participation is not None and not self._said_no_volume:
            self._said_no_volume = True
            log.record(bar, "broker", -1, np.nan, np.nan,
                       "broker.max_participation is ignored: this data has no volume", phase=0)  # fmt: skip
        if (kind == LIMIT).any() and not self._said_close_only and "low" not in self._bar_fields:
            self._said_close_only = True
            log.record(bar, "broker", -1, np.nan, np.nan,
                       "limit orders are checked against each fill bar's close: this data has no open, high, "
                       "low", phase=0)  # fmt: skip
        filled = np.where(eligible, np.sign(remaining) * size, 0.0)
        if not self.fractional_shares:
            filled = np.trunc(filled)
        notional = filled * np.where(eligible, price, 0.0)
        floor = max(self.min_trade_value, _NOISE * abs(equity))
        filled[np.abs(notional) < floor] = 0.0
        quantities[active] = filled
        prices[active] = np.where(filled != 0, price, prices[active])
        prices = np.where(np.isnan(prices), valued, prices)
        quantities, costs = self._pay(bar, quantities, prices, equity, books, log)
        filled = quantities[active]
        traded = active[filled != 0]
        self.fill_orders_[bar, traded] = book.id[traded]
        book.remaining[active] -= filled
        book.filled[active] += filled
        book.notional[active] += np.abs(filled * prices[active])
        book.cost[active] += costs[active]
        self._end_orders(bar, active, log)
        return Fills(quantities, prices, costs)

    def _bar_price(self, name: str, bar: int, columns: np.ndarray, fallback: np.ndarray) -> np.ndarray:
        """The bar's ``name`` price of ``columns`` (open, high, low), or ``fallback`` when the data has none."""
        values = self._bar_fields.get(name)
        return fallback[columns] if values is None else values[bar, columns]

    def _open_orders(
        self,
        bar: int,
        proposal: TradeProposal,
        missing: np.ndarray,
        valued: np.ndarray,
        equity: float,
        books: PortfolioManager,
        log: DecisionLog,
    ) -> None:
        """Turn the proposal of ``bar - 1`` into orders; a new order for a ticker replaces its working order."""
        book = self._book
        targets = proposal.target_weights
        given = proposal.order_quantity
        explicit = ~np.isnan(targets) if given is None else ~np.isnan(targets) | ~np.isnan(given)
        columns = np.flatnonzero(explicit)
        if not columns.size:
            return
        replaced = columns[book.active[columns]]
        if replaced.size:
            status = np.where(book.filled[replaced] != 0, PARTIAL, CANCELLED)
            log.record(bar, "broker", replaced, book.remaining[replaced], 0.0,
                       "working order replaced by a newer decision", phase=0)  # fmt: skip
            book.end(replaced, status, bar, self.records_)
        with np.errstate(invalid="ignore", divide="ignore"):
            from_target = targets[columns] * (equity / valued[columns]) - books.positions[columns]
        quantity = from_target if given is None else np.where(np.isnan(given[columns]), from_target, given[columns])
        quantity = np.nan_to_num(quantity)
        if not self.fractional_shares:
            quantity = np.trunc(quantity)
        floor = max(self.min_trade_value, _NOISE * abs(equity))
        worth = np.abs(quantity * valued[columns]) >= floor
        columns, quantity = columns[worth], quantity[worth]
        untradable = missing[columns]
        if untradable.any():
            blocked = columns[untradable]
            log.record(bar, "broker", blocked, books.positions[blocked], books.positions[blocked],
                       "not tradable on this bar (no price): the order was not filled", phase=0)  # fmt: skip
            self._reject(bar, blocked, quantity[untradable])
            columns, quantity = columns[~untradable], quantity[~untradable]
        if not columns.size:
            return

        def pick(values: np.ndarray | None, default: float) -> np.ndarray:
            return np.full(columns.size, default) if values is None else values[columns]

        kind = pick(proposal.order_type, MARKET).astype(np.int64)
        limit = np.where(kind == LIMIT, pick(proposal.limit_price, np.nan), np.nan)
        if np.isnan(limit[kind == LIMIT]).any():
            raise AgentError(f"bar {bar - 1}: a limit order without a limit price; set limit_price with order_type")
        tif = pick(proposal.time_in_force, DAY).astype(np.int64)
        cap = np.nan_to_num(pick(proposal.max_fill, np.inf), nan=np.inf)
        book.open(columns, bar - 1, quantity, kind, limit, tif, cap)

    def _pay(
        self, bar: int, quantities: np.ndarray, prices: np.ndarray, equity: float, books: PortfolioManager,
        log: DecisionLog,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Charge the cost models on the fills, scaling buys down when cash is short; book the result."""
        costs, by_model = self._costs(bar, quantities, prices)
        for _ in range(3):  # a minimum charge per fill can need a second look after scaling
            notional = quantities * prices
            net = float(notional.sum())
            need = float(np.maximum(notional, 0.0).sum())
            available = books.cash - (net - need) - float(costs.sum())  # cash + sells - all costs
            if need <= available + 1e-12 * equity or need == 0:
                break
            scale = max(available, 0.0) / need
            buys = quantities > 0
            quantities = quantities.copy()
            quantities[buys] *= scale
            if not self.fractional_shares:
                quantities[buys] = np.floor(quantities[buys])
            log.record(bar, "broker", -1, need, need * scale, f"buys scaled by {scale:.6f}: not enough cash", phase=0)
            costs, by_model = self._costs(bar, quantities, prices)
        total = float(costs.sum())
        books.positions = books.positions + quantities
        books.cash -= float((quantities * prices).sum()) + total
        books.costs += total
        if by_model.size:
            self.model_costs_[bar] += by_model
        return quantities, costs

    def _costs(self, bar: int, quantities: np.ndarray, prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each ticker's cost of the fills, and each model's total."""
        if not self._models:
            return np.zeros(quantities.shape), np.zeros(0)
        per_model = [model.fill_costs(bar, quantities, prices, self._context) for model in self._models]
        return np.sum(per_model, axis=0), np.array([float(c.sum()) for c in per_model])

    def _end_orders(self, bar: int, active: np.ndarray, log: DecisionLog) -> None:
        """End the orders that filled, the DAY orders with something left, and the GTC orders too old."""
        book = self._book
        remaining = book.remaining[active]
        done = np.abs(remaining) <= 1e-9 * np.abs(book.quantity[active])
        if not self.fractional_shares:
            done |= np.abs(remaining) < 1.0
        book.end(active[done], FILLED, bar, self.records_)
        left = active[~done]
        if not left.size:
            return
        book.age[left] += 1
        day = left[book.time_in_force[left] == DAY]
        old = left[(book.time_in_force[left] == GTC) & (book.age[left] >= self.gtc_max_age)]
        for ended, reason in ((day, "DAY order expired"), (old, f"GTC order cancelled after {self.gtc_max_age} bars")):
            if ended.size:
                some = book.filled[ended] != 0
                log.record(bar, "broker", ended, book.remaining[ended], 0.0,
                           f"{reason}: {{value:g}} share(s) not filled", values=np.abs(book.remaining[ended]),
                           phase=0)  # fmt: skip
                book.end(ended, np.where(some, PARTIAL, EXPIRED), bar, self.records_)

    def carry(self, bar: int, books: PortfolioManager, marks: np.ndarray) -> float:
        """Charge the holding costs of bar ``bar`` (borrow fees on shorts); returns what was charged.

        Args:
            bar: The bar.
            books: The books; cash and costs updated in place.
            marks: The positions' prices.

        Returns:
            The total charged.

        Example:
            >>> from framework.execution.costs import BorrowFee
            >>> broker = SimulatedBroker(initial_cash=1000.0, costs=[BorrowFee(annual_bps=2520)])
            >>> broker.prepare(MarketData(np.arange(2).astype("datetime64[D]"), ("A",), np.array([[10.0], [10.0]])))
            >>> books = broker.open_books(("A",))
            >>> books.positions = np.array([-10.0])
            >>> broker.carry(1, books, np.array([10.0]))
            0.1
        """
        if not self._holding or not (books.positions < 0).any():
            return 0.0
        total = 0.0
        for model in self._holding:
            charged = float(model.holding_costs(books.positions, marks, self._periods_per_year).sum())
            self.model_costs_[bar, self._models.index(model)] += charged
            total += charged
        books.cash -= total
        books.costs += total
        self.carry_costs_[bar] += total
        return total

    def finalize(self, fill_quantity: np.ndarray, fill_price: np.ndarray, fill_cost: np.ndarray) -> np.ndarray:
        """End the run's order records and number the orders in the order of decision.

        Orders still working end as they are; the market orders of the fast path (whose fills are their records)
        join the others.

        Args:
            fill_quantity: The run's fills, shape (days, tickers).
            fill_price: Their prices.
            fill_cost: Their costs.

        Returns:
            The order id of every fill, shape (days, tickers), -1 where nothing filled; ``records_`` then holds
            the orders with those ids.
        """
        book = self._book
        n_days = fill_quantity.shape[0]
        working = np.flatnonzero(book.active)
        if working.size:  # still working at the end of the data
            book.end(working, np.where(book.filled[working] != 0, PARTIAL, EXPIRED), n_days - 1, self.records_)
        fast = (self.fill_orders_ < 0) & ((self.intended_ != 0) | (fill_quantity != 0))
        bar, asset = np.nonzero(fast)
        if bar.size:
            ordered = np.where(self.intended_[bar, asset] != 0, self.intended_[bar, asset], fill_quantity[bar, asset])
            filled = fill_quantity[bar, asset]
            complete = np.abs(filled - ordered) <= 1e-9 * np.abs(ordered)
            ids = np.arange(book.next_id, book.next_id + bar.size)
            book.next_id += bar.size
            self.records_.append(
                id=ids, decision_bar=np.maximum(bar - 1, 0), end_bar=bar, asset=asset, quantity=ordered,
                order_type=np.full(bar.size, MARKET), limit_price=np.full(bar.size, np.nan),
                time_in_force=np.full(bar.size, DAY), status=np.where(complete, FILLED, PARTIAL), filled=filled,
                notional=np.abs(filled * fill_price[bar, asset]), cost=fill_cost[bar, asset],
            )  # fmt: skip
            self.fill_orders_[bar, asset] = np.where(filled != 0, ids, -1)
        records = self.records_.arrays()
        order = np.lexsort((records["id"], records["asset"], records["decision_bar"]))
        renumber = np.full(book.next_id + 1, -1, dtype=np.int64)
        renumber[records["id"][order]] = np.arange(order.size)
        merged = {name: values[order] for name, values in records.items()}
        merged["id"] = np.arange(order.size)
        self.records_ = OrderRecords([merged])
        return np.where(self.fill_orders_ >= 0, renumber[np.maximum(self.fill_orders_, 0)], -1)

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
