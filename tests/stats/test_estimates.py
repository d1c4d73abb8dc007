"""The shared rolling estimate: running sums against the direct estimate on the window, whatever the bar order."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.data import SP500Loader
from framework.stats.covariance import covariance, ewma_weights
from framework.stats.estimates import Estimates, RollingEstimate

#: (method, halflife) of every estimator.
SETTINGS = [("sample", None), ("ledoit_wolf", None), ("ewma", 5.0), ("ewma", 40.0)]
SETTING_IDS = ["sample", "ledoit_wolf", "ewma5", "ewma40"]


def random_returns(days: int, assets: int, seed: int) -> np.ndarray:
    """Returns with a common factor, different volatilities and means; row 0 is 0 as in ``MarketData.returns``."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(0.0004, 0.01, (days, 1))
    out = factor * rng.uniform(0.3, 1.5, assets) + rng.normal(0.0002, 0.01, (days, assets)) * rng.uniform(1, 3, assets)
    out[0] = 0.0
    return out


def direct(estimate: RollingEstimate, t: int) -> np.ndarray:
    return covariance(estimate.window(t), estimate.method, estimate.halflife)


def assert_close_to_direct(estimate: RollingEstimate, t: int, rtol: float = 1e-12) -> None:
    want = direct(estimate, t)
    got = estimate.covariance(t)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * float(np.abs(want).max()), err_msg=f"bar {t}")


def jumps(days: int, lookback: int) -> list[int]:
    """Forward by 1, jumps shorter and longer than the lookback, the same bar twice, and going back."""
    bars = list(range(2, 3 * lookback))  # forward by one, through the end of the first full window
    bars += [bars[-1] + 3, bars[-1] + 3, bars[-1] + lookback - 1, bars[-1] + lookback + 5]  # short jumps, twice
    t = bars[-1] + lookback  # a jump of exactly the lookback
    bars += [t, t + 2 * lookback, t - 1, t - lookback, t - 3 * lookback, 2, 3, t + 2 * lookback + 1]
    return [b for b in bars if b < days]


class TestRollingEstimate:
    @pytest.mark.parametrize(("method", "halflife"), SETTINGS, ids=SETTING_IDS)
    def test_every_access_pattern_equals_the_direct_estimate(self, method: str, halflife: float | None) -> None:
        returns = random_returns(400, 5, seed=1)
        estimate = RollingEstimate(returns, 30, method, halflife)
        for t in jumps(400, 30):
            assert_close_to_direct(estimate, t)

    @pytest.mark.parametrize(("method", "halflife"), SETTINGS, ids=SETTING_IDS)
    def test_long_forward_run_through_several_refreshes(self, method: str, halflife: float | None) -> None:
        lookback = 10
        returns = random_returns(600, 4, seed=2) * 50.0  # large returns make rounding in the sums visible
        returns[300:] /= 50.0  # then a calm period: errors of the loud one must not linger
        estimate = RollingEstimate(returns, lookback, method, halflife)
        assert 598 > 10 * RollingEstimate.REFRESH_FACTOR * lookback
        for t in range(2, 600):
            assert_close_to_direct(estimate, t)

    @pytest.mark.parametrize(("method", "halflife"), SETTINGS, ids=SETTING_IDS)
    def test_real_data_forward_by_one(self, method: str, halflife: float | None) -> None:
        returns = SP500Loader(end="1995-12-31").load().returns()
        estimate = RollingEstimate(returns, 63, method, halflife)
        for t in range(2, returns.shape[0]):
            assert_close_to_direct(estimate, t, rtol=1e-11)

    @settings(max_examples=25, deadline=None)
    @given(
        setting=st.sampled_from(SETTINGS),
        lookback=st.integers(2, 12),
        bars=st.lists(st.integers(2, 79), min_size=1, max_size=40),
        seed=st.integers(0, 1000),
    )
    def test_random_access_sequences(
        self, setting: tuple[str, float | None], lookback: int, bars: list[int], seed: int
    ) -> None:
        method, halflife = setting
        estimate = RollingEstimate(random_returns(80, 3, seed), lookback, method, halflife)
        for t in bars:
            assert_close_to_direct(estimate, t, rtol=1e-11)

    def test_window_by_hand(self) -> None:
        estimate = RollingEstimate(np.arange(20.0).reshape(10, 2), lookback=3)
        assert [estimate.n_observations(t) for t in range(6)] == [0, 1, 2, 3, 3, 3]
        assert estimate.bounds(1) == (1, 2) and estimate.bounds(2) == (1, 3) and estimate.bounds(7) == (5, 8)
        np.testing.assert_array_equal(estimate.window(7), [[10, 11], [12, 13], [14, 15]])
        assert estimate.window(0).shape == (0, 2)  # bar 0 has no return

    def test_docstring_example_by_hand(self) -> None:
        returns = np.array([[0.0, 0.0], [0.01, 0.02], [0.03, 0.0], [-0.01, 0.01]])
        estimate = RollingEstimate(returns, lookback=3)
        np.testing.assert_allclose(estimate.covariance(3), [[0.0004, -0.0001], [-0.0001, 0.0001]], rtol=1e-12)
        # portfolio returns (.015, .015, 0): mean .01, deviations (.005, .005, -.01), variance .00015 / 2
        assert estimate.portfolio_variance(3, np.array([0.5, 0.5])) == pytest.approx(7.5e-05, rel=1e-12)

    def test_fewer_than_two_returns(self) -> None:
        estimate = RollingEstimate(random_returns(10, 2, seed=0), lookback=5)
        for t in (0, 1):
            with pytest.raises(ValueError, match=f"covariance at bar {t}: {t} return"):
                estimate.covariance(t)
            assert np.isnan(estimate.volatility(t)).all()
        assert np.isfinite(estimate.volatility(2)).all()

    def test_observation_weights(self) -> None:
        returns = random_returns(50, 2, seed=0)
        assert RollingEstimate(returns, 20).observation_weights(30) is None
        np.testing.assert_array_equal(
            RollingEstimate(returns, 20, "ewma", 4.0).observation_weights(30), ewma_weights(20, 4)
        )
        np.testing.assert_array_equal(
            RollingEstimate(returns, 20, "ewma", 4.0).observation_weights(7), ewma_weights(7, 4)
        )

    def test_covariance_is_read_only_and_symmetric(self) -> None:
        estimate = RollingEstimate(random_returns(100, 4, seed=0), 20, "ewma", 3.0)
        for t in range(2, 100):
            cov = estimate.covariance(t)
            np.testing.assert_array_equal(cov, cov.T)
        with pytest.raises(ValueError, match="read-only"):
            cov[0, 0] = 1.0

    @pytest.mark.parametrize(("method", "halflife"), [("ewma", None), ("shrunk", None), ("sample", 0.0)])
    def test_invalid_settings(self, method: str, halflife: float | None) -> None:
        with pytest.raises(ConfigError, match=r"^estimate\.(covariance|halflife): "):
            RollingEstimate(np.zeros((5, 2)), 3, method, halflife)


class TestRiskOfAPortfolio:
    @pytest.mark.parametrize(("method", "halflife"), SETTINGS, ids=SETTING_IDS)
    def test_volatility_is_the_square_root_of_the_diagonal(self, method: str, halflife: float | None) -> None:
        returns = random_returns(300, 6, seed=3)
        estimate = RollingEstimate(returns, 40, method, halflife)
        for t in range(2, 300, 7):
            want = np.sqrt(np.diag(direct(estimate, t)))
            np.testing.assert_allclose(estimate.volatility(t), want, rtol=1e-10, err_msg=f"bar {t}")

    @pytest.mark.parametrize(("method", "halflife"), SETTINGS, ids=SETTING_IDS)
    def test_portfolio_and_marginal_variance_are_w_s_w_and_s_w(self, method: str, halflife: float | None) -> None:
        returns = random_returns(300, 6, seed=4)
        estimate = RollingEstimate(returns, 40, method, halflife)
        rng = np.random.default_rng(0)
        for t in [2, 3, 17, 40, 41, 150, 299]:
            weights = rng.normal(0.1, 0.3, 6)  # long and short
            weights[rng.integers(6)] = 0.0
            cov = direct(estimate, t)
            assert estimate.portfolio_variance(t, weights) == pytest.approx(float(weights @ cov @ weights), rel=1e-11)
            np.testing.assert_allclose(estimate.marginal_variance(t, weights), cov @ weights, rtol=1e-10, atol=1e-18)
            given_returns = estimate.portfolio_returns(t, weights)
            np.testing.assert_allclose(given_returns, estimate.window(t) @ weights, rtol=1e-15)
            assert estimate.portfolio_variance(t, weights, given_returns) == estimate.portfolio_variance(t, weights)
            np.testing.assert_array_equal(
                estimate.marginal_variance(t, weights, given_returns), estimate.marginal_variance(t, weights)
            )

    @pytest.mark.filterwarnings("ignore::RuntimeWarning")
    @pytest.mark.parametrize(("method", "halflife"), [("sample", None), ("ewma", 5.0)], ids=["sample", "ewma5"])
    @pytest.mark.parametrize("t", [0, 1])
    def test_portfolio_risk_with_fewer_than_two_returns_is_refused_like_the_covariance(
        self, method: str, halflife: float | None, t: int
    ) -> None:
        estimate = RollingEstimate(random_returns(10, 2, seed=0), 5, method, halflife)
        weights = np.array([0.5, 0.5])
        with pytest.raises(ValueError, match="at least 2 needed"):
            estimate.portfolio_variance(t, weights)
        with pytest.raises(ValueError, match="at least 2 needed"):
            estimate.marginal_variance(t, weights)

    @pytest.mark.parametrize("t", [0, 1])
    def test_ledoit_wolf_portfolio_risk_with_fewer_than_two_returns_is_refused(self, t: int) -> None:
        estimate = RollingEstimate(random_returns(10, 2, seed=0), 5, "ledoit_wolf")
        with pytest.raises(ValueError, match=f"covariance at bar {t}: {t} return"):
            estimate.portfolio_variance(t, np.array([0.5, 0.5]))
        with pytest.raises(ValueError, match=f"covariance at bar {t}: {t} return"):
            estimate.marginal_variance(t, np.array([0.5, 0.5]))

    def test_correlation_of_the_estimate(self) -> None:
        returns = random_returns(100, 4, seed=5)
        estimate = RollingEstimate(returns, 30)
        np.testing.assert_allclose(estimate.correlation(80), np.corrcoef(returns[51:81], rowvar=False), rtol=1e-12)


def flat_returns(seed: int) -> np.ndarray:
    """Three assets: C's price stops moving at bar 60; B earns the same return from bar 100 on."""
    returns = random_returns(200, 3, seed)
    returns[60:, 2] = 0.0
    returns[100:, 1] = 0.002
    return returns


class TestFlatWindows:
    def test_sample_volatility_is_exactly_zero(self) -> None:
        estimate = RollingEstimate(flat_returns(0), 20)
        for t in range(2, 200):
            vol = estimate.volatility(t)
            assert (vol[2] == 0.0) == (t >= 79), t  # the window of bar 79 is bars 60..79
            assert (vol[1] == 0.0) == (t >= 119), t
            assert vol[0] > 0.0

    def test_ewma_volatility_of_a_constant_price_is_exactly_zero(self) -> None:
        estimate = RollingEstimate(flat_returns(0), 20, "ewma", 5.0)
        for t in range(79, 200):
            assert estimate.volatility(t)[2] == 0.0
            if t >= 119:
                assert estimate.volatility(t)[1] == pytest.approx(0.002, rel=1e-12)  # zero mean: |constant return|

    @pytest.mark.parametrize(("method", "halflife"), [("sample", None), ("ewma", 5.0)])
    @pytest.mark.parametrize("seed", range(6))
    def test_covariance_of_a_constant_price_is_exactly_zero_after_running_updates(
        self, method: str, halflife: float | None, seed: int
    ) -> None:
        # The direct estimate is exactly 0; so must the running sums be, or a risk budget finds a tiny variance.
        estimate = RollingEstimate(flat_returns(seed), 10, method, halflife)
        for t in range(2, 200):
            cov = estimate.covariance(t)
            assert_close_to_direct(estimate, t)  # B's constant return from bar 100 has an ewma variance
            if t >= 69:
                np.testing.assert_array_equal(cov[2], 0.0, err_msg=f"bar {t}")
                np.testing.assert_array_equal(cov[:, 2], 0.0, err_msg=f"bar {t}")
            if method == "sample" and t >= 109:
                np.testing.assert_array_equal(cov[1], 0.0, err_msg=f"bar {t}")

    def test_ledoit_wolf_of_a_flat_asset_is_the_shrinkage_target(self) -> None:
        returns = flat_returns(1)
        estimate = RollingEstimate(returns, 10, "ledoit_wolf")
        for t in range(2, 200):
            cov = estimate.covariance(t)
            if t >= 69:
                want = direct(estimate, t)
                assert cov[2, 2] == pytest.approx(want[2, 2], rel=1e-12)
                np.testing.assert_array_equal(cov[2, :2], 0.0)


class TestCausality:
    @settings(max_examples=25, deadline=None)
    @given(
        setting=st.sampled_from(SETTINGS),
        lookback=st.integers(2, 15),
        t=st.integers(2, 58),
        before=st.lists(st.integers(2, 59), max_size=8),
        seed=st.integers(0, 1000),
    )
    def test_rows_after_t_change_nothing_at_t(
        self, setting: tuple[str, float | None], lookback: int, t: int, before: list[int], seed: int
    ) -> None:
        method, halflife = setting
        returns = random_returns(60, 3, seed)
        changed = returns.copy()
        rng = np.random.default_rng(seed)
        changed[t + 1 :] = rng.normal(0, 0.2, changed[t + 1 :].shape)
        changed[t + 1 :: 3, 0] = 0.0  # and a flat stretch in the future
        weights = np.array([0.5, -0.2, 0.7])
        values = []
        for panel in (returns, changed):
            estimate = RollingEstimate(panel, lookback, method, halflife)
            for bar in [b for b in before if b <= t]:  # the same earlier visits (within the past) on both
                estimate.covariance(bar)
            values.append(
                (
                    estimate.covariance(t).copy(),
                    estimate.volatility(t),
                    estimate.portfolio_variance(t, weights),
                    estimate.marginal_variance(t, weights),
                    estimate.correlation(t),
                )
            )
        for original, perturbed in zip(*values, strict=True):
            np.testing.assert_array_equal(original, perturbed)


def market_data(days: int = 30) -> MarketData:
    close = 100 * np.cumprod(1 + random_returns(days, 3, seed=9), axis=0)
    return MarketData(np.arange(days).astype("datetime64[D]"), ("A", "B", "C"), close)


class TestEstimates:
    def test_one_estimates_per_data(self) -> None:
        data = market_data()
        estimates = Estimates.of(data)
        assert Estimates.of(data) is estimates
        assert Estimates.of(market_data()) is not estimates  # equal content, another run
        assert estimates.returns is data.returns()

    def test_one_rolling_estimate_per_setting(self) -> None:
        estimates = Estimates.of(market_data())
        sample = estimates.rolling(20)
        assert estimates.rolling(20, "sample") is sample
        assert estimates.rolling(20, "sample", 7.0) is sample  # the half-life is not part of a sample estimate
        assert estimates.rolling(np.int64(20)) is sample  # type: ignore[arg-type]
        assert estimates.rolling(21) is not sample
        assert estimates.rolling(20, "ledoit_wolf") is not sample
        ewma = estimates.rolling(20, "ewma", 10)
        assert estimates.rolling(20, "ewma", 10.0) is ewma
        assert estimates.rolling(20, "ewma", 11.0) is not ewma
        assert (ewma.lookback, ewma.method, ewma.halflife) == (20, "ewma", 10.0)

    def test_sizing_agents_with_the_same_settings_share_one_estimate(self) -> None:
        from framework.agents.sizing import InverseVolatilitySizing, RiskParitySizing

        data = market_data()
        first = RiskParitySizing(lookback=10, min_history=5)
        second = InverseVolatilitySizing(lookback=10, min_history=5)
        other = InverseVolatilitySizing(lookback=10, min_history=5, covariance="ewma", halflife=3)
        for agent in (first, second, other):
            agent.prepare(data, None)
        assert first._estimate is second._estimate is Estimates.of(data).rolling(10)
        assert other._estimate is Estimates.of(data).rolling(10, "ewma", 3.0)

    def test_a_missing_half_life_is_an_error(self) -> None:
        with pytest.raises(ConfigError, match="halflife"):
            Estimates.of(market_data()).rolling(20, "ewma")
