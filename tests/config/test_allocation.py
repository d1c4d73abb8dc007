from __future__ import annotations

import numpy as np
import pytest

from framework.config import build_portfolio
from framework.core import ConfigError

AGG = {"_target_": "framework.aggregation.WeightedAverage"}


def build(allocation: object) -> object:
    config = {"tickers": ["A", "B", "C"], "strategies": {"ma_crossover": 1.0}, "allocation": allocation}
    return build_portfolio(config, ["A", "B", "C"], default_aggregator=AGG)


class TestAllocation:
    def test_weights_in_ticker_order_with_zero_for_the_rest(self) -> None:
        portfolio = build({"C": 0.5, "A": 0.25})
        np.testing.assert_allclose(portfolio.allocation_weights(("A", "B", "C")), [0.25, 0.0, 0.5])
        assert build(None).allocation_weights(("A",)) is None

    @pytest.mark.parametrize(
        ("allocation", "words"),
        [
            ({"Z": 0.1}, ["portfolio.allocation.Z", "not a ticker of the portfolio", "A, B, C"]),
            ({"A": -0.1}, ["portfolio.allocation.A", ">= 0", "-0.1"]),
            ({"A": "half"}, ["portfolio.allocation.A", "'half'"]),
            ({"A": 0.7, "B": 0.6}, ["portfolio.allocation", "sum to 1.3", "at most 1"]),
            ([0.5, 0.5], ["portfolio.allocation", "expected a mapping"]),
        ],
    )
    def test_bad_allocation_names_the_key(self, allocation: object, words: list[str]) -> None:
        with pytest.raises(ConfigError) as caught:
            build(allocation)
        for word in words:
            assert word in str(caught.value)
