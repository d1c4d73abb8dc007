"""The documentation standard: every public class, function and method of ``framework`` is typed and documented.

Public means a name without a leading ``_``: the classes and functions a module defines (not the ones it imports),
and the methods, properties, classmethods and staticmethods in such a class's own ``__dict__``. Each one has:

- a docstring with an ``Example:`` section holding at least one ``>>>`` line (pytest runs it as a doctest);
- an ``Args:`` section naming each parameter but self/cls, ``*args``/``**kwargs`` and private ones (``_frames``),
  none for a property; a class documents its own ``__init__`` in the class docstring, under ``Args:`` (or
  ``Attributes:``, the form of the dataclasses);
- a ``Returns:`` section (``Yields:`` for a generator) when the return annotation is not None, except for a
  property and a class;
- type annotations on every parameter but self/cls, and on the return.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types
from collections.abc import Callable, Iterator

import framework

# Modules the standard does not check yet: they are being changed, and will be documented afterwards.
NOT_YET: frozenset[str] = frozenset(
    {
        "framework.backtest.engine",
        "framework.execution.broker",
    }
)

SKIPPED = frozenset({"framework.__main__"})  # running it runs the main job

SECTIONS = frozenset(
    {
        "Args",
        "Arguments",
        "Attributes",
        "Example",
        "Examples",
        "Keyword Args",
        "Keyword Arguments",
        "Note",
        "Notes",
        "Raises",
        "References",
        "Returns",
        "See Also",
        "Todo",
        "Warning",
        "Warnings",
        "Warns",
        "Yields",
    }
)
_HEADER = re.compile(r"^([A-Z][A-Za-z ]*):\s*$")
_ENTRY = re.compile(r"^\*{0,2}(\w+)\s*(\([^)]*\))?\s*:")


def framework_modules() -> list[str]:
    """Names of every module of ``framework`` (packages included), ``framework.__main__`` left out."""
    names = ["framework"]
    names += [info.name for info in pkgutil.walk_packages(framework.__path__, prefix="framework.")]
    return sorted(name for name in names if name not in SKIPPED)


def sections(doc: str) -> dict[str, list[str]]:
    """The Google-style sections of a docstring: the header (``Args``) to the lines under it, dedented."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in inspect.cleandoc(doc).splitlines():
        header = _HEADER.match(line)
        if header and header.group(1) in SECTIONS:
            current = found.setdefault(header.group(1), [])
        elif current is not None:
            current.append(line)
    return {name: _dedent(lines) for name, lines in found.items()}


def _dedent(lines: list[str]) -> list[str]:
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    margin = min(indents, default=0)
    return [line[margin:] for line in lines]


def entries(lines: list[str]) -> set[str]:
    """The names an ``Args:`` or ``Attributes:`` section documents (``name: ...`` or ``name (type): ...``)."""
    return {m.group(1) for line in lines if not line[:1].isspace() and (m := _ENTRY.match(line))}


def _is_none(annotation: object) -> bool:
    return annotation is None or annotation is type(None) or annotation == "None"


def _check_callable(
    func: Callable[..., object] | None,
    doc: str | None,
    *,
    bound: bool,
    kind: str,
) -> list[str]:
    """What a function, method, property or class (``func`` its ``__init__``) lacks; ``bound`` drops self/cls."""
    problems: list[str] = []
    found = sections(doc) if doc else {}
    if not doc or not doc.strip():
        problems.append("no docstring")
    elif not any(line.lstrip().startswith(">>>") for line in found.get("Example", []) + found.get("Examples", [])):
        problems.append("no Example with a >>> line")
    if func is None:
        return problems
    signature = inspect.signature(func)
    parameters = list(signature.parameters.values())[1 if bound else 0 :]
    unannotated = [p.name for p in parameters if p.annotation is inspect.Parameter.empty]
    if unannotated:
        problems.append(f"no type hint for {', '.join(unannotated)}")
    if signature.return_annotation is inspect.Signature.empty:
        problems.append("no return type hint")
    if doc and kind != "property":
        variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        named = [p.name for p in parameters if p.kind not in variadic and not p.name.startswith("_")]
        documented = entries(found.get("Args", []) + found.get("Arguments", []))
        if kind == "class":
            documented |= entries(found.get("Attributes", []))
        missing = [name for name in named if name not in documented]
        if missing:
            problems.append(f"Args does not name {', '.join(missing)}")
        stale = sorted(
            entries(found.get("Args", []) + found.get("Arguments", [])) - {p.name for p in parameters} - {"self"}
        )
        if stale:
            problems.append(f"Args names {', '.join(stale)}, not a parameter")
    if doc and kind in ("function", "method") and not _is_none(signature.return_annotation):
        if signature.return_annotation is not inspect.Signature.empty:
            generator = inspect.isgeneratorfunction(inspect.unwrap(func))
            if "Returns" not in found and not (generator and "Yields" in found):
                problems.append("no Yields section" if generator else "no Returns section")
    return problems


def _members(cls: type) -> Iterator[tuple[str, Callable[..., object] | None, str | None, bool, str]]:
    """The public methods, properties, classmethods and staticmethods of a class's own ``__dict__``."""
    for name, attr in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(attr, property):
            yield name, attr.fget, attr.__doc__, True, "property"
        elif isinstance(attr, classmethod):
            yield name, attr.__func__, attr.__func__.__doc__, True, "method"
        elif isinstance(attr, staticmethod):
            yield name, attr.__func__, attr.__func__.__doc__, False, "method"
        elif inspect.isfunction(attr):
            yield name, attr, attr.__doc__, True, "method"


def undocumented(module: types.ModuleType) -> list[str]:
    """``module.qualname: what is missing`` for each public item of a module below the standard.

    Example:
        >>> undocumented(types.ModuleType("empty"))
        []
    """
    report: list[str] = []

    def note(qualname: str, problems: list[str]) -> None:
        if problems:
            report.append(f"{module.__name__}.{qualname}: {'; '.join(problems)}")

    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj):
            init = vars(obj).get("__init__")
            init = init if inspect.isfunction(init) else None
            note(name, _check_callable(init, vars(obj).get("__doc__"), bound=True, kind="class"))
            for member, func, doc, bound, kind in _members(obj):
                note(f"{name}.{member}", _check_callable(func, doc, bound=bound, kind=kind))
        elif inspect.isfunction(obj) or inspect.isfunction(inspect.unwrap(obj)):
            note(name, _check_callable(obj, obj.__doc__, bound=False, kind="function"))
    return report


def test_not_yet_names_modules_of_framework() -> None:
    assert NOT_YET <= set(framework_modules()), sorted(NOT_YET - set(framework_modules()))


def test_every_public_item_is_documented() -> None:
    report = [
        line
        for name in framework_modules()
        if name not in NOT_YET
        for line in undocumented(importlib.import_module(name))
    ]
    assert not report, f"{len(report)} public item(s) below the documentation standard:\n" + "\n".join(report)


PROBE = '''
def spread(bid: float, ask: float) -> float:
    """The quoted spread.

    Args:
        bid: Best bid.
        ask: Best ask.

    Returns:
        ``ask - bid``.
    """
    return ask - bid


def mid(bid, ask: float) -> float:
    """The mid price.

    Args:
        bid: Best bid.

    Returns:
        The mean of ``bid`` and ``ask``.

    Example:
        >>> mid(99.0, 101.0)
        100.0
    """
    return (bid + ask) / 2


class Quote:
    """A bid and an ask.

    Args:
        bid: Best bid.
        ask: Best ask.

    Example:
        >>> Quote(99.0, 101.0).width
        2.0
    """

    def __init__(self, bid: float, ask: float) -> None:
        self.bid, self.ask = bid, ask

    @property
    def width(self) -> float:
        """``ask - bid``.

        Example:
            >>> Quote(1.0, 2.0).width
            1.0
        """
        return self.ask - self.bid

    def crossed(self, other: "Quote") -> bool:
        """Whether this bid is at or above the other ask.

        Args:
            other: The other quote.

        Example:
            >>> Quote(2.0, 3.0).crossed(Quote(1.0, 2.0))
            True
        """
        return self.bid >= other.ask
'''


def test_the_checker_reports_what_is_missing() -> None:
    module = types.ModuleType("probe")
    exec(PROBE, module.__dict__)  # noqa: S102 - the functions get __module__ == "probe"
    assert undocumented(module) == [
        "probe.spread: no Example with a >>> line",
        "probe.mid: no type hint for bid; Args does not name ask",
        "probe.Quote.crossed: no Returns section",
    ]
