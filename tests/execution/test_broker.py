from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog
from framework.execution import Fills, PortfolioManager, SimulatedBroker

nan = np.nan
TICKERS = ("A", "B")


def books_with(cash: float, positions: list[float], tickers: tuple[str, ...] = TICKERS) -> PortfolioManager:
    books = PortfolioManager(tickers, initial_cash=1000.0)
    books.cash = cash
    books.positions = np.array(positions, dtype=float)
    return books


class Traded(NamedTuple):
    assets: np.ndarray
    quantities: np.ndarray
    prices: np.ndarray
    costs: np.ndarray


def traded(fills: Fills) -> Traded:
    """The entries of the tickers that traded, whether the broker reports full rows or traded ones only."""
    assets = np.asarray(fills.assets)
    quantities, prices, costs = (np.asarray(a) for a in (fills.quantities, fills.prices, fills.costs))
    if quantities.size != assets.size:  # full-length rows: keep the traded entries
        quantities, prices, costs = quantities[assets], prices[assets], costs[assets]
    return Traded(assets, quantities, prices, costs)


def execute(
    broker: SimulatedBroker,
    books: PortfolioManager,
    targets: list[float],
    prices: list[float],
    log: DecisionLog | None = None,
    bar: int = 1,
) -> Fills:
    return broker.execute(
        bar,
        np.array(targets, dtype=float),
        np.array(prices, dtype=float),
        books,
        log if log is not None else DecisionLog(),
    )


class TestSimulatedBroker:
    def test_targets_to_quantities_without_costs(self) -> None:
        broker = SimulatedBroker(initial_cash=1000.0)
        books = broker.open_books(TICKERS)
        fills = traded(execute(broker, books, [0.5, 0.25], [10.0, 20.0]))
        assert fills.assets.tolist() == [0, 1]
        np.testing.assert_allclose(fills.quantities, [50.0, 12.5])
        np.testing.assert_allclose(fills.prices, [10.0, 20.0])
        np.testing.assert_allclose(fills.costs, [0.0, 0.0])
        np.testing.assert_allclose(books.positions, [50.0, 12.5])
        assert books.cash == pytest.approx(250.0)
        assert books.costs == 0.0

    def test_nan_target_keeps_the_position(self) -> None:
        broker = SimulatedBroker()
        books = books_with(500.0, [10.0, 5.0])
        # equity = 500 + 10*10 + 5*20 = 700; B -> 0.5 * 700 / 20 = 17.5 shares
        fills = traded(execute(broker, books, [nan, 0.5], [10.0, 20.0]))
        assert fills.assets.tolist() == [1]
        np.testing.assert_allclose(fills.quantities, [12.5])
        np.testing.assert_allclose(books.positions, [10.0, 17.5])
        assert books.cash == pytest.approx(250.0)

    def test_all_nan_targets_trade_nothing(self) -> None:
        books = books_with(500.0, [10.0, 5.0])
        fills = traded(execute(SimulatedBroker(cost_bps=10.0), books, [nan, nan], [10.0, 20.0]))
        assert fills.assets.size == 0 and fills.quantities.size == 0
        assert books.cash == 500.0 and books.costs == 0.0
        np.testing.assert_array_equal(books.positions, [10.0, 5.0])

    def test_quantities_use_equity_at_the_fill_price(self) -> None:
        books = books_with(500.0, [50.0, 0.0])
        # equity at the fill prices = 500 + 50*12 = 1100: A -> 550/12 shares, B -> 550/20 = 27.5
        fills = traded(execute(SimulatedBroker(), books, [0.5, 0.5], [12.0, 20.0]))
        np.testing.assert_allclose(fills.quantities, [550 / 12 - 50, 27.5])
        np.testing.assert_allclose(books.positions, [550 / 12, 27.5])
        assert books.cash == pytest.approx(0.0, abs=1e-9)
        assert books.equity(np.array([12.0, 20.0])) == pytest.approx(1100.0)

    def test_short_target(self) -> None:
        books = books_with(1000.0, [0.0, 0.0])
        fills = traded(execute(SimulatedBroker(), books, [-0.5, 0.5], [10.0, 20.0]))
        np.testing.assert_allclose(fills.quantities, [-50.0, 25.0])
        assert books.cash == pytest.approx(1000.0)  # the short's proceeds pay for the long

    def test_costs_in_bps(self) -> None:
        broker = SimulatedBroker(initial_cash=1000.0, cost_bps=10.0)
        books = broker.open_books(TICKERS)
        fills = traded(execute(broker, books, [0.5, 0.25], [10.0, 20.0]))
        np.testing.assert_allclose(fills.costs, [0.5, 0.25])  # 10 bps of 500 and of 250
        assert books.costs == pytest.approx(0.75)
        assert books.cash == pytest.approx(1000.0 - 750.0 - 0.75)

    def test_costs_on_sells_too(self) -> None:
        books = books_with(0.0, [100.0, 0.0])
        fills = traded(execute(SimulatedBroker(cost_bps=25.0), books, [0.0, nan], [10.0, 20.0]))
        np.testing.assert_allclose(fills.costs, [2.5])
        assert books.cash == pytest.approx(1000.0 - 2.5)

    def test_slippage_direction(self) -> None:
        broker = SimulatedBroker(initial_cash=1000.0, slippage_bps=50.0)
        books = broker.open_books(TICKERS)
        fills = traded(execute(broker, books, [0.5, nan], [10.0, 20.0]))
        np.testing.assert_allclose(fills.prices, [10.05])  # buys pay more
        np.testing.assert_allclose(fills.quantities, [50.0])  # quantities from the quoted price
        assert books.cash == pytest.approx(1000.0 - 502.5)
        # equity at 12: 497.5 + 600 = 1097.5; sell everything at 12 * (1 - 0.005) = 11.94
        fills = traded(execute(broker, books, [0.0, nan], [12.0, 20.0], bar=2))
        np.testing.assert_allclose(fills.prices, [11.94])  # sells receive less
        np.testing.assert_allclose(fills.quantities, [-50.0])
        assert books.cash == pytest.approx(497.5 + 597.0)

    def test_slippage_and_costs_together(self) -> None:
        broker = SimulatedBroker(initial_cash=1000.0, slippage_bps=20.0, cost_bps=10.0)
        books = books_with(1000.0, [10.0, 0.0])
        # equity = 1000 + 10*10 = 1100; A 0.2 -> 22 shares (buy 12 at 10.02), B 0.5 -> 27.5 (buy at 20.04)
        fills = traded(execute(broker, books, [0.2, 0.5], [10.0, 20.0]))
        np.testing.assert_allclose(fills.quantities, [12.0, 27.5])
        np.testing.assert_allclose(fills.prices, [10.02, 20.04])
        notional = np.array([12 * 10.02, 27.5 * 20.04])
        np.testing.assert_allclose(fills.costs, notional * 0.001)
        assert books.cash == pytest.approx(1000.0 - notional.sum() * 1.001)

    def test_buys_scaled_when_costs_exceed_cash(self) -> None:
        broker = SimulatedBroker(initial_cash=1000.0, cost_bps=100.0)
        books = broker.open_books(TICKERS)
        log = DecisionLog()
        fills = traded(execute(broker, books, [0.5, 0.5], [10.0, 20.0], log, bar=4))
        # buys of 1000 need 1010 with 1% costs; 1000 available -> scale 1000/1010
        scale = 1000.0 / 1010.0
        np.testing.assert_allclose(fills.quantities, [50.0 * scale, 25.0 * scale])
        np.testing.assert_allclose(fills.costs, [5.0 * scale, 5.0 * scale])
        assert books.cash == pytest.approx(0.0, abs=1e-9)
        assert books.costs == pytest.approx(10.0 * scale)
        frame = log.to_frame(np.datetime64("2024-01-01", "D") + np.arange(5), TICKERS)
        assert len(frame) == 1
        row = frame.iloc[0]
        assert (row["bar"], row["agent"], row["ticker"]) == (4, "broker", "*")
        assert (row["before"], row["after"]) == pytest.approx((1010.0, 1000.0))
        assert row["reason"] == f"buys scaled by {scale:.6f}: not enough cash"

    def test_sells_fund_buys_before_scaling(self) -> None:
        broker = SimulatedBroker(cost_bps=100.0)
        books = books_with(500.0, [50.0, 0.0])
        log = DecisionLog()
        # equity 1100 at [12, 20]; sell 50 A (600, cost 6) then buy 55 B (1100, needs 1111)
        fills = traded(execute(broker, books, [0.0, 1.0], [12.0, 20.0], log))
        available = 500.0 + 600.0 * 0.99
        scale = available / 1111.0
        np.testing.assert_allclose(fills.quantities, [-50.0, 55.0 * scale])  # the sell is not scaled
        np.testing.assert_allclose(fills.costs, [6.0, 11.0 * scale])
        assert books.cash == pytest.approx(0.0, abs=1e-9)
        assert len(log) == 1
        assert log.to_frame(np.datetime64("2024-01-01", "D") + np.arange(2), TICKERS)["after"].tolist() == [
            pytest.approx(available)
        ]

    def test_slippage_alone_can_make_buys_short_of_cash(self) -> None:
        broker = SimulatedBroker(initial_cash=1000.0, slippage_bps=10.0)
        books = broker.open_books(("A",))
        log = DecisionLog()
        fills = traded(broker.execute(0, np.array([1.0]), np.array([10.0]), books, log))
        np.testing.assert_allclose(fills.quantities, [100.0 * 1000.0 / 1001.0])
        assert books.cash == pytest.approx(0.0, abs=1e-9)
        assert len(log) == 1

    def test_full_reinvestment_without_costs_is_not_scaled(self) -> None:
        log = DecisionLog()
        books = books_with(0.0, [33.0, 17.0])
        execute(SimulatedBroker(), books, [0.3, 0.7], [10.1, 23.7], log)
        assert len(log) == 0
        assert books.cash == pytest.approx(0.0, abs=1e-9)

    def test_whole_shares_by_hand(self) -> None:
        broker = SimulatedBroker(initial_cash=1000.0, fractional_shares=False)
        books = broker.open_books(TICKERS)
        # targets 500/30 = 16.67 and 500/7 = 71.43 shares -> 16 and 71
        execute(broker, books, [0.5, 0.5], [30.0, 7.0])
        np.testing.assert_array_equal(books.positions, [16.0, 71.0])
        assert books.cash == pytest.approx(1000.0 - 480.0 - 497.0)
        # equity at [33, 7] = 23 + 528 + 497 = 1048; A -> 262/33 = 7.94 (sell 8.06 -> 8), B -> 786/7 = 112.29 (buy 41)
        fills = traded(execute(broker, books, [0.25, 0.75], [33.0, 7.0], bar=2))
        np.testing.assert_array_equal(fills.quantities, [-8.0, 41.0])
        np.testing.assert_array_equal(books.positions, [8.0, 112.0])
        assert books.cash == pytest.approx(23.0 + 264.0 - 287.0, abs=1e-9)

    def test_whole_shares_scaled_buys_round_down(self) -> None:
        broker = SimulatedBroker(initial_cash=1000.0, cost_bps=100.0, fractional_shares=False)
        books = broker.open_books(("A",))
        fills = traded(broker.execute(0, np.array([1.0]), np.array([10.0]), books, DecisionLog()))
        # 100 shares need 1010; scale 0.990099 -> 99.0099 -> 99 shares, 990 + 9.90 costs
        np.testing.assert_array_equal(fills.quantities, [99.0])
        assert books.cash == pytest.approx(1000.0 - 990.0 - 9.9)

    @settings(max_examples=80, deadline=None)
    @given(
        positions=hnp.arrays(np.float64, 4, elements=st.integers(0, 300).map(float)),
        cash=st.floats(0.0, 50_000.0),
        raw_targets=hnp.arrays(np.float64, 4, elements=st.floats(0.0, 1.0)),
        prices=hnp.arrays(np.float64, 4, elements=st.floats(0.5, 500.0)),
        cost_bps=st.sampled_from([0.0, 5.0, 50.0]),
        slippage_bps=st.sampled_from([0.0, 3.0, 30.0]),
    )
    def test_whole_shares_never_overshoot_and_keep_cash(
        self,
        positions: np.ndarray,
        cash: float,
        raw_targets: np.ndarray,
        prices: np.ndarray,
        cost_bps: float,
        slippage_bps: float,
    ) -> None:
        targets = raw_targets / max(1.0, raw_targets.sum())  # long only, at most fully invested
        broker = SimulatedBroker(cost_bps=cost_bps, slippage_bps=slippage_bps, fractional_shares=False)
        books = books_with(cash, list(positions), ("A", "B", "C", "D"))
        equity = books.equity(prices)
        if equity <= 0:
            return
        target_quantity = targets * equity / prices
        broker.execute(0, targets, prices, books, DecisionLog())
        new = books.positions
        np.testing.assert_array_equal(new, np.round(new))  # whole shares
        low = np.minimum(positions, target_quantity) - 1e-9
        high = np.maximum(positions, target_quantity) + 1e-9
        assert ((new >= low) & (new <= high)).all(), (positions, target_quantity, new)
        assert books.cash >= -1e-9 * equity

    @settings(max_examples=60, deadline=None)
    @given(
        positions=hnp.arrays(np.float64, 3, elements=st.integers(-200, 200).map(float)),
        targets=hnp.arrays(np.float64, 3, elements=st.floats(-0.6, 0.6)),
        prices=hnp.arrays(np.float64, 3, elements=st.floats(1.0, 300.0)),
    )
    def test_whole_shares_never_overshoot_long_short(
        self, positions: np.ndarray, targets: np.ndarray, prices: np.ndarray
    ) -> None:
        books = books_with(20_000.0, list(positions), ("A", "B", "C"))
        equity = books.equity(prices)
        target_quantity = targets * equity / prices
        SimulatedBroker(fractional_shares=False, cost_bps=5.0).execute(0, targets, prices, books, DecisionLog())
        new = books.positions
        np.testing.assert_array_equal(new, np.round(new))
        assert (new >= np.minimum(positions, target_quantity) - 1e-9).all()
        assert (new <= np.maximum(positions, target_quantity) + 1e-9).all()
        assert (np.abs(new - target_quantity) < np.maximum(1.0, np.abs(positions - target_quantity)) + 1e-9).all()

    def test_min_trade_value_skips_small_trades(self) -> None:
        # held 50 A and 25 B; at [10.4, 20] equity is 520 + 500 = 1020:
        # A -> 0.49 * 1020 / 10.4 = 48.06 (sell 1.94, notional 20.2), B -> 0.5 * 1020 / 20 = 25.5 (buy 0.5, notional 10)
        broker = SimulatedBroker(min_trade_value=15.0, cost_bps=10.0)
        books = books_with(0.0, [50.0, 25.0])
        fills = traded(execute(broker, books, [0.49, 0.5], [10.4, 20.0]))
        assert fills.assets.tolist() == [0]
        np.testing.assert_allclose(fills.quantities, [499.8 / 10.4 - 50.0])
        np.testing.assert_allclose(books.positions, [499.8 / 10.4, 25.0])
        assert books.cash == pytest.approx(20.2 - 0.0202)
        assert books.costs == pytest.approx(0.0202)
        everything = books_with(0.0, [50.0, 25.0])
        fills = traded(execute(SimulatedBroker(min_trade_value=5.0), everything, [0.49, 0.5], [10.4, 20.0]))
        assert fills.assets.tolist() == [0, 1]
        nothing = books_with(0.0, [50.0, 25.0])
        fills = traded(execute(SimulatedBroker(min_trade_value=25.0), nothing, [0.49, 0.5], [10.4, 20.0]))
        assert fills.assets.size == 0 and nothing.cash == 0.0

    def test_fill_prices(self) -> None:
        dates = np.datetime64("2024-01-01", "D") + np.arange(2)
        close = np.array([[10.0, 20.0], [11.0, 21.0]])
        opens = close - 0.5
        with_open = MarketData(dates, TICKERS, close, open=opens)
        close_only = MarketData(dates, TICKERS, close)
        np.testing.assert_array_equal(SimulatedBroker().fill_prices(with_open), opens)
        np.testing.assert_array_equal(SimulatedBroker(fill_price="open").fill_prices(with_open), opens)
        np.testing.assert_array_equal(SimulatedBroker().fill_prices(close_only), close)
        np.testing.assert_array_equal(SimulatedBroker(fill_price="close").fill_prices(with_open), close)
        with pytest.raises(ConfigError, match=r"^broker\.fill_price: 'open' needs opening prices"):
            SimulatedBroker(fill_price="open").fill_prices(close_only)

    def test_open_books(self) -> None:
        books = SimulatedBroker(initial_cash=5000.0).open_books(("A", "B", "C"))
        assert books.cash == 5000.0 and books.initial_cash == 5000.0 and books.costs == 0.0
        assert books.positions.tolist() == [0.0, 0.0, 0.0]
        assert books.tickers == ("A", "B", "C")

    @pytest.mark.parametrize(
        ("key", "value", "message"),
        [
            ("initial_cash", 0.0, "broker.initial_cash: must be a number > 0, got 0.0"),
            ("initial_cash", -10, "broker.initial_cash: must be a number > 0, got -10"),
            ("initial_cash", nan, "broker.initial_cash: must be a number > 0, got nan"),
            ("cost_bps", -1.0, "broker.cost_bps: must be a number >= 0, got -1.0"),
            ("cost_bps", "5", "broker.cost_bps: must be a number >= 0, got '5'"),
            ("cost_bps", None, "broker.cost_bps: must be a number >= 0, got None"),
            ("slippage_bps", nan, "broker.slippage_bps: must be a number >= 0, got nan"),
            ("slippage_bps", True, "broker.slippage_bps: must be a number >= 0, got True"),
            ("min_trade_value", -0.01, "broker.min_trade_value: must be a number >= 0, got -0.01"),
            ("fill_price", "vwap", "broker.fill_price: must be one of auto, open, close, got 'vwap'"),
        ],
    )
    def test_invalid_parameters(self, key: str, value: object, message: str) -> None:
        with pytest.raises(ConfigError) as info:
            SimulatedBroker(**{key: value})  # type: ignore[arg-type]
        assert str(info.value) == message

    @pytest.mark.parametrize("value", ["1000", None])
    def test_non_numeric_initial_cash(self, value: object) -> None:
        with pytest.raises(ConfigError, match=r"^broker\.initial_cash: "):
            SimulatedBroker(initial_cash=value)  # type: ignore[arg-type]

    def test_params_are_stored_unchanged(self) -> None:
        broker = SimulatedBroker(
            initial_cash=10, cost_bps=1, slippage_bps=2, fractional_shares=False, fill_price="close", min_trade_value=3
        )
        assert broker.get_params() == {
            "initial_cash": 10,
            "cost_bps": 1,
            "slippage_bps": 2,
            "fractional_shares": False,
            "fill_price": "close",
            "min_trade_value": 3,
            "costs": None,
            "max_participation": None,
            "gtc_max_age": 20,
        }
