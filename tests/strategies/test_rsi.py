import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.aggregation.base import numeric_signal
from framework.core.errors import ConfigError
from framework.strategies import RSI
from tests.strategies.properties import assert_causal, assert_config_defaults, assert_in_range, panel, price_panels


def random_walk(days: int = 500, tickers: int = 5, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 50.0 * np.cumprod(1.0 + rng.normal(0.0002, 0.02, (days, tickers)), axis=0)


def wilder_rsi_loop(prices: list[float], window: int) -> list[float]:
    """Wilder's RSI one element at a time, in his own form: avg = (avg * (window - 1) + current) / window."""
    out = [math.nan] * len(prices)
    if len(prices) <= window:
        return out
    gains = [max(prices[i] - prices[i - 1], 0.0) for i in range(1, len(prices))]
    losses = [max(prices[i - 1] - prices[i], 0.0) for i in range(1, len(prices))]
    avg_gain = sum(gains[:window]) / window
    avg_loss = sum(losses[:window]) / window

    def value(gain: float, loss: float) -> float:
        if loss == 0.0:
            return 50.0 if gain == 0.0 else 100.0
        return 100.0 - 100.0 / (1.0 + gain / loss)

    out[window] = value(avg_gain, avg_loss)
    for i in range(window, len(gains)):
        avg_gain = (avg_gain * (window - 1) + gains[i]) / window
        avg_loss = (avg_loss * (window - 1) + losses[i]) / window
        out[i + 1] = value(avg_gain, avg_loss)
    return out


def loop_signal(close: np.ndarray, window: int, oversold: float, overbought: float) -> np.ndarray:
    signal = np.full(close.shape, np.nan)
    for j in range(close.shape[1]):
        for t, r in enumerate(wilder_rsi_loop(close[:, j].tolist(), window)):
            if math.isnan(r):
                continue
            if r < oversold:
                signal[t, j] = (oversold - r) / oversold
            elif r > overbought:
                signal[t, j] = -(r - overbought) / (100.0 - overbought)
            else:
                signal[t, j] = 0.0
    return signal


@st.composite
def rsi_params(draw: st.DrawFn) -> dict[str, object]:
    oversold = draw(st.floats(0.0, 99.0))
    overbought = draw(st.floats(oversold, 100.0).filter(lambda level: level > oversold))
    return {"window": draw(st.integers(1, 30)), "oversold": oversold, "overbought": overbought}


class TestRSI:
    @pytest.mark.parametrize(("window", "oversold", "overbought"), [(14, 30.0, 70.0), (2, 10.0, 90.0), (5, 45, 55)])
    def test_signal_against_a_per_element_loop(self, window: int, oversold: float, overbought: float) -> None:
        close = random_walk(days=300, tickers=3)
        frame = RSI(window=window, oversold=oversold, overbought=overbought).generate(panel(close))
        expected = loop_signal(close, window, oversold, overbought)
        np.testing.assert_allclose(frame.signal, expected, rtol=1e-9, atol=1e-12, equal_nan=True)
        np.testing.assert_allclose(frame.confidence, np.nan_to_num(np.abs(expected)), rtol=1e-9, atol=1e-12)
        # The walk goes past both levels: positive and negative strengths are compared.
        assert (frame.signal > 0.05).sum() > 10 and (frame.signal < -0.05).sum() > 10

    def test_by_hand(self) -> None:
        # window 2 on 1 2 1 2 3 (changes +1 -1 +1 +1): gain/loss seeded 0.5/0.5 -> RSI 50; then 0.75/0.25 -> 75;
        # then 0.875/0.125 -> 87.5. On 3 2 3 2 1 the mirror: 50, 25, 12.5.
        close = np.array([[1.0, 3.0], [2.0, 2.0], [1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
        frame = RSI(window=2, oversold=30.0, overbought=70.0).generate(panel(close))
        # 75 -> -(75 - 70) / 30 = -1/6; 87.5 -> -17.5 / 30; 25 -> (30 - 25) / 30 = 1/6; 12.5 -> 17.5 / 30
        expected = np.array([[np.nan, np.nan], [np.nan, np.nan], [0.0, 0.0], [-1 / 6, 1 / 6], [-17.5 / 30, 17.5 / 30]])
        np.testing.assert_allclose(frame.signal, expected, rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(frame.confidence, np.nan_to_num(np.abs(expected)), rtol=1e-12)

    def test_extremes_give_full_signals(self) -> None:
        # Only rises: RSI 100 -> -1; only falls: RSI 0 -> +1; no move: RSI 50 -> 0.
        close = np.column_stack([np.arange(1.0, 21.0), np.arange(20.0, 0.0, -1.0), np.full(20, 7.0)])
        frame = RSI(window=5).generate(panel(close))
        np.testing.assert_array_equal(frame.signal[5:], np.tile([-1.0, 1.0, 0.0], (15, 1)))
        np.testing.assert_array_equal(frame.confidence[5:], np.tile([1.0, 1.0, 0.0], (15, 1)))

    @pytest.mark.parametrize("oversold", [0.0, 5e-324])
    def test_levels_at_the_bounds_never_fire_and_do_not_warn(self, oversold: float) -> None:
        # RSI 100 is not above overbought=100; with the smallest positive oversold level the discarded
        # (level - rsi) / level must not overflow.
        close = np.column_stack([np.arange(1.0, 21.0), 10.0 + np.arange(20) % 2])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            frame = RSI(window=3, oversold=oversold, overbought=100.0).generate(panel(close))
        np.testing.assert_array_equal(frame.signal[3:], 0.0)
        np.testing.assert_array_equal(frame.confidence, 0.0)

    def test_warm_up_rows_are_nan_with_zero_confidence(self) -> None:
        frame = RSI(window=14).generate(panel(random_walk(days=60, tickers=3)))
        assert frame.shape == (60, 3)
        assert np.isnan(frame.signal[:14]).all() and not np.isnan(frame.signal[14:]).any()
        assert (frame.confidence[:14] == 0.0).all()

    def test_shorter_data_than_window_is_all_warm_up(self) -> None:
        frame = RSI(window=14).generate(panel(random_walk(days=14, tickers=2)))
        assert np.isnan(frame.signal).all() and (frame.confidence == 0.0).all()

    def test_labels(self) -> None:
        close = random_walk(days=200, tickers=3, seed=8)
        numbers = RSI(window=5).generate(panel(close))
        labelled = RSI(window=5, labels=True).generate(panel(close))
        assert labelled.signal.dtype == object
        assert all(label is None for label in labelled.signal[:5].ravel())
        expected = np.where(numbers.signal[5:] > 0, "BUY", np.where(numbers.signal[5:] < 0, "SELL", "HOLD"))
        np.testing.assert_array_equal(labelled.signal[5:].astype(str), expected)
        assert {"BUY", "SELL", "HOLD"} <= set(labelled.signal[5:].ravel())
        np.testing.assert_array_equal(labelled.confidence, numbers.confidence)
        # The aggregators read labels as the sign of the numeric signal.
        np.testing.assert_array_equal(numeric_signal(labelled.signal), np.sign(numbers.signal))

    def test_labels_by_hand(self) -> None:
        close = np.array([[1.0, 3.0], [2.0, 2.0], [1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
        frame = RSI(window=2, oversold=30.0, overbought=70.0, labels=True).generate(panel(close))
        assert frame.signal.tolist() == [
            [None, None],
            [None, None],
            ["HOLD", "HOLD"],
            ["SELL", "BUY"],
            ["SELL", "BUY"],
        ]

    def test_params_are_stored_unchanged(self) -> None:
        strategy = RSI(window=np.int64(9), oversold=20, overbought=np.float64(80.0), labels=np.bool_(True))  # type: ignore[arg-type]
        assert strategy.get_params() == {"window": 9, "oversold": 20, "overbought": 80.0, "labels": True}
        assert strategy.fit(panel(random_walk(days=10))) is strategy

    @pytest.mark.parametrize("value", [0, -3, 2.5, "14", None, True])
    def test_invalid_window(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            RSI(window=value)  # type: ignore[arg-type]
        assert str(info.value) == f"window: must be a positive integer, got {value!r}"

    @pytest.mark.parametrize("value", [-0.1, 100.5, float("nan"), "30", None, False])
    def test_invalid_oversold(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            RSI(oversold=value)  # type: ignore[arg-type]
        assert str(info.value) == f"oversold: must be a number in [0, 100), got {value!r}"

    @pytest.mark.parametrize("value", [-1.0, 101.0, float("inf"), "70", None])
    def test_invalid_overbought(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            RSI(overbought=value)  # type: ignore[arg-type]
        assert str(info.value) == f"overbought: must be a number in (0, 100], got {value!r}"

    @pytest.mark.parametrize(("oversold", "overbought"), [(50.0, 50.0), (70.0, 30.0), (100.0, 100.0), (0, 0)])
    def test_oversold_not_below_overbought(self, oversold: float, overbought: float) -> None:
        with pytest.raises(ConfigError) as info:
            RSI(oversold=oversold, overbought=overbought)
        assert str(info.value) == (
            f"oversold: must be smaller than overbought, got oversold={oversold} >= overbought={overbought}"
        )

    @pytest.mark.parametrize("value", ["yes", 1, None])
    def test_invalid_labels(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            RSI(labels=value)  # type: ignore[arg-type]
        assert str(info.value) == f"labels: must be true or false, got {value!r}"

    def test_config_file_builds_the_defaults(self) -> None:
        assert_config_defaults("rsi", RSI)

    @settings(max_examples=100, deadline=None)
    @given(close=price_panels(), params=rsi_params(), labels=st.booleans(), data=st.data())
    def test_rows_up_to_t_ignore_prices_after_t(
        self, close: np.ndarray, params: dict[str, object], labels: bool, data: st.DataObject
    ) -> None:
        strategy = RSI(**params, labels=labels)  # type: ignore[arg-type]
        assert_causal(strategy, close, data)

    @settings(max_examples=100, deadline=None)
    @given(close=price_panels(), params=rsi_params())
    def test_signal_and_confidence_in_range(self, close: np.ndarray, params: dict[str, object]) -> None:
        frame = RSI(**params).generate(panel(close))  # type: ignore[arg-type]
        assert_in_range(frame, close.shape)
        np.testing.assert_array_equal(frame.confidence, np.nan_to_num(np.abs(frame.signal)))
