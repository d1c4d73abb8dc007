import math

import empyrical
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.benchmark.metrics import (
    METRIC_NAMES,
    RELATIVE_METRIC_NAMES,
    compute_metrics,
    drawdown_curve,
    relative_metrics,
    segment_returns,
)
from framework.core.errors import ConfigError, DataError


def random_walk(days: int = 1000, seed: int = 7) -> np.ndarray:
    """Seeded random walk of daily returns, 0.04% drift and 1.2% volatility."""
    rng = np.random.default_rng(seed)
    return 100.0 * np.cumprod(1.0 + rng.normal(0.0004, 0.012, days))


def real_looking(days: int = 2000, seed: int = 11) -> np.ndarray:
    """Geometric Brownian motion with a calm regime, a 30% crash over 20 days and a volatile recovery."""
    rng = np.random.default_rng(seed)
    log_returns = rng.normal(0.08 / 252, 0.15 / math.sqrt(252), days)
    log_returns[900:920] += math.log(0.7) / 20
    log_returns[920:1300] = rng.normal(0.15 / 252, 0.35 / math.sqrt(252), 380)
    return 25_000.0 * np.exp(np.cumsum(log_returns))


def empyrical_metrics(equity: np.ndarray, start: int, stop: int, ppy: int, rf: float) -> dict[str, float]:
    """The metrics empyrical has, from empyrical's own returns of the segment."""
    base = max(start - 1, 0)
    returns = empyrical.simple_returns(equity[base:stop])
    rf_daily = (1.0 + rf) ** (1.0 / ppy) - 1.0
    return {
        "total_return": empyrical.cum_returns_final(returns),
        "cagr": empyrical.annual_return(returns, annualization=ppy),
        "volatility": empyrical.annual_volatility(returns, annualization=ppy),
        "sharpe": empyrical.sharpe_ratio(returns, risk_free=rf_daily, annualization=ppy),
        "sortino": empyrical.sortino_ratio(returns, required_return=rf_daily, annualization=ppy),
        "max_drawdown": empyrical.max_drawdown(returns),
        "calmar": empyrical.calmar_ratio(returns, annualization=ppy),
    }


HAND_EQUITY = np.array([100.0, 110.0, 99.0, 108.9, 119.79])  # returns +10%, -10%, +10%, +10%


class TestDrawdownCurve:
    def test_hand_worked(self) -> None:
        curve = drawdown_curve(np.array([100.0, 120.0, 90.0, 108.0, 130.0, 65.0]))
        np.testing.assert_allclose(curve, [0.0, 0.0, -0.25, -0.1, 0.0, -0.5], rtol=0, atol=1e-15)

    def test_matches_empyrical_drawdown_series(self) -> None:
        equity = random_walk()
        expected = empyrical.stats.drawdown_series(empyrical.simple_returns(equity))
        np.testing.assert_allclose(drawdown_curve(equity)[1:], expected, rtol=0, atol=1e-12)
        assert drawdown_curve(equity)[0] == 0.0

    def test_does_not_depend_on_scale(self) -> None:
        equity = random_walk(300, seed=3)
        np.testing.assert_allclose(drawdown_curve(equity), drawdown_curve(equity * 37.5), rtol=0, atol=1e-15)

    @pytest.mark.parametrize(
        ("equity", "match"),
        [
            (np.ones((3, 2)), r"equity: must be a 1-D array.*\(3, 2\)"),
            (np.array([]), "equity: must have at least one bar"),
            (np.array([100.0, 0.0, 90.0]), r"equity: must be finite and positive, got 0\.0 at bar 1"),
            (np.array([100.0, 90.0, np.nan]), "equity: must be finite and positive, got nan at bar 2"),
        ],
    )
    def test_invalid_equity_raises(self, equity: np.ndarray, match: str) -> None:
        with pytest.raises(DataError, match=match):
            drawdown_curve(equity)


class TestSegmentReturns:
    EQUITY = np.array([100.0, 110.0, 99.0, 108.9, 119.79, 119.79])

    def test_start_zero_skips_the_first_bar(self) -> None:
        returns = segment_returns(self.EQUITY, 0, 4)
        assert returns.shape == (3,)
        np.testing.assert_allclose(returns, [0.1, -0.1, 0.1], rtol=1e-13)

    def test_later_start_includes_the_return_into_its_first_bar(self) -> None:
        returns = segment_returns(self.EQUITY, 2, 6)
        assert returns.shape == (4,)
        np.testing.assert_allclose(returns, [-0.1, 0.1, 0.1, 0.0], rtol=1e-13, atol=1e-15)

    def test_consecutive_segments_partition_the_run(self) -> None:
        equity = random_walk(500, seed=5)
        pieces = [segment_returns(equity, a, b) for a, b in ((0, 200), (200, 350), (350, 500))]
        assert [piece.size for piece in pieces] == [199, 150, 150]
        np.testing.assert_array_equal(np.concatenate(pieces), segment_returns(equity, 0, 500))
        np.testing.assert_allclose(np.concatenate(pieces), empyrical.simple_returns(equity), rtol=1e-12)

    def test_bars_outside_the_segment_are_not_read(self) -> None:
        equity = self.EQUITY.copy()
        equity[0] = np.nan  # before the base bar 1 of segment 2..5
        equity[5] = -1.0  # after the segment
        np.testing.assert_allclose(segment_returns(equity, 2, 5), [-0.1, 0.1, 0.1], rtol=1e-13)

    @pytest.mark.parametrize(
        ("start", "stop", "error", "match"),
        [
            (-1, 3, ConfigError, r"start: .*got start=-1, stop=3"),
            (4, 4, ConfigError, r"start: .*got start=4, stop=4"),
            (2, 7, ConfigError, r"stop: .*len\(equity\) = 6, got start=2, stop=7"),
            (0, 1, ConfigError, r"stop: the segment start=0, stop=1 has 0 return"),
            (1.0, 3, ConfigError, r"start: must be an integer bar index, got 1\.0"),
            (0, "3", ConfigError, "stop: must be an integer bar index, got '3'"),
        ],
    )
    def test_invalid_bounds_raise(self, start: int, stop: int, error: type, match: str) -> None:
        with pytest.raises(error, match=match):
            segment_returns(self.EQUITY, start, stop)

    def test_numpy_integer_bounds_are_accepted(self) -> None:
        assert segment_returns(self.EQUITY, np.int64(1), np.int32(3)).shape == (2,)

    def test_non_positive_equity_in_segment_raises(self) -> None:
        equity = self.EQUITY.copy()
        equity[1] = -5.0
        with pytest.raises(DataError, match=r"equity: must be finite and positive, got -5\.0 at bar 1"):
            segment_returns(equity, 2, 4)  # bar 1 is the base of the return into bar 2


class TestComputeMetrics:
    EMPYRICAL_NAMES = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar")

    @pytest.mark.parametrize("rf", [0.0, 0.03, -0.005])
    @pytest.mark.parametrize("ppy", [252, 52])
    @pytest.mark.parametrize(
        ("series", "start", "stop"),
        [
            ("walk", 0, 1000),
            ("walk", 250, 750),
            ("walk", 999 - 2, 1000),
            ("real", 0, 1200),
            ("real", 1200, 1600),
            ("real", 1600, 2000),
            ("real", 850, 1000),
        ],
    )
    def test_matches_empyrical(self, series: str, start: int, stop: int, ppy: int, rf: float) -> None:
        equity = random_walk() if series == "walk" else real_looking()
        metrics = compute_metrics(equity, start, stop, periods_per_year=ppy, risk_free_rate=rf)
        expected = empyrical_metrics(equity, start, stop, ppy, rf)
        for name in self.EMPYRICAL_NAMES:
            assert math.isfinite(expected[name]), name
            assert metrics[name] == pytest.approx(expected[name], rel=1e-10, abs=0), name

    def test_hand_worked_return_metrics(self) -> None:
        # r = [.1, -.1, .1, .1]: mean .05, sample std .1, downside deviation sqrt(.01 / 4) = .05.
        metrics = compute_metrics(HAND_EQUITY, 0, 5, periods_per_year=4)
        assert metrics["total_return"] == pytest.approx(0.1979, rel=1e-12)
        assert metrics["cagr"] == pytest.approx(0.1979, rel=1e-12)  # exactly one year of 4 periods
        assert metrics["volatility"] == pytest.approx(0.1 * 2, rel=1e-12)
        assert metrics["sharpe"] == pytest.approx(0.05 / 0.1 * 2, rel=1e-12)
        assert metrics["sortino"] == pytest.approx(0.05 * 4 / (0.05 * 2), rel=1e-12)
        assert metrics["max_drawdown"] == pytest.approx(-0.1, rel=1e-12)
        assert metrics["calmar"] == pytest.approx(0.1979 / 0.1, rel=1e-12)
        assert metrics["hit_rate"] == 0.75

    def test_cagr_annualizes_by_periods_per_year(self) -> None:
        # Two returns of +10% with 4 periods a year are half a year: 1.21 ** 2 - 1.
        metrics = compute_metrics(np.array([100.0, 110.0, 121.0]), 0, 3, periods_per_year=4)
        assert metrics["cagr"] == pytest.approx(1.21**2 - 1, rel=1e-12)

    def test_cagr_overflow_gives_inf_as_empyrical(self) -> None:
        equity = np.array([1.0, 0.9, 280.0])  # x280 in two days, annualized over 252 days
        metrics = compute_metrics(equity, 0, 3)
        with np.errstate(over="ignore"):
            expected_cagr = empyrical.annual_return(empyrical.simple_returns(equity))
            expected_calmar = empyrical.calmar_ratio(empyrical.simple_returns(equity))
        assert metrics["cagr"] == expected_cagr == math.inf
        assert math.isnan(metrics["calmar"])
        assert math.isnan(expected_calmar)

    def test_risk_free_rate_is_compounded_to_a_daily_rate(self) -> None:
        equity = random_walk(400, seed=9)
        returns = np.diff(equity) / equity[:-1]
        rf_daily = 1.05 ** (1 / 252) - 1
        excess = returns - rf_daily
        metrics = compute_metrics(equity, 0, 400, risk_free_rate=0.05)
        assert metrics["sharpe"] == pytest.approx(excess.mean() / excess.std(ddof=1) * math.sqrt(252), rel=1e-10)
        downside = math.sqrt(np.mean(np.minimum(excess, 0) ** 2) * 252)
        assert metrics["sortino"] == pytest.approx(excess.mean() * 252 / downside, rel=1e-10)
        assert metrics["sharpe"] < compute_metrics(equity, 0, 400)["sharpe"]

    def test_turnover_hand_worked(self) -> None:
        equity = np.array([50.0, 110.0, 90.0, 100.0])
        traded = np.array([100.0, 0.0, 45.0, 10.0])
        # Bars 1..3: 55 traded over a mean equity of 100 (bar 0, the base of the first return, is not in it).
        segment = compute_metrics(equity, 1, 4, traded_value=traded)
        assert segment["turnover"] == pytest.approx(55 / 100 * 252 / 3, rel=1e-12)
        # The whole run counts bar 0's trades and equity although bar 0 has no return.
        whole = compute_metrics(equity, 0, 4, traded_value=traded, periods_per_year=12)
        assert whole["turnover"] == pytest.approx(155 / 87.5 * 12 / 4, rel=1e-12)

    def test_exposure_hand_worked(self) -> None:
        exposure = np.array([0.5, 1.0, 1.5, 0.0, 2.0])
        metrics = compute_metrics(HAND_EQUITY, 1, 4, gross_exposure=exposure)
        assert metrics["exposure"] == pytest.approx((1.0 + 1.5 + 0.0) / 3, rel=1e-12)

    def test_n_trades_hand_worked(self) -> None:
        counts = np.array([3, 0, 2, 5, 1])
        assert compute_metrics(HAND_EQUITY, 2, 5, trade_counts=counts)["n_trades"] == 8.0
        assert compute_metrics(HAND_EQUITY, 0, 5, trade_counts=counts)["n_trades"] == 11.0

    def test_hit_rate_hand_worked(self) -> None:
        equity = np.array([100.0, 101.0, 101.0, 100.0, 102.0, 102.0, 103.0])  # returns +, 0, -, +, 0, +
        assert compute_metrics(equity, 0, 7)["hit_rate"] == 0.75
        assert compute_metrics(equity, 2, 5)["hit_rate"] == 0.5  # returns into bars 2, 3, 4: 0, -, +
        assert compute_metrics(equity, 3, 6)["hit_rate"] == 0.5  # returns into bars 3, 4, 5: -, +, 0
        assert compute_metrics(equity, 4, 7)["hit_rate"] == 1.0  # returns into bars 4, 5, 6: +, 0, +

    def test_missing_optional_arrays_give_nan(self) -> None:
        metrics = compute_metrics(HAND_EQUITY, 0, 5)
        for name in ("turnover", "exposure", "n_trades"):
            assert math.isnan(metrics[name]), name
        assert not math.isnan(metrics["sharpe"])

    def test_returns_every_metric_as_a_float_in_order(self) -> None:
        days = HAND_EQUITY.size
        metrics = compute_metrics(
            HAND_EQUITY,
            0,
            days,
            traded_value=np.full(days, 10.0),
            gross_exposure=np.ones(days),
            trade_counts=np.ones(days, dtype=int),
        )
        assert tuple(metrics) == METRIC_NAMES
        assert all(type(value) is float for value in metrics.values())
        assert all(math.isfinite(value) for value in metrics.values())

    def test_segment_ignores_bars_outside_it(self) -> None:
        equity = random_walk(600, seed=2)
        changed = equity.copy()
        changed[:299] *= 3.0  # bar 299 is the base of the return into bar 300
        changed[500:] = 1.0
        assert compute_metrics(equity, 300, 500) == compute_metrics(changed, 300, 500)

    def test_inputs_are_not_modified(self) -> None:
        equity = random_walk(50, seed=4)
        traded = np.linspace(0, 5, 50)
        before = (equity.copy(), traded.copy())
        compute_metrics(equity, 10, 40, traded_value=traded)
        np.testing.assert_array_equal(equity, before[0])
        np.testing.assert_array_equal(traded, before[1])

    def test_flat_equity(self) -> None:
        metrics = compute_metrics(np.full(30, 1000.0), 0, 30)
        assert metrics["total_return"] == 0.0
        assert metrics["cagr"] == 0.0
        assert metrics["volatility"] == 0.0
        assert metrics["max_drawdown"] == 0.0
        for name in ("sharpe", "sortino", "calmar", "hit_rate"):
            assert math.isnan(metrics[name]), name
        assert math.isnan(empyrical.sharpe_ratio(np.zeros(29)))  # empyrical agrees here

    def test_flat_equity_with_risk_free_rate(self) -> None:
        # Every excess return is -rf_daily: empyrical's Sharpe is -inf, ours NaN; the Sortino ratio is finite.
        metrics = compute_metrics(np.full(30, 1000.0), 0, 30, risk_free_rate=0.04)
        rf_daily = 1.04 ** (1 / 252) - 1
        assert math.isnan(metrics["sharpe"])
        assert empyrical.sharpe_ratio(np.zeros(29), risk_free=rf_daily) == -math.inf
        assert metrics["sortino"] == pytest.approx(-math.sqrt(252), rel=1e-10)
        assert metrics["sortino"] == pytest.approx(
            empyrical.sortino_ratio(np.zeros(29), required_return=rf_daily), rel=1e-10
        )

    def test_no_downside_gives_nan_sortino_where_empyrical_gives_inf(self) -> None:
        equity = np.array([100.0, 101.0, 103.0, 103.5, 106.0])
        metrics = compute_metrics(equity, 0, 5)
        assert math.isnan(metrics["sortino"])
        assert empyrical.sortino_ratio(empyrical.simple_returns(equity)) == math.inf
        assert math.isnan(metrics["calmar"])  # no drawdown
        assert math.isnan(empyrical.calmar_ratio(empyrical.simple_returns(equity)))
        assert metrics["sharpe"] == pytest.approx(empyrical.sharpe_ratio(empyrical.simple_returns(equity)))

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"equity": ["a", "b", "c"]}, DataError, "equity: must be an array of numbers, got list"),
            ({"traded_value": ["x"] * 5}, DataError, "traded_value: must be an array of numbers"),
            ({"equity": np.ones((5, 1))}, DataError, r"equity: must be a 1-D array.*\(5, 1\)"),
            ({"equity": np.array([1.0, 2.0, 0.0, 3.0, 4.0])}, DataError, "equity: .*got 0.0 at bar 2"),
            ({"equity": np.array([1.0, 2.0, np.inf, 3.0, 4.0])}, DataError, "equity: .*got inf at bar 2"),
            ({"start": -2}, ConfigError, "start: .*got start=-2"),
            ({"stop": 6}, ConfigError, r"stop: .*len\(equity\) = 5, got start=0, stop=6"),
            ({"start": 3, "stop": 2}, ConfigError, "start: .*got start=3, stop=2"),
            ({"stop": 2}, ConfigError, r"stop: the segment start=0, stop=2 has 1 return.*stop >= 3"),
            ({"start": 4}, ConfigError, r"stop: the segment start=4, stop=5 has 1 return.*stop >= 6"),
            ({"periods_per_year": 0}, ConfigError, "periods_per_year: must be a positive integer, got 0"),
            ({"periods_per_year": 252.0}, ConfigError, "periods_per_year: .*got 252.0"),
            ({"risk_free_rate": -1.0}, ConfigError, "risk_free_rate: .*above -1, got -1.0"),
            ({"risk_free_rate": math.nan}, ConfigError, "risk_free_rate: .*got nan"),
            (
                {"traded_value": np.ones(4)},
                DataError,
                r"traded_value: must have shape \(5,\).*got shape \(4,\)",
            ),
            (
                {"gross_exposure": np.array([0, 1, -1, 1, 1])},
                DataError,
                "gross_exposure: .*got -1.0 at bar 2",
            ),
            ({"trade_counts": np.array([0, 1, 1, np.nan, 1])}, DataError, "trade_counts: .*got nan at bar 3"),
        ],
    )
    def test_invalid_inputs_raise_naming_the_argument(self, kwargs: dict, error: type, match: str) -> None:
        arguments = {"equity": HAND_EQUITY, "start": 0, "stop": 5} | kwargs
        equity, start, stop = arguments.pop("equity"), arguments.pop("start"), arguments.pop("stop")
        with pytest.raises(error, match=match):
            compute_metrics(equity, start, stop, **arguments)

    def test_invalid_optional_values_outside_the_segment_are_ignored(self) -> None:
        counts = np.array([np.nan, 1.0, 2.0, 3.0, -1.0])
        assert compute_metrics(HAND_EQUITY, 1, 4, trade_counts=counts)["n_trades"] == 6.0

    @settings(max_examples=200, deadline=None)
    @given(
        values=st.lists(st.floats(min_value=1e-2, max_value=1e4), min_size=3, max_size=80),
        data=st.data(),
    )
    def test_property_drawdown_bounds_and_total_return(self, values: list[float], data: st.DataObject) -> None:
        equity = np.array(values)
        start = data.draw(st.integers(0, equity.size - 2), label="start")
        stop = data.draw(st.integers(3 if start == 0 else start + 2, equity.size), label="stop")
        base = max(start - 1, 0)
        metrics = compute_metrics(equity, start, stop)
        assert -1.0 <= metrics["max_drawdown"] <= 0.0
        # Worst fall from any earlier peak of the segment (the base bar included), by brute force.
        worst = min(values[j] / max(values[base : j + 1]) - 1.0 for j in range(base, stop))
        assert metrics["max_drawdown"] == pytest.approx(worst, rel=1e-12, abs=1e-15)
        assert metrics["total_return"] == pytest.approx(values[stop - 1] / values[base] - 1.0, rel=1e-12, abs=1e-15)
        growth = np.prod(1.0 + segment_returns(equity, start, stop))  # the definition, up to rounding
        assert 1.0 + metrics["total_return"] == pytest.approx(growth, rel=1e-6)
        assert metrics["volatility"] >= 0.0
        assert metrics["cagr"] >= -1.0  # -1 once a tiny growth underflows when annualized
        assert math.isnan(metrics["hit_rate"]) or 0.0 <= metrics["hit_rate"] <= 1.0


def tracking_strategy(index: np.ndarray, beta: float = 0.7, seed: int = 13) -> np.ndarray:
    """Equity of a strategy with returns ``0.02% + beta * index return + 0.6% noise``, correlated with the index."""
    rng = np.random.default_rng(seed)
    index_returns = index[1:] / index[:-1] - 1.0
    returns = 0.0002 + beta * index_returns + rng.normal(0.0, 0.006, index_returns.size)
    return 1000.0 * np.cumprod(np.concatenate([[1.0], 1.0 + returns]))


HAND_INDEX = np.array([100.0, 105.0, 99.75, 99.75, 109.725])  # returns +5%, -5%, 0%, +10%


class TestRelativeMetrics:
    @pytest.mark.parametrize("rf", [0.0, 0.03, -0.005])
    @pytest.mark.parametrize("ppy", [252, 52])
    @pytest.mark.parametrize(("start", "stop"), [(0, 2000), (0, 900), (900, 1300), (1300, 2000), (1998, 2000)])
    def test_matches_empyrical(self, start: int, stop: int, ppy: int, rf: float) -> None:
        index = real_looking()
        equity = tracking_strategy(index)
        metrics = relative_metrics(equity, index, start, stop, periods_per_year=ppy, risk_free_rate=rf)
        base = max(start - 1, 0)
        returns = empyrical.simple_returns(equity[base:stop])
        index_returns = empyrical.simple_returns(index[base:stop])
        rf_daily = (1.0 + rf) ** (1.0 / ppy) - 1.0
        alpha, beta = empyrical.alpha_beta(returns, index_returns, risk_free=rf_daily, annualization=ppy)
        assert metrics["beta"] == pytest.approx(beta, rel=1e-10)
        assert metrics["alpha"] == pytest.approx(alpha, rel=1e-8, abs=1e-13)
        active = returns - index_returns
        assert metrics["tracking_error"] == pytest.approx(
            empyrical.annual_volatility(active, annualization=ppy), rel=1e-10
        )
        assert metrics["information_ratio"] == pytest.approx(
            empyrical.excess_sharpe(returns, index_returns) * math.sqrt(ppy), rel=1e-10
        )

    def test_beta_of_a_long_segment_is_the_one_built_in(self) -> None:
        index = real_looking()
        metrics = relative_metrics(tracking_strategy(index, beta=0.7), index, 0, 2000)
        assert metrics["beta"] == pytest.approx(0.7, abs=0.03)

    def test_hand_worked(self) -> None:
        # r = [.1, -.1, .1, .1], b = [.05, -.05, 0, .1]: cov(r, b) = .00375, var(b) = .003125 (population),
        # beta 1.2; mean(r - 1.2 b) = .05 - .03 = .02 a quarter; a = r - b = [.05, -.05, .1, 0], mean .025,
        # std(ddof=1) = sqrt(.0125 / 3).
        metrics = relative_metrics(HAND_EQUITY, HAND_INDEX, 0, 5, periods_per_year=4)
        assert metrics["beta"] == pytest.approx(1.2, rel=1e-12)
        assert metrics["alpha"] == pytest.approx(1.02**4 - 1, rel=1e-12)
        assert metrics["tracking_error"] == pytest.approx(math.sqrt(0.0125 / 3) * 2, rel=1e-12)
        assert metrics["information_ratio"] == pytest.approx(0.025 * 4 / (math.sqrt(0.0125 / 3) * 2), rel=1e-12)

    def test_the_index_against_itself(self) -> None:
        index = real_looking()
        metrics = relative_metrics(index, index, 100, 600, risk_free_rate=0.02)
        assert metrics["beta"] == pytest.approx(1.0, rel=1e-12)
        assert metrics["alpha"] == pytest.approx(0.0, abs=1e-14)
        assert metrics["tracking_error"] == 0.0
        assert math.isnan(metrics["information_ratio"])

    def test_levered_index_earns_the_risk_free_rate_as_alpha(self) -> None:
        # r = 2 b: r - rf = rf + 2 (b - rf), so beta 2 and a daily alpha of rf_daily, compounded back to rf.
        index = real_looking()
        index_returns = index[1:] / index[:-1] - 1.0
        levered = np.cumprod(np.concatenate([[1.0], 1.0 + 2.0 * index_returns]))
        metrics = relative_metrics(levered, index, 0, 1500, risk_free_rate=0.04)
        assert metrics["beta"] == pytest.approx(2.0, rel=1e-10)
        assert metrics["alpha"] == pytest.approx(0.04, rel=1e-8)
        volatility = compute_metrics(index, 0, 1500)["volatility"]
        assert metrics["tracking_error"] == pytest.approx(volatility, rel=1e-10)  # a = b
        index_sharpe = compute_metrics(index, 0, 1500)["sharpe"]  # mean(b) / std(b) * sqrt(ppy)
        assert metrics["information_ratio"] == pytest.approx(index_sharpe, rel=1e-10)

    def test_against_cash_the_information_ratio_is_the_sharpe_ratio(self) -> None:
        # A flat benchmark (cash earning 0) has no beta; the active returns are the returns.
        equity = random_walk(500, seed=8)
        metrics = relative_metrics(equity, np.full(500, 1.0), 0, 500)
        assert math.isnan(metrics["beta"])
        assert math.isnan(metrics["alpha"])
        plain = compute_metrics(equity, 0, 500)
        assert metrics["tracking_error"] == pytest.approx(plain["volatility"], rel=1e-12)
        assert metrics["information_ratio"] == pytest.approx(plain["sharpe"], rel=1e-12)

    def test_segment_ignores_bars_outside_it(self) -> None:
        index = real_looking()
        equity = tracking_strategy(index)
        expected = relative_metrics(equity, index, 300, 500)
        changed_index = index.copy()
        changed_index[:299] = np.nan  # bar 299 is the base of the return into bar 300
        changed_index[500:] = -1.0
        assert relative_metrics(equity, changed_index, 300, 500) == expected

    def test_returns_every_metric_as_a_float_in_order(self) -> None:
        metrics = relative_metrics(HAND_EQUITY, HAND_INDEX, 1, 5)
        assert tuple(metrics) == RELATIVE_METRIC_NAMES
        assert all(type(value) is float for value in metrics.values())

    def test_new_names_do_not_collide_with_the_segment_metrics(self) -> None:
        assert not set(RELATIVE_METRIC_NAMES) & set(METRIC_NAMES)

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"benchmark_equity": np.ones(4)}, DataError, r"benchmark_equity: must have shape \(5,\) like equity"),
            ({"benchmark_equity": ["a"] * 5}, DataError, "benchmark_equity: must be an array of numbers"),
            (
                {"benchmark_equity": np.array([1.0, 2.0, 0.0, 3.0, 4.0])},
                DataError,
                "benchmark_equity: must be finite and positive, got 0.0 at bar 2",
            ),
            ({"equity": np.array([1.0, -2.0, 1.0, 3.0, 4.0])}, DataError, "equity: .*got -2.0 at bar 1"),
            ({"stop": 2}, ConfigError, "stop: the segment start=0, stop=2 has 1 return"),
            ({"start": 5}, ConfigError, "start: .*got start=5, stop=5"),
            ({"periods_per_year": 0}, ConfigError, "periods_per_year: must be a positive integer, got 0"),
            ({"periods_per_year": 12.0}, ConfigError, "periods_per_year: .*got 12.0"),
            ({"risk_free_rate": -1.5}, ConfigError, "risk_free_rate: .*above -1, got -1.5"),
            ({"risk_free_rate": True}, ConfigError, "risk_free_rate: .*got True"),
        ],
    )
    def test_invalid_inputs_raise_naming_the_argument(self, kwargs: dict, error: type, match: str) -> None:
        arguments = {"equity": HAND_EQUITY, "benchmark_equity": HAND_INDEX, "start": 0, "stop": 5} | kwargs
        equity, benchmark = arguments.pop("equity"), arguments.pop("benchmark_equity")
        start, stop = arguments.pop("start"), arguments.pop("stop")
        with pytest.raises(error, match=match):
            relative_metrics(equity, benchmark, start, stop, **arguments)
