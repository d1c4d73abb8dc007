"""Small components referenced by ``_target_: tests.config.strategies_for_tests.<Class>`` in the config tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.strategies.base import Strategy


class Breakout(Strategy):
    """+1 when the close is above the close ``lookback`` bars ago, -1 when below (a second strategy class)."""

    def __init__(self, lookback: int = 20) -> None:
        self.lookback = lookback
        if not isinstance(lookback, int) or isinstance(lookback, bool) or lookback < 1:
            raise ConfigError(f"lookback: must be a positive integer, got {lookback!r}")

    def generate(self, data: MarketData) -> SignalFrame:
        signal = np.full(data.shape, np.nan)
        signal[self.lookback :] = np.sign(data.close[self.lookback :] - data.close[: -self.lookback])
        return SignalFrame(signal, (~np.isnan(signal)).astype(float))


class Window:
    """Not a strategy: any class can be built as a nested component."""

    def __init__(self, size: int = 3) -> None:
        self.size = size


class Composite(Strategy):
    """A strategy whose parameters hold other components (nested ``_target_`` entries)."""

    def __init__(self, inner: Any = None, windows: Any = None, options: Any = None) -> None:
        self.inner = inner
        self.windows = windows
        self.options = options


class Flexible(Strategy):
    """Accepts any keyword (not the project's convention, but build_component must not reject its keys)."""

    def __init__(self, **options: Any) -> None:
        self.options = options


class Strict(Strategy):
    """Rejects a value with a plain ValueError, as third-party classes do."""

    def __init__(self, level: int = 1) -> None:
        if level > 10:
            raise ValueError(f"level too high: {level}")
        self.level = level


#: Every construction of a :class:`Tripwire`, so a test can tell that a class was never called.
TRIPWIRE_CALLS: list[dict[str, Any]] = []


class Tripwire:
    """Records each call of its constructor: a class that must not be built where it does not fit."""

    def __init__(self, **params: Any) -> None:
        TRIPWIRE_CALLS.append(params)


class Holder(Strategy):
    """A strategy declaring the slot of its nested parameter with ``nested_slots`` (a dotted path)."""

    nested_slots = {"inner": "framework.strategies.base.Strategy"}

    def __init__(self, inner: Any = None, extra: Any = None) -> None:
        self.inner = inner
        self.extra = extra
