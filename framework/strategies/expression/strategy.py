"""ExpressionStrategy: a signal written as an expression in the YAML config."""

from __future__ import annotations

import numpy as np

from framework.core.market_data import MarketData
from framework.core.types import SignalFrame
from framework.strategies.base import Strategy
from framework.strategies.expression.evaluator import check_inputs, evaluate
from framework.strategies.expression.nodes import Node
from framework.strategies.expression.parser import parse


class ExpressionStrategy(Strategy):
    """The signal is the value of an expression over the market data, clipped to [-1, 1].

    The expression is parsed and validated when the strategy is built (when the config loads): a typo, a wrong
    argument count or a look-ahead lag fails before any data is read. That it only uses inputs the data has is
    checked by :meth:`generate`. See :mod:`framework.strategies.expression` for the language.

    The value is always clipped to [-1, 1], the range of a signal: ``sign(...)``, ``where(..., 1, -1)`` and
    ``clip(..., -1, 1)`` say exactly what is meant; an unbounded value (``sma(close, 10) - sma(close, 50)``)
    saturates at +-1. NaN (warm-up, undefined values) stays NaN, with confidence 0.

    Args:
        expression: The signal, e.g. ``sign(sma(close, 10) - sma(close, 50))``.
        confidence: Optional second expression for the confidence, clipped to [0, 1] (NaN counts as 0). Without
            it, confidence is 1 where the signal has a value. Either way it is 0 where the signal is NaN.

    Raises:
        ExpressionError: If an expression is not valid; the message points at the fault with a caret.

    Example:
        >>> close = np.array([[1.0], [2.0], [3.0], [2.0], [2.0]])
        >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("A",), close)
        >>> frame = ExpressionStrategy(expression="sign(delta(close, 1))").generate(data)
        >>> frame.signal.ravel(), frame.confidence.ravel()
        (array([nan,  1.,  1., -1.,  0.]), array([0., 1., 1., 1., 1.]))
        >>> ExpressionStrategy(expression="delta(close, 1) * 0.6", confidence="abs(delta(close, 1))").generate(
        ...     data
        ... ).confidence.ravel()
        array([0., 1., 1., 1., 0.])
        >>> from framework.strategies.expression import ExpressionError
        >>> try:
        ...     ExpressionStrategy(expression="delay(close, -1)")
        ... except ExpressionError as error:
        ...     print(error)  # doctest: +ELLIPSIS
        expression: the lag n of delay(x, n) must be an integer literal ...; a negative lag would look ahead
          delay(close, -1)
                       ^
    """

    def __init__(
        self, expression: str = "sign(sma(close, 10) - sma(close, 50))", confidence: str | None = None
    ) -> None:
        self.expression = expression
        self.confidence = confidence
        self._trees = self._parse()

    def _parse(self) -> tuple[str, str | None, Node, Node | None]:
        signal = parse(self.expression, "expression")
        confidence = None if self.confidence is None else parse(self.confidence, "confidence")
        return self.expression, self.confidence, signal, confidence

    def generate(self, data: MarketData) -> SignalFrame:
        """Signal and confidence on every bar and ticker (see the class docstring).

        Args:
            data: The panel.

        Returns:
            The signal in [-1, 1] (NaN during warm-up) and the confidence in [0, 1].

        Raises:
            ExpressionError: If an expression uses an input the data does not have.

        Example:
            >>> close = np.array([[10.0], [11.0], [12.0], [11.0]])
            >>> data = MarketData(np.arange(4).astype("datetime64[D]"), ("A",), close)
            >>> frame = ExpressionStrategy("(close - sma(close, 2)) * 2").generate(data)  # saturates at +-1
            >>> frame.signal.ravel().tolist(), frame.confidence.ravel().tolist()
            ([nan, 1.0, 1.0, -1.0], [0.0, 1.0, 1.0, 1.0])
            >>> from framework.strategies.expression import ExpressionError
            >>> try:
            ...     ExpressionStrategy("volume > 0").generate(data)
            ... except ExpressionError as error:
            ...     print(str(error).splitlines()[0])
            expression: input 'volume' is absent from the data; this data has close (and returns, computed from close)
        """
        if self._trees[:2] != (self.expression, self.confidence):
            self._trees = self._parse()  # a parameter was changed after construction
        _, _, signal_tree, confidence_tree = self._trees
        check_inputs(signal_tree, data, self.expression, "expression")
        if confidence_tree is not None:
            check_inputs(confidence_tree, data, self.confidence, "confidence")
        signal = np.clip(evaluate(signal_tree, data, self.expression, "expression"), -1.0, 1.0)
        known = ~np.isnan(signal)
        if confidence_tree is None:
            confidence = known.astype(np.float64)
        else:
            raw = np.clip(evaluate(confidence_tree, data, self.confidence, "confidence"), 0.0, 1.0)
            confidence = np.where(known & ~np.isnan(raw), raw, 0.0)
        return SignalFrame(signal=signal, confidence=confidence)
