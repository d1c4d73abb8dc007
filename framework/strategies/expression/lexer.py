"""The tokenizer: expression text to a list of tokens, rejecting anything outside the language at once."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from framework.strategies.expression.errors import ExpressionError

#: Longest expression accepted, in characters (checked by ``parse`` before anything else is done with the text).
MAX_LENGTH = 2000

NUMBER, NAME, OPERATOR, END = "number", "name", "operator", "end"
#: Words that are operators, not names.
KEYWORDS = frozenset({"and", "or", "not"})
#: Operators and punctuation, longest first so that ``**`` is not read as two ``*``.
OPERATORS = ("**", "<=", ">=", "==", "!=", "+", "-", "*", "/", "<", ">", "(", ")", ",")

_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = " \t\r\n"
_VALID = (
    "expressions are made of numbers, inputs (close, returns, ...), function calls such as sma(close, 10), "
    "the operators + - * / ** < <= > >= == != and or not, parentheses and commas"
)
#: Why a character that Python would accept is not part of the language.
_REJECTED = {
    "'": "strings are not part of the language",
    '"': "strings are not part of the language",
    "[": "subscripts and lists are not part of the language; use delay(x, n) for the value n bars earlier",
    "]": "subscripts and lists are not part of the language; use delay(x, n) for the value n bars earlier",
    "{": "braces are not part of the language; group with parentheses",
    "}": "braces are not part of the language; group with parentheses",
    ".": "attribute access is not part of the language (a '.' can only be part of a number such as 0.5)",
    "=": "'=' is not an operator; use '==' to compare",
    "!": "'!' is not an operator; use 'not x', or '!=' to compare",
    "&": "'&' is not an operator; use 'and'",
    "|": "'|' is not an operator; use 'or'",
    "^": "'^' is not an operator; use '**' for a power",
    "%": "'%' is not an operator; " + _VALID,
    ":": "':' is not part of the language (no lambdas, slices or dictionaries); " + _VALID,
}


@dataclass(frozen=True)
class Token:
    """One token: its kind (``number``, ``name``, ``operator``, ``end``), its text and its 0-based offset.

    Attributes:
        kind: ``number``, ``name`` (keywords included), ``operator`` (punctuation included) or ``end``.
        text: The characters of the token as written (empty for ``end``).
        pos: 0-based offset of its first character.

    Example:
        >>> tokenize("close*2")[1]
        Token(kind='operator', text='*', pos=5)
    """

    kind: str
    text: str
    pos: int


def tokenize(text: str, key: str = "expression") -> list[Token]:
    """Split ``text`` into tokens; the last one is always an ``end`` token.

    Args:
        text: The expression (:func:`~framework.strategies.expression.parser.parse` checks its length first).
        key: Config key of the expression, for error messages.

    Returns:
        The tokens in order. ``and``, ``or`` and ``not`` are ``name`` tokens (the parser knows them).

    Raises:
        ExpressionError: If the text holds a character outside the language, or a number is malformed or too
            large for a float.

    Example:
        >>> [(t.kind, t.text) for t in tokenize("sma(close,10)>=1.5e2")]  # doctest: +NORMALIZE_WHITESPACE
        [('name', 'sma'), ('operator', '('), ('name', 'close'), ('operator', ','), ('number', '10'),
         ('operator', ')'), ('operator', '>='), ('number', '1.5e2'), ('end', '')]
        >>> try:
        ...     tokenize("close.__class__")
        ... except ExpressionError as error:
        ...     print(error)
        expression: attribute access is not part of the language (a '.' can only be part of a number such as 0.5)
          close.__class__
               ^
    """
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char in _SPACE:
            pos += 1
            continue
        number = _NUMBER.match(text, pos)
        if number:
            tokens.append(_number_token(text, number.group(), pos, key))
            pos = number.end()
            continue
        name = _NAME.match(text, pos)
        if name:
            tokens.append(Token(NAME, name.group(), pos))
            pos = name.end()
            continue
        operator = next((op for op in OPERATORS if text.startswith(op, pos)), None)
        if operator is None:
            reason = _REJECTED.get(char, f"unexpected character {char!r}; {_VALID}")
            raise ExpressionError.at(reason, text, pos, key)
        tokens.append(Token(OPERATOR, operator, pos))
        pos += len(operator)
    tokens.append(Token(END, "", len(text)))
    return tokens


def _number_token(text: str, literal: str, pos: int, key: str) -> Token:
    after = pos + len(literal)
    if after < len(text) and (text[after].isalnum() or text[after] in "_."):
        raise ExpressionError.at(
            f"malformed number {text[pos : after + 1]!r}; numbers look like 10, 0.5, .5 or 1e-3", text, pos, key
        )
    if not math.isfinite(float(literal)):
        raise ExpressionError.at(
            f"the number {literal} is too large for a float (at most about 1.8e308)", text, pos, key
        )
    return Token(NUMBER, literal, pos)
