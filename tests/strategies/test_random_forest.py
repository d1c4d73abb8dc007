from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from framework.aggregation import WeightedAverage
from framework.backtest.portfolio import PortfolioStrategy, Sleeve, StrategySlot
from framework.config.catalogue import CONFIG_DIR
from framework.config.components import build_component
from framework.core.errors import ConfigError, DataError
from framework.core.market_data import MarketData
from framework.data import SyntheticLoader
from framework.strategies import RandomForestStrategy, Strategy
from framework.strategies.features import price_features, warm_up_bars
from tests.strategies.properties import assert_causal, panel, price_arrays

SMALL = {"horizons": (1, 3), "vol_window": 3, "rsi_window": 3, "ma_windows": (4,)}


def synthetic(seed: int = 4, days: int = 400) -> MarketData:
    return SyntheticLoader(n_tickers=4, n_days=days, seed=seed).load()


def small_forest(**params: object) -> RandomForestStrategy:
    return RandomForestStrategy(estimator=RandomForestClassifier(n_estimators=10, max_depth=4), **params)  # type: ignore[arg-type]


def with_new_future(data: MarketData, stop: int, seed: int) -> MarketData:
    """Equal to ``data`` up to ``stop`` (exclusive), a different random walk after it."""
    rng = np.random.default_rng(seed)
    close = data.close.copy()
    close[stop:] = close[stop - 1] * np.cumprod(1.0 + rng.normal(0.0, 0.03, close[stop:].shape), axis=0)
    return MarketData(data.dates, data.tickers, close)


@lru_cache(maxsize=1)
def fitted_small() -> RandomForestStrategy:
    return small_forest(**SMALL).fit(synthetic(seed=9, days=300))


class TestRandomForestStrategy:
    def test_signal_is_two_p_minus_one_of_the_model(self) -> None:
        data = synthetic()
        strategy = small_forest().fit(data.slice_rows(0, 240))
        frame = strategy.generate(data)
        features = price_features(data)
        first = warm_up_bars()
        assert frame.shape == (400, 4)
        assert np.isnan(frame.signal[:first]).all() and (frame.confidence[:first] == 0).all()
        # Ticker by ticker, independently of the stacked call.
        for j in range(4):
            p = strategy.model_.predict_proba(features[first:, j])[:, list(strategy.classes_).index(1)]
            np.testing.assert_allclose(frame.signal[first:, j], 2 * p - 1, rtol=0, atol=1e-12)
        np.testing.assert_allclose(frame.confidence, np.abs(np.nan_to_num(frame.signal)))
        assert (np.abs(frame.signal[first:]) <= 1).all() and frame.signal[first:].std() > 0

    def test_fit_learns_the_documented_table(self) -> None:
        # Rebuild the training table by hand (labels with pandas) and fit the same estimator on it.
        data = synthetic(seed=5)
        train = data.slice_rows(0, 250)
        strategy = small_forest(horizon=7, random_state=3).fit(train)
        close = pd.DataFrame(train.close)
        label = (close.shift(-7) / close - 1 > 0).astype(int)
        label[close.shift(-7).isna()] = -1  # no label: t + 7 is beyond train
        features = price_features(train)
        rows, targets = [], []
        for t in range(250):
            for j in range(4):
                if label.iat[t, j] >= 0 and not np.isnan(features[t, j]).any():
                    rows.append(features[t, j])
                    targets.append(label.iat[t, j])
        assert strategy.n_train_rows_ == len(rows) == 4 * (250 - 7 - 60)
        by_hand = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=3).fit(np.array(rows), targets)
        probe = price_features(data)[300:].reshape(-1, 8)
        np.testing.assert_array_equal(strategy.model_.predict_proba(probe), by_hand.predict_proba(probe))
        assert strategy.classes_.tolist() == [0, 1]
        assert strategy.feature_names_[0] == "return_1" and len(strategy.feature_names_) == 8

    @pytest.mark.parametrize("horizon", [1, 5, 20])
    def test_last_horizon_train_rows_are_dropped(self, horizon: int) -> None:
        strategy = small_forest(horizon=horizon, **SMALL).fit(synthetic().slice_rows(0, 200))
        # warm-up rows 0..3 (ma_distance_4 from row 3, returns_3 / vol_3 / rsi_3 from row 3): first row 3
        assert warm_up_bars(**SMALL) == 3
        assert strategy.n_train_rows_ == 4 * (200 - horizon - 3)

    def test_fit_ignores_data_after_train(self) -> None:
        a = synthetic(seed=6)
        b = with_new_future(a, 240, seed=1)
        assert not np.array_equal(a.close[240:], b.close[240:])
        models = []
        for data in (a, b):
            strategy = small_forest()
            sleeve = Sleeve(a.tickers, [StrategySlot("rf", strategy)], WeightedAverage())
            PortfolioStrategy([sleeve]).fit(data, train_stop=240)
            models.append(strategy)
        np.testing.assert_array_equal(models[0].generate(a).signal, models[1].generate(a).signal)
        assert models[0].n_train_rows_ == models[1].n_train_rows_ == 4 * (240 - 5 - 60)
        # and the train slice is what it learned from: fitting on the slice directly gives the same model
        direct = small_forest().fit(a.slice_rows(0, 240))
        np.testing.assert_array_equal(direct.generate(b).signal, models[0].generate(b).signal)

    def test_same_seed_same_signals_other_seed_different(self) -> None:
        data = synthetic(seed=8)
        train = data.slice_rows(0, 250)
        params = {"horizons": (1, 5), "ma_windows": (10,)}
        first = RandomForestStrategy(random_state=11, **params).fit(train).generate(data)  # type: ignore[arg-type]
        again = RandomForestStrategy(random_state=11, **params).fit(train).generate(data)  # type: ignore[arg-type]
        other = RandomForestStrategy(random_state=12, **params).fit(train).generate(data)  # type: ignore[arg-type]
        np.testing.assert_array_equal(first.signal, again.signal)
        assert not np.allclose(first.signal[30:], other.signal[30:])

    def test_default_estimator(self) -> None:
        strategy = RandomForestStrategy(random_state=5, **SMALL).fit(synthetic().slice_rows(0, 150))
        model = strategy.model_
        assert isinstance(model, RandomForestClassifier)
        params = (model.n_estimators, model.max_depth, model.min_samples_leaf, model.max_samples, model.random_state)
        assert params == (50, 5, 20, 0.5, 5)
        assert model.n_jobs == -1

    def test_estimator_is_cloned_and_seeded_only_when_unseeded(self) -> None:
        train = synthetic().slice_rows(0, 150)
        unseeded = DecisionTreeClassifier(max_depth=3)
        strategy = RandomForestStrategy(estimator=unseeded, random_state=21, **SMALL).fit(train)
        assert strategy.model_ is not unseeded and not hasattr(unseeded, "tree_")
        assert unseeded.random_state is None and strategy.model_.random_state == 21
        seeded = RandomForestStrategy(estimator=DecisionTreeClassifier(random_state=2), random_state=21, **SMALL)
        assert seeded.fit(train).model_.random_state == 2
        assert strategy.get_params()["estimator"] is unseeded

    def test_any_classifier_with_predict_proba(self) -> None:
        data = synthetic()
        strategy = RandomForestStrategy(estimator=LogisticRegression(), **SMALL).fit(data.slice_rows(0, 200))
        frame = strategy.generate(data)
        assert isinstance(strategy.model_, LogisticRegression)
        assert np.isnan(frame.signal[:3]).all() and not np.isnan(frame.signal[3:]).any()

    @pytest.mark.parametrize("estimator", [RidgeClassifier(), SVC(), "RandomForestClassifier", 3])
    def test_estimator_without_predict_proba(self, estimator: object) -> None:
        with pytest.raises(ConfigError, match=r"^estimator: must be a classifier with fit and predict_proba"):
            RandomForestStrategy(estimator=estimator)

    def test_estimator_class_instead_of_instance(self) -> None:
        with pytest.raises(ConfigError, match=r"^estimator: must be an estimator instance"):
            RandomForestStrategy(estimator=RandomForestClassifier)

    def test_generate_before_fit(self) -> None:
        with pytest.raises(RuntimeError, match=r"generate\(\) was called before fit\(\)"):
            RandomForestStrategy().generate(synthetic())

    def test_too_short_train(self) -> None:
        with pytest.raises(DataError, match="no train row has complete features"):
            RandomForestStrategy().fit(synthetic().slice_rows(0, 64))

    def test_one_sided_labels(self) -> None:
        # 2 tickers x (100 bars - 5 without a label - 3 warm-up), every one a rise
        rising = panel(np.tile(np.linspace(10.0, 20.0, 100)[:, None], (1, 2)))
        with pytest.raises(DataError, match="all 184 train labels are up"):
            RandomForestStrategy(**SMALL).fit(rising)

    @pytest.mark.parametrize(
        ("key", "value", "message"),
        [
            ("horizon", 0, "horizon: must be an integer >= 1, got 0"),
            ("horizon", 2.0, "horizon: must be an integer >= 1, got 2.0"),
            ("horizons", [], "horizons: must be a non-empty list"),
            ("vol_window", 1, "vol_window: must be an integer >= 2"),
            ("rsi_window", "14", "rsi_window: must be an integer >= 1"),
            ("ma_windows", (10, -1), "ma_windows[1]: must be an integer >= 1"),
            ("random_state", -1, "random_state: must be an integer >= 0 or null, got -1"),
            ("random_state", 1.5, "random_state: must be an integer >= 0 or null"),
        ],
    )
    def test_invalid_params_name_the_key(self, key: str, value: object, message: str) -> None:
        with pytest.raises(ConfigError) as info:
            RandomForestStrategy(**{key: value})  # type: ignore[arg-type]
        assert str(info.value).startswith(message)

    def test_params_are_stored_unchanged(self) -> None:
        estimator = RandomForestClassifier(n_estimators=3)
        strategy = RandomForestStrategy(estimator=estimator, horizon=3, horizons=[1, 2], random_state=None)
        assert strategy.get_params() == {
            "estimator": estimator,
            "horizon": 3,
            "horizons": [1, 2],
            "vol_window": 20,
            "rsi_window": 14,
            "ma_windows": (10, 50),
            "random_state": None,
        }
        assert strategy.fit(synthetic().slice_rows(0, 200)) is strategy

    def test_built_from_the_yaml_config(self) -> None:
        config = OmegaConf.load(CONFIG_DIR / "strategy" / "random_forest.yaml")
        spec = OmegaConf.to_container(OmegaConf.merge({"seed": 13}, {"strategy": config}), resolve=True)["strategy"]  # type: ignore[index]
        spec["estimator"]["n_estimators"] = 10  # type: ignore[index]
        strategy = build_component(spec, "strategy", Strategy)  # type: ignore[arg-type]
        assert isinstance(strategy, RandomForestStrategy)
        assert isinstance(strategy.estimator, RandomForestClassifier)
        assert strategy.estimator.random_state == 13 and strategy.random_state == 13
        assert strategy.horizons == [1, 5, 20, 60]
        frame = strategy.fit(synthetic().slice_rows(0, 250)).generate(synthetic())
        assert frame.shape == (400, 4)

    @settings(max_examples=40, deadline=None)
    @given(close=price_arrays(30), data=st.data())
    def test_rows_up_to_t_ignore_prices_after_t(self, close: np.ndarray, data: st.DataObject) -> None:
        strategy = fitted_small()
        assert_causal(strategy, close, data)


class TestThreadedPrediction:
    def test_threads_give_exactly_the_single_threaded_probabilities(self) -> None:
        from framework.strategies.random_forest import up_probability

        rng = np.random.default_rng(0)
        rows = rng.normal(size=(30_000, 4))
        labels = (rows[:, 0] + rng.normal(size=30_000) > 0).astype(int)
        model = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0, n_jobs=2).fit(rows, labels)
        threaded = up_probability(model, rows)
        assert model.n_jobs == 2  # restored after predicting
        model.set_params(n_jobs=1)
        np.testing.assert_array_equal(threaded, model.predict_proba(rows)[:, 1])
