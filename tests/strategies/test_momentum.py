import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.core.errors import ConfigError
from framework.strategies import Momentum
from tests.strategies.properties import assert_causal, assert_config_defaults, assert_in_range, panel, price_panels


def random_walk(days: int = 400, tickers: int = 4, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 50.0 * np.cumprod(1.0 + rng.normal(0.0002, 0.02, (days, tickers)), axis=0)


def loop_momentum(
    close: np.ndarray, lookback: int, skip: int, threshold: float, scale: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Signal and confidence one element at a time, with the standard library's sample deviation."""
    days, tickers = close.shape
    signal = np.full((days, tickers), np.nan)
    confidence = np.zeros((days, tickers))
    for j in range(tickers):
        for t in range(lookback, days):
            mom = close[t - skip, j] / close[t - lookback, j] - 1.0
            if abs(mom) <= threshold:
                signal[t, j] = 0.0
            elif scale is None:
                signal[t, j] = 1.0 if mom > 0 else -1.0
            else:
                signal[t, j] = max(-1.0, min(1.0, mom / scale))
            returns = [close[u, j] / close[u - 1, j] - 1.0 for u in range(t - lookback + 1, t + 1)]
            vol = statistics.stdev(returns)
            confidence[t, j] = 0.0 if vol == 0 else min(1.0, abs(mom) / (vol * math.sqrt(lookback - skip)))
    return signal, confidence


@st.composite
def momentum_params(draw: st.DrawFn) -> dict[str, object]:
    lookback = draw(st.integers(2, 70))
    return {
        "lookback": lookback,
        "skip": draw(st.integers(0, lookback - 1)),
        "threshold": draw(st.floats(0.0, 0.5)),
        "scale": draw(st.none() | st.floats(1e-3, 2.0)),
    }


class TestMomentum:
    @pytest.mark.parametrize(
        ("lookback", "skip", "threshold", "scale"),
        [(126, 0, 0.0, None), (60, 20, 0.0, None), (20, 5, 0.05, None), (30, 0, 0.0, 0.2), (40, 10, 0.02, 0.1)],
    )
    def test_against_a_per_element_loop(self, lookback: int, skip: int, threshold: float, scale: float | None) -> None:
        close = random_walk()
        frame = Momentum(lookback=lookback, skip=skip, threshold=threshold, scale=scale).generate(panel(close))
        signal, confidence = loop_momentum(close, lookback, skip, threshold, scale)
        np.testing.assert_allclose(frame.signal, signal, rtol=1e-12, atol=0.0, equal_nan=True)
        np.testing.assert_allclose(frame.confidence, confidence, rtol=1e-9, atol=1e-12)
        ready = frame.signal[lookback:]
        assert (ready > 0).sum() > 20 and (ready < 0).sum() > 20
        assert 0.05 < (frame.confidence[lookback:] == 1.0).mean() < 0.95  # the cap and the ratio both occur

    def test_by_hand(self) -> None:
        # lookback 3: row 3: 121 / 100 - 1 = 0.21 over returns 0.1, -0.1, 0.2222 (stdev 0.16267):
        # 0.21 / (0.16267 * sqrt(3)) = 0.74534; rows 4 and 5: 110 / 110 - 1 = 0, 99 / 99 - 1 = 0.
        close = [100.0, 110.0, 99.0, 121.0, 110.0, 99.0]
        frame = Momentum(lookback=3).generate(panel(close))
        np.testing.assert_array_equal(frame.signal.ravel(), [np.nan, np.nan, np.nan, 1.0, 0.0, 0.0])
        np.testing.assert_allclose(frame.confidence.ravel(), [0.0, 0.0, 0.0, 0.74534324, 0.0, 0.0], rtol=1e-7)

    def test_skip_and_scale_by_hand(self) -> None:
        # skip 1: close[t - 1] / close[t - 3] - 1 = 99/100 - 1, 121/110 - 1, 110/99 - 1; scale 0.05 caps the last two.
        close = [100.0, 110.0, 99.0, 121.0, 110.0, 99.0]
        frame = Momentum(lookback=3, skip=1, scale=0.05).generate(panel(close))
        np.testing.assert_allclose(frame.signal.ravel(), [np.nan, np.nan, np.nan, -0.2, 1.0, 1.0], equal_nan=True)
        # row 5: returns 121/99 - 1, 110/121 - 1, 99/110 - 1 (stdev 0.183467): 0.1111 / (0.183467 * sqrt(2)) = 0.428237
        assert frame.confidence[5, 0] == pytest.approx(0.428237, rel=1e-5)

    def test_threshold_is_a_dead_zone(self) -> None:
        # Momentum over 2 bars, exact in binary: 80/64 - 1 = 0.25 (at the threshold: 0), 0.25, 128/80 - 1 = 0.6,
        # 48/80 - 1 = -0.4.
        close = [64.0, 64.0, 80.0, 80.0, 128.0, 48.0]
        signal = Momentum(lookback=2, threshold=0.25).generate(panel(close)).signal
        np.testing.assert_array_equal(signal.ravel(), [np.nan, np.nan, 0.0, 0.0, 1.0, -1.0])
        scaled = Momentum(lookback=2, threshold=0.25, scale=0.8).generate(panel(close)).signal
        np.testing.assert_allclose(scaled.ravel(), [np.nan, np.nan, 0.0, 0.0, 0.75, -0.5], equal_nan=True)
        # Without a threshold the same bars are not in the dead zone.
        assert Momentum(lookback=2, scale=0.8).generate(panel(close)).signal[2, 0] == pytest.approx(0.3125)

    def test_flat_prices_have_zero_signal_and_confidence_without_warnings(self) -> None:
        close = np.column_stack([np.full(30, 12.5), np.linspace(10.0, 20.0, 30)])
        with np.errstate(all="raise"):
            frame = Momentum(lookback=10).generate(panel(close))
        np.testing.assert_array_equal(frame.signal[10:, 0], 0.0)
        np.testing.assert_array_equal(frame.confidence[:, 0], 0.0)
        # A steady rise: positive momentum, returns nearly constant, so the capped strength is reached.
        np.testing.assert_array_equal(frame.signal[10:, 1], 1.0)
        np.testing.assert_array_equal(frame.confidence[10:, 1], 1.0)

    def test_warm_up_rows_are_nan_with_zero_confidence(self) -> None:
        frame = Momentum(lookback=50, skip=10).generate(panel(random_walk(days=80, tickers=3)))
        assert frame.shape == (80, 3)
        assert np.isnan(frame.signal[:50]).all() and not np.isnan(frame.signal[50:]).any()
        assert (frame.confidence[:50] == 0.0).all() and (frame.confidence[50:] > 0.0).all()

    @pytest.mark.parametrize("days", [1, 2, 50])
    def test_shorter_data_than_lookback_is_all_warm_up(self, days: int) -> None:
        frame = Momentum(lookback=50).generate(panel(random_walk(days=days, tickers=2)))
        assert frame.shape == (days, 2)
        assert np.isnan(frame.signal).all() and (frame.confidence == 0.0).all()

    def test_params_are_stored_unchanged(self) -> None:
        strategy = Momentum(lookback=np.int64(30), skip=np.int64(5), threshold=0, scale=1)  # type: ignore[arg-type]
        assert strategy.get_params() == {"lookback": 30, "skip": 5, "threshold": 0, "scale": 1}
        assert strategy.fit(panel(random_walk(days=10))) is strategy

    @pytest.mark.parametrize("value", [1, 0, -3, 2.5, "5", None, True])
    def test_invalid_lookback(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            Momentum(lookback=value)  # type: ignore[arg-type]
        assert str(info.value) == f"lookback: must be an integer >= 2, got {value!r}"

    @pytest.mark.parametrize("value", [-1, 2.0, "1", None, False])
    def test_invalid_skip(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            Momentum(lookback=10, skip=value)  # type: ignore[arg-type]
        assert str(info.value) == f"skip: must be a non-negative integer, got {value!r}"

    @pytest.mark.parametrize("skip", [10, 11])
    def test_skip_below_lookback(self, skip: int) -> None:
        with pytest.raises(ConfigError) as info:
            Momentum(lookback=10, skip=skip)
        assert str(info.value) == f"skip: must be smaller than lookback, got skip={skip} >= lookback=10"

    @pytest.mark.parametrize("value", [-0.01, float("nan"), float("inf"), "0", None, True])
    def test_invalid_threshold(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            Momentum(threshold=value)  # type: ignore[arg-type]
        assert str(info.value) == f"threshold: must be a number >= 0, got {value!r}"

    @pytest.mark.parametrize("value", [0, -0.1, float("nan"), float("inf"), "0.1", True])
    def test_invalid_scale(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            Momentum(scale=value)  # type: ignore[arg-type]
        assert str(info.value) == f"scale: must be a number > 0 or null, got {value!r}"

    def test_config_file_builds_the_defaults(self) -> None:
        assert_config_defaults("momentum", Momentum)

    @settings(max_examples=100, deadline=None)
    @given(close=price_panels(), params=momentum_params(), data=st.data())
    def test_rows_up_to_t_ignore_prices_after_t(
        self, close: np.ndarray, params: dict[str, object], data: st.DataObject
    ) -> None:
        strategy = Momentum(**params)  # type: ignore[arg-type]
        assert_causal(strategy, close, data)

    @settings(max_examples=100, deadline=None)
    @given(close=price_panels(), params=momentum_params())
    def test_signal_and_confidence_in_range(self, close: np.ndarray, params: dict[str, object]) -> None:
        frame = Momentum(**params).generate(panel(close))  # type: ignore[arg-type]
        assert_in_range(frame, close.shape)
