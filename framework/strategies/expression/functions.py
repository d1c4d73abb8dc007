"""The function table of the expression language: one entry per function, used by the parser and evaluator.

Each :class:`FunctionSpec` says how many arguments a function takes, which of them must be integer literals
(windows and lags, fixed when the config loads), what it means, and how it is computed. The computations reuse
the causal indicators of :mod:`framework.stats.rolling`, wrapped so that NaN in the input (the warm-up
of an inner function, a division by zero) never spreads beyond the windows that contain it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from framework.stats.rolling import (
    cross_rank,
    delay,
    delta,
    ema,
    pct_change,
    rolling_max,
    rolling_min,
    rolling_std,
    rsi,
    sma,
    zscore,
)
from framework.strategies.expression.nodes import Node, literal_value

#: Largest window or lag literal, in bars.
MAX_WINDOW = 10_000

Indicator = Callable[[np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the language.

    Attributes:
        name: Name used in expressions.
        params: Parameter names, in order (their count is the arity).
        meaning: What the function computes, for the documentation table.
        warm_up: Rows of NaN the function adds at the start (on top of its input's), for the table.
        compute: Implementation: takes the evaluated arguments ((days, tickers) arrays) and the window literals
            (ints) in parameter order, returns a (days, tickers) array.
        windows: Positions of the parameters that must be integer literals in ``[min_window, MAX_WINDOW]``.
        min_window: Smallest value of a window literal.
        lag: Whether the window is a lag (a negative value would look ahead: the error says so).
        check: Extra validation of the argument nodes: returns ``(reason, node at fault)`` or ``None``.

    Example:
        >>> spec = FunctionSpec("mid", ("a", "b"), "halfway between a and b", "0", lambda a, b: (a + b) / 2)
        >>> spec.signature, spec.compute(np.array([1.0]), np.array([3.0]))
        ('mid(a, b)', array([2.]))
        >>> FUNCTIONS["delay"].windows, FUNCTIONS["delay"].lag
        ((1,), True)
    """

    name: str
    params: tuple[str, ...]
    meaning: str
    warm_up: str
    compute: Callable[..., np.ndarray]
    windows: tuple[int, ...] = ()
    min_window: int = 1
    lag: bool = False
    check: Callable[[tuple[Node, ...]], tuple[str, Node] | None] | None = None

    @property
    def signature(self) -> str:
        """How a call is written, e.g. ``sma(x, n)``.

        Example:
            >>> FUNCTIONS["clip"].signature
            'clip(x, lo, hi)'
        """
        return f"{self.name}({', '.join(self.params)})"


def _rank(values: np.ndarray) -> np.ndarray:
    if values.shape[0] == 0:
        return values.copy()
    return cross_rank(values)


def _clip(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(values, low), high)


def _where(condition: np.ndarray, if_true: np.ndarray, if_false: np.ndarray) -> np.ndarray:
    out = np.where(condition != 0, if_true, if_false)
    out[np.isnan(condition)] = np.nan
    return out


def _bounds_in_order(args: tuple[Node, ...]) -> tuple[str, Node] | None:
    low, high = literal_value(args[1]), literal_value(args[2])
    if low is not None and high is not None and low > high:
        return f"clip bounds are in the wrong order (lo={low:g} > hi={high:g}); lo must be <= hi", args[1]
    return None


def _windowed(name: str, meaning: str, warm_up: str, compute: Callable[..., np.ndarray], **kw: Any) -> FunctionSpec:
    return FunctionSpec(name, ("x", "n"), meaning, warm_up, compute, windows=(1,), **kw)


def _elementwise(name: str, params: tuple[str, ...], meaning: str, compute: Callable[..., np.ndarray]) -> FunctionSpec:
    return FunctionSpec(name, params, meaning, "0", compute)


_SPECS = (
    _windowed("sma", "mean of x over the last n bars", "n - 1", sma),
    _windowed("ema", "exponential moving average, alpha = 2 / (n + 1), seeded by the first n-bar mean", "n - 1", ema),
    _windowed("std", "sample standard deviation over the last n bars (n >= 2)", "n - 1", rolling_std, min_window=2),
    _windowed("ts_min", "lowest x over the last n bars", "n - 1", rolling_min),
    _windowed("ts_max", "highest x over the last n bars", "n - 1", rolling_max),
    _windowed("delay", "x as it was n bars earlier (n >= 1: no look-ahead)", "n", delay, lag=True),
    _windowed("delta", "x - delay(x, n)", "n", delta, lag=True),
    _windowed("pct_change", "x / delay(x, n) - 1", "n", pct_change, lag=True),
    _windowed("rsi", "Wilder's relative strength index of x over n bars, 0 to 100", "n", rsi),
    _windowed("zscore", "(x - sma(x, n)) / std(x, n), NaN where std is 0 (n >= 2)", "n - 1", zscore, min_window=2),
    _elementwise("rank", ("x",), "rank among tickers on the same bar: 0 lowest to 1 highest, ties averaged", _rank),
    FunctionSpec(
        "clip", ("x", "lo", "hi"), "x limited to [lo, hi]: min(max(x, lo), hi)", "0", _clip, check=_bounds_in_order
    ),
    _elementwise("abs", ("x",), "absolute value", np.abs),
    _elementwise("sign", ("x",), "-1, 0 or 1 (the sign of x)", np.sign),
    _elementwise("log", ("x",), "natural logarithm, NaN where x <= 0", np.log),
    _elementwise(
        "where", ("cond", "a", "b"), "a where cond is true (non-zero), b where false (0), NaN where cond is NaN", _where
    ),
)

#: The functions of the language by name: the single source of truth of the parser, evaluator and docs.
FUNCTIONS: dict[str, FunctionSpec] = {spec.name: spec for spec in _SPECS}

#: The inputs of the language and what they are.
INPUTS: dict[str, str] = {
    "open": "opening price",
    "high": "high of the bar",
    "low": "low of the bar",
    "close": "closing price (adjusted)",
    "volume": "traded volume",
    "returns": "close-to-close simple return, close / delay(close, 1) - 1 (NaN on the first bar)",
}


def function_table() -> str:
    """The function table as Markdown, as printed in the package docstring and the README.

    Returns:
        A Markdown table with one row per function: how it is called, what it means, and how many NaN rows it
        adds at the start of its input's.

    Example:
        >>> print(function_table().splitlines()[2])
        | `sma(x, n)`         | mean of x over the last n bars ...
    """
    header = ("Function", "Meaning", "Warm-up")
    rows = [(f"`{spec.signature}`", spec.meaning, spec.warm_up) for spec in _SPECS]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [_row(header, widths), _row(tuple("-" * w for w in widths), widths)]
    lines += [_row(row, widths) for row in rows]
    return "\n".join(lines)


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"
