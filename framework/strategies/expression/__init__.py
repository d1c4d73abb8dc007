"""A small, safe expression language for signals written in YAML.

An expression computes one number per bar and ticker from the market data, vectorized over the whole
(days, tickers) panel, for example::

    sign(sma(close, 10) - sma(close, 50))
    where(rsi(close, 14) < 30, 1, where(rsi(close, 14) > 70, -1, 0))
    clip(-zscore(close, 20) / 2, -1, 1)
    rank(pct_change(close, 60)) * 2 - 1

:class:`ExpressionStrategy` turns one into a strategy; :func:`parse` and :func:`evaluate` are the two steps.
Nothing of the text is ever run as Python: a hand-written tokenizer and recursive-descent parser build a tree of
the language's own nodes, and only the names below exist (no attributes, subscripts, strings or lambdas).

Inputs
------
``open``, ``high``, ``low``, ``close``, ``volume``: the fields of the data (an absent one is an error naming
those the data has); ``returns``: close-to-close simple returns, NaN on the first bar. Numbers: ``10``, ``0.5``,
``.5``, ``1e-3``.

Operators, loosest binding first (as in Python)
-----------------------------------------------
``or``; ``and``; ``not``; comparisons ``< <= > >= == !=`` (not chained); ``+ -``; ``* /``; unary ``-``;
``**`` (right-associative; ``-x ** 2`` is ``-(x ** 2)``); then parentheses, calls, names and numbers.
Comparisons and logical operators give 1.0 (true) or 0.0 (false); any non-zero number counts as true.

Functions
---------
``n`` is an integer literal from 1 to 10,000 (a window or a lag, fixed when the config loads; a lag below 1
would look ahead); every other argument is any expression. Warm-up is the number of NaN rows a function adds
to its input's at the start.

| Function            | Meaning                                                                         | Warm-up |
| ------------------- | ------------------------------------------------------------------------------- | ------- |
| `sma(x, n)`         | mean of x over the last n bars                                                  | n - 1   |
| `ema(x, n)`         | exponential moving average, alpha = 2 / (n + 1), seeded by the first n-bar mean | n - 1   |
| `std(x, n)`         | sample standard deviation over the last n bars (n >= 2)                         | n - 1   |
| `ts_min(x, n)`      | lowest x over the last n bars                                                   | n - 1   |
| `ts_max(x, n)`      | highest x over the last n bars                                                  | n - 1   |
| `delay(x, n)`       | x as it was n bars earlier (n >= 1: no look-ahead)                              | n       |
| `delta(x, n)`       | x - delay(x, n)                                                                 | n       |
| `pct_change(x, n)`  | x / delay(x, n) - 1                                                             | n       |
| `rsi(x, n)`         | Wilder's relative strength index of x over n bars, 0 to 100                     | n       |
| `zscore(x, n)`      | (x - sma(x, n)) / std(x, n), NaN where std is 0 (n >= 2)                        | n - 1   |
| `rank(x)`           | rank among tickers on the same bar: 0 lowest to 1 highest, ties averaged        | 0       |
| `clip(x, lo, hi)`   | x limited to [lo, hi]: min(max(x, lo), hi)                                      | 0       |
| `abs(x)`            | absolute value                                                                  | 0       |
| `sign(x)`           | -1, 0 or 1 (the sign of x)                                                      | 0       |
| `log(x)`            | natural logarithm, NaN where x <= 0                                             | 0       |
| `where(cond, a, b)` | a where cond is true (non-zero), b where false (0), NaN where cond is NaN       | 0       |

NaN: "no value yet"
-------------------
NaN is the only missing value: every non-finite result (``1 / 0``, an overflowing ``(10 ** 100) ** 4``,
``log(-1)``) becomes NaN at once. NaN then propagates, so a signal is NaN until all of its parts have warmed up:

- arithmetic and the element-wise functions: NaN in, NaN out (numpy rules);
- comparisons, ``and``, ``or``, ``not``: NaN if an operand is NaN (not 0: a warm-up row is not "false");
- ``where(cond, a, b)``: NaN where ``cond`` is NaN; otherwise the value of the branch taken (a NaN in the other
  branch does not matter);
- windowed functions (``sma``, ``std``, ``zscore``, ``ts_min``, ``ts_max``): NaN where the window holds a NaN;
  ``delay``, ``delta``, ``pct_change``: NaN where either end is; ``ema`` and ``rsi``: computed on each run of
  valid values, restarting their warm-up after a NaN;
- ``rank``: NaN tickers are left out of the ranking of their bar and stay NaN.

Every result is causal: row t depends on rows up to t of the data only.

Limits
------
At most :data:`MAX_LENGTH` (2,000) characters; nesting and tree height at most :data:`MAX_DEPTH` (50) levels;
literal exponents within +-:data:`MAX_EXPONENT` (100); windows and lags at most :data:`MAX_WINDOW` (10,000).
Every error is an :class:`ExpressionError` (a :class:`~framework.core.errors.ConfigError`) whose message points
at the fault with a caret and says what would be valid.

Example:
    >>> import numpy as np
    >>> from framework.core.market_data import MarketData
    >>> close = np.array([[1.0], [2.0], [4.0], [3.0]])
    >>> data = MarketData(np.arange(4).astype("datetime64[D]"), ("A",), close)
    >>> evaluate(parse("where(close > delay(close, 1), 1, -1)"), data).ravel()
    array([nan,  1.,  1., -1.])
"""

from framework.strategies.expression.errors import ExpressionError
from framework.strategies.expression.evaluator import evaluate
from framework.strategies.expression.functions import FUNCTIONS, INPUTS, MAX_WINDOW, FunctionSpec, function_table
from framework.strategies.expression.lexer import MAX_LENGTH
from framework.strategies.expression.nodes import BinaryOp, Call, Input, Node, Number, UnaryOp
from framework.strategies.expression.parser import MAX_DEPTH, MAX_EXPONENT, parse
from framework.strategies.expression.strategy import ExpressionStrategy

__all__ = [
    "FUNCTIONS",
    "INPUTS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_WINDOW",
    "BinaryOp",
    "Call",
    "ExpressionError",
    "ExpressionStrategy",
    "FunctionSpec",
    "Input",
    "Node",
    "Number",
    "UnaryOp",
    "evaluate",
    "function_table",
    "parse",
]
