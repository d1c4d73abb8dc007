"""Building components from ``_target_`` entries, with errors that name the config key at fault.

A config names classes by ``_target_``, and building one runs its module's code and its constructor, so a
``_target_`` is checked before anything is imported or called:

1. **Prefix.** The dotted path must lie under an allowed module prefix: :data:`DEFAULT_TARGET_PREFIXES`
   (``framework.``, ``plugins.``, ``sklearn.``, ``skfolio.``) plus the run's ``allowed_targets``. A run checks
   every ``_target_`` of its resolved config at once, before building anything (:func:`allow_config_targets`);
   :func:`build_component` checks its whole spec again, nested entries included, before importing its class.
2. **Class.** What the path names must be a class defined under an allowed prefix: a function, a module, a
   builtin or a class merely re-exported by an allowed module (``framework.app.Path``) is refused.
3. **Slot.** The class must fit where it is used: the component's base (a ``Strategy``, an ``Agent``...) at the
   top, and for a nested entry the base its parameter expects (see :func:`nested_slots`).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import typing
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from types import ModuleType, UnionType
from typing import Any, TypeVar

from framework.core.errors import ConfigError

T = TypeVar("T")

#: Module prefixes a ``_target_`` may name without any setting; ``allowed_targets`` in the config adds more.
DEFAULT_TARGET_PREFIXES: tuple[str, ...] = ("framework.", "plugins.", "sklearn.", "skfolio.")

# The extra prefixes of the run being built (its ``allowed_targets``), normalized to end with ".".
_extra_prefixes: ContextVar[tuple[str, ...]] = ContextVar("allowed_targets", default=())


def allowed_target_prefixes() -> tuple[str, ...]:
    """The module prefixes a ``_target_`` may name now: the defaults, then the current run's ``allowed_targets``.

    Returns:
        Prefixes ending with ``.``.

    Example:
        >>> allowed_target_prefixes()
        ('framework.', 'plugins.', 'sklearn.', 'skfolio.')
        >>> with allow_targets(["mypkg"]):
        ...     allowed_target_prefixes()[-1]
        'mypkg.'
    """
    return DEFAULT_TARGET_PREFIXES + tuple(p for p in _extra_prefixes.get() if p not in DEFAULT_TARGET_PREFIXES)


def target_prefixes(value: Any, key: str = "allowed_targets") -> tuple[str, ...]:
    """Check an ``allowed_targets`` value and return its prefixes, each ending with ``.``.

    Args:
        value: A list of package or module names (``[mypkg.]`` or ``[mypkg]``: both allow ``mypkg.*``); ``None``
            for none.
        key: Config key of the value, for the message.

    Returns:
        The prefixes, in order.

    Raises:
        ConfigError: For a value that is not a list, or an item that is not a dotted module name.

    Example:
        >>> target_prefixes(["mypkg.", "lab.models"])
        ('mypkg.', 'lab.models.')
        >>> target_prefixes([""])
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: allowed_targets.0: must be a module prefix such as mypkg. (a dotted \
module name; its classes become allowed _target_s), got ''
    """
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ConfigError(f"{key}: must be a list of module prefixes such as [mypkg.], got {value!r}")
    prefixes = []
    for index, item in enumerate(value):
        name = item[:-1] if isinstance(item, str) and item.endswith(".") else item
        if not (isinstance(name, str) and name and all(part.isidentifier() for part in name.split("."))):
            raise ConfigError(
                f"{key}.{index}: must be a module prefix such as mypkg. (a dotted module name; its classes become "
                f"allowed _target_s), got {item!r}"
            )
        prefixes.append(f"{name}.")
    return tuple(prefixes)


@contextlib.contextmanager
def allow_targets(prefixes: Sequence[str]) -> Iterator[tuple[str, ...]]:
    """Allow ``_target_`` entries under more module prefixes inside a ``with`` block (a notebook, a test).

    Args:
        prefixes: Package or module names, as in ``allowed_targets``.

    Yields:
        All the prefixes allowed in the block.

    Raises:
        ConfigError: For a prefix that is not a dotted module name.

    Example:
        >>> with allow_targets(["collections."]):
        ...     import_target("collections.OrderedDict", "x").__name__
        'OrderedDict'
        >>> import_target("collections.OrderedDict", "x")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: x._target_: 'collections.OrderedDict' is not under an allowed module \
prefix; allowed: framework., plugins., sklearn., skfolio. (add a package with allowed_targets=[mypkg.])
    """
    token = _extra_prefixes.set(_extra_prefixes.get() + target_prefixes(list(prefixes)))
    try:
        yield allowed_target_prefixes()
    finally:
        _extra_prefixes.reset(token)


def allow_config_targets(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The pre-pass of a run: check every ``_target_`` of its resolved config before anything is built.

    Reads the top-level ``allowed_targets`` (extra module prefixes), checks every ``_target_`` of the tree
    against the defaults and those (see :func:`check_targets`; nothing is imported), and makes those prefixes
    the ones :func:`import_target` accepts from now on in the current context, until the next run's pre-pass.

    Args:
        config: The resolved run config, as plain containers.

    Returns:
        The prefixes now allowed.

    Raises:
        ConfigError: For a bad ``allowed_targets``, or a ``_target_`` that is not a dotted path under an allowed
            prefix, naming its full key and the allowed prefixes.

    Example:
        >>> allow_config_targets({"strategy": {"_target_": "framework.strategies.MACrossover"}})
        ('framework.', 'plugins.', 'sklearn.', 'skfolio.')
        >>> allow_config_targets({"agent": {"sizing": {"_target_": "os.system"}}})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: agent.sizing._target_: 'os.system' is not under an allowed module ...
    """
    extra = target_prefixes(config.get("allowed_targets"))
    prefixes = DEFAULT_TARGET_PREFIXES + tuple(p for p in extra if p not in DEFAULT_TARGET_PREFIXES)
    check_targets(config, "", prefixes)
    _extra_prefixes.set(extra)
    return prefixes


def check_targets(config: Any, key: str = "", prefixes: Sequence[str] | None = None) -> None:
    """Check every ``_target_`` in a config tree (mappings and lists, at any depth) without importing anything.

    Args:
        config: A mapping, a list or a scalar.
        key: Dotted config key of ``config`` ("" for the root), for messages.
        prefixes: The allowed module prefixes; ``None`` for :func:`allowed_target_prefixes`.

    Raises:
        ConfigError: For a ``_target_`` that is not a dotted path under an allowed prefix, naming its full key
            and the allowed prefixes.

    Example:
        >>> spec = {"_target_": "framework.strategies.RandomForestStrategy",
        ...         "estimator": {"_target_": "subprocess.Popen", "args": ["touch", "pwned"]}}
        >>> check_targets(spec, "portfolio.strategies.random_forest")
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: portfolio.strategies.random_forest.estimator._target_: \
'subprocess.Popen' is not under an allowed module prefix; allowed: framework., plugins., sklearn., skfolio. \
(add a package with allowed_targets=[mypkg.])
    """
    allowed = tuple(prefixes) if prefixes is not None else allowed_target_prefixes()
    if isinstance(config, Mapping):
        for name, value in config.items():
            child = f"{key}.{name}" if key else str(name)
            if name == "_target_":
                _check_target_path(value, key, allowed)
            else:
                check_targets(value, child, allowed)
    elif isinstance(config, list | tuple):
        for index, value in enumerate(config):
            check_targets(value, f"{key}.{index}" if key else str(index), allowed)


def _check_target_path(target: Any, key: str, prefixes: Sequence[str]) -> str:
    """``target`` if it is a dotted path under one of ``prefixes``, else a ConfigError naming ``key._target_``."""
    where = f"{key}._target_" if key else "_target_"
    parts = target.split(".") if isinstance(target, str) else []
    if len(parts) < 2 or not all(part.isidentifier() for part in parts):
        raise ConfigError(f"{where}: {target!r} is not a dotted path such as package.module.Class")
    if not target.startswith(tuple(prefixes)):
        raise ConfigError(
            f"{where}: {target!r} is not under an allowed module prefix; allowed: {', '.join(prefixes)} "
            "(add a package with allowed_targets=[mypkg.])"
        )
    return str(target)


def import_target(target: str, key: str) -> type:
    """The class named by a ``_target_`` string, checked before and after it is imported.

    Args:
        target: Dotted path, ``package.module.Class``, under an allowed prefix (:func:`allowed_target_prefixes`).
        key: Config key of the entry, for the error message.

    Returns:
        The class.

    Raises:
        ConfigError: If the path is not under an allowed prefix (checked before importing), the module or the
            attribute cannot be found, or the attribute is not a class defined under an allowed prefix.

    Example:
        >>> import_target("framework.strategies.MACrossover", "strategy").__name__
        'MACrossover'
        >>> import_target("framework.strategies.indicators.sma", "strategy")
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: strategy._target_: framework.strategies.indicators.sma is a function, \
not a class; a _target_ must name a class
    """
    prefixes = allowed_target_prefixes()
    _check_target_path(target, key, prefixes)
    module_name, _, attribute = target.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"{key}._target_: cannot import module '{module_name}' ({error})") from None
    if not hasattr(module, attribute):
        raise ConfigError(f"{key}._target_: module '{module_name}' has no '{attribute}'")
    found = getattr(module, attribute)
    if not isinstance(found, type):
        kind = "module" if isinstance(found, ModuleType) else _kind(found)
        raise ConfigError(f"{key}._target_: {target} is a {kind}, not a class; a _target_ must name a class")
    home = f"{found.__module__}."
    if not home.startswith(prefixes):
        raise ConfigError(
            f"{key}._target_: {target} is {found.__module__}.{found.__qualname__}, defined outside the allowed "
            f"module prefixes ({', '.join(prefixes)})"
        )
    return found


def _kind(value: Any) -> str:
    """``function``, ``builtin function``, ``method``... or the type's name, for a message."""
    if inspect.isbuiltin(value):
        return "builtin function"
    if inspect.isfunction(value):
        return "function"
    if inspect.ismethod(value):
        return "method"
    return f"{type(value).__name__} object"


def nested_slots(cls: type) -> dict[str, tuple[type, ...]]:
    """The classes that nested ``_target_`` entries of ``cls``'s parameters must derive from, by parameter.

    Two sources, the first winning for a parameter:

    - ``nested_slots``, a class attribute mapping a parameter to a class, a dotted path of a class (so that a
      module can name ``sklearn.base.BaseEstimator`` without importing scikit-learn at import time), or a tuple
      of those: ``nested_slots = {"estimator": "sklearn.base.BaseEstimator"}``. Base classes' entries are
      inherited.
    - The constructor's annotation of the parameter, when it evaluates to a class or a union of classes
      (``base: Aggregator | None`` gives ``(Aggregator,)``). ``Any``, ``object`` and generics give no slot.
      If an annotation of the constructor cannot be evaluated, no slot is taken from annotations.

    A parameter without a slot still accepts only a class under an allowed prefix (:func:`import_target`).
    A slot applies to an entry that is the parameter's value, not to entries inside a list or mapping value.

    Args:
        cls: The component class.

    Returns:
        Parameter name to a tuple of classes (a nested entry must derive from one of them).

    Example:
        >>> from framework.aggregation import VolatilityAdjusted
        >>> nested_slots(VolatilityAdjusted)["base"], nested_slots(VolatilityAdjusted)["window"]
        ((<class 'framework.aggregation.base.Aggregator'>,), (<class 'int'>,))
        >>> from framework.strategies import RandomForestStrategy
        >>> nested_slots(RandomForestStrategy)["estimator"]
        (<class 'sklearn.base.BaseEstimator'>,)
    """
    slots: dict[str, tuple[type, ...]] = {}
    try:
        hints = typing.get_type_hints(cls.__init__)  # type: ignore[misc]
    except Exception:  # an annotation naming something imported only for type checkers
        hints = {}
    for name, hint in hints.items():
        classes = _classes_of(hint)
        if name != "return" and classes:
            slots[name] = classes
    for klass in reversed(cls.__mro__):
        declared = klass.__dict__.get("nested_slots")
        for name, slot in (declared or {}).items():
            slots[name] = tuple(_slot_class(s) for s in (slot if isinstance(slot, tuple) else (slot,)))
    return slots


def _classes_of(hint: Any) -> tuple[type, ...]:
    """The classes of an annotation: itself, or the members of a union (``None`` dropped); () for anything else."""
    if _is_slot_class(hint):
        return (hint,)
    if typing.get_origin(hint) in (typing.Union, UnionType):
        members = [m for m in typing.get_args(hint) if m is not type(None)]
        if members and all(_is_slot_class(m) for m in members):
            return tuple(members)
    return ()


def _is_slot_class(hint: Any) -> bool:
    """Whether an annotation is a plain class that constrains a value (not ``Any``, ``object`` or a generic)."""
    return isinstance(hint, type) and hint not in (object, Any) and typing.get_origin(hint) is None


def _slot_class(slot: type | str) -> type:
    """A slot given as a class or as the dotted path of one (code, not config: imported without prefix check)."""
    if isinstance(slot, type):
        return slot
    module_name, _, name = slot.rpartition(".")
    found = getattr(importlib.import_module(module_name), name)
    assert isinstance(found, type), f"nested slot {slot} is not a class"
    return found


def build_component(spec: Mapping[str, Any], key: str, base: type[T] | tuple[type, ...], nested: bool = True) -> T:
    """Instantiate a component from a plain mapping with ``_target_``.

    Every ``_target_`` of the spec, nested ones included, is checked against the allowed module prefixes before
    anything is imported (see the module docstring). Nested mappings with their own ``_target_`` are built first
    (a sizing agent's covariance estimator, an aggregator's scikit-learn model); each must be a class deriving
    from its parameter's slot (:func:`nested_slots`), checked before it is called. Unknown parameters and bad
    values are reported with the full key.

    Args:
        spec: ``{"_target_": "package.module.Class", param: value, ...}`` (already resolved, no interpolation).
        key: Dotted config key of ``spec``, for error messages (``portfolio.strategies.main``).
        base: The class the component must derive from (or a tuple of classes, one of which it derives from).
        nested: Build nested ``_target_`` mappings too.

    Returns:
        The component.

    Raises:
        ConfigError: If a ``_target_`` is missing, not under an allowed prefix, not a class, or not of its slot,
            a parameter is unknown (the message lists the known ones), or the constructor rejects a value.

    Example:
        >>> from framework.strategies import MACrossover, Strategy
        >>> build_component({"_target_": "framework.strategies.MACrossover", "short_window": 5}, "s", Strategy)
        MACrossover(short_window=5, long_window=50, tie_tolerance=1e-09)
        >>> spec = {"_target_": "framework.strategies.MACrossover", "short_windw": 5}
        >>> build_component(spec, "s", Strategy)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: s.short_windw: unknown parameter of MACrossover; known: short_window, ...
        >>> spec = {"_target_": "framework.strategies.RandomForestStrategy",
        ...         "estimator": {"_target_": "framework.strategies.MACrossover"}}
        >>> build_component(spec, "s", Strategy)
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: s.estimator._target_: framework.strategies.MACrossover is not a \
BaseEstimator
    """
    if not isinstance(spec, Mapping) or "_target_" not in spec:
        raise ConfigError(f"{key}: expected a mapping with a '_target_' entry naming the class, got {spec!r}")
    check_targets(spec, key)
    cls = import_target(spec["_target_"], key)
    bases = base if isinstance(base, tuple) else (base,)
    if not issubclass(cls, bases):
        names = " or ".join(b.__name__ for b in bases)
        raise ConfigError(f"{key}._target_: {spec['_target_']} is not a {names}")
    params = {k: v for k, v in spec.items() if k != "_target_"}
    signature = inspect.signature(cls.__init__)
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    known = [name for name in signature.parameters if name != "self"]
    if not accepts_any:
        for name in params:
            if name not in known:
                raise ConfigError(
                    f"{key}.{name}: unknown parameter of {cls.__name__}; known: {', '.join(known) or '(none)'}"
                )
    if nested:
        slots = nested_slots(cls) if any(_has_target(v) for v in params.values()) else {}
        params = {name: _build_nested(value, f"{key}.{name}", slots.get(name)) for name, value in params.items()}
    try:
        return cls(**params)  # type: ignore[no-any-return,return-value]
    except ConfigError as error:
        message = str(error)
        own = message.startswith((f"{key}.", f"{key}:"))
        raise ConfigError(message if own else f"{key}.{message}") from None
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{key}: {cls.__name__} rejected its parameters: {error}") from None


def _has_target(value: Any) -> bool:
    """Whether a parameter value holds a ``_target_`` mapping at any depth."""
    if isinstance(value, Mapping):
        return "_target_" in value or any(_has_target(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_target(v) for v in value)
    return False


def _build_nested(value: Any, key: str, slot: tuple[type, ...] | None = None) -> Any:
    """Build nested ``_target_`` mappings inside a parameter value; the value itself must fit ``slot`` if given."""
    if isinstance(value, Mapping) and "_target_" in value:
        return build_component(value, key, slot or object)
    if isinstance(value, Mapping):
        return {k: _build_nested(v, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_build_nested(v, f"{key}.{i}") for i, v in enumerate(value)]
    return value
