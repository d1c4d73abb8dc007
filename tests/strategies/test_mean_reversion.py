import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.core.errors import ConfigError
from framework.strategies import MeanReversion
from tests.strategies.properties import assert_causal, assert_config_defaults, assert_in_range, panel, price_panels


def random_walk(days: int = 400, tickers: int = 4, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 50.0 * np.cumprod(1.0 + rng.normal(0.0002, 0.02, (days, tickers)), axis=0)


def loop_mean_reversion(close: np.ndarray, window: int, entry_z: float, exit_z: float) -> tuple[np.ndarray, np.ndarray]:
    """The state machine one ticker and one bar at a time, z from the standard library."""
    days, tickers = close.shape
    signal = np.full((days, tickers), np.nan)
    confidence = np.zeros((days, tickers))
    for j in range(tickers):
        position = 0.0
        for t in range(window - 1, days):
            closes = close[t - window + 1 : t + 1, j].tolist()
            deviation = statistics.stdev(closes)
            z = 0.0 if deviation == 0 else (closes[-1] - statistics.mean(closes)) / deviation
            if z < -entry_z:
                position = 1.0
            elif z > entry_z:
                position = -1.0
            elif abs(z) < exit_z:
                position = 0.0
            signal[t, j] = position
            confidence[t, j] = min(1.0, abs(z) / entry_z) if position != 0.0 else 0.0
    return signal, confidence


@st.composite
def reversion_params(draw: st.DrawFn) -> dict[str, object]:
    exit_z = draw(st.floats(0.0, 2.0))
    entry_z = draw(st.floats(exit_z, 3.0).filter(lambda z: z > exit_z))
    return {"window": draw(st.integers(2, 40)), "entry_z": entry_z, "exit_z": exit_z}


class TestMeanReversion:
    @pytest.mark.parametrize(("window", "entry_z", "exit_z"), [(20, 2.0, 0.5), (10, 1.5, 0.0), (5, 1.0, 0.8)])
    def test_against_a_per_element_loop(self, window: int, entry_z: float, exit_z: float) -> None:
        close = random_walk()
        frame = MeanReversion(window=window, entry_z=entry_z, exit_z=exit_z).generate(panel(close))
        signal, confidence = loop_mean_reversion(close, window, entry_z, exit_z)
        np.testing.assert_array_equal(frame.signal, signal)
        np.testing.assert_allclose(frame.confidence, confidence, rtol=1e-7, atol=1e-9)
        ready = frame.signal[window - 1 :]
        assert (ready == 1.0).sum() > 20 and (ready == -1.0).sum() > 20
        # With exit_z = 0 a position is never closed: flat only before the first entry.
        assert (ready == 0.0).sum() > (20 if exit_z > 0 else 0)
        # Positions held inside the band (hysteresis) give confidences strictly between the bands.
        held = (frame.confidence > exit_z / entry_z) & (frame.confidence < 1.0)
        assert held.sum() > 10

    def test_by_hand(self) -> None:
        # window 3, entry 0.9, exit 0.4 on 1 2 3 2 1 1.5 2 2: z = -, -, 1, -0.577, -1, 0, 1, 0.577
        # -> short (1 > 0.9), hold short (0.4 <= 0.577 <= 0.9), long (-1 < -0.9), exit (0 < 0.4), short, hold.
        close = [1.0, 2.0, 3.0, 2.0, 1.0, 1.5, 2.0, 2.0]
        frame = MeanReversion(window=3, entry_z=0.9, exit_z=0.4).generate(panel(close))
        np.testing.assert_array_equal(frame.signal.ravel(), [np.nan, np.nan, -1.0, -1.0, 1.0, 0.0, -1.0, -1.0])
        held = (1 / np.sqrt(3)) / 0.9
        np.testing.assert_allclose(frame.confidence.ravel(), [0.0, 0.0, 1.0, held, 1.0, 0.0, 1.0, held])

    def test_hysteresis_holds_until_the_exit_band(self) -> None:
        # window 4, entry 1.4, exit 0.3 on a dip and a recovery; z from row 4: -1.5, -0.908, -0.5, 1.317, 1.446,
        # 1.376, 1.107. Long at -1.5, held while |z| >= 0.3, still held at +1.317 (z jumped over the exit band
        # without landing in it), reversed to short at 1.446 and held.
        close = [10.0, 10.0, 10.0, 10.0, 8.0, 7.9, 7.95, 8.1, 8.6, 9.5, 10.0]
        frame = MeanReversion(window=4, entry_z=1.4, exit_z=0.3).generate(panel(close))
        z = np.array(
            [0.0] * 4
            + [(close[t] - np.mean(close[t - 3 : t + 1])) / np.std(close[t - 3 : t + 1], ddof=1) for t in range(4, 11)]
        )
        np.testing.assert_allclose(z[4:], [-1.5, -0.908, -0.5, 1.317, 1.446, 1.376, 1.107], atol=5e-4)
        np.testing.assert_array_equal(
            frame.signal.ravel(), [np.nan, np.nan, np.nan, 0.0, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0]
        )
        expected = np.minimum(np.abs(z) / 1.4, 1.0)
        expected[:4] = 0.0
        np.testing.assert_allclose(frame.confidence.ravel(), expected, rtol=1e-9)

    def test_bands_are_strict(self) -> None:
        # window 3 on 2 3 9 15 21: z = 1.1446, then exactly 1 (equally spaced closes). With entry 1.1 the first
        # bar enters short; |z| = exit_z = 1.0 is not inside the exit band, so the position is held.
        frame = MeanReversion(window=3, entry_z=1.1, exit_z=1.0).generate(panel([2.0, 3.0, 9.0, 15.0, 21.0]))
        np.testing.assert_array_equal(frame.signal.ravel(), [np.nan, np.nan, -1.0, -1.0, -1.0])
        np.testing.assert_allclose(frame.confidence.ravel(), [0.0, 0.0, 1.0, 1 / 1.1, 1 / 1.1])
        # z = 1 exactly at entry_z = 1.0 does not enter either.
        frame = MeanReversion(window=3, entry_z=1.0, exit_z=0.5).generate(panel([1.0, 2.0, 3.0]))
        np.testing.assert_array_equal(frame.signal.ravel(), [np.nan, np.nan, 0.0])

    def test_flat_prices_are_on_the_mean(self) -> None:
        # A flat window has no z-score: it reads as z = 0, which exits any position.
        close = np.column_stack([np.full(12, 5.0), [1.0, 2.0, 3.0, 9.0] + [9.0] * 8])
        with np.errstate(all="raise"):
            frame = MeanReversion(window=3, entry_z=1.0, exit_z=0.5).generate(panel(close))
        np.testing.assert_array_equal(frame.signal[2:, 0], 0.0)
        # column 1: z(1, 2, 3) = 1 (no entry at 1.0), z(2, 3, 9) = 1.1 -> short, z(3, 9, 9) = 0.577 -> hold,
        # then flat windows (9, 9, 9) -> z 0 -> exit.
        np.testing.assert_array_equal(frame.signal[2:, 1], [0.0, -1.0, -1.0] + [0.0] * 7)
        np.testing.assert_array_equal(frame.confidence[:, 0], 0.0)
        np.testing.assert_array_equal(frame.confidence[6:, 1], 0.0)

    def test_warm_up_rows_are_nan_with_zero_confidence(self) -> None:
        frame = MeanReversion(window=20).generate(panel(random_walk(days=80, tickers=3)))
        assert frame.shape == (80, 3)
        assert np.isnan(frame.signal[:19]).all() and not np.isnan(frame.signal[19:]).any()
        assert (frame.confidence[:19] == 0.0).all()

    @pytest.mark.parametrize("days", [1, 5, 19])
    def test_shorter_data_than_window_is_all_warm_up(self, days: int) -> None:
        frame = MeanReversion(window=20).generate(panel(random_walk(days=days, tickers=2)))
        assert frame.shape == (days, 2)
        assert np.isnan(frame.signal).all() and (frame.confidence == 0.0).all()

    def test_params_are_stored_unchanged(self) -> None:
        strategy = MeanReversion(window=np.int64(10), entry_z=3, exit_z=0)  # type: ignore[arg-type]
        assert strategy.get_params() == {"window": 10, "entry_z": 3, "exit_z": 0}
        assert strategy.fit(panel(random_walk(days=10))) is strategy

    @pytest.mark.parametrize("value", [1, 0, -3, 2.5, "20", None, True])
    def test_invalid_window(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            MeanReversion(window=value)  # type: ignore[arg-type]
        assert str(info.value) == f"window: must be an integer >= 2, got {value!r}"

    @pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf"), "0.5", None, True])
    def test_invalid_exit_z(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            MeanReversion(exit_z=value)  # type: ignore[arg-type]
        assert str(info.value) == f"exit_z: must be a number >= 0, got {value!r}"

    @pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), "2", None, True])
    def test_invalid_entry_z(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            MeanReversion(entry_z=value, exit_z=0.0)  # type: ignore[arg-type]
        assert str(info.value) == f"entry_z: must be a finite number > 0, got {value!r}"

    @pytest.mark.parametrize(("entry_z", "exit_z"), [(1.0, 1.0), (1.0, 1.5)])
    def test_exit_below_entry(self, entry_z: float, exit_z: float) -> None:
        with pytest.raises(ConfigError) as info:
            MeanReversion(entry_z=entry_z, exit_z=exit_z)
        assert str(info.value) == f"exit_z: must be smaller than entry_z, got exit_z={exit_z} >= entry_z={entry_z}"

    def test_config_file_builds_the_defaults(self) -> None:
        assert_config_defaults("mean_reversion", MeanReversion)

    @settings(max_examples=100, deadline=None)
    @given(close=price_panels(), params=reversion_params(), data=st.data())
    def test_rows_up_to_t_ignore_prices_after_t(
        self, close: np.ndarray, params: dict[str, object], data: st.DataObject
    ) -> None:
        strategy = MeanReversion(**params)  # type: ignore[arg-type]
        assert_causal(strategy, close, data)

    @settings(max_examples=100, deadline=None)
    @given(close=price_panels(), params=reversion_params())
    def test_signal_and_confidence_in_range(self, close: np.ndarray, params: dict[str, object]) -> None:
        frame = MeanReversion(**params).generate(panel(close))  # type: ignore[arg-type]
        assert_in_range(frame, close.shape)
        assert set(np.unique(frame.signal[~np.isnan(frame.signal)])) <= {-1.0, 0.0, 1.0}
        assert (frame.confidence[frame.signal == 0.0] == 0.0).all()
