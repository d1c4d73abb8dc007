import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import ArrayLike

from framework.config.catalogue import Catalogue
from framework.config.components import build_component
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.strategies import BuyAndHold, Strategy


def panel(close: ArrayLike) -> MarketData:
    close = np.asarray(close, dtype=float)
    if close.ndim == 1:
        close = close[:, None]
    dates = np.datetime64("2020-01-01", "D") + np.arange(close.shape[0])
    return MarketData(dates, tuple(f"T{i}" for i in range(close.shape[1])), close)


@st.composite
def price_panels(draw: st.DrawFn) -> np.ndarray:
    shape = (draw(st.integers(60, 150)), draw(st.integers(1, 4)))
    returns = draw(hnp.arrays(np.float64, shape, elements=st.floats(-0.2, 0.2)))
    return 100.0 * np.cumprod(1.0 + returns, axis=0)


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
        strategy = BuyAndHold()
        t = data.draw(st.integers(0, close.shape[0] - 2), label="t")
        changed = close.copy()
        changed[t + 1 :] = data.draw(
            hnp.arrays(np.float64, (close.shape[0] - t - 1, close.shape[1]), elements=st.floats(0.5, 500.0)),
            label="future",
        )
        before = strategy.generate(panel(close))
        after = strategy.generate(panel(changed))
        np.testing.assert_array_equal(after.signal[: t + 1], before.signal[: t + 1])
        np.testing.assert_array_equal(after.confidence[: t + 1], before.confidence[: t + 1])
        prefix = strategy.generate(panel(close).slice_rows(0, t + 1))
        np.testing.assert_array_equal(prefix.signal, before.signal[: t + 1])

    @settings(max_examples=50, deadline=None)
    @given(close=price_panels())
    def test_signal_and_confidence_in_range(self, close: np.ndarray) -> None:
        frame = BuyAndHold().generate(panel(close))
        assert frame.shape == close.shape == frame.confidence.shape
        assert ((frame.signal >= -1.0) & (frame.signal <= 1.0)).all()
        assert ((frame.confidence >= 0.0) & (frame.confidence <= 1.0)).all()
