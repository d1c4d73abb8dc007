from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from omegaconf import OmegaConf
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from framework.aggregation import Aggregator, MLAggregator
from framework.backtest.portfolio import PortfolioStrategy, Sleeve, StrategySlot
from framework.config.catalogue import CONFIG_DIR
from framework.config.components import build_component
from framework.core.errors import ConfigError, DataError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.data import SyntheticLoader
from framework.strategies import MACrossover
from framework.strategies.features import price_features

nan = np.nan


def panel(close: np.ndarray, tickers: tuple[str, ...] | None = None) -> MarketData:
    close = np.asarray(close, dtype=float)
    if close.ndim == 1:
        close = close[:, None]
    dates = np.datetime64("2020-01-01", "D") + np.arange(close.shape[0])
    return MarketData(dates, tickers or tuple(f"T{i}" for i in range(close.shape[1])), close)


def synthetic(seed: int = 4, days: int = 400) -> MarketData:
    return SyntheticLoader(n_tickers=4, n_days=days, seed=seed).load()


def forward_sign(data: MarketData, horizon: int) -> np.ndarray:
    """+1 / -1 of the forward return over ``horizon`` bars (looks ahead: an oracle strategy for tests)."""
    out = np.full(data.shape, nan)
    out[:-horizon] = np.where(data.close[horizon:] / data.close[:-horizon] - 1 > 0, 1.0, -1.0)
    return out


def oracle_and_noise(data: MarketData, horizon: int, seed: int = 0) -> list[SignalFrame]:
    rng = np.random.default_rng(seed)
    oracle = forward_sign(data, horizon)
    oracle[:10] = nan  # a warm-up
    noise = rng.uniform(-1, 1, data.shape)
    return [SignalFrame(oracle, np.ones(data.shape)), SignalFrame(noise, np.ones(data.shape))]


def adaptive_reference(
    signals: np.ndarray, close: np.ndarray, weights: np.ndarray, period: int, rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Plain loops over tickers and bars: the weights used on each bar and the combined signal."""
    count, days, tickers = signals.shape
    history = np.zeros((days, count, tickers))
    combined = np.full((days, tickers), nan)
    for n in range(tickers):
        w = [x / sum(weights) for x in weights]
        for t in range(days):
            if t >= period and t % period == 0:
                rates: list[float | None] = []
                for s in range(count):
                    said = hits = 0
                    for u in range(t - period + 1, t + 1):
                        previous = signals[s, u - 1, n]
                        if not np.isnan(previous):
                            said += 1
                            hits += np.sign(previous) == np.sign(close[u, n] / close[u - 1, n] - 1)
                    rates.append(hits / said if said else None)
                total = sum(r for r in rates if r is not None)
                if total > 0:
                    share = sum(w[s] for s in range(count) if rates[s] is not None)
                    target = [w[s] if rates[s] is None else rates[s] / total * share for s in range(count)]
                    w = [(1 - rate) * w[s] + rate * target[s] for s in range(count)]
            history[t, :, n] = w
            used = [(w[s], signals[s, t, n]) for s in range(count) if not np.isnan(signals[s, t, n])]
            if used:
                weight_sum = sum(x for x, _ in used)
                combined[t, n] = sum(x * v for x, v in used) / weight_sum if weight_sum > 0 else 0.0
    return history, combined


def cut(frames: list[SignalFrame], stop: int) -> list[SignalFrame]:
    """The frames' first ``stop`` rows: the signals a fit on the train segment receives."""
    return [SignalFrame(f.signal[:stop], f.confidence[:stop]) for f in frames]


@lru_cache(maxsize=2)
def fitted_model(include_features: bool) -> MLAggregator:
    data = synthetic(seed=12, days=300)
    frames = oracle_and_noise(data, 5)
    return MLAggregator(include_features=include_features).fit(frames, np.ones(2), data)


class TestMLAggregator:
    # ---------------------------------------------------------------------------------------------- model

    def test_model_learns_the_forward_sign(self) -> None:
        # An oracle strategy (the sign of the 5-bar forward return) and noise: the model must follow the oracle,
        # which it can only learn if each label is aligned with the row's own forward return.
        data = synthetic()
        frames = oracle_and_noise(data, 5)
        aggregator = MLAggregator(horizon=5).fit(cut(frames, 250), np.ones(2), data.slice_rows(0, 250))
        out = aggregator.combine(frames, np.ones(2), data)
        oracle = frames[0].signal
        test = slice(250, 395)
        assert (np.sign(out.signal[test]) == oracle[test]).mean() > 0.95
        coefficients = dict(zip(aggregator.feature_names_, aggregator.model_.coef_[0], strict=True))
        assert coefficients["signal_0"] > 1.0 and abs(coefficients["signal_1"]) < 0.5 * coefficients["signal_0"]

    def test_signal_is_two_p_minus_one_of_the_model_on_the_documented_inputs(self) -> None:
        data = synthetic(seed=3)
        rng = np.random.default_rng(2)
        first = np.where(rng.uniform(size=data.shape) < 0.2, nan, rng.uniform(-1, 1, data.shape))
        second = rng.choice(np.array(["BUY", "SELL", "HOLD", None], dtype=object), size=data.shape)
        frames = [SignalFrame(first, np.ones(data.shape)), SignalFrame(second, np.ones(data.shape))]
        aggregator = MLAggregator().fit(cut(frames, 300), np.ones(2), data.slice_rows(0, 300))
        out = aggregator.combine(frames, np.ones(2), data)
        mapped = np.vectorize(lambda x: {"BUY": 1.0, "SELL": -1.0, "HOLD": 0.0}.get(x, nan), otypes=[float])(second)
        for t, n in [(0, 0), (17, 1), (250, 2), (399, 3), (123, 0)]:
            values = [first[t, n], mapped[t, n]]
            row = [0.0 if np.isnan(v) else v for v in values] + [float(not np.isnan(v)) for v in values]
            if np.isnan(values).all():
                assert np.isnan(out.signal[t, n]) and out.confidence[t, n] == 0
                continue
            p = aggregator.model_.predict_proba([row])[0, 1]
            assert out.signal[t, n] == pytest.approx(2 * p - 1, abs=1e-12)
            assert out.confidence[t, n] == pytest.approx(abs(2 * p - 1), abs=1e-12)
        both_missing = np.isnan(first) & np.isnan(mapped)
        assert both_missing.any()
        assert np.isnan(out.signal[both_missing]).all() and (out.confidence[both_missing] == 0).all()
        assert not np.isnan(out.signal[~both_missing]).any()
        assert aggregator.feature_names_ == ["signal_0", "signal_1", "available_0", "available_1"]
        # rows with a label (t < 300 - 5) where at least one strategy has a signal
        assert aggregator.n_train_rows_ == int((~both_missing[:295]).sum())

    def test_last_horizon_train_rows_are_dropped(self) -> None:
        data = synthetic()
        frames = [SignalFrame(np.random.default_rng(1).uniform(-1, 1, data.shape), np.ones(data.shape))]
        for horizon in (1, 5, 20):
            aggregator = MLAggregator(horizon=horizon).fit(cut(frames, 200), np.ones(1), data.slice_rows(0, 200))
            assert aggregator.n_train_rows_ == 4 * (200 - horizon)

    def test_include_features(self) -> None:
        data = synthetic()
        frames = oracle_and_noise(data, 5)
        aggregator = MLAggregator(include_features=True).fit(cut(frames, 250), np.ones(2), data.slice_rows(0, 250))
        assert aggregator.feature_names_[4:] == [
            "return_1",
            "return_5",
            "return_20",
            "return_60",
            "volatility_20",
            "rsi_14",
            "ma_distance_10",
            "ma_distance_50",
        ]
        # rows 60 .. 244: features complete and a label inside train
        assert aggregator.n_train_rows_ == 4 * (250 - 5 - 60)
        out = aggregator.combine(frames, np.ones(2), data)
        assert np.isnan(out.signal[:60]).all() and not np.isnan(out.signal[60:]).any()
        features = price_features(data)
        t, n = 320, 2
        row = np.concatenate([[frames[0].signal[t, n], frames[1].signal[t, n], 1.0, 1.0], features[t, n]])
        p = aggregator.model_.predict_proba(row[None])[0, 1]
        assert out.signal[t, n] == pytest.approx(2 * p - 1, abs=1e-12)

    def test_fit_ignores_data_after_train(self) -> None:
        a = synthetic(seed=6)
        rng = np.random.default_rng(3)
        b_close = a.close.copy()
        b_close[240:] = b_close[239] * np.cumprod(1 + rng.normal(0, 0.03, b_close[240:].shape), axis=0)
        b = MarketData(a.dates, a.tickers, b_close)
        fitted = []
        for data in (a, b):
            aggregator = MLAggregator(estimator=RandomForestClassifier(n_estimators=10, max_depth=4))
            slots = [
                StrategySlot("fast", MACrossover(short_window=3, long_window=10)),
                StrategySlot("slow", MACrossover(short_window=10, long_window=40)),
            ]
            portfolio = PortfolioStrategy([Sleeve(a.tickers, slots, aggregator)]).fit(data, train_stop=240)
            fitted.append((aggregator, portfolio))
        signals = [portfolio.generate(a).signal for _, portfolio in fitted]
        np.testing.assert_array_equal(signals[0], signals[1])
        # every train row with a label and a signal: the fast average exists from row 9, labels up to row 234
        assert fitted[0][0].n_train_rows_ == fitted[1][0].n_train_rows_ == 4 * (240 - 5 - 9)

    def test_same_seed_same_signals_other_seed_different(self) -> None:
        data = synthetic(seed=8)
        frames = oracle_and_noise(data, 5)
        train = data.slice_rows(0, 250)

        def run(seed: int) -> np.ndarray:
            forest = RandomForestClassifier(n_estimators=10, max_depth=4)
            aggregator = MLAggregator(estimator=forest, random_state=seed).fit(cut(frames, 250), np.ones(2), train)
            assert aggregator.model_.random_state == seed and forest.random_state is None
            return aggregator.combine(frames, np.ones(2), data).signal

        np.testing.assert_array_equal(run(1), run(1))
        assert not np.allclose(run(1)[10:], run(2)[10:])

    def test_default_estimator_is_a_logistic_regression(self) -> None:
        model = fitted_model(False).model_
        assert isinstance(model, LogisticRegression) and model.max_iter == 1000

    def test_frames_must_match_the_panel(self) -> None:
        data = synthetic()
        with pytest.raises(DataError, match=r"strategy 0's signals have shape \(400, 4\), the panel \(250, 4\)"):
            MLAggregator().fit(oracle_and_noise(data, 5), np.ones(2), data.slice_rows(0, 250))
        with pytest.raises(DataError, match=r"strategy 0's signals have shape \(300, 4\), the panel \(400, 4\)"):
            fitted_model(False).combine(oracle_and_noise(synthetic(days=300), 5), np.ones(2), data)

    def test_combine_before_fit(self) -> None:
        data = synthetic()
        with pytest.raises(RuntimeError, match=r"combine\(\) was called before fit\(\) in mode 'model'"):
            MLAggregator().combine(oracle_and_noise(data, 5), np.ones(2), data)

    def test_other_number_of_strategies_than_fitted(self) -> None:
        data = synthetic(days=300)
        with pytest.raises(ConfigError, match="fitted on 2 strategies, asked to combine 1"):
            fitted_model(False).combine(oracle_and_noise(data, 5)[:1], np.ones(1), data)

    def test_one_sided_labels(self) -> None:
        rising = panel(np.tile(np.linspace(10.0, 20.0, 50)[:, None], (1, 2)))
        frames = [SignalFrame(np.ones(rising.shape), np.ones(rising.shape))]
        with pytest.raises(DataError, match="all 90 train labels are up over 5 bars"):
            MLAggregator().fit(frames, np.ones(1), rising)

    @pytest.mark.parametrize("estimator", [LinearRegression(), "LogisticRegression"])
    def test_estimator_without_predict_proba(self, estimator: object) -> None:
        with pytest.raises(ConfigError, match=r"^estimator: must be a classifier with fit and predict_proba"):
            MLAggregator(estimator=estimator)

    # ------------------------------------------------------------------------------------------- adaptive

    def test_adaptive_right_strategy_gains_weight_after_each_period(self) -> None:
        data = synthetic(days=120)
        up = np.sign(data.returns())  # the sign of bar t's return, known at t
        right = np.full(data.shape, nan)
        right[:-1] = up[1:]  # signal of t = the sign of the return of t + 1: always right
        frames = [SignalFrame(right, np.ones(data.shape)), SignalFrame(-right, np.ones(data.shape))]
        aggregator = MLAggregator(mode="adaptive", adaptation_period=10, learning_rate=0.1)
        out = aggregator.combine(frames, np.array([1.0, 3.0]), data)
        history = aggregator.weights_history_
        assert history.shape == (120, 2, 4)
        # w_right: 0.25, then 0.9 w + 0.1 after each period
        expected = [0.25]
        for _ in range(11):
            expected.append(0.9 * expected[-1] + 0.1)
        for n in range(4):
            np.testing.assert_allclose(history[:, 0, n], np.repeat(expected, 10), rtol=1e-12)
            np.testing.assert_allclose(history[:, 1, n], 1 - np.repeat(expected, 10), rtol=1e-12)
        assert (np.diff(history[::10, 0, 0]) > 0).all()
        # the combined signal: w_right * right + w_wrong * (-right)
        w = history[:-1, 0]
        np.testing.assert_allclose(out.signal[:-1], (2 * w - 1) * right[:-1], rtol=1e-12)
        assert np.isnan(out.signal[-1]).all() and (out.confidence[:-1] == 1).all()

    def test_adaptive_against_plain_loops(self) -> None:
        rng = np.random.default_rng(7)
        data = SyntheticLoader(n_tickers=3, n_days=150, seed=5).load()
        signals = rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0, nan], size=(3, *data.shape))
        signals[1, :40] = nan  # a strategy warming up keeps its weight meanwhile
        signals[2, :, 1] = nan  # never a signal on ticker 1
        weights = np.array([0.5, 0.3, 0.2])
        confidence = rng.uniform(0, 1, (3, *data.shape))
        frames = [SignalFrame(s, c) for s, c in zip(signals, confidence, strict=True)]
        aggregator = MLAggregator(mode="adaptive", adaptation_period=7, learning_rate=0.3)
        out = aggregator.combine(frames, weights, data)
        history, combined = adaptive_reference(signals, data.close, weights, 7, 0.3)
        np.testing.assert_allclose(aggregator.weights_history_, history, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out.signal, combined, rtol=1e-12, atol=1e-15, equal_nan=True)
        np.testing.assert_allclose(aggregator.weights_history_.sum(axis=1), 1.0)
        assert not np.allclose(history[-1], history[0])  # the weights did move
        np.testing.assert_allclose(history[:42, 1], 0.3)  # no signal yet: weight kept
        available = ~np.isnan(signals)
        used = history.transpose(1, 0, 2) * available
        with np.errstate(invalid="ignore"):  # 0 / 0 where no strategy has a signal
            expected_confidence = np.nan_to_num((confidence * used).sum(axis=0) / used.sum(axis=0))
        np.testing.assert_allclose(out.confidence, expected_confidence, rtol=1e-12)

    def test_adaptive_all_wrong_keeps_the_weights(self) -> None:
        data = synthetic(days=60)
        wrong = np.full(data.shape, nan)
        wrong[:-1] = -np.sign(data.returns()[1:])
        frames = [SignalFrame(wrong, np.ones(data.shape)), SignalFrame(wrong.copy(), np.ones(data.shape))]
        aggregator = MLAggregator(mode="adaptive", adaptation_period=5)
        aggregator.combine(frames, np.array([1.0, 4.0]), data)
        np.testing.assert_allclose(aggregator.weights_history_[:, 0], 0.2)

    def test_adaptive_needs_no_fit(self) -> None:
        data = synthetic(days=60)
        frames = oracle_and_noise(data, 1)
        aggregator = MLAggregator(mode="adaptive")
        assert aggregator.fit(frames, np.ones(2), data) is aggregator
        assert aggregator.n_strategies_ == 2 and not hasattr(aggregator, "model_")
        assert aggregator.combine(frames, np.ones(2), data).shape == data.shape

    @pytest.mark.parametrize("weights", [np.array([0.0, 0.0]), np.array([1.0, -1.0]), np.array([1.0])])
    def test_adaptive_invalid_weights(self, weights: np.ndarray) -> None:
        data = synthetic(days=30)
        with pytest.raises(ConfigError, match="weights: need 2 non-negative weights with a positive sum"):
            MLAggregator(mode="adaptive").combine(oracle_and_noise(data, 1), weights, data)

    # ------------------------------------------------------------------------------------------ params

    @pytest.mark.parametrize(
        ("key", "value", "message"),
        [
            ("mode", "ensemble", "mode: must be one of model, adaptive, got 'ensemble'"),
            ("learning_rate", 0, "learning_rate: must be a number in (0, 1], got 0"),
            ("learning_rate", 1.5, "learning_rate: must be a number in (0, 1], got 1.5"),
            ("learning_rate", "0.1", "learning_rate: must be a number in (0, 1]"),
            ("adaptation_period", 1, "adaptation_period: must be an integer >= 2, got 1"),
            ("adaptation_period", 20.0, "adaptation_period: must be an integer >= 2, got 20.0"),
            ("horizon", 0, "horizon: must be an integer >= 1, got 0"),
            ("horizon", None, "horizon: must be an integer >= 1, got None"),
            ("include_features", "yes", "include_features: must be true or false, got 'yes'"),
            ("random_state", -2, "random_state: must be an integer >= 0 or null, got -2"),
        ],
    )
    def test_invalid_params_name_the_key(self, key: str, value: object, message: str) -> None:
        with pytest.raises(ConfigError) as info:
            MLAggregator(**{key: value})  # type: ignore[arg-type]
        assert str(info.value).startswith(message)

    def test_learning_rate_one_is_allowed(self) -> None:
        assert MLAggregator(mode="adaptive", learning_rate=1).learning_rate == 1

    @pytest.mark.parametrize(("name", "mode"), [("ml_based", "model"), ("adaptive", "adaptive")])
    def test_built_from_the_yaml_config(self, name: str, mode: str) -> None:
        config = OmegaConf.load(CONFIG_DIR / "aggregator" / f"{name}.yaml")
        resolved = OmegaConf.to_container(OmegaConf.merge({"seed": 13}, {"aggregator": config}), resolve=True)
        aggregator = build_component(resolved["aggregator"], "aggregator", Aggregator)  # type: ignore[index]
        assert isinstance(aggregator, MLAggregator) and aggregator.mode == mode and aggregator.random_state == 13
        if mode == "model":
            assert isinstance(aggregator.estimator, LogisticRegression) and aggregator.estimator.random_state == 13
            data = synthetic()
            frames = oracle_and_noise(data, 5)
            aggregator.fit(cut(frames, 250), np.ones(2), data.slice_rows(0, 250))
            out = aggregator.combine(frames, np.ones(2), data)
            assert out.shape == data.shape

    # --------------------------------------------------------------------------------------- causality

    @settings(max_examples=50, deadline=None)
    @given(
        shape=st.tuples(st.integers(2, 40), st.integers(1, 3)),
        mode=st.sampled_from(["model", "adaptive", "model+features"]),
        period=st.integers(2, 5),
        data=st.data(),
    )
    def test_rows_up_to_t_ignore_data_after_t(
        self, shape: tuple[int, int], mode: str, period: int, data: st.DataObject
    ) -> None:
        if mode == "model+features":
            shape = (shape[0] + 60, shape[1])  # past the features' warm-up
        prices = st.floats(0.5, 500.0, allow_nan=False, allow_infinity=False)
        signals = st.one_of(st.just(nan), st.floats(-1.0, 1.0))
        close = data.draw(hnp.arrays(np.float64, shape, elements=prices), label="close")
        signal = data.draw(hnp.arrays(np.float64, (2, *shape), elements=signals), label="signal")
        t = data.draw(st.integers(0, shape[0] - 2), label="t")
        after = (shape[0] - t - 1, shape[1])
        changed_close, changed_signal = close.copy(), signal.copy()
        changed_close[t + 1 :] = data.draw(hnp.arrays(np.float64, after, elements=prices), label="future close")
        changed_signal[:, t + 1 :] = data.draw(hnp.arrays(np.float64, (2, *after), elements=signals), label="fs")
        if mode == "adaptive":
            aggregator = MLAggregator(mode="adaptive", adaptation_period=period, learning_rate=0.5)
        else:
            aggregator = fitted_model(mode == "model+features")
        weights = np.array([1.0, 2.0])

        def run(c: np.ndarray, s: np.ndarray) -> tuple[SignalFrame, np.ndarray | None]:
            frames = [SignalFrame(x, np.ones(x.shape)) for x in s]
            out = aggregator.combine(frames, weights, panel(c))
            return out, getattr(aggregator, "weights_history_", None)

        before, history_before = run(close, signal)
        later, history_later = run(changed_close, changed_signal)
        # The logistic regression's matrix product rounds a row's last bit differently depending on how many
        # rows the batch has (which changes with the usable rows after t): equal up to 1e-12, not bit for bit.
        tolerance = 0.0 if mode == "adaptive" else 1e-12
        np.testing.assert_allclose(later.signal[: t + 1], before.signal[: t + 1], rtol=0, atol=tolerance)
        np.testing.assert_allclose(later.confidence[: t + 1], before.confidence[: t + 1], rtol=0, atol=tolerance)
        assert (np.isnan(later.signal[: t + 1]) == np.isnan(before.signal[: t + 1])).all()
        if mode != "adaptive":
            prefix, _ = run(close[: t + 1], signal[:, : t + 1])
            np.testing.assert_allclose(prefix.signal, before.signal[: t + 1], rtol=0, atol=tolerance)
        if mode == "adaptive":
            assert history_before is not None and history_later is not None
            np.testing.assert_array_equal(history_later[: t + 1], history_before[: t + 1])
            prefix, history_prefix = run(close[: t + 1], signal[:, : t + 1])
            np.testing.assert_array_equal(prefix.signal, before.signal[: t + 1])
            np.testing.assert_array_equal(history_prefix, history_before[: t + 1])
