"""The syntax tree of an expression: five node classes, immutable and hashable.

Nodes compare and hash by structure, not by position, so that equal sub-expressions written twice (the two
``rsi(close, 14)`` of ``where(rsi(close, 14) < 30, 1, where(rsi(close, 14) > 70, -1, 0))``) are evaluated once.
``str(node)`` writes the tree back as text with every operation in parentheses, which parses to an equal tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Node:
    """Base class of the nodes.

    ``pos`` is the 0-based offset of the node in the text (of its operator for a binary operation), ``height``
    the number of nodes on the longest path down to a leaf.

    Attributes:
        pos: 0-based offset of the node in the text; not part of equality.
        height: Nodes on the longest path down to a leaf (1 for a leaf), computed.

    Example:
        >>> tree = BinaryOp(2, Input(0, "close"), "-", Number(4, 1.0, "1"))
        >>> tree.height, tree == BinaryOp(9, Input(7, "close"), "-", Number(11, 1.0, "1.0"))
        (2, True)
    """

    pos: int = field(compare=False, repr=False)
    height: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "height", 1 + max((child.height for child in self.children()), default=0))

    def children(self) -> tuple[Node, ...]:
        """The direct sub-expressions, left to right.

        Returns:
            The children; an empty tuple for a leaf (a number, an input).

        Example:
            >>> Number(0, 1.0, "1").children()
            ()
        """
        return ()

    @property
    def start(self) -> int:
        """Offset of the first character of the node's text.

        Example:
            >>> Input(4, "close").start
            4
        """
        return self.pos

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, depth first, left to right (without recursion).

        Yields:
            The nodes, this one first.

        Example:
            >>> tree = BinaryOp(2, Input(0, "close"), "-", Number(4, 1.0, "1"))
            >>> [type(node).__name__ for node in tree.walk()]
            ['BinaryOp', 'Input', 'Number']
        """
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children()))


@dataclass(frozen=True)
class Number(Node):
    """A numeric literal; ``text`` is how it was written (``10``, ``0.5``, ``1e-3``).

    Attributes:
        pos: 0-based offset in the text.
        value: The number.
        text: How it was written; not part of equality.

    Example:
        >>> str(Number(0, 0.5, "0.50"))
        '0.50'
    """

    value: float
    text: str = field(compare=False, repr=False)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Input(Node):
    """A panel of the market data: ``open``, ``high``, ``low``, ``close``, ``volume`` or ``returns``.

    Attributes:
        pos: 0-based offset in the text.
        name: The input's name.

    Example:
        >>> str(Input(0, "close"))
        'close'
    """

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class UnaryOp(Node):
    """``-x`` or ``not x``.

    Attributes:
        pos: 0-based offset of the operator.
        op: ``-`` or ``not``.
        operand: The node operated on.

    Example:
        >>> str(UnaryOp(0, "not", Input(4, "close")))
        '(not close)'
    """

    op: str
    operand: Node

    def children(self) -> tuple[Node, ...]:
        """The operand.

        Returns:
            ``(operand,)``.

        Example:
            >>> UnaryOp(0, "-", Input(1, "close")).children()
            (Input(name='close'),)
        """
        return (self.operand,)

    def __str__(self) -> str:
        space = " " if self.op == "not" else ""
        return f"({self.op}{space}{self.operand})"


@dataclass(frozen=True)
class BinaryOp(Node):
    """An arithmetic (``+ - * / **``), comparison (``< <= > >= == !=``) or logical (``and``, ``or``) operation.

    ``pos`` is the offset of the operator.

    Attributes:
        pos: 0-based offset of the operator.
        left: The left operand.
        op: The operator: ``+ - * / **``, ``< <= > >= == !=``, ``and`` or ``or``.
        right: The right operand.

    Example:
        >>> str(BinaryOp(2, Number(0, 1.0, "1"), "+", Number(4, 2.0, "2")))
        '(1 + 2)'
    """

    left: Node
    op: str
    right: Node

    def children(self) -> tuple[Node, ...]:
        """The two operands.

        Returns:
            ``(left, right)``.

        Example:
            >>> BinaryOp(6, Input(0, "close"), ">", Input(8, "open")).children()
            (Input(name='close'), Input(name='open'))
        """
        return (self.left, self.right)

    @property
    def start(self) -> int:
        """Offset of the first character of the left operand.

        Example:
            >>> tree = BinaryOp(8, BinaryOp(2, Number(0, 1.0, "1"), "+", Number(4, 2.0, "2")), "*", Input(10, "close"))
            >>> tree.pos, tree.start  # "1 + 2 * close" as ((1 + 2) * close): its text starts at the 1
            (8, 0)
        """
        node: Node = self
        while isinstance(node, BinaryOp):
            node = node.left
        return node.start

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True)
class Call(Node):
    """A call of a function of the table (:data:`framework.strategies.expression.functions.FUNCTIONS`).

    Attributes:
        pos: 0-based offset of the function's name.
        name: The function's name.
        args: The argument nodes, in order.

    Example:
        >>> str(Call(0, "sma", (Input(4, "close"), Number(11, 10.0, "10"))))
        'sma(close, 10)'
    """

    name: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        """The arguments.

        Returns:
            ``args``.

        Example:
            >>> Call(0, "abs", (Input(4, "returns"),)).children()
            (Input(name='returns'),)
        """
        return self.args

    def __str__(self) -> str:
        return f"{self.name}({', '.join(str(arg) for arg in self.args)})"


def literal_value(node: Node) -> float | None:
    """The value of a numeric literal, possibly negated (``3``, ``-3``, ``--3``); ``None`` for anything else.

    Args:
        node: Any node.

    Returns:
        The literal's value with its signs applied, or ``None``.

    Example:
        >>> literal_value(UnaryOp(0, "-", Number(1, 3.0, "3"))), literal_value(Input(0, "close"))
        (-3.0, None)
    """
    sign = 1.0
    while isinstance(node, UnaryOp) and node.op == "-":
        sign, node = -sign, node.operand
    return sign * node.value if isinstance(node, Number) else None
