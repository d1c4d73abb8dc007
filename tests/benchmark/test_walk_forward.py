"""Walk-forward: folds checked by hand, refits that see only their fold, causal out-of-sample signals."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from framework.aggregation import WeightedAverage
from framework.backtest import PortfolioStrategy, Sleeve, StrategySlot
from framework.benchmark.runner import check_metric_key, walk_forward_signals
from framework.core import ConfigError, DataError, MarketData
from framework.core.types import SignalFrame
from framework.data import Fold, SyntheticLoader, WalkForwardSplit
from framework.strategies import RandomForestStrategy, Strategy

DAYS = np.arange("2024-01-01", "2024-01-31", dtype="datetime64[D]")  # 30 bars


class TestFolds:
    def test_rolling_folds_by_hand(self) -> None:
        folds = WalkForwardSplit(train=10, test=5, purge=2).folds(DAYS)
        # The first test window starts after 10 training bars and the purge: bar 12.
        assert folds == [
            Fold((0, 10), (12, 17)),
            Fold((5, 15), (17, 22)),
            Fold((10, 20), (22, 27)),
            Fold((15, 25), (27, 30)),
        ]

    def test_expanding_folds_start_at_the_first_bar(self) -> None:
        folds = WalkForwardSplit(train=10, test=5, mode="expanding").folds(DAYS)
        assert [f.train for f in folds] == [(0, 10), (0, 15), (0, 20), (0, 25)]
        assert [f.test for f in folds] == [(10, 15), (15, 20), (20, 25), (25, 30)]

    @pytest.mark.parametrize("purge", [0, 1, 3, 7])
    @pytest.mark.parametrize(("train", "test", "step"), [(10, 5, None), (6, 4, 2), (8, 3, 5)])
    def test_no_training_bar_within_purge_of_its_test_window_and_windows_in_order(self, train, test, step, purge):
        folds = WalkForwardSplit(train=train, test=test, step=step, purge=purge).folds(DAYS)
        assert folds
        for fold in folds:
            (a, b), (c, d) = fold.train, fold.test
            assert 0 <= a < b and b + purge == c < d <= len(DAYS)
            assert b - a == min(train, c - purge)  # rolling: the full length once enough bars exist
            assert d - c == test or d == len(DAYS)
        starts = [f.test[0] for f in folds]
        assert starts == sorted(starts) and all(
            n - s == (step or test) for s, n in zip(starts, starts[1:], strict=False)
        )
        if step is None:  # tiles: consecutive test windows neither overlap nor leave a gap
            assert all(f.test[1] == g.test[0] for f, g in itertools.pairwise(folds))

    def test_calendar_periods_on_business_days(self) -> None:
        days = np.busday_offset("2015-01-01", np.arange(0, 260 * 4), roll="forward")  # about four years
        folds = WalkForwardSplit(train="2y", test="6m").folds(days)
        first = folds[0]
        # The first test window starts on the first bar two years after the first bar (2017-01-01 is a Sunday);
        # its training window is the two calendar years before that day.
        assert str(days[first.test[0]]) == "2017-01-02" and str(days[first.train[0]]) == "2015-01-02"
        assert str(days[first.test[1] - 1]) == "2017-06-30" and str(days[folds[1].test[0]]) == "2017-07-03"
        assert str(days[folds[1].train[0]]) == "2015-07-03"  # rolling: two calendar years before its test window

    def test_start_and_max_folds(self) -> None:
        folds = WalkForwardSplit(train=5, test=5, start="2024-01-21").folds(DAYS)
        assert [f.test for f in folds] == [(20, 25), (25, 30)]
        assert WalkForwardSplit(train=5, test=5, max_folds=2).folds(DAYS)[0].test == (20, 25)

    def test_segments_name_the_stitched_span_and_each_fold(self) -> None:
        segments = WalkForwardSplit(train=10, test=10).segments(DAYS)
        assert segments == {"test": (10, 30), "fold_0": (10, 20), "fold_1": (20, 30)}
        check_metric_key("fold_1/sharpe")

    @pytest.mark.parametrize(
        ("kwargs", "words"),
        [
            ({"train": "5 years"}, ["benchmark.split.train", "5y, 6m"]),
            ({"test": 0}, ["benchmark.split.test", "positive"]),
            ({"mode": "sliding"}, ["benchmark.split.mode", "rolling, expanding"]),
            ({"purge": -1}, ["benchmark.split.purge", ">= 0"]),
            ({"embargo": 1.5}, ["benchmark.split.embargo"]),
            ({"start": "2024-13-01"}, ["benchmark.split.start", "ISO"]),
            ({"max_folds": 0}, ["benchmark.split.max_folds"]),
        ],
    )
    def test_bad_settings_name_the_key(self, kwargs: dict[str, Any], words: list[str]) -> None:
        with pytest.raises(ConfigError) as raised:
            WalkForwardSplit(**{"train": 10, "test": 5, **kwargs})
        for word in words:
            assert word in str(raised.value)

    def test_data_too_short_says_what_the_windows_need(self) -> None:
        with pytest.raises(DataError, match=r"30 bars, 2024-01-01 \.\. 2024-01-30.*\(5y\).*\(1y\)"):
            WalkForwardSplit(train="5y", test="1y").folds(DAYS)


class Recorder(Strategy):
    """Records the dates of every fit; signals the sign of the last return."""

    def __init__(self) -> None:
        self.fits: list[tuple[str, str, int]] = []

    def fit(self, train: MarketData) -> Recorder:
        self.fits.append((str(train.dates[0]), str(train.dates[-1]), train.n_days))
        return self

    def generate(self, data: MarketData) -> SignalFrame:
        change = np.vstack([np.full((1, data.n_tickers), np.nan), np.sign(np.diff(data.close, axis=0))])
        return SignalFrame(signal=change, confidence=np.ones(data.shape))


def synthetic(days: int = 600, tickers: int = 3, seed: int = 3) -> MarketData:
    return SyntheticLoader(n_tickers=tickers, n_days=days, seed=seed).load()


class TestRefits:
    def test_each_refit_sees_only_its_fold_training_rows(self) -> None:
        data = synthetic()
        recorder = Recorder()
        portfolio = PortfolioStrategy([Sleeve(data.tickers, [StrategySlot("rec", recorder)], WeightedAverage())])
        folds = WalkForwardSplit(train=200, test=100, purge=5).folds(data.dates)

        walk_forward_signals(portfolio, data, folds)

        assert recorder.fits == [
            (str(data.dates[f.train[0]]), str(data.dates[f.train[1] - 1]), f.train[1] - f.train[0]) for f in folds
        ]

    def test_out_of_sample_signals_do_not_depend_on_later_data(self) -> None:
        """Changing every price after a fold's test window leaves that fold's signals (and earlier ones) alone."""
        data = synthetic(days=500)
        folds = WalkForwardSplit(train=200, test=100, purge=5).folds(data.dates)

        def signals(panel: MarketData) -> np.ndarray:
            estimator = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0)
            forest = RandomForestStrategy(estimator=estimator, random_state=0)  # type: ignore[arg-type]
            portfolio = PortfolioStrategy([Sleeve(panel.tickers, [StrategySlot("rf", forest)], WeightedAverage())])
            return np.asarray(walk_forward_signals(portfolio, panel, folds).signal)

        base = signals(data)
        for fold in folds[:-1]:
            cut = fold.test[1]
            changed = data.close.copy()
            changed[cut:] *= np.random.default_rng(cut).uniform(0.5, 1.5, size=changed[cut:].shape)
            altered = signals(MarketData(data.dates, data.tickers, changed))
            np.testing.assert_array_equal(altered[:cut], base[:cut])
        assert np.isnan(base[: folds[0].test[0]]).all() and not np.isnan(base[folds[0].test[0] :]).all()
