"""Execution rules: the last stage of the pipeline turns the final target weights into orders.

With ``default_order_type: market``, ``time_in_force: DAY`` and no ``market_impact_limit`` (the ``market``
option) the agent changes nothing: plain market orders for the targets, resolved at the fill price, the fast
path of the broker. Otherwise, for every ticker with a target it sets:

- the quantity, fixed at the decision: ``target * equity / close - position`` at the decision bar's close;
- the order type; a limit order's limit is ``close * (1 + price_threshold)`` for a buy (it pays at most that),
  ``close * (1 - price_threshold)`` for a sell (it receives at least that);
- the time in force: ``DAY`` (the order lives for its fill bar) or ``GTC`` (it works until filled, replaced by a
  newer decision for the ticker, or ``broker.gtc_max_age`` bars old);
- with ``market_impact_limit``, the most shares one bar may fill: the square-root law
  ``impact = impact_coefficient * sigma * sqrt(q / adv)`` reaches the limit at
  ``q = adv * (limit / (impact_coefficient * sigma)) ** 2``, with ``sigma`` and ``adv`` the daily volatility and
  average volume over the last ``impact_window`` bars; a larger order is cut to that size on each bar and the
  rest follows its time in force. Data without volume cannot estimate it: the cut is off and the run says so.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from framework.agents.base import Agent
from framework.core.checks import check_choice, check_int, check_number
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog, ExecutionState, SignalFrame, TradeProposal

#: The order types the agent may send by default.
ORDER_TYPE_CHOICES: tuple[str, ...] = ("market", "limit")
#: The times in force.
TIME_IN_FORCE_CHOICES: tuple[str, ...] = ("DAY", "GTC")


class ExecutionRules(Agent):
    """Turn the final targets into orders: type, limit price, time in force, market-impact cut.

    Requires: the current positions, equity and closes (the decision bar's).
    Sets: the proposal's order instructions (``order_type``, ``limit_price``, ``time_in_force``,
    ``order_quantity``, ``max_fill``); the targets stay as they are.

    Args:
        default_order_type: ``market`` or ``limit``.
        price_threshold: How far from the decision close a limit may be, a fraction in [0, 1).
        time_in_force: ``DAY`` or ``GTC``.
        market_impact_limit: The largest estimated price impact of one bar's fill (0.005 is 50 bps), or None.
        impact_coefficient: ``k`` of the square-root law, > 0.
        impact_window: Bars of the volatility and volume estimates, >= 2.

    Raises:
        ConfigError: For a parameter out of range.

    Example:
        >>> agent = ExecutionRules(default_order_type="limit", price_threshold=0.01, time_in_force="GTC")
        >>> state = ExecutionState.empty(("A", "B"))
        >>> state.bar, state.close, state.equity = 0, np.array([100.0, 50.0]), 1000.0
        >>> state.positions = np.array([0.0, 10.0])
        >>> out = agent.propose(TradeProposal(np.array([0.5, 0.0])), state)
        >>> out.order_quantity.tolist(), out.limit_price.tolist(), out.time_in_force.tolist()
        ([5.0, -10.0], [101.0, 49.5], [1, 1])
    """

    requires: ClassVar[tuple[str, ...]] = ("positions", "equity")
    sets: ClassVar[tuple[str, ...]] = ("order_type", "limit_price", "time_in_force", "order_quantity", "max_fill")
    last_stage: ClassVar[bool] = True

    def __init__(
        self,
        default_order_type: str = "market",
        price_threshold: float = 0.01,
        time_in_force: str = "DAY",
        market_impact_limit: float | None = None,
        impact_coefficient: float = 1.0,
        impact_window: int = 20,
    ) -> None:
        self.default_order_type = default_order_type
        self.price_threshold = price_threshold
        self.time_in_force = time_in_force
        self.market_impact_limit = market_impact_limit
        self.impact_coefficient = impact_coefficient
        self.impact_window = impact_window
        check_choice("default_order_type", default_order_type, ORDER_TYPE_CHOICES)
        check_number("price_threshold", price_threshold, minimum=0, maximum=0.999)
        check_choice("time_in_force", time_in_force, TIME_IN_FORCE_CHOICES)
        if market_impact_limit is not None:
            check_number("market_impact_limit", market_impact_limit, minimum=0, exclusive_minimum=True)
        check_number("impact_coefficient", impact_coefficient, minimum=0, exclusive_minimum=True)
        check_int("impact_window", impact_window, minimum=2)
        self._limit = default_order_type == "limit"
        self._tif = TIME_IN_FORCE_CHOICES.index(time_in_force)
        self._capacity: np.ndarray | None = None

    @property
    def sends_orders(self) -> bool:
        """Whether the agent sends anything but plain market orders (then the broker keeps working orders).

        Example:
            >>> ExecutionRules().sends_orders, ExecutionRules(default_order_type="limit").sends_orders
            (False, True)
        """
        return self._limit or self._tif != 0 or self.market_impact_limit is not None

    @property
    def supports_panel(self) -> bool:
        """Plain market orders: the targets pass through.

        Example:
            >>> ExecutionRules().supports_panel, ExecutionRules(time_in_force="GTC").supports_panel
            (True, False)
        """
        return not self.sends_orders

    def panel_targets(
        self,
        previous: np.ndarray,
        data: MarketData,
        signals: SignalFrame,
        allocation: np.ndarray | None,
        log: DecisionLog,
    ) -> np.ndarray:
        """Plain market orders: the previous stage's targets as they are.

        Args:
            previous: The previous stage's targets, shape (days, tickers).
            data: The panel.
            signals: The combined signals.
            allocation: The portfolio's allocation, or None.
            log: The run's decision log.

        Returns:
            ``previous``.

        Example:
            >>> targets = np.ones((2, 1))
            >>> ExecutionRules().panel_targets(targets, None, None, None, DecisionLog()) is targets
            True
        """
        return previous

    def prepare(self, data: MarketData, signals: SignalFrame | None) -> None:
        """Estimate, once for the run, how many shares each bar can absorb within the impact limit.

        Args:
            data: The run's data (its volume, if any, and its returns).
            signals: Not used.

        Example:
            >>> close = np.array([[10.0], [10.2], [10.0], [10.3]])
            >>> data = MarketData(np.arange(4).astype("datetime64[D]"), ("A",), close, volume=np.full((4, 1), 1e6))
            >>> agent = ExecutionRules(market_impact_limit=0.005, impact_window=2)
            >>> agent.prepare(data, None)
            >>> agent._capacity[:, 0].round(0).tolist()  # shares within 50 bps of impact (none known on bar 0)
            [inf, 125000.0, 31872.0, 20317.0]
        """
        self._capacity = None
        self._said = False
        if self.market_impact_limit is None or not data.has("volume"):
            return
        from framework.stats.rolling import rolling_std, sma

        volatility = rolling_std(np.where(data.tradable, data.returns(), 0.0), self.impact_window)
        volume = sma(np.nan_to_num(data.field("volume")), self.impact_window)
        with np.errstate(invalid="ignore", divide="ignore"):
            capacity = volume * (self.market_impact_limit / (self.impact_coefficient * volatility)) ** 2
        self._capacity = np.where(np.isnan(capacity), np.inf, capacity)  # no estimate yet: no cut

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        """Set the order instructions of the bar's targets (see the module docstring).

        Args:
            proposal: The final targets.
            state: The decision bar's state (closes, positions, equity).

        Returns:
            The proposal with its order instructions; the same proposal for plain market orders.

        Example:
            >>> state = ExecutionState.empty(("A",))
            >>> state.bar, state.close, state.positions, state.equity = 0, np.array([20.0]), np.zeros(1), 100.0
            >>> ExecutionRules(default_order_type="limit").propose(TradeProposal(np.array([1.0])), state).limit_price
            array([20.2])
        """
        if not self.sends_orders:
            return proposal
        targets = proposal.target_weights
        explicit = ~np.isnan(targets)
        if not explicit.any():
            return proposal
        n = targets.size
        with np.errstate(invalid="ignore", divide="ignore"):
            quantity = np.where(explicit & (state.close > 0), targets * state.equity / state.close - state.positions,
                                np.nan)  # fmt: skip
        kind = np.full(n, 1 if self._limit else 0, dtype=np.int64)
        limit = np.full(n, np.nan)
        if self._limit:
            limit = np.where(quantity > 0, state.close * (1.0 + self.price_threshold),
                             state.close * (1.0 - self.price_threshold))  # fmt: skip
            limit[~explicit] = np.nan
        max_fill = None
        if self.market_impact_limit is not None:
            max_fill = self._cut(state, quantity)
        return TradeProposal(
            targets, proposal.confidence, proposal.reasoning, order_type=kind, limit_price=limit,
            time_in_force=np.full(n, self._tif, dtype=np.int64), order_quantity=quantity, max_fill=max_fill,
        )  # fmt: skip

    def _cut(self, state: ExecutionState, quantity: np.ndarray) -> np.ndarray | None:
        """The most shares one bar may fill per ticker, logging the orders it cuts; None without volume data."""
        if self._capacity is None:
            if not self._said:
                self._said = True
                reason = "market_impact_limit is ignored: this data has no volume to estimate impact"
                state.log.record(state.bar, self.name, -1, np.nan, np.nan, reason)
            return None
        capacity = self._capacity[state.bar]
        cut = np.flatnonzero(np.abs(np.nan_to_num(quantity)) > capacity)
        if cut.size:
            state.log.record(state.bar, self.name, cut, np.abs(quantity[cut]), capacity[cut],
                             "order cut to the shares one bar can fill within a market impact of {limit:g}",
                             limit=self.market_impact_limit)  # fmt: skip
        return capacity
