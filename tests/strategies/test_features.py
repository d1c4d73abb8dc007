import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.core.errors import ConfigError
from framework.data import SyntheticLoader
from framework.strategies.features import check_feature_params, feature_names, price_features, warm_up_bars
from tests.strategies.properties import draw_future, panel, price_arrays


def wilder_rsi_loop(close: np.ndarray, window: int) -> np.ndarray:
    """Wilder's RSI of one column with plain Python loops (SMA seed, then alpha = 1 / window)."""
    out = np.full(close.shape[0], np.nan)
    change = np.diff(close)
    gain = sum(max(c, 0.0) for c in change[:window]) / window
    loss = sum(max(-c, 0.0) for c in change[:window]) / window
    for t in range(window, close.shape[0]):
        if t > window:
            c = change[t - 1]
            gain += (max(c, 0.0) - gain) / window
            loss += (max(-c, 0.0) - loss) / window
        out[t] = 50.0 if gain == loss == 0 else (100.0 if loss == 0 else 100.0 - 100.0 / (1.0 + gain / loss))
    return out


class TestPriceFeatures:
    def test_against_pandas_and_plain_loops(self) -> None:
        data = SyntheticLoader(n_tickers=4, n_days=400, seed=7).load()
        x = price_features(data, horizons=(1, 5, 20), vol_window=10, rsi_window=14, ma_windows=(10, 50))
        close = pd.DataFrame(data.close)
        expected = [
            close.pct_change(1, fill_method=None),
            close.pct_change(5, fill_method=None),
            close.pct_change(20, fill_method=None),
            close.pct_change(fill_method=None).rolling(10).std(ddof=1),
            pd.DataFrame(np.column_stack([wilder_rsi_loop(data.close[:, j], 14) for j in range(4)])) / 50 - 1,
            close / close.rolling(10).mean() - 1,
            close / close.rolling(50).mean() - 1,
        ]
        assert x.shape == (400, 4, 7)
        for column, frame in enumerate(expected):
            np.testing.assert_allclose(x[:, :, column], frame.to_numpy(), rtol=1e-8, atol=1e-12, equal_nan=True)

    def test_by_hand(self) -> None:
        # closes 10, 11, 12.1, 10.89, 11.979: returns +10%, +10%, -10%, +10%
        close = np.array([10.0, 11.0, 12.1, 10.89, 11.979])
        x = price_features(panel(close), horizons=(1, 2), vol_window=2, rsi_window=2, ma_windows=(2,))[:, 0]
        np.testing.assert_allclose(x[:, 0], [np.nan, 0.1, 0.1, -0.1, 0.1], equal_nan=True)
        np.testing.assert_allclose(x[:, 1], [np.nan, np.nan, 0.21, -0.01, -0.01], equal_nan=True)
        # std of (0.1, 0.1) = 0, of (0.1, -0.1) = 0.1 * sqrt(2)
        np.testing.assert_allclose(
            x[:, 2], [np.nan, np.nan, 0.0, 0.1 * np.sqrt(2), 0.1 * np.sqrt(2)], atol=1e-12, equal_nan=True
        )
        # RSI: only gains in the first two changes -> 100 -> scaled 1
        assert np.isnan(x[:2, 3]).all() and x[2, 3] == pytest.approx(1.0)
        np.testing.assert_allclose(
            x[:, 4], [np.nan, 11 / 10.5 - 1, 12.1 / 11.55 - 1, 10.89 / 11.495 - 1, 11.979 / 11.4345 - 1], equal_nan=True
        )

    def test_names_match_columns_and_warm_up(self) -> None:
        params = {"horizons": (1, 3), "vol_window": 5, "rsi_window": 7, "ma_windows": (4, 12)}
        x = price_features(panel(100 + np.arange(40.0) ** 1.1), **params)
        names = feature_names(**params)
        assert names == ["return_1", "return_3", "volatility_5", "rsi_7", "ma_distance_4", "ma_distance_12"]
        assert x.shape[-1] == len(names)
        first = warm_up_bars(**params)
        assert first == 11  # ma_distance_12 first exists at row 11
        assert np.isnan(x[:first]).any(axis=-1).all()
        assert not np.isnan(x[first:]).any()

    def test_default_names_and_warm_up(self) -> None:
        assert feature_names() == [
            "return_1",
            "return_5",
            "return_20",
            "return_60",
            "volatility_20",
            "rsi_14",
            "ma_distance_10",
            "ma_distance_50",
        ]
        x = price_features(SyntheticLoader(n_tickers=2, n_days=100, seed=1).load())
        assert np.isnan(x[:60]).any(axis=-1).all() and not np.isnan(x[60:]).any()

    def test_rsi_feature_is_scaled_to_minus_one_one(self) -> None:
        x = price_features(SyntheticLoader(n_tickers=4, n_days=400, seed=3).load())
        rsi_column = x[:, :, feature_names().index("rsi_14")]
        valid = rsi_column[~np.isnan(rsi_column)]
        assert valid.min() >= -1.0 and valid.max() <= 1.0 and valid.min() < -0.3 and valid.max() > 0.3

    def test_each_ticker_uses_its_own_history_only(self) -> None:
        data = SyntheticLoader(n_tickers=3, n_days=200, seed=2).load()
        changed = data.close.copy()
        changed[:, 1] *= np.linspace(1.0, 3.0, 200)
        a = price_features(data)
        b = price_features(panel(changed))
        np.testing.assert_array_equal(a[:, [0, 2]], b[:, [0, 2]])
        assert not np.allclose(a[70:, 1], b[70:, 1])

    def test_short_data_is_all_nan(self) -> None:
        x = price_features(panel(np.linspace(1.0, 2.0, 30)))
        assert x.shape == (30, 1, 8) and np.isnan(x).any(axis=-1).all()

    def test_list_params_as_from_yaml(self) -> None:
        data = panel(np.linspace(1.0, 2.0, 30))
        np.testing.assert_array_equal(
            price_features(data, horizons=[1, 2], ma_windows=[3]),
            price_features(data, horizons=(1, 2), ma_windows=(3,)),
        )

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"horizons": ()}, "horizons: must be a non-empty list"),
            ({"horizons": 5}, "horizons: must be a non-empty list"),
            ({"horizons": "15"}, "horizons: must be a non-empty list"),
            ({"horizons": (1, 0)}, "horizons[1]: must be an integer >= 1, got 0"),
            ({"horizons": (1, 2.5)}, "horizons[1]: must be an integer >= 1, got 2.5"),
            ({"horizons": (5, 5)}, "horizons: each value may appear once"),
            ({"vol_window": 1}, "vol_window: must be an integer >= 2, got 1"),
            ({"vol_window": True}, "vol_window: must be an integer >= 2, got True"),
            ({"rsi_window": 0}, "rsi_window: must be an integer >= 1, got 0"),
            ({"ma_windows": (10, None)}, "ma_windows[1]: must be an integer >= 1, got None"),
        ],
    )
    def test_invalid_params_name_the_key(self, params: dict, message: str) -> None:
        full = {"horizons": (1, 5), "vol_window": 20, "rsi_window": 14, "ma_windows": (10,), **params}
        with pytest.raises(ConfigError) as info:
            check_feature_params(**full)
        assert str(info.value).startswith(message)
        with pytest.raises(ConfigError):
            price_features(panel(np.ones(5)), **full)

    @settings(max_examples=60, deadline=None)
    @given(close=price_arrays(40), data=st.data())
    def test_rows_up_to_t_ignore_prices_after_t(self, close: np.ndarray, data: st.DataObject) -> None:
        params = {"horizons": (1, 3), "vol_window": 3, "rsi_window": 2, "ma_windows": (2, 5)}
        t, changed = draw_future(data, close)
        before = price_features(panel(close), **params)
        after = price_features(panel(changed), **params)
        np.testing.assert_array_equal(after[: t + 1], before[: t + 1])
        prefix = price_features(panel(close[: t + 1]), **params)
        np.testing.assert_array_equal(prefix, before[: t + 1])
