"""The worked plugin example: a user's strategy class, by hand and end to end from YAML."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.core import ConfigError, MarketData
from plugins.breakout import Breakout


def panel(close: np.ndarray) -> MarketData:
    tickers = tuple(f"T{i}" for i in range(close.shape[1]))
    return MarketData(np.arange(close.shape[0]).astype("datetime64[D]"), tickers, close)


class TestBreakout:
    def test_against_a_loop(self) -> None:
        rng = np.random.default_rng(5)
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, (300, 3)), axis=0))
        signal = Breakout(lookback=20).generate(panel(close)).signal
        for column in range(3):
            held = 0.0
            for t in range(close.shape[0]):
                if t < 20:
                    assert np.isnan(signal[t, column])
                    continue
                window = close[t - 20 : t, column]
                if close[t, column] > window.max():
                    held = 1.0
                elif close[t, column] < window.min():
                    held = -1.0
                assert signal[t, column] == held

    def test_lookback_is_validated(self) -> None:
        with pytest.raises(ConfigError, match="lookback: must be an integer >= 2, got 1"):
            Breakout(lookback=1)

    @settings(max_examples=20, deadline=None)
    @given(seed=st.integers(0, 1000), cut=st.integers(10, 80))
    def test_rows_up_to_t_ignore_later_prices(self, seed: int, cut: int) -> None:
        rng = np.random.default_rng(seed)
        close = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, (100, 2)), axis=0))
        changed = close.copy()
        changed[cut + 1 :] *= rng.uniform(0.2, 5.0)
        a = Breakout(lookback=5).generate(panel(close)).signal
        b = Breakout(lookback=5).generate(panel(changed)).signal
        np.testing.assert_array_equal(a[: cut + 1], b[: cut + 1])
