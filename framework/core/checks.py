"""Parameter checks shared by components: each failure is a ConfigError naming the key, the rule and the value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeGuard

import numpy as np

from framework.core.errors import ConfigError


def is_number(value: object) -> TypeGuard[int | float | np.integer | np.floating]:
    """Whether ``value`` is a real number (Python or numpy), not a bool.

    Args:
        value: Any value, typically read from a config.

    Returns:
        True for an int, float or numpy number that is not a bool.

    Example:
        >>> is_number(2.5), is_number(np.int64(3)), is_number(True), is_number("2")
        (True, True, False, False)
    """
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating))


def is_int(value: object) -> TypeGuard[int | np.integer]:
    """Whether ``value`` is a whole number (Python or numpy integer), not a bool.

    Args:
        value: Any value, typically read from a config.

    Returns:
        True for an int or numpy integer that is not a bool; a float such as ``3.0`` is not one.

    Example:
        >>> is_int(3), is_int(np.int64(3)), is_int(3.0), is_int(False)
        (True, True, False, False)
    """
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))


def check_number(
    key: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> float:
    """``value`` as a float, if it is a real number (not a bool) within the bounds.

    Args:
        key: Config key, for the message.
        value: The value to check.
        minimum: Lowest allowed value, or None.
        maximum: Highest allowed value (inclusive), or None.
        exclusive_minimum: ``minimum`` itself is not allowed.

    Returns:
        The value as a float.

    Raises:
        ConfigError: Naming the key, the rule and the value.

    Example:
        >>> check_number("cost_bps", 2)
        2.0
        >>> check_number("cost_bps", "2", minimum=0)
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: cost_bps: must be a number >= 0, got '2'
    """
    rule = "a number"
    if minimum is not None:
        rule += f" {'>' if exclusive_minimum else '>='} {minimum:g}"
    if maximum is not None:
        rule += f"{' and' if minimum is not None else ''} <= {maximum:g}"
    if not is_number(value):
        raise ConfigError(f"{key}: must be {rule}, got {value!r}")
    number = float(value)
    too_low = minimum is not None and (number <= minimum if exclusive_minimum else number < minimum)
    too_high = maximum is not None and number > maximum
    if not np.isfinite(number) or too_low or too_high:
        raise ConfigError(f"{key}: must be {rule}, got {value!r}")
    return number


def check_int(key: str, value: object, *, minimum: int = 1) -> int:
    """``value`` as an int, if it is a whole number (not a bool) >= ``minimum``.

    Args:
        key: Config key, for the message.
        value: The value to check.
        minimum: Lowest allowed value.

    Returns:
        The value as an int.

    Raises:
        ConfigError: Naming the key, the rule and the value.

    Example:
        >>> check_int("window", 5)
        5
        >>> check_int("window", 2.5)
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: window: must be a positive integer, got 2.5
    """
    if not is_int(value) or value < minimum:
        rule = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ConfigError(f"{key}: must be {rule}, got {value!r}")
    return int(value)


def check_bool(key: str, value: object) -> bool:
    """``value``, if it is true or false.

    Args:
        key: Config key, for the message.
        value: The value to check: a Python or numpy bool.

    Returns:
        The value as a Python bool.

    Raises:
        ConfigError: For anything else, ``"yes"`` or ``1`` included.

    Example:
        >>> check_bool("long_only", np.True_)
        True
        >>> check_bool("long_only", "yes")
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: long_only: must be true or false, got 'yes'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{key}: must be true or false, got {value!r}")
    return bool(value)


def check_choice(key: str, value: object, choices: Sequence[str]) -> str:
    """``value``, if it is one of ``choices``.

    Args:
        key: Config key, for the message.
        value: The value to check.
        choices: The allowed values.

    Returns:
        The value as a str.

    Raises:
        ConfigError: Listing the choices.

    Example:
        >>> check_choice("rebalance", "never", ("every_bar", "never"))
        'never'
        >>> check_choice("rebalance", "daily", ("every_bar", "never"))
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: rebalance: must be one of every_bar, never, got 'daily'
    """
    if value not in choices:
        raise ConfigError(f"{key}: must be one of {', '.join(choices)}, got {value!r}")
    return str(value)
