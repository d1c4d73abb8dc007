"""A classifier of the sign of the forward return, trained on every ticker's price features at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from framework.core.checks import is_int
from framework.core.errors import ConfigError, DataError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.strategies.base import Strategy
from framework.strategies.features import check_feature_params, feature_names, price_features


def check_classifier(estimator: Any, key: str = "estimator") -> None:
    """Check that ``estimator`` is a scikit-learn style classifier instance with ``fit`` and ``predict_proba``.

    Args:
        estimator: The object to check; ``None`` passes (the caller's default is used).
        key: Config key of the estimator, for the message.

    Raises:
        ConfigError: Naming ``key`` if the object is a class, or lacks ``fit`` or ``predict_proba``.

    Example:
        >>> check_classifier(None)
        >>> check_classifier("RandomForestClassifier")
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: estimator: must be a classifier with fit and predict_proba \
(e.g. a nested '_target_: sklearn.ensemble.RandomForestClassifier'), got str 'RandomForestClassifier'
    """
    if estimator is None:
        return
    if isinstance(estimator, type):
        raise ConfigError(f"{key}: must be an estimator instance, got the class {estimator.__name__}")
    if not (hasattr(estimator, "fit") and hasattr(estimator, "predict_proba")):
        raise ConfigError(
            f"{key}: must be a classifier with fit and predict_proba (e.g. a nested "
            f"'_target_: sklearn.ensemble.RandomForestClassifier'), got {type(estimator).__name__} {estimator!r}"
        )


def prepare_classifier(estimator: Any, default: Callable[[], Any], random_state: int | None) -> Any:
    """A fresh, unfitted copy of ``estimator`` (or ``default()``), seeded so fits repeat exactly.

    The copy is made with :func:`sklearn.base.clone` (a deep copy for objects without ``get_params``), so the
    configured estimator itself is never fitted. Every ``random_state`` parameter that is ``None`` (also
    nested ones, ``clf__random_state`` in a pipeline) is set to ``random_state``; explicit seeds are kept.

    Args:
        estimator: The configured classifier, or ``None``.
        default: Builds the default classifier when ``estimator`` is ``None``.
        random_state: Seed for unseeded estimators; ``None`` leaves them unseeded.

    Returns:
        The estimator to fit.

    Example:
        >>> from sklearn.tree import DecisionTreeClassifier
        >>> configured = DecisionTreeClassifier()
        >>> model = prepare_classifier(configured, DecisionTreeClassifier, 7)
        >>> model.random_state, configured.random_state, model is configured
        (7, None, False)
        >>> prepare_classifier(DecisionTreeClassifier(random_state=1), DecisionTreeClassifier, 7).random_state
        1
    """
    from sklearn.base import clone

    model = default() if estimator is None else clone(estimator, safe=False)
    if random_state is not None and hasattr(model, "get_params") and hasattr(model, "set_params"):
        unseeded = {
            name: random_state
            for name, value in model.get_params(deep=True).items()
            if (name == "random_state" or name.endswith("__random_state")) and value is None
        }
        if unseeded:
            model.set_params(**unseeded)
    return model


def forward_up_labels(close: np.ndarray, horizon: int) -> np.ndarray:
    """Training labels: 1 where the close rises over the next ``horizon`` bars, else 0. Looks ahead on purpose.

    ``label[t] = 1 if close[t + horizon] / close[t] - 1 > 0 else 0``. Only rows whose ``t + horizon`` exists
    get a label: the result has ``days - horizon`` rows (none when ``days <= horizon``).

    Args:
        close: Closes, shape (days, tickers).
        horizon: Bars ahead, >= 1.

    Returns:
        Int8 array of shape (max(days - horizon, 0), tickers).

    Example:
        >>> forward_up_labels(np.array([[1.0], [2.0], [1.5], [1.5]]), 1).ravel().tolist()
        [1, 0, 0]
    """
    close = np.asarray(close, dtype=np.float64)
    rows = max(close.shape[0] - horizon, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        forward = close[horizon : horizon + rows] / close[:rows] - 1.0
    return (forward > 0).astype(np.int8)


def up_probability(model: Any, rows: np.ndarray) -> np.ndarray:
    """P(label 1) for each row of a fitted binary classifier, identical whatever the number of threads.

    An ensemble predicting with several jobs adds its members' probabilities in the order the threads finish,
    which changes the last bits from run to run. So the model predicts with one job, and when it was configured
    with several (``n_jobs``), the rows are cut into chunks predicted in parallel threads instead: each row's
    sum keeps a fixed order, and the same seed gives the same signals.

    Args:
        model: A fitted classifier with ``classes_`` containing 1 (and 0).
        rows: Feature rows, shape (rows, features), without NaN.

    Returns:
        Shape (rows,).

    Example:
        >>> from sklearn.dummy import DummyClassifier
        >>> model = DummyClassifier(strategy="prior").fit(np.zeros((4, 1)), [0, 1, 1, 1])
        >>> up_probability(model, np.zeros((2, 1))).tolist()
        [0.75, 0.75]
        >>> up_probability(model, np.empty((0, 1))).tolist()
        []
    """
    if rows.shape[0] == 0:
        return np.empty(0)
    column = list(np.asarray(model.classes_).tolist()).index(1)
    jobs = getattr(model, "n_jobs", None)
    if jobs is None or jobs == 1:
        return np.asarray(model.predict_proba(rows), dtype=np.float64)[:, column]
    import os
    from concurrent.futures import ThreadPoolExecutor

    threads = (os.cpu_count() or 1) if jobs < 0 else int(jobs)
    threads = max(1, min(threads, rows.shape[0] // 10_000))
    model.set_params(n_jobs=1)  # prediction only reads the fitted trees: safe to share between threads
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            parts = list(pool.map(model.predict_proba, np.array_split(rows, threads)))
    finally:
        model.set_params(n_jobs=jobs)
    return np.concatenate(parts)[:, column].astype(np.float64)


def check_binary_labels(labels: np.ndarray, owner: str, horizon: int) -> None:
    """Raise :class:`DataError` unless both an up (1) and a down (0) example exist.

    Args:
        labels: The training labels kept.
        owner: Component name for the message.
        horizon: Label horizon, for the message.

    Raises:
        DataError: If there is no row or only one class.

    Example:
        >>> check_binary_labels(np.array([0, 1, 1], dtype=np.int8), "RandomForestStrategy", 5)
        >>> check_binary_labels(np.array([1, 1], dtype=np.int8), "RandomForestStrategy", 5)
        Traceback (most recent call last):
        ...
        framework.core.errors.DataError: RandomForestStrategy: all 2 train labels are up over 5 bars; the \
classifier needs both up and down examples (use a longer train segment)
    """
    if labels.size == 0:
        raise DataError(
            f"{owner}: no train row has complete features and a {horizon}-bar forward return; "
            "the train segment is shorter than the warm-up plus the horizon"
        )
    ups = int(labels.sum())
    if ups in (0, labels.size):
        kind = "up" if ups else "down (or flat)"
        raise DataError(
            f"{owner}: all {labels.size} train labels are {kind} over {horizon} bars; the classifier needs both "
            "up and down examples (use a longer train segment)"
        )


class RandomForestStrategy(Strategy):
    """Probability that the close rises over the next ``horizon`` bars, from each ticker's price features.

    Features are those of :func:`~framework.strategies.features.price_features` (past returns over
    ``horizons``, rolling volatility, RSI, distance to moving averages), each ticker from its own history.
    :meth:`fit` pools the rows of every ticker of the train panel into one table and fits ``estimator`` to
    the label ``1 if close[t + horizon] / close[t] - 1 > 0 else 0``. Rows with an incomplete feature (warm-up)
    are dropped, and so are the last ``horizon`` rows of train: their label would need closes after the end
    of train. :meth:`generate` makes one ``predict_proba`` call on every (day, ticker) row with complete
    features; with ``p = P(up)``:

    - signal = ``2p - 1`` in [-1, 1] (long when the model favours a rise), NaN during the feature warm-up;
    - confidence = ``|2p - 1|``, 0 during the warm-up.

    There is no probability threshold: a dead band or a position rule belongs to the aggregator and the
    sizing agents, which see the graded signal.

    Args:
        estimator: An unfitted scikit-learn classifier with ``predict_proba`` (a nested ``_target_`` in YAML);
            ``None`` for ``RandomForestClassifier(n_estimators=50, max_depth=5, min_samples_leaf=20,
            max_samples=0.5, random_state=random_state, n_jobs=-1)`` (the defaults of
            ``conf/strategy/random_forest.yaml``). It is cloned in :meth:`fit`, never fitted itself.
        horizon: Bars ahead of the label, >= 1.
        horizons: Return horizons of the features.
        vol_window: Daily returns in the volatility feature, >= 2.
        rsi_window: RSI window of the features.
        ma_windows: Moving-average windows of the features.
        random_state: Seed given to the estimator's ``random_state`` parameters left at ``None`` (and to the
            default forest), so runs repeat exactly; an integer >= 0, or ``None`` to leave them unseeded.

    Attributes:
        model_: The fitted classifier.
        feature_names_: Names of its input columns.
        n_train_rows_: (day, ticker) rows it was fitted on.
        classes_: The classes it saw (``[0, 1]``).

    Raises:
        ConfigError: For an invalid parameter, naming it (``estimator`` without ``predict_proba`` included).

    Example:
        >>> from sklearn.ensemble import RandomForestClassifier
        >>> from framework.data import SyntheticLoader
        >>> data = SyntheticLoader(n_tickers=2, n_days=120, seed=3).load()
        >>> strategy = RandomForestStrategy(
        ...     estimator=RandomForestClassifier(n_estimators=5, max_depth=3),
        ...     horizons=(1, 5), vol_window=5, rsi_window=5, ma_windows=(5,))
        >>> frame = strategy.fit(data.slice_rows(0, 80)).generate(data)
        >>> strategy.n_train_rows_  # 2 tickers x (80 - 5 warm-up rows - 5 rows without a label)
        140
        >>> frame.shape, bool(np.isnan(frame.signal[:5]).all()), bool((np.abs(frame.signal[5:]) <= 1).all())
        ((120, 2), True, True)
    """

    #: The nested ``estimator`` entry must build a scikit-learn estimator (checked before it is called).
    nested_slots: ClassVar[dict[str, str]] = {"estimator": "sklearn.base.BaseEstimator"}

    def __init__(
        self,
        estimator: Any = None,
        horizon: int = 5,
        horizons: Sequence[int] = (1, 5, 20, 60),
        vol_window: int = 20,
        rsi_window: int = 14,
        ma_windows: Sequence[int] = (10, 50),
        random_state: int | None = 0,
    ) -> None:
        self.estimator = estimator
        self.horizon = horizon
        self.horizons = horizons
        self.vol_window = vol_window
        self.rsi_window = rsi_window
        self.ma_windows = ma_windows
        self.random_state = random_state
        check_classifier(estimator, "estimator")
        if not is_int(horizon) or horizon < 1:
            raise ConfigError(f"horizon: must be an integer >= 1, got {horizon!r}")
        check_feature_params(horizons, vol_window, rsi_window, ma_windows)
        if random_state is not None and (not is_int(random_state) or random_state < 0):
            raise ConfigError(f"random_state: must be an integer >= 0 or null, got {random_state!r}")

    def _features(self, data: MarketData) -> np.ndarray:
        return price_features(data, self.horizons, self.vol_window, self.rsi_window, self.ma_windows)

    def _default_estimator(self) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(
            n_estimators=50,
            max_depth=5,
            min_samples_leaf=20,
            max_samples=0.5,
            random_state=self.random_state,
            n_jobs=-1,
        )

    def fit(self, train: MarketData) -> RandomForestStrategy:
        """Fit the classifier on the train panel's pooled (day, ticker) rows.

        Args:
            train: The panel cut at the end of the train segment.

        Returns:
            self.

        Raises:
            DataError: If no row has complete features and a label, or the labels are all of one class.

        Example:
            >>> from sklearn.tree import DecisionTreeClassifier
            >>> close = np.array([[10.0, 20.0], [11.0, 19.0], [10.5, 19.5], [11.5, 19.0], [11.0, 20.0],
            ...                   [12.0, 19.5], [11.5, 20.5], [12.5, 20.0]])
            >>> strategy = RandomForestStrategy(estimator=DecisionTreeClassifier(max_depth=1), horizon=1,
            ...                                 horizons=(1,), vol_window=2, rsi_window=1, ma_windows=(2,))
            >>> strategy.fit(MarketData(np.arange(8).astype("datetime64[D]"), ("A", "B"), close)) is strategy
            True
            >>> strategy.n_train_rows_  # 2 tickers x (8 - 2 warm-up rows - 1 row without a label)
            10
            >>> strategy.feature_names_, strategy.classes_.tolist()
            (['return_1', 'volatility_2', 'rsi_1', 'ma_distance_2'], [0, 1])
        """
        features = self._features(train)
        labels = forward_up_labels(train.close, int(self.horizon))
        # Rows t >= days - horizon have no label inside train: they are left out, never filled from later data.
        rows = features[: labels.shape[0]].reshape(-1, features.shape[-1])
        targets = labels.reshape(-1)
        complete = ~np.isnan(rows).any(axis=1)
        rows, targets = rows[complete], targets[complete]
        check_binary_labels(targets, type(self).__name__, int(self.horizon))
        model = prepare_classifier(self.estimator, self._default_estimator, self.random_state)
        model.fit(rows, targets)
        self.model_ = model
        self.feature_names_ = feature_names(self.horizons, self.vol_window, self.rsi_window, self.ma_windows)
        self.n_train_rows_ = int(rows.shape[0])
        self.classes_ = np.asarray(model.classes_)
        return self

    def generate(self, data: MarketData) -> SignalFrame:
        """Signal ``2 P(up) - 1`` and confidence ``|2 P(up) - 1|`` for every bar and ticker.

        Args:
            data: The whole panel.

        Returns:
            The :class:`SignalFrame`; NaN signal and 0 confidence where a feature is still warming up.

        Raises:
            RuntimeError: If :meth:`fit` was not called first.

        Example:
            >>> from sklearn.tree import DecisionTreeClassifier
            >>> close = np.array([[10.0], [11.0], [10.5], [11.5], [11.0], [12.0], [11.5], [12.5]])
            >>> data = MarketData(np.arange(8).astype("datetime64[D]"), ("A",), close)
            >>> strategy = RandomForestStrategy(estimator=DecisionTreeClassifier(max_depth=1), horizon=1,
            ...                                 horizons=(1,), vol_window=2, rsi_window=1, ma_windows=(2,))
            >>> strategy.generate(data)  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            RuntimeError: RandomForestStrategy: generate() was called before fit(); ...
            >>> frame = strategy.fit(data.slice_rows(0, 6)).generate(data)
            >>> frame.signal.ravel().tolist()  # a fall is followed by a rise and a rise by a fall: the tree learnt it
            [nan, nan, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0]
            >>> frame.confidence.ravel().tolist()
            [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
        """
        if not hasattr(self, "model_"):
            raise RuntimeError(
                f"{type(self).__name__}: generate() was called before fit(); fit it on the train segment first "
                "(PortfolioStrategy.fit does this)"
            )
        features = self._features(data)
        rows = features.reshape(-1, features.shape[-1])
        complete = ~np.isnan(rows).any(axis=1)
        probability = np.full(rows.shape[0], np.nan)
        probability[complete] = up_probability(self.model_, rows[complete])
        signal = (2.0 * probability - 1.0).reshape(data.shape)
        confidence = np.nan_to_num(np.abs(signal), nan=0.0)
        return SignalFrame(signal=signal, confidence=confidence)
