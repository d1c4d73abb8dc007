"""Signal aggregators: combine the strategies of a ticker into one signal and confidence."""

from framework.aggregation.base import DEFAULT_LABELS, Aggregator, numeric_signal
from framework.aggregation.ml_based import MLAggregator
from framework.aggregation.volatility_adjusted import VolatilityAdjusted
from framework.aggregation.weighted_average import WeightedAverage

__all__ = ["DEFAULT_LABELS", "Aggregator", "MLAggregator", "VolatilityAdjusted", "WeightedAverage", "numeric_signal"]
