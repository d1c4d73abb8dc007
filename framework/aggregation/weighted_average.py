"""Weighted average of the strategies' signals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from framework.aggregation.base import DEFAULT_LABELS, Aggregator, numeric_signal
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame

_OUTPUTS = ("signal", "probability")


class WeightedAverage(Aggregator):
    """Average of the strategies' signals weighted by the portfolio's weights (and, optionally, confidence).

    On each bar and ticker, strategies still warming up (NaN) are left out and the weights of the others are
    renormalized; the result is NaN only where every strategy is. With ``confidence_weighted`` each weight is
    multiplied by that strategy's confidence of the bar. The combined confidence is the weighted mean of the
    available strategies' confidences. Label signals (``BUY``/``SELL``/``HOLD``) are mapped with ``labels``.
    With ``output: probability`` the signal is reported as the probability of an up move,
    ``(1 + signal) / 2``, in [0, 1].

    Args:
        confidence_weighted: Multiply each strategy's weight by its confidence.
        labels: Label to number mapping; ``None`` for BUY=1, SELL=-1, HOLD=0.
        output: ``signal`` (in [-1, 1]) or ``probability`` (in [0, 1]).

    Raises:
        ConfigError: For an unknown ``output`` or a non-numeric label value.

    Example:
        >>> a = SignalFrame(np.array([[1.0], [np.nan]]), np.array([[1.0], [0.0]]))
        >>> b = SignalFrame(np.array([[-1.0], [0.5]]), np.array([[0.5], [1.0]]))
        >>> out = WeightedAverage().combine([a, b], np.array([3.0, 1.0]), None)
        >>> out.signal.ravel().tolist(), out.confidence.ravel().tolist()
        ([0.5, 0.5], [0.875, 1.0])
    """

    def __init__(
        self,
        confidence_weighted: bool = False,
        labels: Mapping[str, float] | None = None,
        output: str = "signal",
    ) -> None:
        self.confidence_weighted = confidence_weighted
        self.labels = labels
        self.output = output
        if output not in _OUTPUTS:
            raise ConfigError(f"output: must be one of {', '.join(_OUTPUTS)}, got {output!r}")
        for label, value in (labels or {}).items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not -1 <= value <= 1:
                raise ConfigError(f"labels.{label}: must be a number in [-1, 1], got {value!r}")

    def combine(self, frames: Sequence[SignalFrame], weights: np.ndarray, data: MarketData | None) -> SignalFrame:
        """Weighted average of ``frames`` (see the class docstring).

        Args:
            frames: Each strategy's signals (numbers or labels), shape (days, tickers) each.
            weights: Each strategy's weight, shape (strategies,).
            data: The panel the signals were computed on (not read).

        Returns:
            The combined signal (in [-1, 1], or [0, 1] for ``output: probability``) and confidence.

        Raises:
            ConfigError: For a label that is not in ``labels``.

        Example:
            >>> labels = SignalFrame(np.array([["BUY"], ["SELL"]], dtype=object), np.ones((2, 1)))
            >>> flat = SignalFrame(np.zeros((2, 1)), np.ones((2, 1)))
            >>> out = WeightedAverage(output="probability").combine([labels, flat], np.array([1.0, 1.0]), None)
            >>> out.signal.ravel().tolist()  # averages 0.5 and -0.5 as probabilities of an up move
            [0.75, 0.25]
        """
        labels = DEFAULT_LABELS if self.labels is None else self.labels
        signals = np.stack([numeric_signal(f.signal, labels) for f in frames])
        confidences = np.stack([np.nan_to_num(f.confidence, nan=0.0) for f in frames])
        available = ~np.isnan(signals)
        base = np.asarray(weights, dtype=np.float64).reshape(-1, 1, 1) * available
        signal_weights = base * confidences if self.confidence_weighted else base
        total = signal_weights.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            signal = (np.where(available, signals, 0.0) * signal_weights).sum(axis=0) / total
            confidence = (base * confidences).sum(axis=0) / base.sum(axis=0)
        # Available strategies whose confidence-weights are all zero say "no opinion": flat, not unknown.
        signal = np.where((total == 0) & available.any(axis=0), 0.0, signal)
        confidence = np.nan_to_num(confidence, nan=0.0)
        if self.output == "probability":
            signal = (1.0 + signal) / 2.0
        return SignalFrame(signal=np.clip(signal, -1.0, 1.0), confidence=np.clip(confidence, 0.0, 1.0))
