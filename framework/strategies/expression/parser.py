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

    Example:
        >>> parser = Parser("sma(close, 10) > close")
        >>> str(parser.parse()), parser.current.kind
        ('(sma(close, 10) > close)', 'end')
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

        Example:
            >>> str(Parser("-close ** 2").parse())
            '(-(close ** 2))'
            >>> try:
            ...     Parser("close open").parse()
            ... except ExpressionError as error:
            ...     print(error)
            expression: unexpected 'open' after a complete expression; expected an operator (+ - * / ** < <= > >= \
== != and or) or the end
              close open
                    ^
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
        """The token being looked at.

        Example:
            >>> Parser("close + 1").current
            Token(kind='name', text='close', pos=0)
        """
        return self.tokens[self.index]

    def advance(self) -> Token:
        """Consume the current token and return it (the end token is never passed).

        Returns:
            The token that was current.

        Example:
            >>> parser = Parser("close")
            >>> parser.advance()
            Token(kind='name', text='close', pos=0)
            >>> parser.advance(), parser.advance()  # the end token stays current
            (Token(kind='end', text='', pos=5), Token(kind='end', text='', pos=5))
        """
        token = self.current
        if token.kind != END:
            self.index += 1
        return token

    def at(self, *texts: str) -> bool:
        """Whether the current token is one of the operators or keywords ``texts``.

        Args:
            *texts: Operators (``"("``, ``","``) or keywords (``"not"``).

        Returns:
            True if the current token's text is one of them.

        Example:
            >>> Parser("not close").at("not"), Parser("close").at("(", ")")
            (True, False)
        """
        token = self.current
        return token.kind in (OPERATOR, NAME) and token.text in texts

    def error(self, reason: str, position: int) -> ExpressionError:
        """An error pointing at ``position`` of the text.

        Args:
            reason: What is wrong and what would be valid.
            position: 0-based offset of the fault.

        Returns:
            The error, for the caller to raise.

        Example:
            >>> print(Parser("close +").error("expected a number after '+'", 7))
            expression: expected a number after '+'
              close +
                     ^
        """
        return ExpressionError.at(reason, self.text, position, self.key)

    def descend(self, token: Token) -> None:
        """Count one more level of nesting, failing early past :data:`MAX_DEPTH`.

        Args:
            token: The token that opens the level (``(``, a call, ``-``, ``not``, ``**``), where an error points.

        Raises:
            ExpressionError: Past :data:`MAX_DEPTH` levels.

        Example:
            >>> parser = Parser("(close)")
            >>> parser.descend(parser.current)
            >>> parser.depth
            1
            >>> parser.depth = MAX_DEPTH
            >>> try:
            ...     parser.descend(parser.current)
            ... except ExpressionError as error:
            ...     print(str(error).splitlines()[0])
            expression: the expression nests deeper than 50 levels (parentheses, calls, unary operators and powers \
inside one another); split it or simplify it
        """
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"the expression nests deeper than {MAX_DEPTH} levels (parentheses, calls, unary operators and "
                "powers inside one another); split it or simplify it",
                token.pos,
            )

    def build(self, node: Node) -> Node:
        """Return ``node`` if the tree stays within :data:`MAX_DEPTH` levels.

        Args:
            node: A node just built.

        Returns:
            ``node``.

        Raises:
            ExpressionError: If the node's height is above :data:`MAX_DEPTH`, pointing at the node.

        Example:
            >>> node = Parser("1 + 2").build(BinaryOp(2, Number(0, 1.0, "1"), "+", Number(4, 2.0, "2")))
            >>> str(node), node.height
            ('(1 + 2)', 2)
        """
        if node.height > MAX_DEPTH:
            raise self.error(
                f"the expression is more than {MAX_DEPTH} operations deep (each operator of a chain such as "
                "a + b + c adds a level); group terms with parentheses or simplify it",
                node.pos,
            )
        return node

    # -- grammar -----------------------------------------------------------------------------------------

    def expression(self) -> Node:
        """``and_expr ("or" and_expr)*``, one nesting level deeper.

        Returns:
            The tree of the expression from the current token on.

        Example:
            >>> str(Parser("close > 1 or volume < 2 and returns > 0").expression())
            '((close > 1) or ((volume < 2) and (returns > 0)))'
        """
        self.descend(self.current)
        node = self.logical("or", self.and_expr)
        self.depth -= 1
        return node

    def and_expr(self) -> Node:
        """``not_expr ("and" not_expr)*``.

        Returns:
            The tree of the conjunction.

        Example:
            >>> str(Parser("close > 1 and not volume < 2").and_expr())
            '((close > 1) and (not (volume < 2)))'
        """
        return self.logical("and", self.not_expr)

    def logical(self, keyword: str, operand: Callable[[], Node]) -> Node:
        """A left-associative chain of ``keyword`` between ``operand()`` parses.

        Args:
            keyword: ``or`` or ``and``.
            operand: The parse of one operand (the next tighter rule of the grammar).

        Returns:
            The tree of the chain.

        Example:
            >>> parser = Parser("close or open or high")
            >>> str(parser.logical("or", parser.primary))
            '((close or open) or high)'
        """
        node = operand()
        while self.current.kind == NAME and self.current.text == keyword:
            token = self.advance()
            node = self.build(BinaryOp(token.pos, node, keyword, operand()))
        return node

    def not_expr(self) -> Node:
        """``"not" not_expr | comparison``.

        Returns:
            The tree of the negation or comparison.

        Example:
            >>> str(Parser("not not close > 1").not_expr())
            '(not (not (close > 1)))'
        """
        if self.current.kind == NAME and self.current.text == "not":
            token = self.advance()
            self.descend(token)
            operand = self.not_expr()
            self.depth -= 1
            return self.build(UnaryOp(token.pos, "not", operand))
        return self.comparison()

    def comparison(self) -> Node:
        """``sum (comparison-operator sum)?``; a second comparison operator is an error.

        Returns:
            The tree of the comparison (or of the sum alone).

        Raises:
            ExpressionError: For a chained comparison.

        Example:
            >>> str(Parser("close + 1 >= open").comparison())
            '((close + 1) >= open)'
            >>> try:
            ...     Parser("low < close < high").comparison()
            ... except ExpressionError as error:
            ...     print(error)
            expression: comparisons cannot be chained; write (a < b) and (b < c)
              low < close < high
                          ^
        """
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
        """``product (("+" | "-") product)*``.

        Returns:
            The tree of the sum, left-associative.

        Example:
            >>> str(Parser("close - open + 1").sum())
            '((close - open) + 1)'
        """
        node = self.product()
        while self.current.kind == OPERATOR and self.current.text in ("+", "-"):
            token = self.advance()
            node = self.build(BinaryOp(token.pos, node, token.text, self.product()))
        return node

    def product(self) -> Node:
        """``unary (("*" | "/") unary)*``.

        Returns:
            The tree of the product, left-associative.

        Example:
            >>> str(Parser("close / open * 2").product())
            '((close / open) * 2)'
        """
        node = self.unary()
        while self.current.kind == OPERATOR and self.current.text in ("*", "/"):
            token = self.advance()
            node = self.build(BinaryOp(token.pos, node, token.text, self.unary()))
        return node

    def unary(self) -> Node:
        """``"-" unary | power``.

        Returns:
            The tree of the negation (or of the power alone).

        Example:
            >>> str(Parser("--close").unary())
            '(-(-close))'
        """
        if self.current.kind == OPERATOR and self.current.text == "-":
            token = self.advance()
            self.descend(token)
            operand = self.unary()
            self.depth -= 1
            return self.build(UnaryOp(token.pos, "-", operand))
        return self.power()

    def power(self) -> Node:
        """``primary ("**" unary)?``: right-associative, the exponent may be negated.

        Returns:
            The tree of the power (or of the primary alone).

        Raises:
            ExpressionError: For a literal exponent beyond :data:`MAX_EXPONENT`.

        Example:
            >>> str(Parser("close ** -2 ** 2").power())
            '(close ** (-(2 ** 2)))'
            >>> try:
            ...     Parser("close ** 1000").power()
            ... except ExpressionError as error:
            ...     print(error)
            expression: the exponent 1000 is too large; a literal exponent must be between -100 and 100
              close ** 1000
                       ^
        """
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
        """A number, an input, a call or a parenthesized expression.

        Returns:
            The tree of the primary.

        Raises:
            ExpressionError: For anything else, or a ``(`` without its ``)``.

        Example:
            >>> str(Parser("(close + 1) * 2").primary())
            '(close + 1)'
        """
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
        """The reason for a missing ``)``: what was found instead, and where the ``(`` was.

        Args:
            opening: The ``(`` token.
            what: What it opened (``the parenthesis``, ``the arguments of sma(x, n)``).

        Returns:
            The reason, for :meth:`error`.

        Example:
            >>> parser = Parser("(close")
            >>> opening, _ = parser.advance(), parser.advance()
            >>> parser.expected_closing(opening, "the parenthesis")
            "expected ')' to close the parenthesis opened at column 1, found the end of the expression"
        """
        found = "the end of the expression" if self.current.kind == END else repr(self.current.text)
        return f"expected ')' to close {what} opened at column {opening.pos + 1}, found {found}"

    def input(self, token: Token) -> Node:
        """An input name, or an error naming the closest known names.

        Args:
            token: The name token.

        Returns:
            The :class:`Input` node.

        Raises:
            ExpressionError: For a name that is not an input (a function named without a call included).

        Example:
            >>> Parser("close").input(Token("name", "close", 0))
            Input(name='close')
            >>> try:
            ...     Parser("clsoe").input(Token("name", "clsoe", 0))
            ... except ExpressionError as error:
            ...     print(str(error).splitlines()[0])
            expression: unknown input 'clsoe' (did you mean 'close'?); inputs: open, high, low, close, volume, returns
        """
        name = token.text
        if name in INPUTS:
            return Input(token.pos, name)
        if name in FUNCTIONS:
            raise self.error(f"'{name}' is a function; call it as {FUNCTIONS[name].signature}", token.pos)
        raise self.error(
            f"unknown input '{name}'{_suggest(name, [*INPUTS, *FUNCTIONS])}; inputs: {', '.join(INPUTS)}", token.pos
        )

    def call(self, name: Token) -> Node:
        """A function call: the name is known, the arity right, the windows integer literals in range.

        Args:
            name: The function's name token; the current token is the ``(`` after it.

        Returns:
            The :class:`Call` node.

        Raises:
            ExpressionError: For an unknown function, a wrong number of arguments, a missing ``)`` or a window
                that is not an integer literal in range.

        Example:
            >>> parser = Parser("sma(close, 10)")
            >>> str(parser.call(parser.advance()))
            'sma(close, 10)'
            >>> parser = Parser("sma(close)")
            >>> try:
            ...     parser.call(parser.advance())
            ... except ExpressionError as error:
            ...     print(str(error).splitlines()[0])
            expression: sma takes 2 arguments, sma(x, n); got 1
        """
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
        """Raise unless ``arg`` is an integer literal in ``[spec.min_window, MAX_WINDOW]``.

        Args:
            spec: The function called.
            param: The parameter's name, for the message.
            arg: The argument's node.

        Raises:
            ExpressionError: Pointing at ``arg``.

        Example:
            >>> parser = Parser("sma(close, 2.5)")
            >>> parser.check_window(FUNCTIONS["sma"], "n", Number(11, 10.0, "10"))  # fine: nothing happens
            >>> try:
            ...     parser.check_window(FUNCTIONS["sma"], "n", Number(11, 2.5, "2.5"))
            ... except ExpressionError as error:
            ...     print(error)
            expression: the window n of sma(x, n) must be an integer literal from 1 to 10000, written with digits \
only, got 2.5
              sma(close, 2.5)
                         ^
        """
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
