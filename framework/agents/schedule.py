"""When an agent acts: rebalancing schedules of sizing agents and update frequencies of estimates.

A calendar schedule acts on the first bar of each new period (week, month, quarter), which is known at that
bar's close without looking ahead; ``every N bars`` acts on bars 0, N, 2N...
"""

from __future__ import annotations

import numpy as np

from framework.core.checks import is_int
from framework.core.errors import ConfigError

#: Named rebalancing schedules; a positive integer N means "every N bars".
REBALANCE_CHOICES: tuple[str, ...] = ("every_bar", "on_change", "never", "weekly", "monthly", "quarterly")
#: Schedules given by the calendar (or by a bar count).
CALENDAR_SCHEDULES: tuple[str, ...] = ("daily", "weekly", "monthly", "quarterly")


def check_rebalance(key: str, value: object) -> None:
    """Check a ``rebalance`` value: one of :data:`REBALANCE_CHOICES` or a positive integer of bars.

    Args:
        key: Config key, for the message.
        value: The value to check.

    Raises:
        ConfigError: Listing the choices.

    Example:
        >>> check_rebalance("agent.sizing.rebalance", "monthly")
        >>> check_rebalance("agent.sizing.rebalance", 5)
        >>> check_rebalance("agent.sizing.rebalance", "yearly")
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: agent.sizing.rebalance: must be one of every_bar, on_change, never, \
weekly, monthly, quarterly, or a positive number of bars, got 'yearly'
    """
    if is_int(value) and value >= 1:
        return
    if isinstance(value, str) and value in REBALANCE_CHOICES:
        return
    raise ConfigError(
        f"{key}: must be one of {', '.join(REBALANCE_CHOICES)}, or a positive number of bars, got {value!r}"
    )


def period_starts(dates: np.ndarray, schedule: str | int) -> np.ndarray:
    """Bars that start a new period of ``schedule``, shape (days,) booleans; bar 0 always does.

    Args:
        dates: ``datetime64[D]`` bar dates.
        schedule: ``daily`` (every bar), ``weekly`` (a new Monday-based week), ``monthly``, ``quarterly``, or a
            positive integer N (bars 0, N, 2N...).

    Returns:
        The boolean mask.

    Raises:
        ConfigError: For an unknown schedule.

    Example:
        >>> dates = np.array(["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-05"], dtype="datetime64[D]")
        >>> period_starts(dates, "monthly").tolist(), period_starts(dates, "weekly").tolist()
        ([True, False, True, False], [True, False, False, True])
        >>> period_starts(dates, 3).tolist()
        [True, False, False, True]
    """
    n = dates.shape[0]
    if is_int(schedule):
        return np.arange(n) % int(schedule) == 0  # type: ignore[no-any-return]
    days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    if schedule == "daily":
        return np.ones(n, dtype=bool)
    if schedule == "weekly":
        period = (days + 3) // 7  # 1970-01-01 was a Thursday: +3 makes weeks start on Monday
    elif schedule in ("monthly", "quarterly"):
        months = np.asarray(dates, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)
        period = months if schedule == "monthly" else months // 3
    else:
        raise ConfigError(f"schedule: must be daily, weekly, monthly, quarterly or a number of bars, got {schedule!r}")
    starts = np.ones(n, dtype=bool)
    starts[1:] = period[1:] != period[:-1]
    return starts
