"""Portfolio accounting: cash and positions during the run, average cost and P&L from the position path."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from framework.core.checks import check_number


class PortfolioManager:
    """The books of one run: cash, positions and commissions, updated in place by the broker's fills.

    Equity is ``cash + positions · price`` by construction. The per-bar loop only needs cash and positions;
    average cost and realised / unrealised P&L follow from the path of positions and execution prices and are
    computed once per run by :func:`attribute_pnl`.

    Args:
        tickers: Column names.
        initial_cash: Starting cash, > 0.

    Raises:
        ConfigError: If ``initial_cash`` is not positive.

    Example:
        >>> books = PortfolioManager(("A", "B"), initial_cash=1000.0)
        >>> books.apply_fills(np.array([10.0, 0.0]), np.array([50.0, 20.0]), total_cost=1.0)
        >>> books.cash, books.equity(np.array([55.0, 20.0])), books.costs
        (499.0, 1049.0, 1.0)
    """

    def __init__(self, tickers: tuple[str, ...], initial_cash: float = 1_000_000.0) -> None:
        check_number("broker.initial_cash", initial_cash, minimum=0, exclusive_minimum=True)
        self.tickers = tickers
        self.initial_cash = float(initial_cash)
        self.cash = float(initial_cash)
        self.positions = np.zeros(len(tickers))
        self.costs = 0.0

    def equity(self, prices: np.ndarray) -> float:
        """Cash plus holdings valued at ``prices``.

        Args:
            prices: Price per ticker, shape (tickers,).

        Returns:
            ``cash + positions · prices``.

        Example:
            >>> books = PortfolioManager(("A", "B"), initial_cash=100.0)
            >>> books.apply_fills(np.array([2.0, -1.0]), np.array([10.0, 30.0]))  # long 2 A, short 1 B
            >>> books.equity(np.array([12.0, 25.0]))
            109.0
        """
        return self.cash + float(self.positions @ prices)

    def apply_fills(self, quantities: np.ndarray, prices: np.ndarray, total_cost: float = 0.0) -> None:
        """Book fills: signed ``quantities`` (buy > 0) at execution ``prices``, paying ``total_cost``.

        Args:
            quantities: Shares bought (> 0) or sold (< 0) per ticker, shape (tickers,).
            prices: Execution price per ticker (slippage included).
            total_cost: Commission paid for these fills, >= 0.

        Example:
            >>> books = PortfolioManager(("A",), initial_cash=100.0)
            >>> books.apply_fills(np.array([4.0]), np.array([20.0]), total_cost=0.5)
            >>> books.apply_fills(np.array([-1.0]), np.array([22.0]), total_cost=0.5)
            >>> books.positions.tolist(), books.cash, books.costs
            ([3.0], 41.0, 1.0)
        """
        self.positions = self.positions + quantities
        self.cash -= float(quantities @ prices) + total_cost
        self.costs += total_cost


class PnL(NamedTuple):
    """Average cost and P&L per bar and ticker, each of shape (days, tickers).

    Attributes:
        avg_cost: Average entry price of the position held at each close (0 when flat).
        realized: Cumulative realised P&L at each close (before commissions).
        unrealized: ``positions * (close - avg_cost)`` at each close.

    Example:
        >>> pnl = attribute_pnl(np.array([[2.0], [1.0]]), np.array([[10.0], [14.0]]), np.array([[12.0], [15.0]]))
        >>> pnl.avg_cost.tolist(), pnl.realized.tolist(), pnl.unrealized.tolist()
        ([[10.0], [10.0]], [[0.0], [4.0]], [[4.0], [5.0]])
    """

    avg_cost: np.ndarray
    realized: np.ndarray
    unrealized: np.ndarray


def attribute_pnl(positions: np.ndarray, exec_prices: np.ndarray, close: np.ndarray) -> PnL:
    """Average cost, realised and unrealised P&L from the path of positions.

    The position changes between bar t-1 and bar t at ``exec_prices[t]``. Adding to a position averages in
    that price; reducing it realises ``(price - avg_cost)`` on the closed quantity; flipping it realises all of
    the old position and opens the new one at that price. Commissions are not included, so at every bar
    ``equity - initial_cash = realized.sum() + unrealized.sum() - cumulative costs``.

    The cost basis follows ``basis[t] = kept[t] * basis[t-1] + price[t] * opened[t]``, where ``kept`` is the
    fraction of the old position still held: vectorized over tickers, one multiply-add per bar.

    Args:
        positions: Shares held at each close, shape (days, tickers); the position before bar 0 is 0.
        exec_prices: Execution price of the change on each bar, shape (days, tickers).
        close: Closing prices, shape (days, tickers).

    Returns:
        The :class:`PnL` panels.

    Example:
        >>> positions = np.array([[10.0], [10.0], [4.0], [-2.0]])
        >>> prices = np.array([[50.0], [0.0], [60.0], [40.0]])
        >>> pnl = attribute_pnl(positions, prices, close=np.array([[50.0], [55.0], [60.0], [40.0]]))
        >>> pnl.avg_cost.ravel().tolist(), pnl.realized.ravel().tolist()
        ([50.0, 50.0, 50.0, 40.0], [0.0, 0.0, 60.0, 20.0])
    """
    old = np.vstack([np.zeros((1, positions.shape[1])), positions[:-1]])
    changed = positions != old
    same_side = old * positions > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        kept_fraction = np.where(same_side, np.minimum(positions / old, 1.0), 0.0)
    kept = old * kept_fraction
    closed = old - kept
    opened = positions - kept
    kept_fraction = np.where(changed, kept_fraction, 1.0)
    flow = np.where(changed, exec_prices * opened, 0.0)
    basis = np.empty_like(positions)
    running = np.zeros(positions.shape[1])
    for t in range(positions.shape[0]):
        running = running * kept_fraction[t] + flow[t]
        basis[t] = running
    with np.errstate(invalid="ignore", divide="ignore"):
        avg_cost = np.where(positions != 0, basis / positions, 0.0)
    prev_avg = np.vstack([np.zeros((1, positions.shape[1])), avg_cost[:-1]])
    realized = np.cumsum(np.where(changed, closed * (exec_prices - prev_avg), 0.0), axis=0)
    return PnL(avg_cost=avg_cost, realized=realized, unrealized=positions * (close - avg_cost))
