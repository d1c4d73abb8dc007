import numpy as np
import pandas as pd
import pytest

from framework.core.errors import ConfigError
from framework.stats.rolling import ema, rolling_std, rolling_sum, sma


def random_panel(days: int = 400, tickers: int = 4, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.cumprod(1.0 + rng.normal(0.0003, 0.015, (days, tickers)), axis=0)


def pandas_ema(values: np.ndarray, window: int) -> np.ndarray:
    """pandas ewm(span=window, adjust=False) started from the mean of the first window (the docstring's seed)."""
    frame = pd.DataFrame(values.copy())
    seed = frame.iloc[:window].mean()
    frame.iloc[: window - 1] = np.nan
    frame.iloc[window - 1] = seed
    return frame.ewm(span=window, adjust=False).mean().to_numpy()


BAD_WINDOWS = [0, -3, 2.5, 3.0, "3", None, True]


class TestRollingSum:
    @pytest.mark.parametrize("window", [1, 2, 7, 30])
    def test_against_pandas(self, window: int) -> None:
        values = random_panel()
        expected = pd.DataFrame(values).rolling(window).sum().to_numpy()
        np.testing.assert_allclose(rolling_sum(values, window), expected, rtol=1e-11, equal_nan=True)

    def test_by_hand_one_dimensional(self) -> None:
        np.testing.assert_array_equal(rolling_sum(np.array([1.0, 2.0, 3.0, 4.0]), 3), [np.nan, np.nan, 6.0, 9.0])

    def test_window_longer_than_data_is_all_nan(self) -> None:
        out = rolling_sum(np.ones((3, 2)), 4)
        assert out.shape == (3, 2) and np.isnan(out).all()

    def test_window_equal_to_length(self) -> None:
        np.testing.assert_array_equal(rolling_sum(np.array([1.0, 2.0, 3.0]), 3), [np.nan, np.nan, 6.0])

    def test_accepts_numpy_integer_window(self) -> None:
        np.testing.assert_array_equal(rolling_sum(np.array([1.0, 2.0]), np.int64(1)), [1.0, 2.0])

    @pytest.mark.parametrize("window", BAD_WINDOWS)
    def test_invalid_window(self, window: object) -> None:
        with pytest.raises(ConfigError, match=r"^window: must be a positive integer, got "):
            rolling_sum(np.ones(5), window)  # type: ignore[arg-type]


class TestSMA:
    @pytest.mark.parametrize("window", [1, 5, 20, 50])
    def test_against_pandas(self, window: int) -> None:
        values = random_panel()
        expected = pd.DataFrame(values).rolling(window).mean().to_numpy()
        out = sma(values, window)
        np.testing.assert_allclose(out, expected, rtol=1e-12, equal_nan=True)
        assert np.isnan(out[: window - 1]).all() and not np.isnan(out[window - 1 :]).any()

    def test_by_hand(self) -> None:
        np.testing.assert_allclose(sma(np.array([2.0, 4.0, 9.0, 1.0]), 2), [np.nan, 3.0, 6.5, 5.0])

    def test_causal_prefix_gives_prefix(self) -> None:
        values = random_panel(days=120)
        full = sma(values, 10)
        np.testing.assert_array_equal(sma(values[:60], 10), full[:60])

    @pytest.mark.parametrize("window", BAD_WINDOWS)
    def test_invalid_window(self, window: object) -> None:
        with pytest.raises(ConfigError, match=r"^window: "):
            sma(np.ones(5), window)  # type: ignore[arg-type]


class TestEMA:
    @pytest.mark.parametrize("window", [1, 3, 12, 26])
    def test_against_pandas_ewm_seeded_by_first_window_mean(self, window: int) -> None:
        values = random_panel()
        out = ema(values, window)
        np.testing.assert_allclose(out, pandas_ema(values, window), rtol=1e-12, equal_nan=True)
        assert np.isnan(out[: window - 1]).all() and not np.isnan(out[window - 1 :]).any()

    def test_by_hand(self) -> None:
        # window 3: alpha = 0.5; seed mean(1, 2, 6) = 3; then 3 + 0.5 (7 - 3) = 5; 5 + 0.5 (1 - 5) = 3
        np.testing.assert_allclose(ema(np.array([1.0, 2.0, 6.0, 7.0, 1.0]), 3), [np.nan, np.nan, 3.0, 5.0, 3.0])

    def test_window_one_is_the_values(self) -> None:
        values = random_panel(days=20)
        np.testing.assert_allclose(ema(values, 1), values)

    def test_window_longer_than_data_is_all_nan(self) -> None:
        assert np.isnan(ema(np.ones((4, 2)), 5)).all()

    @pytest.mark.parametrize("window", BAD_WINDOWS)
    def test_invalid_window(self, window: object) -> None:
        with pytest.raises(ConfigError, match=r"^window: must be a positive integer"):
            ema(np.ones(5), window)  # type: ignore[arg-type]


class TestRollingStd:
    @pytest.mark.parametrize(("window", "ddof"), [(5, 1), (10, 1), (21, 1), (10, 0)])
    def test_against_pandas(self, window: int, ddof: int) -> None:
        values = random_panel(days=600)
        expected = pd.DataFrame(values).rolling(window).std(ddof=ddof).to_numpy()
        out = rolling_std(values, window, ddof=ddof)
        np.testing.assert_allclose(out, expected, rtol=1e-7, atol=1e-9, equal_nan=True)
        assert np.isnan(out[: window - 1]).all() and not np.isnan(out[window - 1 :]).any()

    def test_returns_against_pandas(self) -> None:
        values = np.diff(np.log(random_panel(days=800)), axis=0)
        expected = pd.DataFrame(values).rolling(63).std().to_numpy()
        np.testing.assert_allclose(rolling_std(values, 63), expected, rtol=1e-9, equal_nan=True)

    def test_by_hand(self) -> None:
        # sample std of (1, 3) is sqrt(2), of (3, 7) is sqrt(8)
        np.testing.assert_allclose(rolling_std(np.array([1.0, 3.0, 7.0]), 2), [np.nan, np.sqrt(2), np.sqrt(8)])

    def test_high_price_level_does_not_lose_precision(self) -> None:
        rng = np.random.default_rng(1)
        values = 1e6 + rng.normal(0.0, 1.0, 300)
        expected = pd.Series(values).rolling(20).std().to_numpy()
        np.testing.assert_allclose(rolling_std(values, 20), expected, rtol=1e-6, equal_nan=True)

    def test_flat_series_has_zero_std(self) -> None:
        out = rolling_std(np.full(30, 42.5), 5)
        np.testing.assert_array_equal(out[4:], 0.0)

    def test_flat_window_after_a_long_walk_has_zero_std(self) -> None:
        rng = np.random.default_rng(0)
        walk = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, 3000)))
        values = np.concatenate([walk, np.full(40, 137.3)])
        out = rolling_std(values, 20)
        np.testing.assert_allclose(out[-5:], 0.0, atol=1e-9)

    @pytest.mark.parametrize(("window", "ddof"), [(1, 0), (2, 1)])
    def test_short_windows_against_pandas(self, window: int, ddof: int) -> None:
        values = random_panel(days=600)
        expected = pd.DataFrame(values).rolling(window).std(ddof=ddof).to_numpy()
        np.testing.assert_allclose(
            rolling_std(values, window, ddof=ddof), expected, rtol=1e-7, atol=1e-9, equal_nan=True
        )

    @pytest.mark.parametrize("window", BAD_WINDOWS)
    def test_invalid_window(self, window: object) -> None:
        with pytest.raises(ConfigError, match=r"^window: "):
            rolling_std(np.ones(5), window)  # type: ignore[arg-type]

    @pytest.mark.parametrize(("window", "ddof"), [(1, 1), (2, 2)])
    def test_window_must_exceed_ddof(self, window: int, ddof: int) -> None:
        with pytest.raises(ConfigError, match=rf"^window: must exceed ddof={ddof}, got {window}"):
            rolling_std(np.ones(5), window, ddof=ddof)


class TestCrossRank:
    def test_against_pandas_rank_per_row(self) -> None:
        import pandas as pd

        from framework.stats.rolling import cross_rank

        rng = np.random.default_rng(4)
        values = np.round(rng.normal(size=(50, 7)), 1)  # rounding makes ties
        values[rng.random(values.shape) < 0.15] = np.nan
        frame = pd.DataFrame(values)
        counts = frame.notna().sum(axis=1).to_numpy()[:, None]
        expected = (frame.rank(axis=1, method="average").to_numpy() - 1) / np.where(counts > 1, counts - 1, np.nan)
        expected = np.where(counts == 1, np.where(np.isnan(values), np.nan, 0.5), expected)
        np.testing.assert_allclose(cross_rank(values), expected, equal_nan=True)

    def test_infinity_ranks_highest_not_beyond(self) -> None:
        from framework.stats.rolling import cross_rank

        np.testing.assert_array_equal(cross_rank(np.array([[np.inf, np.nan, 1.0, -np.inf]])), [[1.0, np.nan, 0.5, 0.0]])
