import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.config.catalogue import Catalogue
from framework.config.components import build_component
from framework.core.errors import ConfigError
from framework.strategies import BuyAndHold, Strategy
from tests.strategies.properties import assert_causal, assert_in_range, panel, price_panels


class TestBuyAndHold:
    def test_long_everywhere_with_full_confidence(self) -> None:
        close = np.array([[10.0, 5.0, 1.0], [9.0, 6.0, 1.0], [8.0, 7.0, 1.0], [1.0, 8.0, 1.0]])
        frame = BuyAndHold().generate(panel(close))
        np.testing.assert_array_equal(frame.signal, np.ones((4, 3)))
        np.testing.assert_array_equal(frame.confidence, np.ones((4, 3)))
        assert frame.signal.dtype == np.float64 and frame.confidence.dtype == np.float64

    def test_no_warm_up_from_a_single_bar(self) -> None:
        frame = BuyAndHold().generate(panel([[3.0, 4.0]]))
        assert frame.shape == (1, 2)
        np.testing.assert_array_equal(frame.signal, [[1.0, 1.0]])

    def test_signal_and_confidence_are_separate_arrays(self) -> None:
        # A consumer that edits one in place must not change the other.
        frame = BuyAndHold().generate(panel(np.ones((3, 2))))
        frame.signal[0, 0] = 0.0
        assert frame.confidence[0, 0] == 1.0

    def test_has_no_parameters(self) -> None:
        strategy = BuyAndHold()
        assert strategy.get_params() == {}
        assert repr(strategy) == "BuyAndHold()"
        assert strategy.fit(panel(np.ones((3, 1)))) is strategy

    def test_a_configured_parameter_is_unknown(self) -> None:
        spec = {"_target_": "framework.strategies.BuyAndHold", "window": 5}
        with pytest.raises(ConfigError) as info:
            build_component(spec, "strategy", Strategy)
        assert str(info.value) == "strategy.window: unknown parameter of BuyAndHold; known: (none)"

    def test_config_file_builds_it(self) -> None:
        spec = Catalogue("strategy").get("buy_and_hold", "strategy")
        assert spec == {"_target_": "framework.strategies.BuyAndHold"}
        assert isinstance(build_component(spec, "strategy", Strategy), BuyAndHold)

    @settings(max_examples=50, deadline=None)
    @given(close=price_panels(), data=st.data())
    def test_rows_up_to_t_ignore_prices_after_t(self, close: np.ndarray, data: st.DataObject) -> None:
        assert_causal(BuyAndHold(), close, data)

    @settings(max_examples=50, deadline=None)
    @given(close=price_panels())
    def test_signal_and_confidence_in_range(self, close: np.ndarray) -> None:
        frame = BuyAndHold().generate(panel(close))
        assert not np.isnan(frame.signal).any()
        assert_in_range(frame, close.shape)
