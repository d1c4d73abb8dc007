"""Risk budgeting by Newton's method: cases solved by hand, and skfolio's RiskBudgeting on real and random data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skfolio.moments import EmpiricalCovariance
from skfolio.optimization import RiskBudgeting
from skfolio.prior import EmpiricalPrior

from framework.core.errors import EstimationError
from framework.data import SP500Loader
from framework.stats.risk_parity import risk_budget_weights, risk_contributions

#: CLARABEL's default tolerances (1e-8) leave skfolio's weights about 2e-5 from the optimum; these reach 1e-6.
TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}


def skfolio_weights(returns: np.ndarray, budgets: np.ndarray | None = None) -> np.ndarray:
    model = RiskBudgeting(
        risk_budget=budgets,
        prior_estimator=EmpiricalPrior(covariance_estimator=EmpiricalCovariance()),
        solver_params=TIGHT,
    )
    return np.asarray(model.fit(returns).weights_)


def factor_returns(days: int, assets: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    factors = rng.normal(0.0, 0.01, (days, 3))
    loadings = rng.normal(0.6, 0.5, (3, assets))
    return factors @ loadings + rng.normal(0.0, 0.01, (days, assets)) * rng.uniform(0.5, 2.0, assets)


def two_assets(vol_a: float, vol_b: float, rho: float) -> np.ndarray:
    return np.array([[vol_a**2, rho * vol_a * vol_b], [rho * vol_a * vol_b, vol_b**2]])


def two_asset_budgeting(vol_a: float, vol_b: float, rho: float, b_a: float, b_b: float) -> np.ndarray:
    """Closed form: with u = w_a vol_a / (w_b vol_b), the condition RC_a / b_a = RC_b / b_b reads
    u (u + rho) / b_a = (1 + rho u) / b_b, that is b_b u^2 + rho (b_b - b_a) u - b_a = 0."""
    u = (-rho * (b_b - b_a) + np.sqrt(rho**2 * (b_b - b_a) ** 2 + 4 * b_a * b_b)) / (2 * b_b)
    w = np.array([u / vol_a, 1 / vol_b])
    return w / w.sum()  # type: ignore[no-any-return]


class TestRiskBudgetWeights:
    def test_two_uncorrelated_assets_by_hand(self) -> None:
        np.testing.assert_allclose(risk_budget_weights(two_assets(0.2, 0.1, 0.0)), [1 / 3, 2 / 3], rtol=1e-12)

    @pytest.mark.parametrize("rho", [-0.9, -0.3, 0.0, 0.5, 0.95, 1.0])
    def test_two_correlated_assets_equal_budgets_are_inverse_volatility(self, rho: float) -> None:
        # For two assets the equal contributions hold at w ∝ 1/vol whatever the correlation (u = 1 above).
        np.testing.assert_allclose(
            risk_budget_weights(two_assets(0.3, 0.12, rho)), [0.12 / 0.42, 0.3 / 0.42], rtol=1e-10
        )

    @pytest.mark.parametrize(
        ("rho", "budgets"), [(0.5, (1.0, 3.0)), (-0.6, (2.0, 1.0)), (0.9, (1.0, 9.0)), (0.0, (4.0, 1.0))]
    )
    def test_two_correlated_assets_with_budgets_closed_form(self, rho: float, budgets: tuple[float, float]) -> None:
        cov = two_assets(0.25, 0.1, rho)
        got = risk_budget_weights(cov, np.array(budgets))
        np.testing.assert_allclose(got, two_asset_budgeting(0.25, 0.1, rho, *budgets), rtol=1e-10)
        np.testing.assert_allclose(risk_contributions(got, cov), np.array(budgets) / sum(budgets), rtol=1e-9)

    def test_uncorrelated_assets_with_budgets_by_hand(self) -> None:
        # x_i^2 var_i = b_i: w_i ∝ sqrt(b_i) / vol_i.
        vols, budgets = np.array([0.1, 0.2, 0.4]), np.array([1.0, 4.0, 2.0])
        want = np.sqrt(budgets) / vols
        got = risk_budget_weights(np.diag(vols**2), budgets)
        np.testing.assert_allclose(got, want / want.sum(), rtol=1e-12)

    def test_budgets_are_relative(self) -> None:
        cov = np.cov(factor_returns(200, 6, seed=0), rowvar=False)
        budgets = np.array([1.0, 2.0, 3.0, 1.0, 0.5, 2.5])
        np.testing.assert_allclose(
            risk_budget_weights(cov, budgets), risk_budget_weights(cov, 7.0 * budgets), rtol=1e-10
        )
        np.testing.assert_allclose(risk_budget_weights(cov, np.ones(6)), risk_budget_weights(cov), rtol=1e-14)

    def test_one_asset(self) -> None:
        np.testing.assert_array_equal(risk_budget_weights(np.array([[0.04]])), [1.0])

    def test_skfolio_on_20_sp500_tickers(self) -> None:
        returns = SP500Loader(start="2018-01-01").load().returns()[1:]
        window = returns[-252:]
        cov = np.cov(window, rowvar=False)
        budgets = np.linspace(1.0, 3.0, 20)
        for b in (None, budgets):
            got = risk_budget_weights(cov, b)
            np.testing.assert_allclose(got, skfolio_weights(window, b), atol=1e-5)
            want_shares = np.full(20, 1 / 20) if b is None else b / b.sum()
            np.testing.assert_allclose(risk_contributions(got, cov), want_shares, rtol=1e-9)

    @pytest.mark.parametrize(("assets", "days"), [(50, 300), (200, 500)])
    def test_skfolio_on_random_problems(self, assets: int, days: int) -> None:
        returns = factor_returns(days, assets, seed=assets)
        cov = np.cov(returns, rowvar=False)
        budgets = np.random.default_rng(assets).uniform(0.2, 5.0, assets)
        got = risk_budget_weights(cov, budgets)
        np.testing.assert_allclose(got, skfolio_weights(returns, budgets), atol=1e-5)
        np.testing.assert_allclose(risk_contributions(got, cov), budgets / budgets.sum(), rtol=1e-9)
        assert got.sum() == pytest.approx(1.0, abs=1e-14) and (got > 0).all()

    @settings(max_examples=25, deadline=None)
    @given(
        assets=st.integers(2, 12),
        seed=st.integers(0, 2**32 - 1),
        spread=st.floats(1.0, 100.0),
        scale=st.floats(1e-6, 1e3),
    )
    def test_contributions_equal_the_budgets(self, assets: int, seed: int, spread: float, scale: float) -> None:
        rng = np.random.default_rng(seed)
        a = rng.normal(size=(assets, assets + 2)) * rng.uniform(1.0, spread, assets)[:, None]
        cov = scale * (a @ a.T) / (assets + 2)
        budgets = rng.uniform(1.0, spread, assets)
        weights = risk_budget_weights(cov, budgets)
        assert (weights > 0).all() and weights.sum() == pytest.approx(1.0, abs=1e-14)
        np.testing.assert_allclose(risk_contributions(weights, cov), budgets / budgets.sum(), rtol=1e-9)
        order = rng.permutation(assets)  # relabelling the assets relabels the weights
        permuted = risk_budget_weights(cov[np.ix_(order, order)], budgets[order])
        np.testing.assert_allclose(permuted, weights[order], rtol=1e-9)


class TestRiskContributions:
    def test_by_hand(self) -> None:
        # w = (.5, .5), S w = (.02 + .005, .005 + .005) with cov .01: variance .5 * .025 + .5 * .01 = .0175
        cov = np.array([[0.04, 0.01], [0.01, 0.01]])
        np.testing.assert_allclose(risk_contributions(np.array([0.5, 0.5]), cov), [0.0125 / 0.0175, 0.005 / 0.0175])

    def test_sum_to_one_long_short(self) -> None:
        cov = np.cov(factor_returns(100, 5, seed=1), rowvar=False)
        weights = np.array([0.6, -0.3, 0.4, 0.2, -0.1])
        contributions = risk_contributions(weights, cov)
        assert contributions.sum() == pytest.approx(1.0, abs=1e-14)
        np.testing.assert_allclose(contributions, weights * (cov @ weights) / (weights @ cov @ weights), rtol=1e-14)


class TestErrors:
    @pytest.mark.parametrize(
        ("cov", "match"),
        [
            (np.array([[0.04, 0.0], [0.0, 0.0]]), r"asset\(s\) at column\(s\) \[1\] have zero variance"),
            (np.array([[0.0, 0.0], [0.0, 0.0]]), r"column\(s\) \[0, 1\] have zero variance"),
            (np.array([[-0.01, 0.0], [0.0, 0.01]]), r"column\(s\) \[0\] have zero variance"),
            (np.array([[0.04, np.nan], [np.nan, 0.01]]), "non-finite entries"),
            (np.array([[np.inf, 0.0], [0.0, 0.01]]), "non-finite entries"),
            (np.array([[np.nan]]), "non-finite entries"),
            (np.array([[0.0]]), "zero variance"),
        ],
    )
    def test_bad_covariance(self, cov: np.ndarray, match: str) -> None:
        with pytest.raises(EstimationError, match=match):
            risk_budget_weights(cov)

    @pytest.mark.parametrize(
        "budgets",
        [[1.0, 0.0, 1.0], [1.0, -2.0, 1.0], [1.0, np.nan, 1.0], [1.0, np.inf, 1.0], [1.0, 1.0], [1.0, 1.0, 1.0, 1.0]],
    )
    def test_bad_budgets(self, budgets: list[float]) -> None:
        with pytest.raises(EstimationError, match=r"budgets must be 3 positive numbers, got \["):
            risk_budget_weights(np.eye(3) * 0.01, np.array(budgets))

    @pytest.mark.parametrize("budgets", [[0.0], [-1.0], [1.0, 1.0]])
    def test_bad_budgets_of_one_asset(self, budgets: list[float]) -> None:
        with pytest.raises(EstimationError, match=r"budgets must be 1 positive numbers"):
            risk_budget_weights(np.array([[0.04]]), np.array(budgets))

    def test_no_convergence(self) -> None:
        cov = np.cov(factor_returns(100, 5, seed=2), rowvar=False)  # correlated: the start is not the optimum
        with pytest.raises(EstimationError, match=r"did not converge in 1 iterations \(largest relative error"):
            risk_budget_weights(cov, max_iterations=1)
        assert risk_contributions(risk_budget_weights(cov), cov) == pytest.approx(np.full(5, 0.2), rel=1e-9)

    def test_no_iteration_at_all(self) -> None:
        with pytest.raises(EstimationError, match="did not converge in 0 iterations"):
            risk_budget_weights(two_assets(0.2, 0.1, 0.5), max_iterations=0)
