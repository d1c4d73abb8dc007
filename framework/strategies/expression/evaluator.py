"""The evaluator: a syntax tree and a market-data panel to one (days, tickers) float array, vectorized.

Every node evaluates to a whole panel with numpy, under ``np.errstate(all="ignore")``; any non-finite value
(a division by zero, an overflow, the log of a negative number) becomes NaN at once, so NaN is the only
"no value" there is and it never hides in a later comparison as an infinity. Equal sub-expressions are
computed once per evaluation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from framework.core.market_data import MarketData
from framework.strategies.expression.errors import ExpressionError
from framework.strategies.expression.functions import FUNCTIONS
from framework.strategies.expression.nodes import BinaryOp, Call, Input, Node, Number, UnaryOp

_ARITHMETIC: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.true_divide,
    "**": np.power,
}
_COMPARISON: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
_LOGICAL: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "and": np.logical_and,
    "or": np.logical_or,
}


def evaluate(node: Node, data: MarketData, text: str | None = None, key: str = "expression") -> np.ndarray:
    """The value of the expression ``node`` on every bar and ticker of ``data``.

    Row t of the result depends on rows up to t of the data only.

    Args:
        node: A tree from :func:`~framework.strategies.expression.parser.parse`.
        data: The panel.
        text: The expression's text, to point at the fault in error messages (optional).
        key: Config key of the expression, first word of error messages.

    Returns:
        A new float64 array of shape (days, tickers): finite values or NaN, booleans as 1.0 and 0.0.

    Raises:
        ExpressionError: If the expression uses an input the data does not have; the message lists those it has.

    Example:
        >>> from framework.strategies.expression.parser import parse
        >>> close = np.array([[1.0, 4.0], [2.0, 3.0], [4.0, 3.0]])
        >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B"), close)
        >>> evaluate(parse("where(delta(close, 1) > 0, rank(close), -1)"), data)
        array([[nan, nan],
               [ 0., -1.],
               [ 1., -1.]])
    """
    check_inputs(node, data, text, key)
    cache: dict[Node, np.ndarray] = {}
    with np.errstate(all="ignore"):
        return np.array(_evaluate(node, data, cache), dtype=np.float64, copy=True)


def check_inputs(node: Node, data: MarketData, text: str | None = None, key: str = "expression") -> None:
    """Raise if ``node`` uses an input that ``data`` does not carry.

    Args:
        node: The tree.
        data: The panel.
        text: The expression's text, for the caret in the message (optional).
        key: Config key of the expression.

    Raises:
        ExpressionError: Pointing at the first absent input, listing the inputs the data has.

    Example:
        >>> from framework.strategies.expression.parser import parse
        >>> data = MarketData(np.arange(2).astype("datetime64[D]"), ("A",), np.array([[1.0], [2.0]]))
        >>> check_inputs(parse("returns > 0"), data)  # returns come from close: nothing to say
        >>> try:
        ...     check_inputs(parse("close > open"), data, "close > open")
        ... except ExpressionError as error:
        ...     print(error)
        expression: input 'open' is absent from the data; this data has close (and returns, computed from close)
          close > open
                  ^
    """
    for item in node.walk():
        if isinstance(item, Input) and item.name != "returns" and not data.has(item.name):
            available = [name for name in ("open", "high", "low", "close", "volume") if data.has(name)]
            raise ExpressionError.at(
                f"input '{item.name}' is absent from the data; this data has {', '.join(available)} "
                "(and returns, computed from close)",
                text,
                item.pos,
                key,
            )


def _evaluate(node: Node, data: MarketData, cache: dict[Node, np.ndarray]) -> np.ndarray:
    cached = cache.get(node)
    if cached is None:
        cached = _finite(_compute(node, data, cache))
        cache[node] = cached
    return cached


def _compute(node: Node, data: MarketData, cache: dict[Node, np.ndarray]) -> np.ndarray:
    if isinstance(node, Number):
        return np.full(data.shape, node.value)
    if isinstance(node, Input):
        return _input(node.name, data)
    if isinstance(node, UnaryOp):
        operand = _evaluate(node.operand, data, cache)
        if node.op == "-":
            return np.negative(operand)
        return _with_nan(np.logical_not(operand).astype(np.float64), operand)
    if isinstance(node, BinaryOp):
        left, right = _evaluate(node.left, data, cache), _evaluate(node.right, data, cache)
        if node.op in _ARITHMETIC:
            return _ARITHMETIC[node.op](left, right)
        operation = _COMPARISON.get(node.op) or _LOGICAL[node.op]
        return _with_nan(operation(left, right).astype(np.float64), left, right)
    if isinstance(node, Call):
        spec = FUNCTIONS[node.name]
        args = [
            int(arg.value) if index in spec.windows and isinstance(arg, Number) else _evaluate(arg, data, cache)
            for index, arg in enumerate(node.args)
        ]
        return spec.compute(*args)
    raise TypeError(f"not an expression node: {node!r}")


def _input(name: str, data: MarketData) -> np.ndarray:
    if name == "returns":
        # MarketData puts 0 on the first bar; here there is no return without a previous close.
        returns = np.array(data.returns(), dtype=np.float64, copy=True)
        returns[:1] = np.nan
        return returns
    return data.field(name)


def _with_nan(result: np.ndarray, *operands: np.ndarray) -> np.ndarray:
    """``result`` with NaN wherever an operand is NaN: a comparison with an unknown value is unknown."""
    for operand in operands:
        result[np.isnan(operand)] = np.nan
    return result


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    return values if finite.all() else np.where(finite, values, np.nan)
