"""Orders: the instructions a proposal carries, the broker's working orders, and the record of every order.

Instructions travel as per-ticker arrays on :class:`~framework.core.types.TradeProposal` (order type, limit
price, time in force, quantity, largest fill per bar); a proposal without them sends plain market orders for its
target weights. The broker keeps at most one working order per ticker: a newer decision for the ticker replaces
it. Every order ends in one record, written by the broker when it ends:

============  ==========================================================================================
status        meaning
============  ==========================================================================================
filled        filled in full (in one fill, or in several over the bars a GTC order worked)
partial       filled in part; the rest expired (DAY), was replaced, or reached ``gtc_max_age``
expired       nothing filled: a DAY order whose bar did not reach its limit, or a GTC order too old
cancelled     nothing filled, replaced by a newer decision for the same ticker
rejected      never worked: no price for the ticker on its bar
============  ==========================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: Order types (``order_type`` arrays hold these codes).
MARKET, LIMIT = 0, 1
ORDER_TYPES: tuple[str, ...] = ("market", "limit")
#: Times in force.
DAY, GTC = 0, 1
TIMES_IN_FORCE: tuple[str, ...] = ("DAY", "GTC")
#: Final statuses of an order.
FILLED, PARTIAL, EXPIRED, CANCELLED, REJECTED = 0, 1, 2, 3, 4
STATUSES: tuple[str, ...] = ("filled", "partial", "expired", "cancelled", "rejected")

_FIELDS = ("id", "decision_bar", "end_bar", "asset", "quantity", "order_type", "limit_price", "time_in_force",
           "status", "filled", "notional", "cost")  # fmt: skip


@dataclass
class OrderRecords:
    """Every order of a run, one row each, appended by the broker bar by bar as arrays (never row by row).

    Attributes:
        chunks: One mapping of field -> array per bar that ended orders.

    Example:
        >>> records = OrderRecords()
        >>> records.append(id=np.array([0]), decision_bar=np.array([3]), end_bar=np.array([4]),
        ...                asset=np.array([1]), quantity=np.array([10.0]), order_type=np.array([LIMIT]),
        ...                limit_price=np.array([99.0]), time_in_force=np.array([DAY]), status=np.array([FILLED]),
        ...                filled=np.array([10.0]), notional=np.array([985.0]), cost=np.array([1.0]))
        >>> records.arrays()["status"].tolist(), len(records)
        ([0], 1)
    """

    chunks: list[dict[str, np.ndarray]] = field(default_factory=list)

    def append(self, **columns: np.ndarray) -> None:
        """Add orders: every field (``id``, ``decision_bar``...) as arrays of one length.

        Args:
            **columns: Field name -> array.

        Example:
            >>> records = OrderRecords()
            >>> records.append(**{name: np.zeros(2, dtype=np.int64) for name in _FIELDS})
            >>> len(records)
            2
        """
        self.chunks.append(columns)

    def __len__(self) -> int:
        return sum(chunk["id"].size for chunk in self.chunks)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every field as one array, sorted by order id.

        Returns:
            Field name -> array.

        Example:
            >>> OrderRecords().arrays()["status"].size
            0
        """
        if not self.chunks:
            kinds = {"quantity": float, "limit_price": float, "filled": float, "notional": float, "cost": float}
            return {name: np.empty(0, dtype=kinds.get(name, np.int64)) for name in _FIELDS}
        joined = {name: np.concatenate([chunk[name] for chunk in self.chunks]) for name in _FIELDS}
        order = np.argsort(joined["id"], kind="stable")
        return {name: values[order] for name, values in joined.items()}

    def frame(self, dates: np.ndarray, tickers: tuple[str, ...]) -> pd.DataFrame:
        """The orders as a table.

        Columns: id, decision date, ticker, side, type, limit, time in force, quantity, status, filled quantity,
        average price, cost and end date.

        Args:
            dates: The run's dates.
            tickers: The run's tickers.

        Returns:
            One row per order, by id.

        Example:
            >>> records = OrderRecords()
            >>> records.append(id=np.array([0]), decision_bar=np.array([0]), end_bar=np.array([1]),
            ...                asset=np.array([0]), quantity=np.array([-4.0]), order_type=np.array([MARKET]),
            ...                limit_price=np.array([np.nan]), time_in_force=np.array([DAY]),
            ...                status=np.array([EXPIRED]), filled=np.array([0.0]), notional=np.array([0.0]),
            ...                cost=np.array([0.0]))
            >>> records.frame(np.arange(2).astype("datetime64[D]"), ("A",))[["side", "status", "quantity"]].values
            array([['SELL', 'expired', 4.0]], dtype=object)
        """
        import pandas as pd

        a = self.arrays()
        names = np.array(tickers, dtype=object)
        with np.errstate(invalid="ignore", divide="ignore"):
            average = np.where(a["filled"] != 0, a["notional"] / np.abs(a["filled"]), np.nan)
        return pd.DataFrame(
            {
                "order_id": a["id"],
                "date": pd.to_datetime(np.asarray(dates)[a["decision_bar"]]),
                "ticker": names[a["asset"]],
                "side": np.where(a["quantity"] > 0, "BUY", "SELL"),
                "type": np.array(ORDER_TYPES, dtype=object)[a["order_type"]],
                "limit_price": a["limit_price"],
                "time_in_force": np.array(TIMES_IN_FORCE, dtype=object)[a["time_in_force"]],
                "quantity": np.abs(a["quantity"]),
                "status": np.array(STATUSES, dtype=object)[a["status"]],
                "filled_quantity": np.abs(a["filled"]),
                "average_price": average,
                "cost": a["cost"],
                "end_date": pd.to_datetime(np.asarray(dates)[a["end_bar"]]),
            }
        )


class WorkingOrders:
    """The broker's working orders: at most one per ticker, as arrays over the tickers.

    Args:
        n_assets: Number of tickers.

    Example:
        >>> book = WorkingOrders(2)
        >>> book.active.tolist(), int(book.next_id)
        ([False, False], 0)
    """

    def __init__(self, n_assets: int) -> None:
        self.active = np.zeros(n_assets, dtype=bool)
        self.id = np.full(n_assets, -1, dtype=np.int64)
        self.decision_bar = np.zeros(n_assets, dtype=np.int64)
        self.quantity = np.zeros(n_assets)
        self.remaining = np.zeros(n_assets)
        self.order_type = np.zeros(n_assets, dtype=np.int64)
        self.limit_price = np.full(n_assets, np.nan)
        self.time_in_force = np.zeros(n_assets, dtype=np.int64)
        self.max_fill = np.full(n_assets, np.inf)
        self.age = np.zeros(n_assets, dtype=np.int64)
        self.filled = np.zeros(n_assets)
        self.notional = np.zeros(n_assets)
        self.cost = np.zeros(n_assets)
        self.next_id = 0

    def open(
        self,
        columns: np.ndarray,
        bar: int,
        quantity: np.ndarray,
        order_type: np.ndarray,
        limit_price: np.ndarray,
        time_in_force: np.ndarray,
        max_fill: np.ndarray,
    ) -> None:
        """Open new orders on ``columns`` (their previous orders must be ended first).

        Args:
            columns: Tickers of the new orders.
            bar: The bar the orders were decided on.
            quantity: Signed shares, one per column.
            order_type: Codes, one per column.
            limit_price: Limits (NaN for market orders), one per column.
            time_in_force: Codes, one per column.
            max_fill: Largest fill per bar in shares (inf: no cap), one per column.

        Example:
            >>> book = WorkingOrders(3)
            >>> book.open(np.array([2]), 5, np.array([10.0]), np.array([LIMIT]), np.array([9.5]), np.array([GTC]),
            ...           np.array([np.inf]))
            >>> book.active.tolist(), book.id.tolist(), book.next_id
            ([False, False, True], [-1, -1, 0], 1)
        """
        count = columns.size
        self.active[columns] = True
        self.id[columns] = np.arange(self.next_id, self.next_id + count)
        self.next_id += count
        self.decision_bar[columns] = bar
        self.quantity[columns] = quantity
        self.remaining[columns] = quantity
        self.order_type[columns] = order_type
        self.limit_price[columns] = limit_price
        self.time_in_force[columns] = time_in_force
        self.max_fill[columns] = max_fill
        self.age[columns] = 0
        self.filled[columns] = 0.0
        self.notional[columns] = 0.0
        self.cost[columns] = 0.0

    def end(self, columns: np.ndarray, status: np.ndarray | int, bar: int, records: OrderRecords) -> None:
        """End the orders of ``columns`` with ``status`` and write their records.

        Args:
            columns: Tickers whose orders end.
            status: A status code, or one per column.
            bar: The bar they end on.
            records: Where the records go.

        Example:
            >>> book, records = WorkingOrders(1), OrderRecords()
            >>> book.open(np.array([0]), 0, np.array([5.0]), np.array([MARKET]), np.array([np.nan]), np.array([DAY]),
            ...           np.array([np.inf]))
            >>> book.end(np.array([0]), CANCELLED, 1, records)
            >>> book.active.tolist(), records.arrays()["status"].tolist()
            ([False], [3])
        """
        if not columns.size:
            return
        records.append(
            id=self.id[columns].copy(),
            decision_bar=self.decision_bar[columns].copy(),
            end_bar=np.full(columns.size, bar, dtype=np.int64),
            asset=columns.astype(np.int64),
            quantity=self.quantity[columns].copy(),
            order_type=self.order_type[columns].copy(),
            limit_price=self.limit_price[columns].copy(),
            time_in_force=self.time_in_force[columns].copy(),
            status=np.broadcast_to(np.asarray(status, dtype=np.int64), (columns.size,)).copy(),
            filled=self.filled[columns].copy(),
            notional=self.notional[columns].copy(),
            cost=self.cost[columns].copy(),
        )
        self.active[columns] = False
