"""Shared scaffolding of the strategy tests: price panels, hypothesis generators and the common properties."""

import inspect
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import ArrayLike

from framework.config.catalogue import Catalogue
from framework.config.components import build_component
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.strategies import Strategy


def panel(close: ArrayLike, **fields: Any) -> MarketData:
    """Daily bars from 2020-01-01, tickers T0, T1, ...; a 1-D ``close`` is one ticker."""
    close = np.asarray(close, dtype=float)
    if close.ndim == 1:
        close = close[:, None]
    dates = np.datetime64("2020-01-01", "D") + np.arange(close.shape[0])
    return MarketData(dates, tuple(f"T{i}" for i in range(close.shape[1])), close, **fields)


@st.composite
def price_panels(draw: st.DrawFn) -> np.ndarray:
    """Compounded returns in [-20%, 20%]: 60 to 150 bars of 1 to 4 tickers starting at 100."""
    shape = (draw(st.integers(60, 150)), draw(st.integers(1, 4)))
    returns = draw(hnp.arrays(np.float64, shape, elements=st.floats(-0.2, 0.2)))
    return 100.0 * np.cumprod(1.0 + returns, axis=0)


def price_arrays(max_days: int, max_tickers: int = 3) -> st.SearchStrategy[np.ndarray]:
    """Independent prices in [0.5, 500]: 2 to ``max_days`` bars of 1 to ``max_tickers`` tickers."""
    return hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, max_days), st.integers(1, max_tickers)),
        elements=st.floats(0.5, 500.0, allow_nan=False, allow_infinity=False),
    )


def draw_future(data: st.DataObject, close: np.ndarray) -> tuple[int, np.ndarray]:
    """A bar ``t`` before the last one and a copy of ``close`` whose bars after ``t`` are redrawn in [0.5, 500]."""
    t = data.draw(st.integers(0, close.shape[0] - 2), label="t")
    future = data.draw(
        hnp.arrays(np.float64, (close.shape[0] - t - 1, close.shape[1]), elements=st.floats(0.5, 500.0)),
        label="future",
    )
    changed = close.copy()
    changed[t + 1 :] = future
    return t, changed


def assert_causal(strategy: Strategy, close: np.ndarray, data: st.DataObject) -> None:
    """Rows <= t ignore prices after t, and a prefix of the data gives a prefix of signal and confidence.

    ``t`` and the prices after it are drawn from ``data`` (see ``draw_future``).
    """
    t, changed = draw_future(data, close)
    before = strategy.generate(panel(close))
    after = strategy.generate(panel(changed))
    np.testing.assert_array_equal(after.signal[: t + 1], before.signal[: t + 1])
    np.testing.assert_array_equal(after.confidence[: t + 1], before.confidence[: t + 1])
    prefix = strategy.generate(panel(close).slice_rows(0, t + 1))
    np.testing.assert_array_equal(prefix.signal, before.signal[: t + 1])
    np.testing.assert_array_equal(prefix.confidence, before.confidence[: t + 1])


def assert_in_range(frame: SignalFrame, close_shape: tuple[int, ...]) -> None:
    """Signal in [-1, 1] where not NaN, confidence in [0, 1], confidence 0 where the signal is NaN."""
    assert frame.shape == close_shape == frame.confidence.shape
    signal = frame.signal[~np.isnan(frame.signal)]
    assert ((signal >= -1.0) & (signal <= 1.0)).all()
    assert ((frame.confidence >= 0.0) & (frame.confidence <= 1.0)).all()
    assert (frame.confidence[np.isnan(frame.signal)] == 0.0).all()


def assert_config_defaults(name: str, cls: type[Strategy]) -> None:
    """conf/strategy/<name>.yaml builds ``cls`` and sets exactly its constructor's defaults."""
    spec = Catalogue("strategy").get(name, "strategy")
    strategy = build_component(spec, "strategy", Strategy)
    assert isinstance(strategy, cls)
    defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items()}
    assert set(spec) - {"_target_"} == set(defaults)
    assert strategy.get_params() == defaults
