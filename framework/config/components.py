"""Building components from ``_target_`` entries, with errors that name the config key at fault."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any, TypeVar

from framework.core.errors import ConfigError

T = TypeVar("T")


def import_target(target: str, key: str) -> type:
    """The class named by a ``_target_`` string.

    Args:
        target: Dotted path, ``package.module.Class``.
        key: Config key of the entry, for the error message.

    Returns:
        The class.

    Raises:
        ConfigError: If the module or the class cannot be found.

    Example:
        >>> import_target("framework.strategies.MACrossover", "strategy").__name__
        'MACrossover'
    """
    module_name, _, attribute = str(target).rpartition(".")
    if not module_name:
        raise ConfigError(f"{key}._target_: '{target}' is not a dotted path such as package.module.Class")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"{key}._target_: cannot import module '{module_name}' ({error})") from None
    if not hasattr(module, attribute):
        raise ConfigError(f"{key}._target_: module '{module_name}' has no '{attribute}'")
    return getattr(module, attribute)  # type: ignore[no-any-return]


def build_component(spec: Mapping[str, Any], key: str, base: type[T], nested: bool = True) -> T:
    """Instantiate a component from a plain mapping with ``_target_``.

    Nested mappings with their own ``_target_`` are built first (a sizing agent's covariance estimator, an
    aggregator's scikit-learn model). Unknown parameters and bad values are reported with the full key.

    Args:
        spec: ``{"_target_": "package.module.Class", param: value, ...}`` (already resolved, no interpolation).
        key: Dotted config key of ``spec``, for error messages (``portfolio.strategies.main``).
        base: The class the component must derive from.
        nested: Build nested ``_target_`` mappings too.

    Returns:
        The component.

    Raises:
        ConfigError: If ``_target_`` is missing or wrong, a parameter is unknown (the message lists the known
            ones), or the constructor rejects a value.

    Example:
        >>> from framework.strategies import MACrossover, Strategy
        >>> build_component({"_target_": "framework.strategies.MACrossover", "short_window": 5}, "s", Strategy)
        MACrossover(short_window=5, long_window=50, tie_tolerance=1e-09)
        >>> spec = {"_target_": "framework.strategies.MACrossover", "short_windw": 5}
        >>> build_component(spec, "s", Strategy)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: s.short_windw: unknown parameter of MACrossover; known: short_window, ...
    """
    if not isinstance(spec, Mapping) or "_target_" not in spec:
        raise ConfigError(f"{key}: expected a mapping with a '_target_' entry naming the class, got {spec!r}")
    cls = import_target(spec["_target_"], key)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(f"{key}._target_: {spec['_target_']} is not a {base.__name__}")
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
        params = {name: _build_nested(value, f"{key}.{name}") for name, value in params.items()}
    try:
        return cls(**params)  # type: ignore[no-any-return]
    except ConfigError as error:
        message = str(error)
        own = message.startswith((f"{key}.", f"{key}:"))
        raise ConfigError(message if own else f"{key}.{message}") from None
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{key}: {cls.__name__} rejected its parameters: {error}") from None


def _build_nested(value: Any, key: str) -> Any:
    """Build nested ``_target_`` mappings (any class) inside a parameter value."""
    if isinstance(value, Mapping) and "_target_" in value:
        return build_component(value, key, object)
    if isinstance(value, Mapping):
        return {k: _build_nested(v, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_build_nested(v, f"{key}.{i}") for i, v in enumerate(value)]
    return value
