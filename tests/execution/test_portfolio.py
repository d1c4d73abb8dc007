import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from framework.core.errors import ConfigError
from framework.core.types import DecisionLog
from framework.execution import PortfolioManager, SimulatedBroker
from framework.execution.portfolio import attribute_pnl


def reference_pnl(positions: np.ndarray, prices: np.ndarray, close: np.ndarray):
    """Average cost and cumulative realised P&L, one ticker and one bar at a time."""
    days, tickers = positions.shape
    avg_cost = np.zeros((days, tickers))
    realized = np.zeros((days, tickers))
    for j in range(tickers):
        held, average, booked = 0.0, 0.0, 0.0
        for t in range(days):
            new, price = positions[t, j], prices[t, j]
            if new != held:
                if held == 0:
                    average = price
                elif held * new > 0 and abs(new) > abs(held):  # adding: average the price in
                    average = (held * average + (new - held) * price) / new
                elif held * new > 0:  # reducing: realise the closed part
                    booked += (held - new) * (price - average)
                else:  # closing or flipping: realise everything, open the rest at this price
                    booked += held * (price - average)
                    average = price if new != 0 else 0.0
                held = new
            avg_cost[t, j] = average if held != 0 else 0.0
            realized[t, j] = booked
    return avg_cost, realized, positions * (close - avg_cost)


class TestPortfolioManager:
    def test_initial_books(self) -> None:
        books = PortfolioManager(("A", "B", "C"), initial_cash=250)
        assert books.cash == 250.0 and isinstance(books.cash, float)
        assert books.initial_cash == 250.0
        assert books.positions.tolist() == [0.0, 0.0, 0.0]
        assert books.costs == 0.0
        assert books.equity(np.array([1.0, 2.0, 3.0])) == 250.0

    def test_apply_fills_by_hand(self) -> None:
        books = PortfolioManager(("A", "B"), initial_cash=1000.0)
        books.apply_fills(np.array([10.0, 0.0]), np.array([50.0, 20.0]), total_cost=1.0)
        assert books.cash == pytest.approx(499.0)
        assert books.positions.tolist() == [10.0, 0.0]
        books.apply_fills(np.array([-4.0, 5.0]), np.array([60.0, 20.0]), total_cost=0.5)
        # +240 from the sale, -100 for the buy, -0.5 costs
        assert books.cash == pytest.approx(499.0 + 240.0 - 100.0 - 0.5)
        assert books.positions.tolist() == [6.0, 5.0]
        assert books.costs == pytest.approx(1.5)
        assert books.equity(np.array([70.0, 22.0])) == pytest.approx(638.5 + 420.0 + 110.0)

    def test_short_sale_adds_cash(self) -> None:
        books = PortfolioManager(("A",), initial_cash=100.0)
        books.apply_fills(np.array([-3.0]), np.array([10.0]))
        assert books.cash == 130.0
        assert books.equity(np.array([12.0])) == pytest.approx(94.0)

    def test_apply_fills_does_not_alias_the_quantities(self) -> None:
        books = PortfolioManager(("A",), initial_cash=100.0)
        quantities = np.array([2.0])
        books.apply_fills(quantities, np.array([10.0]))
        quantities[0] = 99.0
        assert books.positions.tolist() == [2.0]

    @pytest.mark.parametrize("cash", [0, -1.0, float("nan")])
    def test_invalid_initial_cash(self, cash: float) -> None:
        with pytest.raises(ConfigError, match=r"^broker\.initial_cash: must be a number > 0, got "):
            PortfolioManager(("A",), initial_cash=cash)


class TestAttributePnl:
    def test_docstring_case(self) -> None:
        positions = np.array([[10.0], [10.0], [4.0], [-2.0]])
        prices = np.array([[50.0], [0.0], [60.0], [40.0]])
        close = np.array([[50.0], [55.0], [60.0], [40.0]])
        pnl = attribute_pnl(positions, prices, close)
        np.testing.assert_allclose(pnl.avg_cost.ravel(), [50.0, 50.0, 50.0, 40.0])
        np.testing.assert_allclose(pnl.realized.ravel(), [0.0, 0.0, 60.0, 20.0])
        np.testing.assert_allclose(pnl.unrealized.ravel(), [0.0, 50.0, 40.0, 0.0])

    def test_adding_averages_the_cost(self) -> None:
        positions = np.array([[10.0], [30.0], [40.0]])
        prices = np.array([[10.0], [14.0], [20.0]])
        close = np.array([[11.0], [15.0], [20.0]])
        pnl = attribute_pnl(positions, prices, close)
        # (10*10 + 20*14) / 30 = 12.667; (380 + 200) / 40 = 14.5
        np.testing.assert_allclose(pnl.avg_cost.ravel(), [10.0, 380 / 30, 14.5])
        np.testing.assert_allclose(pnl.realized.ravel(), [0.0, 0.0, 0.0])
        np.testing.assert_allclose(pnl.unrealized.ravel(), [10.0, 30 * (15 - 380 / 30), 40 * (20 - 14.5)])

    def test_reducing_realises_at_the_average_cost(self) -> None:
        positions = np.array([[10.0], [20.0], [5.0], [0.0]])
        prices = np.array([[10.0], [16.0], [15.0], [9.0]])
        close = np.array([[10.0], [16.0], [15.0], [9.0]])
        pnl = attribute_pnl(positions, prices, close)
        # average 13 after adding; sell 15 at 15: +30; sell 5 at 9: -20
        np.testing.assert_allclose(pnl.avg_cost.ravel(), [10.0, 13.0, 13.0, 0.0])
        np.testing.assert_allclose(pnl.realized.ravel(), [0.0, 0.0, 30.0, 10.0])
        np.testing.assert_allclose(pnl.unrealized.ravel(), [0.0, 60.0, 10.0, 0.0])

    def test_flip_long_to_short(self) -> None:
        positions = np.array([[5.0], [-3.0], [-3.0]])
        prices = np.array([[20.0], [26.0], [0.0]])
        close = np.array([[21.0], [26.0], [24.0]])
        pnl = attribute_pnl(positions, prices, close)
        # the whole long realises 5 * (26 - 20) = 30; the short opens at 26
        np.testing.assert_allclose(pnl.avg_cost.ravel(), [20.0, 26.0, 26.0])
        np.testing.assert_allclose(pnl.realized.ravel(), [0.0, 30.0, 30.0])
        np.testing.assert_allclose(pnl.unrealized.ravel(), [5.0, 0.0, 6.0])

    def test_short_covering(self) -> None:
        positions = np.array([[-10.0], [-20.0], [-5.0], [4.0]])
        prices = np.array([[50.0], [44.0], [40.0], [42.0]])
        close = np.array([[48.0], [44.0], [40.0], [43.0]])
        pnl = attribute_pnl(positions, prices, close)
        # average short price (500 + 440) / 20 = 47; cover 15 at 40: +105; cover 5 at 42 and go long 4: +25
        np.testing.assert_allclose(pnl.avg_cost.ravel(), [50.0, 47.0, 47.0, 42.0])
        np.testing.assert_allclose(pnl.realized.ravel(), [0.0, 0.0, 105.0, 130.0])
        np.testing.assert_allclose(pnl.unrealized.ravel(), [20.0, 60.0, 35.0, 4.0])

    def test_unchanged_positions_ignore_the_execution_price(self) -> None:
        positions = np.array([[2.0, 0.0], [2.0, 0.0]])
        prices = np.array([[10.0, np.nan], [np.nan, np.nan]])
        close = np.array([[10.0, 5.0], [12.0, 6.0]])
        pnl = attribute_pnl(positions, prices, close)
        np.testing.assert_array_equal(pnl.avg_cost, [[10.0, 0.0], [10.0, 0.0]])
        np.testing.assert_array_equal(pnl.realized, [[0.0, 0.0], [0.0, 0.0]])
        np.testing.assert_array_equal(pnl.unrealized, [[0.0, 0.0], [4.0, 0.0]])

    @settings(max_examples=150, deadline=None)
    @given(
        path=hnp.arrays(
            np.float64,
            st.tuples(st.integers(1, 30), st.integers(1, 3)),
            elements=st.sampled_from([-7.0, -3.0, -1.5, 0.0, 0.0, 1.0, 2.5, 4.0, 9.0]),
        ),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_against_a_per_ticker_loop(self, path: np.ndarray, seed: int) -> None:
        rng = np.random.default_rng(seed)
        prices = rng.uniform(5.0, 50.0, path.shape)
        close = rng.uniform(5.0, 50.0, path.shape)
        pnl = attribute_pnl(path, prices, close)
        avg_cost, realized, unrealized = reference_pnl(path, prices, close)
        np.testing.assert_allclose(pnl.avg_cost, avg_cost, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(pnl.realized, realized, rtol=1e-9, atol=1e-8)
        np.testing.assert_allclose(pnl.unrealized, unrealized, rtol=1e-9, atol=1e-8)

    def test_against_a_per_ticker_loop_on_long_random_paths(self) -> None:
        rng = np.random.default_rng(12)
        days, tickers = 400, 6
        steps = rng.choice([0.0, 0.0, 0.0, 1.0], (days, tickers)) * rng.normal(0.0, 10.0, (days, tickers))
        positions = np.round(np.cumsum(steps, axis=0), 3)
        positions[rng.uniform(size=positions.shape) < 0.05] = 0.0
        prices = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, (days, tickers)), axis=0)
        close = prices * (1.0 + rng.normal(0.0, 0.005, prices.shape))
        pnl = attribute_pnl(positions, prices, close)
        avg_cost, realized, unrealized = reference_pnl(positions, prices, close)
        np.testing.assert_allclose(pnl.avg_cost, avg_cost, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(pnl.realized, realized, rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(pnl.unrealized, unrealized, rtol=1e-9, atol=1e-6)

    @settings(max_examples=25, deadline=None)
    @given(
        seed=st.integers(0, 2**32 - 1),
        cost_bps=st.sampled_from([0.0, 7.0, 80.0]),
        slippage_bps=st.sampled_from([0.0, 5.0]),
        fractional_shares=st.booleans(),
    )
    def test_pnl_identity_through_the_broker_and_the_books(
        self, seed: int, cost_bps: float, slippage_bps: float, fractional_shares: bool
    ) -> None:
        """equity - initial_cash == realized + unrealized - cumulative costs at every bar."""
        rng = np.random.default_rng(seed)
        days, tickers = 40, 3
        close = 50.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, (days, tickers)), axis=0)
        opens = close * (1.0 + rng.normal(0.0, 0.01, close.shape))
        targets = rng.uniform(-0.5, 0.7, (days, tickers))
        targets[rng.uniform(size=targets.shape) < 0.3] = np.nan
        broker = SimulatedBroker(
            initial_cash=100_000.0, cost_bps=cost_bps, slippage_bps=slippage_bps, fractional_shares=fractional_shares
        )
        books = broker.open_books(("A", "B", "C"))
        replay = PortfolioManager(("A", "B", "C"), initial_cash=100_000.0)
        positions = np.zeros((days, tickers))
        exec_prices = np.full((days, tickers), np.nan)
        equity = np.empty(days)
        costs = np.empty(days)
        log = DecisionLog()
        for t in range(days):
            if t > 0:  # orders decided at the close of t-1 fill at the open of t
                fills = broker.execute(t, targets[t - 1].copy(), opens[t], books, log)
                assets = np.asarray(fills.assets)
                quantities, prices, paid = (
                    np.asarray(fills.quantities),
                    np.asarray(fills.prices),
                    np.asarray(fills.costs),
                )
                if quantities.size != assets.size:
                    quantities, prices, paid = quantities[assets], prices[assets], paid[assets]
                dense_quantities = np.zeros(tickers)
                dense_prices = opens[t].copy()
                dense_quantities[assets] = quantities
                dense_prices[assets] = prices
                replay.apply_fills(dense_quantities, dense_prices, total_cost=float(paid.sum()))
                exec_prices[t, assets] = prices
            positions[t] = books.positions
            equity[t] = books.equity(close[t])
            costs[t] = books.costs
            # the broker's reported fills, booked through PortfolioManager, give the broker's own books
            assert replay.cash == pytest.approx(books.cash, rel=1e-12, abs=1e-6)
            np.testing.assert_allclose(replay.positions, books.positions, rtol=1e-12)
            assert replay.costs == pytest.approx(books.costs, rel=1e-12, abs=1e-9)
        assert np.abs(np.diff(positions, axis=0)).sum() > 0  # something traded
        pnl = attribute_pnl(positions, exec_prices, close)
        explained = pnl.realized.sum(axis=1) + pnl.unrealized.sum(axis=1) - costs
        np.testing.assert_allclose(equity - 100_000.0, explained, atol=1e-6 * 100_000.0)
