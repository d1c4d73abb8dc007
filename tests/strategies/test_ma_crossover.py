import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.core.errors import ConfigError
from framework.strategies import MACrossover
from tests.strategies.properties import assert_causal, panel, price_arrays


def random_walk(days: int = 500, tickers: int = 5, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 50.0 * np.cumprod(1.0 + rng.normal(0.0002, 0.02, (days, tickers)), axis=0)


def pandas_crossover(close: np.ndarray, short: int, long: int, tolerance: float) -> np.ndarray:
    frame = pd.DataFrame(close)
    fast = frame.rolling(short).mean()
    slow = frame.rolling(long).mean()
    signal = pd.DataFrame(0.0, index=frame.index, columns=frame.columns)
    signal[fast > slow * (1 + tolerance)] = 1.0
    signal[fast < slow * (1 - tolerance)] = -1.0
    signal[slow.isna()] = np.nan
    return signal.to_numpy()


class TestMACrossover:
    @pytest.mark.parametrize(("short", "long"), [(1, 2), (5, 20), (10, 50), (20, 100)])
    def test_signal_against_pandas_on_a_random_walk(self, short: int, long: int) -> None:
        close = random_walk()
        frame = MACrossover(short_window=short, long_window=long).generate(panel(close))
        expected = pandas_crossover(close, short, long, 1e-9)
        np.testing.assert_array_equal(frame.signal, expected)
        # The walk crosses both ways: the test compares real +1 and -1 values.
        assert (frame.signal == 1.0).sum() > 50 and (frame.signal == -1.0).sum() > 50

    def test_with_a_wide_tolerance_against_pandas(self) -> None:
        close = random_walk(seed=2)
        frame = MACrossover(short_window=5, long_window=20, tie_tolerance=0.01).generate(panel(close))
        expected = pandas_crossover(close, 5, 20, 0.01)
        np.testing.assert_array_equal(frame.signal, expected)
        assert (frame.signal == 0.0).sum() > 20  # the band around equality is exercised

    def test_by_hand(self) -> None:
        # short=2, long=3 on 1 2 3 2 1 1 1:
        # fast  .  1.5 2.5 2.5 1.5 1   1
        # slow  .  .   2   2.33 2  1.33 1
        close = np.array([1.0, 2.0, 3.0, 2.0, 1.0, 1.0, 1.0])
        frame = MACrossover(short_window=2, long_window=3).generate(panel(close))
        np.testing.assert_array_equal(frame.signal.ravel(), [np.nan, np.nan, 1.0, 1.0, -1.0, -1.0, 0.0])
        np.testing.assert_array_equal(frame.confidence.ravel(), [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0])

    def test_warm_up_rows_are_nan_with_zero_confidence(self) -> None:
        close = random_walk(days=80, tickers=3)
        frame = MACrossover(short_window=7, long_window=30).generate(panel(close))
        assert frame.shape == (80, 3)
        assert np.isnan(frame.signal[:29]).all()
        assert not np.isnan(frame.signal[29:]).any()
        assert (frame.confidence[:29] == 0.0).all()
        assert (frame.confidence[29:] == 1.0).all()
        assert set(np.unique(frame.signal[29:])) <= {-1.0, 0.0, 1.0}

    def test_shorter_data_than_long_window_is_all_warm_up(self) -> None:
        frame = MACrossover(short_window=2, long_window=10).generate(panel(random_walk(days=9, tickers=2)))
        assert np.isnan(frame.signal).all() and (frame.confidence == 0.0).all()

    def test_flat_prices_after_a_walk_are_a_tie(self) -> None:
        # After a walk, the cumulative-sum averages of a flat stretch differ by rounding only.
        walk = random_walk(days=400, tickers=4, seed=3)
        flat = np.tile(walk[-1] * np.array([1.1, 0.3, 7.7, 1 / 3]), (60, 1))
        close = np.vstack([walk, flat])
        frame = MACrossover(short_window=3, long_window=40).generate(panel(close))
        np.testing.assert_array_equal(frame.signal[-20:], 0.0)

    def test_flat_prices_from_the_start_are_a_tie(self) -> None:
        close = np.tile([0.1 + 0.2, 1 / 7, 123.456], (30, 1))
        frame = MACrossover(short_window=4, long_window=9).generate(panel(close))
        np.testing.assert_array_equal(frame.signal[8:], 0.0)

    def test_flat_stretch_is_a_tie_even_without_tolerance(self) -> None:
        # Averages of a flat stretch are computed exactly (compensated sums), so they compare equal.
        walk = random_walk(days=400, tickers=4, seed=3)
        flat = np.tile(walk[-1] * np.array([1.1, 0.3, 7.7, 1 / 3]), (60, 1))
        close = np.vstack([walk, flat])
        frame = MACrossover(short_window=3, long_window=40, tie_tolerance=0.0).generate(panel(close))
        assert (frame.signal[-20:] == 0.0).all()

    def test_params_are_stored_unchanged(self) -> None:
        strategy = MACrossover(short_window=np.int64(3), long_window=8, tie_tolerance=0)
        assert strategy.get_params() == {"short_window": 3, "long_window": 8, "tie_tolerance": 0}
        assert strategy.fit(panel(random_walk(days=10))) is strategy

    @pytest.mark.parametrize("key", ["short_window", "long_window"])
    @pytest.mark.parametrize("value", [0, -3, 2.5, "5", None, True])
    def test_invalid_window_names_key_and_value(self, key: str, value: object) -> None:
        params = {"short_window": 2, "long_window": 400, key: value}
        with pytest.raises(ConfigError) as info:
            MACrossover(**params)  # type: ignore[arg-type]
        assert str(info.value) == f"{key}: must be a positive integer, got {value!r}"

    @pytest.mark.parametrize(("short", "long"), [(5, 5), (20, 10)])
    def test_short_not_below_long(self, short: int, long: int) -> None:
        with pytest.raises(ConfigError) as info:
            MACrossover(short_window=short, long_window=long)
        message = str(info.value)
        assert message.startswith("short_window: must be smaller than long_window")
        assert f"short_window={short}" in message and f"long_window={long}" in message

    @pytest.mark.parametrize("value", [-1e-9, -0.5, float("nan")])
    def test_negative_tolerance(self, value: float) -> None:
        with pytest.raises(ConfigError) as info:
            MACrossover(short_window=2, long_window=3, tie_tolerance=value)
        assert str(info.value) == f"tie_tolerance: must be a number >= 0, got {value!r}"

    @pytest.mark.parametrize("value", ["0.1", None])
    def test_non_numeric_tolerance(self, value: object) -> None:
        with pytest.raises(ConfigError, match="^tie_tolerance: "):
            MACrossover(short_window=2, long_window=3, tie_tolerance=value)  # type: ignore[arg-type]

    @settings(max_examples=60, deadline=None)
    @given(
        close=price_arrays(40),
        windows=st.tuples(st.integers(1, 6), st.integers(1, 10)),
        data=st.data(),
    )
    def test_rows_up_to_t_ignore_prices_after_t(
        self, close: np.ndarray, windows: tuple[int, int], data: st.DataObject
    ) -> None:
        short, extra = windows
        strategy = MACrossover(short_window=short, long_window=short + extra)
        assert_causal(strategy, close, data)
