"""Value at risk and expected shortfall, parametric against scipy and historical against the definition."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from framework.core.errors import ConfigError
from framework.stats.risk import (
    check_confidence,
    historical_var_cvar,
    normal_quantile,
    parametric_cvar,
    parametric_var,
    tail_size,
)

CONFIDENCES = [0.9, 0.95, 0.975, 0.99, 0.995, 0.9999, 0.5000001]


def definition(returns: np.ndarray, confidence: float) -> tuple[float, float]:
    """The module docstring's definition, written with a full sort: the ceil((1 - c) n) worst returns."""
    n = returns.shape[0]
    m = max(1, math.ceil(round((1 - confidence) * n, 9)))
    worst = np.sort(returns)[:m]
    return -float(worst[-1]), -float(worst.mean())


class TestParametric:
    @pytest.mark.parametrize("confidence", CONFIDENCES)
    def test_scipy(self, confidence: float) -> None:
        z = norm.ppf(confidence)
        assert normal_quantile(confidence) == pytest.approx(z, rel=1e-12)
        for sigma in (0.003, 0.0125, 0.4):
            assert parametric_var(sigma, confidence) == pytest.approx(z * sigma, rel=1e-12)
            want = sigma * norm.pdf(z) / (1 - confidence)
            assert parametric_cvar(sigma, confidence) == pytest.approx(want, rel=1e-9)

    @pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
    def test_cvar_is_the_mean_loss_beyond_the_var(self, confidence: float) -> None:
        # E[-X | -X > VaR] for X ~ N(0, sigma^2), by scipy's truncated expectation.
        sigma = 0.02
        var = parametric_var(sigma, confidence)
        tail_mean = norm.expect(lambda x: -x, scale=sigma, ub=-var, conditional=True)
        assert parametric_cvar(sigma, confidence) == pytest.approx(tail_mean, rel=1e-7)

    def test_arrays(self) -> None:
        sigma = np.array([0.01, 0.02, 0.0])
        np.testing.assert_allclose(parametric_var(sigma, 0.99), norm.ppf(0.99) * sigma, rtol=1e-12)
        np.testing.assert_allclose(parametric_cvar(sigma, 0.975), sigma * norm.pdf(norm.ppf(0.975)) / 0.025, rtol=1e-9)

    def test_docstring_numbers(self) -> None:
        assert parametric_var(0.01, 0.99) == pytest.approx(0.0232635, abs=1e-7)
        assert parametric_cvar(0.01, 0.975) == pytest.approx(0.0233780, abs=1e-7)

    @pytest.mark.parametrize("confidence", CONFIDENCES)
    def test_cvar_at_least_var_and_homogeneous(self, confidence: float) -> None:
        for sigma in (1e-4, 0.01, 0.3):
            var, cvar = parametric_var(sigma, confidence), parametric_cvar(sigma, confidence)
            assert cvar >= var > 0
            for k in (0.5, 3.0):
                assert parametric_var(k * sigma, confidence) == pytest.approx(k * var, rel=1e-14)
                assert parametric_cvar(k * sigma, confidence) == pytest.approx(k * cvar, rel=1e-14)


class TestHistorical:
    def test_by_hand(self) -> None:
        r = np.array([-0.05, 0.01, -0.02, 0.03, -0.01, 0.02, 0.0, -0.03, 0.01, 0.02])
        # sorted: -0.05, -0.03, -0.02, -0.01, 0, 0.01, 0.01, 0.02, 0.02, 0.03
        assert historical_var_cvar(r, 0.9) == pytest.approx((0.05, 0.05))  # tail of 1
        assert historical_var_cvar(r, 0.8) == pytest.approx((0.03, 0.04))  # tail of 2
        assert historical_var_cvar(r, 0.75) == pytest.approx((0.02, 0.1 / 3))  # ceil(2.5) = 3
        assert historical_var_cvar(r, 0.6) == pytest.approx((0.01, 0.11 / 4))  # tail of 4
        assert historical_var_cvar(r, 0.51) == pytest.approx((0.0, 0.11 / 5))  # ceil(4.9) = 5
        assert historical_var_cvar(r, 0.99) == pytest.approx((0.05, 0.05))  # never fewer than 1

    def test_tail_sizes(self) -> None:
        assert [tail_size(100, c) for c in (0.95, 0.99, 0.9, 0.975, 0.999)] == [5, 1, 10, 3, 1]
        assert [tail_size(252, c) for c in (0.95, 0.99, 0.975)] == [13, 3, 7]
        assert tail_size(20, 0.95) == 1 and tail_size(21, 0.95) == 2 and tail_size(1, 0.6) == 1

    def test_a_gain_only_window_has_a_negative_loss(self) -> None:
        var, cvar = historical_var_cvar(np.array([0.01, 0.02, 0.03, 0.04]), 0.75)
        assert (var, cvar) == pytest.approx((-0.01, -0.01))

    @settings(max_examples=25, deadline=None)
    @given(
        returns=st.lists(st.floats(-0.2, 0.2, allow_subnormal=False), min_size=1, max_size=300),
        confidence=st.sampled_from([0.9, 0.95, 0.975, 0.99, 0.6, 0.75]),
        k=st.floats(0.01, 100.0),
    )
    def test_definition_homogeneity_and_order(self, returns: list[float], confidence: float, k: float) -> None:
        r = np.array(returns)
        var, cvar = historical_var_cvar(r, confidence)
        want_var, want_cvar = definition(r, confidence)
        assert var == want_var
        assert cvar == pytest.approx(want_cvar, rel=1e-12, abs=1e-16)
        assert cvar >= var - 1e-15
        scaled = historical_var_cvar(k * r, confidence)
        assert scaled == pytest.approx((k * var, k * cvar), rel=1e-12, abs=1e-15)

    def test_leaves_the_returns_alone(self) -> None:
        r = np.array([0.03, -0.02, 0.01, -0.04, 0.0])
        copy = r.copy()
        historical_var_cvar(r, 0.6)
        np.testing.assert_array_equal(r, copy)

    def test_large_normal_sample_approaches_the_parametric_values(self) -> None:
        r = np.random.default_rng(0).normal(0.0, 0.01, 400_000)
        var, cvar = historical_var_cvar(r, 0.99)
        assert var == pytest.approx(parametric_var(0.01, 0.99), rel=0.02)
        assert cvar == pytest.approx(parametric_cvar(0.01, 0.99), rel=0.02)


class TestConfidence:
    @pytest.mark.parametrize("value", [0.5, 1.0, 0.99999, 95, -0.9, "0.95", None, True, float("nan")])
    def test_invalid(self, value: object) -> None:
        with pytest.raises(ConfigError, match=r"^agent\.risk\.var_confidence: must be a number > 0\.5 and <= 0\.9999"):
            check_confidence("agent.risk.var_confidence", value)

    @pytest.mark.parametrize("value", [0.95, 0.9999, 0.51, np.float64(0.99)])
    def test_valid(self, value: float) -> None:
        assert check_confidence("x", value) == float(value)
