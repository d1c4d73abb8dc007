"""The covariance estimators against numpy, scikit-learn and skfolio, on random and on real returns."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skfolio.moments import EmpiricalCovariance, EWCovariance, LedoitWolf
from sklearn.covariance import ledoit_wolf as sklearn_ledoit_wolf
from sklearn.covariance import ledoit_wolf_shrinkage as sklearn_ledoit_wolf_shrinkage

from framework.core.errors import ConfigError
from framework.data import SP500Loader
from framework.stats.covariance import (
    correlation_from_covariance,
    covariance,
    ewma_covariance,
    ewma_weights,
    ledoit_wolf_covariance,
    ledoit_wolf_shrinkage,
    sample_covariance,
)

RTOL = 1e-12


def assert_same_matrix(got: np.ndarray, want: np.ndarray, rtol: float = RTOL) -> None:
    """Equal to ``rtol`` relative to the matrix's scale (entries near zero are compared to the largest)."""
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * float(np.abs(want).max()))


def random_returns(n: int, assets: int, seed: int) -> np.ndarray:
    """Correlated returns with different volatilities and a non-zero mean (one common factor)."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(0.0005, 0.01, (n, 1))
    loadings = rng.uniform(0.2, 1.5, assets)
    return factor * loadings + rng.normal(0.0003, 0.01, (n, assets)) * rng.uniform(0.5, 3.0, assets)


@pytest.fixture(scope="module")
def sp500() -> np.ndarray:
    return SP500Loader().load().returns()[1:]


def sp500_windows(returns: np.ndarray) -> list[np.ndarray]:
    """Windows of the real panel: a year in 1990, the 2008 crisis, a short one, and the whole history."""
    return [returns[:252], returns[4500:4752], returns[-30:], returns[:, :7][-600:], returns]


SHAPES = [(2, 3), (5, 2), (30, 4), (252, 20), (40, 60)]  # fewer rows than assets too


class TestSampleCovariance:
    @pytest.mark.parametrize(("n", "assets"), SHAPES)
    def test_numpy_cov_on_random_returns(self, n: int, assets: int) -> None:
        x = random_returns(n, assets, seed=n * assets)
        assert_same_matrix(sample_covariance(x), np.cov(x, rowvar=False).reshape(assets, assets))
        assert_same_matrix(covariance(x, "sample"), np.cov(x, rowvar=False).reshape(assets, assets))

    def test_numpy_cov_and_skfolio_on_sp500(self, sp500: np.ndarray) -> None:
        for window in sp500_windows(sp500):
            got = covariance(window, "sample")
            assert_same_matrix(got, np.cov(window, rowvar=False))
            reference = EmpiricalCovariance(nearest=False).fit(window).covariance_
            assert_same_matrix(got, reference)

    def test_by_hand(self) -> None:
        x = np.array([[0.01, 0.02], [0.03, 0.0], [-0.01, 0.01]])  # means 0.01, 0.01
        # deviations (0, .01), (.02, -.01), (-.02, 0): var A = .0008 / 2, cov = -.0002 / 2, var B = .0002 / 2
        np.testing.assert_allclose(sample_covariance(x), [[0.0004, -0.0001], [-0.0001, 0.0001]], rtol=1e-12)

    def test_a_constant_price_has_exactly_zero_variance(self) -> None:
        x = random_returns(50, 3, seed=1)
        x[:, 1] = 0.0  # the price did not move
        cov = sample_covariance(x)
        assert cov[1, 1] == 0.0
        np.testing.assert_array_equal(cov[1], 0.0)


class TestLedoitWolf:
    @pytest.mark.parametrize(("n", "assets"), SHAPES)
    def test_sklearn_on_random_returns(self, n: int, assets: int) -> None:
        x = random_returns(n, assets, seed=7 + n)
        want, want_shrinkage = sklearn_ledoit_wolf(x)
        assert_same_matrix(ledoit_wolf_covariance(x), want)
        assert_same_matrix(covariance(x, "ledoit_wolf"), want)
        centred = x - x.mean(axis=0)
        got_shrinkage = ledoit_wolf_shrinkage(centred, centred.T @ centred / n)
        assert got_shrinkage == pytest.approx(want_shrinkage, rel=RTOL, abs=1e-15)
        assert got_shrinkage == pytest.approx(sklearn_ledoit_wolf_shrinkage(x, assume_centered=False), rel=RTOL)
        assert -1e-15 <= got_shrinkage <= 1.0  # sklearn too rounds 0 to about -2e-16 with 2 rows

    def test_sklearn_and_skfolio_on_sp500(self, sp500: np.ndarray) -> None:
        for window in sp500_windows(sp500):
            got = covariance(window, "ledoit_wolf")
            assert_same_matrix(got, sklearn_ledoit_wolf(window)[0])
            assert_same_matrix(got, LedoitWolf(nearest=False).fit(window).covariance_)

    def test_is_the_shrunk_biased_covariance(self) -> None:
        # The definition in the module docstring, written out: (1 - d) S + d mu I with S the biased covariance.
        x = random_returns(40, 5, seed=3)
        centred = x - x.mean(axis=0)
        biased = centred.T @ centred / 40
        d = sklearn_ledoit_wolf_shrinkage(x)
        mu = np.trace(biased) / 5
        assert_same_matrix(ledoit_wolf_covariance(x), (1 - d) * biased + d * mu * np.eye(5))
        assert 0.0 < d < 1.0

    def test_single_asset_is_the_biased_variance(self) -> None:
        x = random_returns(20, 1, seed=2)
        assert ledoit_wolf_shrinkage(x - x.mean(), np.atleast_2d(x.var())) == 0.0
        np.testing.assert_allclose(ledoit_wolf_covariance(x), sklearn_ledoit_wolf(x)[0], rtol=RTOL)
        np.testing.assert_allclose(ledoit_wolf_covariance(x), [[x.var()]], rtol=RTOL)

    def test_docstring_example_against_sklearn(self) -> None:
        x = np.array(
            [
                [0.041, -0.051, 0.008],
                [-0.011, -0.009, -0.004],
                [-0.04, -0.005, -0.017],
                [0.066, 0.005, -0.007],
                [-0.006, -0.013, -0.021],
                [-0.008, 0.01, -0.005],
            ]
        )
        assert sklearn_ledoit_wolf_shrinkage(x) == pytest.approx(0.561439, abs=1e-6)
        assert_same_matrix(ledoit_wolf_covariance(x), sklearn_ledoit_wolf(x)[0])


class TestEwmaCovariance:
    @pytest.mark.parametrize(("n", "halflife"), [(1, 3.0), (2, 1.0), (10, 0.5), (63, 10.0), (252, 63.0), (300, 2.5)])
    def test_skfolio_ewcovariance_on_random_returns(self, n: int, halflife: float) -> None:
        x = random_returns(n + 37, 6, seed=n)  # skfolio keeps the last window_size rows of a longer history
        reference = EWCovariance(half_life=halflife, window_size=n, min_observations=1, nearest=False).fit(x)
        assert_same_matrix(covariance(x[-n:], "ewma", halflife), reference.covariance_)
        np.testing.assert_array_equal(reference.location_, 0.0)  # zero mean, as documented (assume_centered)

    @pytest.mark.parametrize("halflife", [5.0, 21.0, 126.0])
    def test_skfolio_ewcovariance_on_sp500(self, sp500: np.ndarray, halflife: float) -> None:
        for window in sp500_windows(sp500):
            n = window.shape[0]
            reference = EWCovariance(half_life=halflife, window_size=n, min_observations=1, nearest=False)
            assert_same_matrix(covariance(window, "ewma", halflife), reference.fit(window).covariance_)

    def test_zero_mean_not_demeaned(self) -> None:
        # A constant non-zero return has ewma variance c ** 2: the mean is not removed (RiskMetrics).
        x = np.full((10, 1), 0.01)
        np.testing.assert_allclose(ewma_covariance(x, 3.0), [[1e-4]], rtol=1e-14)
        skfolio = EWCovariance(half_life=3.0, min_observations=1, nearest=False).fit(x)
        np.testing.assert_allclose(skfolio.covariance_, [[1e-4]], rtol=1e-14)

    def test_by_hand(self) -> None:
        # Weights 1/3 (older) and 2/3 (newer) for a half-life of 1 bar.
        x = np.array([[0.02, 0.01], [-0.01, 0.03]])
        want = np.array(
            [
                [0.0004 / 3 + 0.0001 * 2 / 3, 0.0002 / 3 - 0.0003 * 2 / 3],
                [0.0002 / 3 - 0.0003 * 2 / 3, 0.0001 / 3 + 0.0009 * 2 / 3],
            ]
        )
        np.testing.assert_allclose(covariance(x, "ewma", 1.0), want, rtol=1e-13)

    def test_weights(self) -> None:
        np.testing.assert_allclose(ewma_weights(3, 1.0), [1 / 7, 2 / 7, 4 / 7], rtol=1e-15)
        weights = ewma_weights(100, 10.0)
        assert weights.sum() == pytest.approx(1.0, abs=1e-15)
        assert weights[-11] / weights[-1] == pytest.approx(0.5, rel=1e-14)  # the half-life: 10 rows older
        assert np.all(np.diff(weights) > 0)
        np.testing.assert_array_equal(ewma_weights(1, 5.0), [1.0])


class TestCovarianceProperties:
    @settings(max_examples=25, deadline=None)
    @given(
        n=st.integers(3, 40),
        assets=st.integers(1, 6),
        seed=st.integers(0, 2**32 - 1),
        scale=st.floats(0.01, 100.0),
        method=st.sampled_from(["sample", "ledoit_wolf", "ewma"]),
    )
    def test_scaling_and_symmetry(self, n: int, assets: int, seed: int, scale: float, method: str) -> None:
        x = random_returns(n, assets, seed)
        cov = covariance(x, method, 4.0 if method == "ewma" else None)
        assert_same_matrix(cov, cov.T, 1e-15)  # ewma's (X * a)' X is symmetric up to the last bit only
        assert np.linalg.eigvalsh(cov).min() >= -1e-12 * np.abs(cov).max()
        assert_same_matrix(covariance(scale * x, method, 4.0 if method == "ewma" else None), scale**2 * cov, 1e-11)

    @settings(max_examples=25, deadline=None)
    @given(n=st.integers(3, 40), assets=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
    def test_sample_and_ledoit_wolf_ignore_a_shift_of_the_mean(self, n: int, assets: int, seed: int) -> None:
        x = random_returns(n, assets, seed)
        shift = np.random.default_rng(seed).normal(0, 0.01, assets)
        for method in ("sample", "ledoit_wolf"):
            assert_same_matrix(covariance(x + shift, method), covariance(x, method), 1e-9)

    @settings(max_examples=25, deadline=None)
    @given(n=st.integers(3, 40), seed=st.integers(0, 2**32 - 1))
    def test_sample_and_ewma_of_a_linear_map(self, n: int, seed: int) -> None:
        # cov(X A) = A' cov(X) A for the sample and ewma estimators (not for Ledoit-Wolf, whose target changes).
        x = random_returns(n, 4, seed)
        a = np.random.default_rng(seed).normal(size=(4, 3))
        for method, halflife in (("sample", None), ("ewma", 3.0)):
            assert_same_matrix(covariance(x @ a, method, halflife), a.T @ covariance(x, method, halflife) @ a, 1e-10)


class TestCovarianceChoice:
    @pytest.mark.parametrize(
        ("method", "halflife", "match"),
        [
            ("lw", None, r"^covariance\.covariance: must be one of sample, ledoit_wolf, ewma, got 'lw'$"),
            ("ewma", None, r"^covariance\.halflife: covariance 'ewma' needs a half-life in bars > 0, got None$"),
            ("ewma", 0, r"^covariance\.halflife: must be a number > 0, got 0$"),
            ("sample", -1.0, r"^covariance\.halflife: must be a number > 0, got -1\.0$"),
        ],
    )
    def test_errors_name_the_key(self, method: str, halflife: object, match: str) -> None:
        with pytest.raises(ConfigError, match=match):
            covariance(np.ones((3, 2)), method, halflife)  # type: ignore[arg-type]

    def test_halflife_is_ignored_by_the_equally_weighted_methods(self) -> None:
        x = random_returns(30, 3, seed=4)
        np.testing.assert_array_equal(covariance(x, "sample", 5.0), covariance(x, "sample"))
        np.testing.assert_array_equal(covariance(x, "ledoit_wolf", 5.0), covariance(x, "ledoit_wolf"))


class TestCorrelationFromCovariance:
    def test_numpy_corrcoef(self, sp500: np.ndarray) -> None:
        window = sp500[-252:]
        got = correlation_from_covariance(np.cov(window, rowvar=False))
        np.testing.assert_allclose(got, np.corrcoef(window, rowvar=False), rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(np.diag(got), 1.0)

    def test_by_hand(self) -> None:
        got = correlation_from_covariance(np.array([[0.04, -0.006, 0.0], [-0.006, 0.01, 0.0], [0.0, 0.0, 0.09]]))
        np.testing.assert_allclose(got, [[1, -0.3, 0], [-0.3, 1, 0], [0, 0, 1]], rtol=1e-14, atol=1e-16)

    def test_zero_variance_gives_nan_off_the_diagonal(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no RuntimeWarning escapes
            got = correlation_from_covariance(np.array([[0.04, 0.0, 0.01], [0.0, 0.0, 0.0], [0.01, 0.0, 0.01]]))
        assert np.isnan(got[1, [0, 2]]).all() and np.isnan(got[[0, 2], 1]).all()
        np.testing.assert_array_equal(np.diag(got), 1.0)
        assert got[0, 2] == pytest.approx(0.5)

    def test_rounding_is_clipped_to_one(self) -> None:
        cov = np.array([[1.0, 1.0 + 1e-12], [1.0 + 1e-12, 1.0]])
        got = correlation_from_covariance(cov)
        np.testing.assert_array_equal(got, [[1.0, 1.0], [1.0, 1.0]])
