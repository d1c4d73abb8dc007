"""Signal aggregators: combine the strategies of a ticker into one signal and confidence."""

from framework.aggregation.base import DEFAULT_LABELS, Aggregator, numeric_signal
from framework.aggregation.weighted_average import WeightedAverage

__all__ = ["DEFAULT_LABELS", "Aggregator", "WeightedAverage", "numeric_signal"]
