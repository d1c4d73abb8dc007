"""Learned aggregation: a classifier over the strategies' signals, or weights adapted to recent hit rates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from framework.aggregation.base import Aggregator, numeric_signal
from framework.core.checks import is_int
from framework.core.errors import ConfigError, DataError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.strategies.features import feature_names, price_features
from framework.strategies.random_forest import (
    check_binary_labels,
    check_classifier,
    forward_up_labels,
    prepare_classifier,
    up_probability,
)

MODES = ("model", "adaptive")


def _check_shapes(frames: Sequence[SignalFrame], data: MarketData | None) -> None:
    """Every strategy's signals must cover the panel's bars and tickers, row for row."""
    if not frames:
        raise ConfigError("MLAggregator: needs at least one strategy to combine")
    if data is None:
        return
    for position, frame in enumerate(frames):
        if np.shape(frame.signal) != data.shape or np.shape(frame.confidence) != data.shape:
            raise DataError(
                f"MLAggregator: strategy {position}'s signals have shape {np.shape(frame.signal)}, the panel "
                f"{data.shape}; pass the signals computed on that panel (fit takes the train segment's)"
            )


class MLAggregator(Aggregator):
    """Combine the strategies with a classifier fitted on the train segment, or with adaptive weights.

    **mode "model"**: each (day, ticker) row is described by, for every strategy i in the portfolio's order,
    ``signal_i`` (its numeric signal, labels mapped BUY=1, SELL=-1, HOLD=0, NaN replaced by 0) and
    ``available_i`` (1 where the strategy has a signal, 0 while it warms up), followed with
    ``include_features`` by the ticker's :func:`~framework.strategies.features.price_features` (default
    parameters, so the first 60 bars have none). :meth:`fit` pools the train rows of every ticker and fits
    ``estimator`` to ``1 if close[t + horizon] / close[t] - 1 > 0 else 0``, dropping the last ``horizon``
    train rows (their label would need closes after train), rows where no strategy has a signal and rows with
    an incomplete price feature. :meth:`combine` makes one ``predict_proba`` call: with ``p = P(up)``, signal
    ``2p - 1`` and confidence ``|2p - 1|``; NaN and 0 where no strategy has a signal (or a price feature is
    missing). The portfolio's weights are not used: the model learns its own.

    **mode "adaptive"**: no model. The weights start at the portfolio's weights (normalized to sum 1) and,
    per ticker, are updated at bars ``t = P, 2P, 3P...`` (``P = adaptation_period``)::

        hit_rate_i = share of bars u in (t - P, t] with sign(signal_i[u - 1]) == sign(return[u])
        w <- (1 - learning_rate) * w + learning_rate * hit_rate / sum(hit_rate)

    counting only bars where strategy i had a signal at ``u - 1`` (a 0 signal is a hit only on a bar whose
    return is exactly 0). A strategy with no signal in the window keeps its weight and the others share the
    rest; if every rate is 0 (or none exists) the weights stay. The update at bar t uses signals up to t - 1
    and returns up to t, and applies from bar t on, so row t depends on rows <= t only. The combined signal
    is the weighted average of the available strategies' signals with these weights (renormalized over the
    available ones, NaN where none is), and the confidence the same average of their confidences.
    :meth:`combine` records the weights used on each bar in ``weights_history_``.

    Args:
        estimator: Mode "model": an unfitted scikit-learn classifier with ``predict_proba`` (nested
            ``_target_``); ``None`` for ``LogisticRegression(max_iter=1000)``. A regressor is not supported.
            Cloned in :meth:`fit`; ``random_state`` parameters left at ``None`` get ``random_state``.
        horizon: Mode "model": bars ahead of the label, >= 1.
        mode: ``model`` or ``adaptive``.
        learning_rate: Mode "adaptive": share of the new target in each update, in (0, 1].
        adaptation_period: Mode "adaptive": bars between updates and in the hit-rate window, >= 2.
        include_features: Mode "model": also give the model the ticker's price features.
        random_state: Seed for unseeded estimators, an integer >= 0 or ``None``.

    Attributes:
        model_: Mode "model": the fitted classifier.
        feature_names_: Mode "model": names of its input columns.
        n_train_rows_: Mode "model": rows it was fitted on.
        classes_: Mode "model": the classes it saw.
        n_strategies_: Number of strategies seen by :meth:`fit`.
        weights_history_: Mode "adaptive": the weights used on each bar of the last :meth:`combine`, shape
            (days, strategies, tickers).

    Raises:
        ConfigError: For an invalid parameter, naming it.

    Example:
        >>> signal = np.array([[1.0], [1.0], [1.0], [1.0], [1.0]])
        >>> right, wrong = SignalFrame(signal, np.ones((5, 1))), SignalFrame(-signal, np.ones((5, 1)))
        >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("A",), 100.0 + np.arange(5.0)[:, None])
        >>> agg = MLAggregator(mode="adaptive", adaptation_period=2, learning_rate=0.5)
        >>> out = agg.combine([right, wrong], np.array([1.0, 1.0]), data)
        >>> agg.weights_history_[:, 0, 0].tolist()  # updated at bars 2 and 4: 0.5 -> 0.75 -> 0.875
        [0.5, 0.5, 0.75, 0.75, 0.875]
        >>> out.signal.ravel().tolist()
        [0.0, 0.0, 0.5, 0.5, 0.75]
    """

    #: The nested ``estimator`` entry must build a scikit-learn estimator (checked before it is called).
    nested_slots: ClassVar[dict[str, str]] = {"estimator": "sklearn.base.BaseEstimator"}

    def __init__(
        self,
        estimator: Any = None,
        horizon: int = 5,
        mode: str = "model",
        learning_rate: float = 0.1,
        adaptation_period: int = 20,
        include_features: bool = False,
        random_state: int | None = 0,
    ) -> None:
        self.estimator = estimator
        self.horizon = horizon
        self.mode = mode
        self.learning_rate = learning_rate
        self.adaptation_period = adaptation_period
        self.include_features = include_features
        self.random_state = random_state
        check_classifier(estimator, "estimator")
        if mode not in MODES:
            raise ConfigError(f"mode: must be one of {', '.join(MODES)}, got {mode!r}")
        for key, minimum in (("horizon", 1), ("adaptation_period", 2)):
            value = getattr(self, key)
            if not is_int(value) or value < minimum:
                raise ConfigError(f"{key}: must be an integer >= {minimum}, got {value!r}")
        if (
            not isinstance(learning_rate, (int, float, np.integer, np.floating))
            or isinstance(learning_rate, bool)
            or not 0 < learning_rate <= 1
        ):
            raise ConfigError(f"learning_rate: must be a number in (0, 1], got {learning_rate!r}")
        if not isinstance(include_features, (bool, np.bool_)):
            raise ConfigError(f"include_features: must be true or false, got {include_features!r}")
        if random_state is not None and (not is_int(random_state) or random_state < 0):
            raise ConfigError(f"random_state: must be an integer >= 0 or null, got {random_state!r}")

    # ------------------------------------------------------------------------------------------- model mode

    def _default_estimator(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000, random_state=self.random_state)

    def _inputs(self, frames: Sequence[SignalFrame], data: MarketData | None) -> tuple[np.ndarray, np.ndarray]:
        """Model inputs (days, tickers, columns) and where they are usable (days, tickers)."""
        signals = np.stack([numeric_signal(f.signal) for f in frames], axis=-1)
        available = ~np.isnan(signals)
        columns = [np.where(available, signals, 0.0), available.astype(np.float64)]
        if self.include_features:
            if data is None:
                raise ConfigError("include_features: the price features need the market data, got None")
            columns.append(price_features(data))
        inputs = np.concatenate(columns, axis=-1)
        usable = available.any(axis=-1) & ~np.isnan(inputs).any(axis=-1)
        return inputs, usable

    def _input_names(self, count: int) -> list[str]:
        names = [f"signal_{i}" for i in range(count)] + [f"available_{i}" for i in range(count)]
        return names + (feature_names() if self.include_features else [])

    def fit(self, frames: Sequence[SignalFrame], weights: np.ndarray, train: MarketData) -> MLAggregator:
        """Mode "model": fit the classifier on the train rows; mode "adaptive": only note the strategy count.

        Args:
            frames: Each strategy's signals cut at the end of train.
            weights: Each strategy's weight (unused by mode "model").
            train: The panel cut at the end of train (its closes give the labels).

        Returns:
            self.

        Raises:
            ConfigError: If there is no strategy.
            DataError: If the signals do not match ``train`` row for row, no train row is usable or the labels
                are all of one class.

        Example:
            >>> close = np.array([100.0, 101, 100, 101, 100, 101, 100, 101])[:, None]  # up, down, up...
            >>> data = MarketData(np.arange(8).astype("datetime64[D]"), ("A",), close)
            >>> calls_next = SignalFrame(np.array([1.0, -1, 1, -1, 1, -1, 1, -1])[:, None], np.ones((8, 1)))
            >>> agg = MLAggregator(horizon=1).fit([calls_next], np.array([1.0]), data)
            >>> agg.n_train_rows_, agg.feature_names_, agg.classes_.tolist()  # the last bar has no label
            (7, ['signal_0', 'available_0'], [0, 1])
        """
        _check_shapes(frames, train)
        self.n_strategies_ = len(frames)
        if self.mode != "model":
            return self
        inputs, usable = self._inputs(frames, train)
        labels = forward_up_labels(train.close, int(self.horizon))
        # Rows t >= days - horizon have no label inside train: dropped, never filled from later data.
        keep = usable[: labels.shape[0]].reshape(-1)
        rows = inputs[: labels.shape[0]].reshape(-1, inputs.shape[-1])[keep]
        targets = labels.reshape(-1)[keep]
        check_binary_labels(targets, type(self).__name__, int(self.horizon))
        model = prepare_classifier(self.estimator, self._default_estimator, self.random_state)
        model.fit(rows, targets)
        self.model_ = model
        self.feature_names_ = self._input_names(len(frames))
        self.n_train_rows_ = int(rows.shape[0])
        self.classes_ = np.asarray(model.classes_)
        return self

    def _combine_model(self, frames: Sequence[SignalFrame], data: MarketData | None) -> SignalFrame:
        if not hasattr(self, "model_"):
            raise RuntimeError(
                "MLAggregator: combine() was called before fit() in mode 'model'; fit it on the train segment "
                "first (PortfolioStrategy.fit does this)"
            )
        if len(frames) != self.n_strategies_:
            raise ConfigError(
                f"MLAggregator: fitted on {self.n_strategies_} strategies, asked to combine {len(frames)}"
            )
        inputs, usable = self._inputs(frames, data)
        flat_usable = usable.reshape(-1)
        probability = np.full(flat_usable.shape, np.nan)
        probability[flat_usable] = up_probability(self.model_, inputs.reshape(-1, inputs.shape[-1])[flat_usable])
        signal = (2.0 * probability - 1.0).reshape(usable.shape)
        return SignalFrame(signal=signal, confidence=np.nan_to_num(np.abs(signal), nan=0.0))

    # ---------------------------------------------------------------------------------------- adaptive mode

    def _adaptive_weights(self, signals: np.ndarray, returns: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Weights used on each bar, shape (days, strategies, tickers), for signals of shape (k, days, tickers)."""
        count, days, tickers = signals.shape
        period, rate = int(self.adaptation_period), float(self.learning_rate)
        start = np.asarray(weights, dtype=np.float64).reshape(-1)
        if start.shape != (count,) or not (start >= 0).all() or not start.sum() > 0:
            raise ConfigError(f"weights: need {count} non-negative weights with a positive sum, got {weights!r}")
        # hits[:, u] and said[:, u] describe bar u: signal of u - 1 against the return of u (bar 0 has none).
        previous = signals[:, :-1]
        said = ~np.isnan(previous)
        hits = said & (np.sign(previous) == np.sign(returns[None, 1:]))
        # Integer cumulative counts, so a window's count is an exact difference of two rows.
        hit_total = np.zeros((count, days, tickers), dtype=np.int64)
        said_total = np.zeros((count, days, tickers), dtype=np.int64)
        np.cumsum(hits, axis=1, out=hit_total[:, 1:])
        np.cumsum(said, axis=1, out=said_total[:, 1:])

        history = np.empty((days, count, tickers))
        current = np.repeat((start / start.sum())[:, None], tickers, axis=1)
        applied_from = 0
        for t in range(period, days, period):
            history[applied_from:t] = current
            said_window = said_total[:, t] - said_total[:, t - period]
            hit_window = hit_total[:, t] - hit_total[:, t - period]
            active = said_window > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                hit_rate = np.where(active, hit_window / np.maximum(said_window, 1), 0.0)
            rate_sum = hit_rate.sum(axis=0)
            # The active strategies share the weight they hold now, in proportion to their hit rates.
            share = (current * active).sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                target = np.where(active, hit_rate / rate_sum * share, current)
            target = np.where(rate_sum > 0, target, current)
            current = (1.0 - rate) * current + rate * target
            applied_from = t
        history[applied_from:] = current
        return history

    def _combine_adaptive(self, frames: Sequence[SignalFrame], weights: np.ndarray, data: MarketData) -> SignalFrame:
        if data is None:
            raise ConfigError("MLAggregator: mode 'adaptive' needs the market data (returns), got None")
        signals = np.stack([numeric_signal(f.signal) for f in frames])
        confidences = np.stack([np.nan_to_num(np.asarray(f.confidence, dtype=np.float64), nan=0.0) for f in frames])
        history = self._adaptive_weights(signals, data.returns(), weights)
        self.weights_history_ = history
        available = ~np.isnan(signals)
        used = history.transpose(1, 0, 2) * available
        total = used.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            signal = (np.where(available, signals, 0.0) * used).sum(axis=0) / total
            confidence = (confidences * used).sum(axis=0) / total
        # Available strategies whose weights are all 0 say "no opinion": flat, not unknown.
        any_available = available.any(axis=0)
        signal = np.where((total == 0) & any_available, 0.0, signal)
        confidence = np.nan_to_num(confidence, nan=0.0)
        return SignalFrame(signal=np.clip(signal, -1.0, 1.0), confidence=np.clip(confidence, 0.0, 1.0))

    def combine(self, frames: Sequence[SignalFrame], weights: np.ndarray, data: MarketData) -> SignalFrame:
        """One signal from the strategies' signals (see the class docstring for each mode).

        Args:
            frames: Each strategy's signals, shape (days, tickers) each.
            weights: Each strategy's weight (the adaptive weights' starting point; unused by mode "model").
            data: The panel the signals were computed on.

        Returns:
            The combined signal and confidence.

        Raises:
            RuntimeError: In mode "model", if :meth:`fit` was not called first.
            ConfigError: If the number of strategies differs from the fit's, or the weights are invalid.
            DataError: If the signals do not match ``data`` row for row.

        Example:
            >>> close = np.array([100.0, 101, 100, 101, 100, 101, 100, 101])[:, None]  # up, down, up...
            >>> data = MarketData(np.arange(8).astype("datetime64[D]"), ("A",), close)
            >>> calls_next = SignalFrame(np.array([1.0, -1, 1, -1, 1, -1, 1, -1])[:, None], np.ones((8, 1)))
            >>> agg = MLAggregator(horizon=1).fit([calls_next], np.array([1.0]), data)
            >>> out = agg.combine([calls_next], np.array([1.0]), data)
            >>> out.signal[:2].round(3).ravel().tolist(), out.confidence[:2].round(3).ravel().tolist()
            ([0.654, -0.539], [0.654, 0.539])
        """
        _check_shapes(frames, data)
        if self.mode == "model":
            return self._combine_model(frames, data)
        return self._combine_adaptive(frames, weights, data)
