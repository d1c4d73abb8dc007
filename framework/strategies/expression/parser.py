"""The recursive-descent parser: tokens to a validated syntax tree.

Grammar, from the loosest binding to the tightest (as in Python)::

    expression := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?      # no chains: a < b < c is an error
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | power
    power      := primary ("**" unary)?                                   # right-associative, -x ** 2 = -(x ** 2)
    primary    := NUMBER | INPUT | FUNCTION "(" expression ("," expression)* ")" | "(" expression ")"

Validation happens while parsing, so the first error stops everything: names are checked against the function
table and the inputs, calls against their arity, windows and lags against the integer-literal rule, literal
exponents against :data:`MAX_EXPONENT`. Nesting is counted on the way down and the tree's height on the way up,
both against :data:`MAX_DEPTH`, so neither parsing nor evaluating can reach Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Callable

from framework.strategies.expression.errors import ExpressionError
from framework.strategies.expression.functions import FUNCTIONS, INPUTS, MAX_WINDOW, FunctionSpec
from framework.strategies.expression.lexer import END, KEYWORDS, MAX_LENGTH, NAME, NUMBER, OPERATOR, Token, tokenize
from framework.strategies.expression.nodes import BinaryOp, Call, Input, Node, Number, UnaryOp, literal_value

#: Deepest nesting (parentheses, calls, unary operators, powers) and tallest syntax tree accepted.
MAX_DEPTH = 50
#: Largest absolute value of a literal exponent (``x ** 2`` is fine, ``2 ** 99999`` is an error).
MAX_EXPONENT = 100

COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})
_EXAMPLE = "sign(sma(close, 10) - sma(close, 50))"


def parse(text: str, key: str = "expression") -> Node:
    """Parse and validate an expression.

    Args:
        text: The expression, e.g. ``sign(sma(close, 10) - sma(close, 50))``.
        key: Config key holding it, first word of error messages.

    Returns:
        The root of the syntax tree.

    Raises:
        ExpressionError: If the text is not a valid expression; the message points at the fault with a caret.

    Example:
        >>> str(parse("1 + 2 * 3 ** 2 > -close"))
        '((1 + (2 * (3 ** 2))) > (-close))'
        >>> try:
        ...     parse("sma(clsoe, 10)", key="signal")
        ... except ExpressionError as error:
        ...     print(error)
        signal: unknown input 'clsoe' (did you mean 'close'?); inputs: open, high, low, close, volume, returns
          sma(clsoe, 10)
              ^
    """
    if not isinstance(text, str):
        raise ExpressionError(f"{key}: must be a text such as {_EXAMPLE!r}, got {type(text).__name__} {text!r}")
    if len(text) > MAX_LENGTH:
        reason = f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}"
        raise ExpressionError.at(reason, text, MAX_LENGTH, key)
    return Parser(text, key).parse()


class Parser:
    """One parse of one text; use :func:`parse`.

    :func:`parse` checks the length first; the depth limit holds whatever the length, so a 1,000-deep text
    fails at its 51st level, early and without deep recursion.

    Args:
        text: The expression.
        key: Config key holding it, for error messages.

    Raises:
        ExpressionError: From the tokenizer if the text has characters outside the language.
    """

    def __init__(self, text: str, key: str = "expression") -> None:
        self.text = text
        self.key = key
        self.tokens = tokenize(text, key)
        self.index = 0
        self.depth = 0

    def parse(self) -> Node:
        """The validated tree of the whole text.

        Returns:
            The root node.

        Raises:
            ExpressionError: At the first fault.
        """
        if self.current.kind == END:
            raise self.error(f"the expression is empty; write for example {_EXAMPLE}", 0)
        node = self.expression()
        if self.current.kind != END:
            raise self.error(
                f"unexpected {self.current.text!r} after a complete expression; expected an operator "
                "(+ - * / ** < <= > >= == != and or) or the end",
                self.current.pos,
            )
        return node

    # -- helpers -----------------------------------------------------------------------------------------

    @property
    def current(self) -> Token:
        """The token being looked at."""
        return self.tokens[self.index]

    def advance(self) -> Token:
        """Consume the current token and return it (the end token is never passed)."""
        token = self.current
        if token.kind != END:
            self.index += 1
        return token

    def at(self, *texts: str) -> bool:
        """Whether the current token is one of the operators or keywords ``texts``."""
        token = self.current
        return token.kind in (OPERATOR, NAME) and token.text in texts

    def error(self, reason: str, position: int) -> ExpressionError:
        """An error pointing at ``position`` of the text."""
        return ExpressionError.at(reason, self.text, position, self.key)

    def descend(self, token: Token) -> None:
        """Count one more level of nesting, failing early past :data:`MAX_DEPTH`."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"the expression nests deeper than {MAX_DEPTH} levels (parentheses, calls, unary operators and "
                "powers inside one another); split it or simplify it",
                token.pos,
            )

    def build(self, node: Node) -> Node:
        """Return ``node`` if the tree stays within :data:`MAX_DEPTH` levels."""
        if node.height > MAX_DEPTH:
            raise self.error(
                f"the expression is more than {MAX_DEPTH} operations deep (each operator of a chain such as "
                "a + b + c adds a level); group terms with parentheses or simplify it",
                node.pos,
            )
        return node

    # -- grammar -----------------------------------------------------------------------------------------

    def expression(self) -> Node:
        """``and_expr ("or" and_expr)*``, one nesting level deeper."""
        self.descend(self.current)
        node = self.logical("or", self.and_expr)
        self.depth -= 1
        return node

    def and_expr(self) -> Node:
        """``not_expr ("and" not_expr)*``."""
        return self.logical("and", self.not_expr)

    def logical(self, keyword: str, operand: Callable[[], Node]) -> Node:
        """A left-associative chain of ``keyword`` between ``operand()`` parses."""
        node = operand()
        while self.current.kind == NAME and self.current.text == keyword:
            token = self.advance()
            node = self.build(BinaryOp(token.pos, node, keyword, operand()))
        return node

    def not_expr(self) -> Node:
        """``"not" not_expr | comparison``."""
        if self.current.kind == NAME and self.current.text == "not":
            token = self.advance()
            self.descend(token)
            operand = self.not_expr()
            self.depth -= 1
            return self.build(UnaryOp(token.pos, "not", operand))
        return self.comparison()

    def comparison(self) -> Node:
        """``sum (comparison-operator sum)?``; a second comparison operator is an error."""
        node = self.sum()
        if self.current.kind == OPERATOR and self.current.text in COMPARISONS:
            token = self.advance()
            node = self.build(BinaryOp(token.pos, node, token.text, self.sum()))
            if self.current.kind == OPERATOR and self.current.text in COMPARISONS:
                raise self.error(
                    "comparisons cannot be chained; write (a < b) and (b < c)",
                    self.current.pos,
                )
        return node

    def sum(self) -> Node:
        """``product (("+" | "-") product)*``."""
        node = self.product()
        while self.current.kind == OPERATOR and self.current.text in ("+", "-"):
            token = self.advance()
            node = self.build(BinaryOp(token.pos, node, token.text, self.product()))
        return node

    def product(self) -> Node:
        """``unary (("*" | "/") unary)*``."""
        node = self.unary()
        while self.current.kind == OPERATOR and self.current.text in ("*", "/"):
            token = self.advance()
            node = self.build(BinaryOp(token.pos, node, token.text, self.unary()))
        return node

    def unary(self) -> Node:
        """``"-" unary | power``."""
        if self.current.kind == OPERATOR and self.current.text == "-":
            token = self.advance()
            self.descend(token)
            operand = self.unary()
            self.depth -= 1
            return self.build(UnaryOp(token.pos, "-", operand))
        return self.power()

    def power(self) -> Node:
        """``primary ("**" unary)?``: right-associative, the exponent may be negated."""
        base = self.primary()
        if not (self.current.kind == OPERATOR and self.current.text == "**"):
            return base
        token = self.advance()
        self.descend(token)
        exponent = self.unary()
        self.depth -= 1
        value = literal_value(exponent)
        if value is not None and abs(value) > MAX_EXPONENT:
            raise self.error(
                f"the exponent {value:g} is too large; a literal exponent must be between -{MAX_EXPONENT} and "
                f"{MAX_EXPONENT}",
                exponent.start,
            )
        return self.build(BinaryOp(token.pos, base, "**", exponent))

    def primary(self) -> Node:
        """A number, an input, a call or a parenthesized expression."""
        token = self.current
        if token.kind == NUMBER:
            self.advance()
            return Number(token.pos, float(token.text), token.text)
        if token.kind == OPERATOR and token.text == "(":
            self.advance()
            node = self.expression()
            if not self.at(")"):
                raise self.error(self.expected_closing(token, "the parenthesis"), self.current.pos)
            self.advance()
            return node
        if token.kind == NAME and token.text not in KEYWORDS:
            self.advance()
            if self.at("("):
                return self.call(token)
            return self.input(token)
        found = "the end of the expression" if token.kind == END else repr(token.text)
        raise self.error(
            f"expected a number, an input ({', '.join(INPUTS)}), a function call or '(' but found {found}",
            token.pos,
        )

    def expected_closing(self, opening: Token, what: str) -> str:
        """The reason for a missing ``)``: what was found instead, and where the ``(`` was."""
        found = "the end of the expression" if self.current.kind == END else repr(self.current.text)
        return f"expected ')' to close {what} opened at column {opening.pos + 1}, found {found}"

    def input(self, token: Token) -> Node:
        """An input name, or an error naming the closest known names."""
        name = token.text
        if name in INPUTS:
            return Input(token.pos, name)
        if name in FUNCTIONS:
            raise self.error(f"'{name}' is a function; call it as {FUNCTIONS[name].signature}", token.pos)
        raise self.error(
            f"unknown input '{name}'{_suggest(name, [*INPUTS, *FUNCTIONS])}; inputs: {', '.join(INPUTS)}", token.pos
        )

    def call(self, name: Token) -> Node:
        """A function call: the name is known, the arity right, the windows integer literals in range."""
        spec = FUNCTIONS.get(name.text)
        if spec is None:
            if name.text in INPUTS:
                reason = f"'{name.text}' is an input, not a function"
            else:
                reason = f"unknown function '{name.text}'{_suggest(name.text, list(FUNCTIONS))}"
            raise self.error(f"{reason}; functions: {', '.join(FUNCTIONS)}", name.pos)
        opening = self.advance()
        args: list[Node] = []
        if not self.at(")"):
            args.append(self.expression())
            while self.at(","):
                self.advance()
                args.append(self.expression())
        if not self.at(")"):
            raise self.error(
                self.expected_closing(opening, f"the arguments of {spec.signature}") + " (or ',' between arguments)",
                self.current.pos,
            )
        self.advance()
        if len(args) != len(spec.params):
            count = f"{len(spec.params)} argument{'s' if len(spec.params) != 1 else ''}"
            raise self.error(f"{name.text} takes {count}, {spec.signature}; got {len(args)}", name.pos)
        for index in spec.windows:
            self.check_window(spec, spec.params[index], args[index])
        if spec.check is not None:
            fault = spec.check(tuple(args))
            if fault is not None:
                raise self.error(fault[0], fault[1].start)
        return self.build(Call(name.pos, name.text, tuple(args)))

    def check_window(self, spec: FunctionSpec, param: str, arg: Node) -> None:
        """Raise unless ``arg`` is an integer literal in ``[spec.min_window, MAX_WINDOW]``."""
        what = "lag" if spec.lag else "window"
        valid = f"the {what} {param} of {spec.signature} must be an integer literal from {spec.min_window}"
        valid += f" to {MAX_WINDOW}"
        value = literal_value(arg)
        if value is None:
            raise self.error(f"{valid} (it is fixed when the config loads), not an expression", arg.start)
        if value < 0 and spec.lag:
            raise self.error(f"{valid}; a negative lag would look ahead", arg.start)
        if isinstance(arg, Number) and not arg.text.isdigit():
            raise self.error(f"{valid}, written with digits only, got {arg.text}", arg.start)
        if (
            not isinstance(arg, Number)
            or len(arg.text) > len(str(MAX_WINDOW))
            or not (spec.min_window <= int(arg.text) <= MAX_WINDOW)
        ):
            raise self.error(f"{valid}, got {arg.text if isinstance(arg, Number) else format(value, 'g')}", arg.start)


def _suggest(name: str, candidates: list[str]) -> str:
    """``" (did you mean 'a' or 'b'?)"`` for the candidates close to ``name``, ``""`` if none is."""
    import difflib

    close = difflib.get_close_matches(name.lower(), candidates, n=3, cutoff=0.7)
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"
