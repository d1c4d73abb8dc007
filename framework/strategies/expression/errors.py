"""ExpressionError: what went wrong in an expression, shown with a caret under the place at fault."""

from __future__ import annotations

from framework.core.errors import ConfigError

#: Characters of the expression shown around the position at fault (long expressions are cut with "...").
EXCERPT_WIDTH = 76


class ExpressionError(ConfigError):
    """An expression cannot be parsed, validated or evaluated.

    The message names the config key, says what is wrong and what would be valid, then shows the expression
    (an excerpt of at most :data:`EXCERPT_WIDTH` characters when it is long) with a caret ``^`` under the
    position at fault. ``position`` is that 0-based character offset (``None`` when unknown).

    Args:
        message: The whole message.
        position: 0-based offset of the fault in ``expression``.
        expression: The text of the expression.

    Example:
        >>> error = ExpressionError.at("unknown input 'clsoe'; did you mean 'close'?", "sma(clsoe, 5)", 4)
        >>> print(error)
        expression: unknown input 'clsoe'; did you mean 'close'?
          sma(clsoe, 5)
              ^
        >>> error.position, isinstance(error, ConfigError)
        (4, True)
    """

    def __init__(self, message: str, position: int | None = None, expression: str | None = None) -> None:
        super().__init__(message)
        self.position = position
        self.expression = expression

    def __reduce__(self) -> tuple[type[ExpressionError], tuple[str, int | None, str | None]]:
        # Keep position and expression when the error crosses a process boundary (parallel sweeps).
        return (type(self), (str(self), self.position, self.expression))

    @classmethod
    def at(cls, reason: str, expression: str | None, position: int, key: str = "expression") -> ExpressionError:
        """An error whose message points at ``position`` of ``expression``.

        Args:
            reason: What is wrong and what would be valid.
            expression: The text, or ``None`` when unknown (the message then gives the column only).
            position: 0-based offset of the fault (``len(expression)`` for "at the end").
            key: The config key holding the expression, first word of the message.

        Returns:
            The error, to be raised by the caller.

        Example:
            >>> print(ExpressionError.at("expected ')'", "sma(close, 10", 13, key="signal"))
            signal: expected ')'
              sma(close, 10
                           ^
            >>> print(ExpressionError.at("expected ')'", None, 13))
            expression: expected ')' (at column 14)
        """
        if expression is None:
            return cls(f"{key}: {reason} (at column {position + 1})", position, None)
        excerpt, column = caret_excerpt(expression, position)
        return cls(f"{key}: {reason}\n  {excerpt}\n  {' ' * column}^", position, expression)


def caret_excerpt(expression: str, position: int, width: int = EXCERPT_WIDTH) -> tuple[str, int]:
    """The part of ``expression`` to print around ``position``, and the caret's column in it.

    Line breaks and tabs are shown as spaces and other unprintable characters as ``?``, so that the caret
    lands under the right character of a one-line excerpt.

    Args:
        expression: The whole text.
        position: 0-based offset to point at.
        width: Longest excerpt before "..." cuts it.

    Returns:
        ``(excerpt, column)``.

    Example:
        >>> caret_excerpt("a" * 100 + "!" + "b" * 100, 100, width=10)
        ('...aaaaa!bbbb...', 8)
    """
    start = 0 if len(expression) <= width else min(max(0, position - width // 2), len(expression) - width)
    stop = start + width
    shown = "".join(_printable(char) for char in expression[start:stop])
    prefix = "..." if start > 0 else ""
    suffix = "..." if stop < len(expression) else ""
    return prefix + shown + suffix, len(prefix) + position - start


def _printable(char: str) -> str:
    if char in "\n\r\t\f\v":
        return " "
    return char if char.isprintable() else "?"
