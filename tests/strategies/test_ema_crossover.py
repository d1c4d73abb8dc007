import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.core.errors import ConfigError
from framework.strategies import EMACrossover
from tests.strategies.properties import assert_causal, assert_config_defaults, assert_in_range, panel, price_panels


def random_walk(days: int = 500, tickers: int = 5, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 50.0 * np.cumprod(1.0 + rng.normal(0.0002, 0.02, (days, tickers)), axis=0)


def pandas_seeded_ema(close: np.ndarray, span: int) -> np.ndarray:
    """ewm(span, adjust=False) whose first value is the mean of the first `span` closes (indicators.ema's seed)."""
    frame = pd.DataFrame(close.copy())
    if span > len(frame):
        return np.full(close.shape, np.nan)
    seed = frame.iloc[:span].mean()
    frame.iloc[: span - 1] = np.nan
    frame.iloc[span - 1] = seed
    return frame.ewm(span=span, adjust=False).mean().to_numpy()


def pandas_crossover(close: np.ndarray, short: int, long: int, tolerance: float) -> np.ndarray:
    fast = pandas_seeded_ema(close, short)
    slow = pandas_seeded_ema(close, long)
    signal = np.zeros(close.shape)
    signal[fast > slow * (1 + tolerance)] = 1.0
    signal[fast < slow * (1 - tolerance)] = -1.0
    signal[np.isnan(slow)] = np.nan
    return signal


class TestEMACrossover:
    @pytest.mark.parametrize(("short", "long"), [(1, 2), (5, 20), (12, 26), (20, 100)])
    def test_signal_against_pandas_ewm(self, short: int, long: int) -> None:
        close = random_walk()
        frame = EMACrossover(short_window=short, long_window=long).generate(panel(close))
        np.testing.assert_array_equal(frame.signal, pandas_crossover(close, short, long, 1e-9))
        assert (frame.signal == 1.0).sum() > 50 and (frame.signal == -1.0).sum() > 50

    def test_with_a_wide_tolerance_against_pandas(self) -> None:
        close = random_walk(seed=2)
        frame = EMACrossover(short_window=5, long_window=20, tie_tolerance=0.01).generate(panel(close))
        np.testing.assert_array_equal(frame.signal, pandas_crossover(close, 5, 20, 0.01))
        assert (frame.signal == 0.0).sum() > 20

    def test_differs_from_the_simple_average_crossover(self) -> None:
        # Guards against computing SMAs: on this walk the two crossovers disagree on some bars.
        from framework.strategies import MACrossover

        close = random_walk(seed=4)
        ema_signal = EMACrossover(short_window=5, long_window=20).generate(panel(close)).signal
        sma_signal = MACrossover(short_window=5, long_window=20).generate(panel(close)).signal
        assert (ema_signal[19:] != sma_signal[19:]).sum() > 10

    def test_by_hand(self) -> None:
        # short=2 (alpha 2/3), long=3 (alpha 1/2) on 1 2 6 7 1:
        # fast  .  1.5  4.5   6.167  2.722    (seed mean(1, 2) = 1.5; 1.5 + 2/3 (6 - 1.5) = 4.5 ...)
        # slow  .  .    3     5      3        (seed mean(1, 2, 6) = 3; 3 + 1/2 (7 - 3) = 5; 5 + 1/2 (1 - 5) = 3)
        frame = EMACrossover(short_window=2, long_window=3).generate(panel([1.0, 2.0, 6.0, 7.0, 1.0]))
        np.testing.assert_array_equal(frame.signal.ravel(), [np.nan, np.nan, 1.0, 1.0, -1.0])
        np.testing.assert_array_equal(frame.confidence.ravel(), [0.0, 0.0, 1.0, 1.0, 1.0])

    def test_by_hand_where_the_seed_matters(self) -> None:
        # short=1, long=3 on 1 9 4 4.5: slow seeded by mean(1, 9, 4) = 4.667, then 4.667 + (4.5 - 4.667) / 2 = 4.583,
        # so 4 < 4.667 and 4.5 < 4.583. Starting from the first close (pandas' default) would give slow = 4.5 on
        # the last bar, a tie.
        frame = EMACrossover(short_window=1, long_window=3).generate(panel([1.0, 9.0, 4.0, 4.5]))
        np.testing.assert_array_equal(frame.signal.ravel(), [np.nan, np.nan, -1.0, -1.0])

    def test_warm_up_rows_are_nan_with_zero_confidence(self) -> None:
        frame = EMACrossover(short_window=7, long_window=30).generate(panel(random_walk(days=80, tickers=3)))
        assert frame.shape == (80, 3)
        assert np.isnan(frame.signal[:29]).all() and not np.isnan(frame.signal[29:]).any()
        assert (frame.confidence[:29] == 0.0).all() and (frame.confidence[29:] == 1.0).all()
        assert set(np.unique(frame.signal[29:])) <= {-1.0, 0.0, 1.0}

    def test_shorter_data_than_long_window_is_all_warm_up(self) -> None:
        frame = EMACrossover(short_window=2, long_window=10).generate(panel(random_walk(days=9, tickers=2)))
        assert np.isnan(frame.signal).all() and (frame.confidence == 0.0).all()

    def test_flat_prices_are_a_tie(self) -> None:
        close = np.tile([0.1 + 0.2, 1 / 7, 123.456], (60, 1))
        frame = EMACrossover(short_window=4, long_window=9).generate(panel(close))
        np.testing.assert_array_equal(frame.signal[8:], 0.0)

    def test_params_are_stored_unchanged(self) -> None:
        strategy = EMACrossover(short_window=np.int64(3), long_window=8, tie_tolerance=0)  # type: ignore[arg-type]
        assert strategy.get_params() == {"short_window": 3, "long_window": 8, "tie_tolerance": 0}
        assert strategy.fit(panel(random_walk(days=10))) is strategy

    @pytest.mark.parametrize("key", ["short_window", "long_window"])
    @pytest.mark.parametrize("value", [0, -3, 2.5, "5", None, True])
    def test_invalid_window_names_key_and_value(self, key: str, value: object) -> None:
        params = {"short_window": 2, "long_window": 400, key: value}
        with pytest.raises(ConfigError) as info:
            EMACrossover(**params)  # type: ignore[arg-type]
        assert str(info.value) == f"{key}: must be a positive integer, got {value!r}"

    @pytest.mark.parametrize(("short", "long"), [(5, 5), (20, 10)])
    def test_short_not_below_long(self, short: int, long: int) -> None:
        with pytest.raises(ConfigError) as info:
            EMACrossover(short_window=short, long_window=long)
        assert str(info.value) == (
            f"short_window: must be smaller than long_window, got short_window={short} >= long_window={long}"
        )

    @pytest.mark.parametrize("value", [-1e-9, float("nan"), float("inf"), "0.1", None, True])
    def test_invalid_tolerance(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            EMACrossover(short_window=2, long_window=3, tie_tolerance=value)  # type: ignore[arg-type]
        assert str(info.value) == f"tie_tolerance: must be a number >= 0, got {value!r}"

    def test_config_file_builds_the_defaults(self) -> None:
        assert_config_defaults("ema_crossover", EMACrossover)

    @settings(max_examples=100, deadline=None)
    @given(close=price_panels(), windows=st.tuples(st.integers(1, 8), st.integers(1, 25)), data=st.data())
    def test_rows_up_to_t_ignore_prices_after_t(
        self, close: np.ndarray, windows: tuple[int, int], data: st.DataObject
    ) -> None:
        short, extra = windows
        strategy = EMACrossover(short_window=short, long_window=short + extra)
        assert_causal(strategy, close, data)

    @settings(max_examples=100, deadline=None)
    @given(close=price_panels(), short=st.integers(1, 10), extra=st.integers(1, 40))
    def test_signal_and_confidence_in_range(self, close: np.ndarray, short: int, extra: int) -> None:
        frame = EMACrossover(short_window=short, long_window=short + extra).generate(panel(close))
        assert_in_range(frame, close.shape)
