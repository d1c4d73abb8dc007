import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from omegaconf import OmegaConf

from framework.aggregation import Aggregator, MLAggregator, VolatilityAdjusted, WeightedAverage
from framework.aggregation.volatility_adjusted import realised_volatility
from framework.config.catalogue import CONFIG_DIR
from framework.config.components import build_component
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.data import SyntheticLoader

nan = np.nan


def panel(close: np.ndarray) -> MarketData:
    close = np.asarray(close, dtype=float)
    if close.ndim == 1:
        close = close[:, None]
    dates = np.datetime64("2020-01-01", "D") + np.arange(close.shape[0])
    return MarketData(dates, tuple(f"T{i}" for i in range(close.shape[1])), close)


def alternating(days: int, move: float) -> np.ndarray:
    """Closes whose daily returns alternate +move, -move: every even window has the same volatility."""
    returns = np.where(np.arange(1, days) % 2 == 1, move, -move)
    return 100.0 * np.concatenate([[1.0], np.cumprod(1.0 + returns)])


def constant(value: float, shape: tuple[int, int]) -> SignalFrame:
    return SignalFrame(np.full(shape, value), np.ones(shape))


class TestVolatilityAdjusted:
    def test_constant_volatility_by_hand_with_clipping(self) -> None:
        # window 4 over returns +a, -a, +a, -a: mean 0, sample std = sqrt(4 a^2 / 3) = 2a / sqrt(3)
        days, window = 12, 4
        close = np.column_stack([alternating(days, 0.03), alternating(days, 0.002), np.full(days, 50.0)])
        data = panel(close)
        vol_a = 2 * 0.03 / np.sqrt(3) * np.sqrt(252)  # 0.5499: scale 0.15 / 0.5499 = 0.2728
        vol_b = 2 * 0.002 / np.sqrt(3) * np.sqrt(252)  # 0.0367: scale 4.09, clipped to max_scale 1
        frame = SignalFrame(np.tile([0.8, -0.6, 0.5], (days, 1)), np.full((days, 3), 0.7))
        out = VolatilityAdjusted(window=window).combine([frame], np.array([1.0]), data)
        assert np.isnan(out.signal[:window]).all() and (out.confidence[:window] == 0).all()
        np.testing.assert_allclose(out.signal[window:, 0], 0.8 * 0.15 / vol_a, rtol=1e-9)
        np.testing.assert_allclose(out.signal[window:, 1], -0.6, rtol=1e-12)
        np.testing.assert_allclose(out.signal[window:, 2], 0.5)  # zero volatility: max_scale
        np.testing.assert_allclose(out.confidence[window:], 0.7)
        assert vol_b < 0.15 < vol_a

    def test_min_and_max_scale(self) -> None:
        close = np.column_stack([alternating(10, 0.05), alternating(10, 0.001)])
        frame = SignalFrame(np.full((10, 2), 0.4), np.ones((10, 2)))
        out = VolatilityAdjusted(window=2, min_scale=0.5, max_scale=2.0).combine([frame], np.array([1.0]), panel(close))
        # ticker 0: vol = 0.05 * sqrt(2) * sqrt(252) = 1.12 -> 0.134, raised to min_scale 0.5
        # ticker 1: vol = 0.0224 -> 6.7, capped at max_scale 2
        np.testing.assert_allclose(out.signal[2:], np.tile([0.2, 0.8], (8, 1)))
        full = SignalFrame(np.full((10, 2), 0.9), np.ones((10, 2)))
        capped = VolatilityAdjusted(window=2, max_scale=2.0).combine([full], np.array([1.0]), panel(close))
        np.testing.assert_allclose(capped.signal[2:, 1], 1.0)  # 1.8 clipped to a full signal

    def test_realised_volatility_against_pandas(self) -> None:
        data = SyntheticLoader(n_tickers=4, n_days=400, seed=3).load()
        expected = pd.DataFrame(data.close).pct_change(fill_method=None).rolling(20).std() * np.sqrt(252)
        out = realised_volatility(data.close, 20)
        np.testing.assert_allclose(out, expected.to_numpy(), rtol=1e-8, equal_nan=True)
        assert np.isnan(out[:20]).all() and not np.isnan(out[20:]).any()

    def test_scales_the_weighted_average(self) -> None:
        data = SyntheticLoader(n_tickers=4, n_days=400, seed=2).load()
        rng = np.random.default_rng(0)
        frames = [
            SignalFrame(rng.uniform(-1, 1, data.shape), rng.uniform(0, 1, data.shape)),
            SignalFrame(rng.uniform(-1, 1, data.shape), rng.uniform(0, 1, data.shape)),
        ]
        frames[0].signal[:30] = nan
        weights = np.array([2.0, 1.0])
        base = WeightedAverage(confidence_weighted=True)
        expected = base.combine(frames, weights, data)
        scale = np.clip(0.1 / realised_volatility(data.close, 10), 0.0, 1.0)
        out = VolatilityAdjusted(target_volatility=0.1, window=10, base=base).combine(frames, weights, data)
        np.testing.assert_allclose(out.signal, np.clip(expected.signal * scale, -1, 1), equal_nan=True)
        np.testing.assert_allclose(out.confidence[10:], expected.confidence[10:])
        assert (scale[10:] < 1).any() and (scale[10:] == 1).any()  # both regimes occur
        default = VolatilityAdjusted(target_volatility=0.1, window=10).combine(frames, weights, data)
        plain = WeightedAverage().combine(frames, weights, data)
        np.testing.assert_allclose(default.signal, np.clip(plain.signal * scale, -1, 1), equal_nan=True)

    def test_high_volatility_regime_is_shrunk(self) -> None:
        rng = np.random.default_rng(1)
        returns = np.concatenate([rng.normal(0, 0.005, 100), rng.normal(0, 0.04, 100)])
        data = panel(100 * np.cumprod(1 + returns))
        out = VolatilityAdjusted().combine([constant(1.0, data.shape)], np.array([1.0]), data)
        calm, wild = out.signal[40:100, 0], out.signal[140:, 0]
        assert (calm == 1.0).all() and (wild < 0.5).all()

    def test_fit_fits_the_base(self) -> None:
        data = SyntheticLoader(n_tickers=4, n_days=300, seed=1).load()
        rng = np.random.default_rng(4)
        frames = [SignalFrame(rng.uniform(-1, 1, data.shape), np.ones(data.shape)) for _ in range(2)]
        base = MLAggregator()
        aggregator = VolatilityAdjusted(base=base)
        assert aggregator.fit(frames, np.ones(2), data) is aggregator
        assert hasattr(base, "model_")
        out = aggregator.combine(frames, np.ones(2), data)
        assert out.shape == data.shape and np.isnan(out.signal[:20]).all() and not np.isnan(out.signal[20:]).any()

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"target_volatility": 0}, "target_volatility: must be > 0"),
            ({"target_volatility": "0.15"}, "target_volatility: must be a number, got '0.15'"),
            ({"window": 1}, "window: must be an integer >= 2, got 1"),
            ({"window": 20.0}, "window: must be an integer >= 2, got 20.0"),
            ({"periods_per_year": 0}, "periods_per_year: must be an integer >= 1"),
            ({"min_scale": -0.1}, "min_scale: must be >= 0"),
            ({"min_scale": None}, "min_scale: must be a number, got None"),
            ({"max_scale": 0.0}, "max_scale: must be > 0 and >= min_scale"),
            ({"min_scale": 0.8, "max_scale": 0.5}, "max_scale: must be > 0 and >= min_scale=0.8"),
            ({"max_scale": float("nan")}, "max_scale: must be a number"),
            ({"base": "weighted_average"}, "base: must be an aggregator"),
            ({"base": WeightedAverage(output="probability")}, "base: must output a signal"),
        ],
    )
    def test_invalid_params_name_the_key(self, params: dict, message: str) -> None:
        with pytest.raises(ConfigError) as info:
            VolatilityAdjusted(**params)
        assert str(info.value).startswith(message)

    def test_params_are_stored_unchanged(self) -> None:
        assert VolatilityAdjusted().get_params() == {
            "target_volatility": 0.15,
            "window": 20,
            "min_scale": 0.0,
            "max_scale": 1.0,
            "periods_per_year": 252,
            "base": None,
        }

    def test_built_from_the_yaml_config(self) -> None:
        spec = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "aggregator" / "volatility_adjusted.yaml"))
        aggregator = build_component(spec, "aggregator", Aggregator)  # type: ignore[arg-type]
        assert isinstance(aggregator, VolatilityAdjusted) and isinstance(aggregator.base, WeightedAverage)
        assert aggregator.target_volatility == 0.15 and aggregator.window == 20

    @settings(max_examples=60, deadline=None)
    @given(
        shape=st.tuples(st.integers(2, 40), st.integers(1, 3)),
        window=st.integers(2, 6),
        data=st.data(),
    )
    def test_rows_up_to_t_ignore_data_after_t(self, shape: tuple[int, int], window: int, data: st.DataObject) -> None:
        prices = st.floats(0.5, 500.0, allow_nan=False, allow_infinity=False)
        signals = st.one_of(st.just(nan), st.floats(-1.0, 1.0))
        close = data.draw(hnp.arrays(np.float64, shape, elements=prices), label="close")
        signal = data.draw(hnp.arrays(np.float64, (2, *shape), elements=signals), label="signal")
        t = data.draw(st.integers(0, shape[0] - 2), label="t")
        after = (shape[0] - t - 1, shape[1])
        changed_close, changed_signal = close.copy(), signal.copy()
        changed_close[t + 1 :] = data.draw(hnp.arrays(np.float64, after, elements=prices), label="future close")
        changed_signal[:, t + 1 :] = data.draw(hnp.arrays(np.float64, (2, *after), elements=signals), label="fs")
        aggregator = VolatilityAdjusted(window=window)
        weights = np.array([1.0, 2.0])

        def run(c: np.ndarray, s: np.ndarray) -> SignalFrame:
            return aggregator.combine([SignalFrame(x, np.ones(shape)) for x in s], weights, panel(c))

        before, later = run(close, signal), run(changed_close, changed_signal)
        np.testing.assert_array_equal(later.signal[: t + 1], before.signal[: t + 1])
        np.testing.assert_array_equal(later.confidence[: t + 1], before.confidence[: t + 1])
