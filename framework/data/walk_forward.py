"""Walk-forward folds: a training window, then the test window right after it, stepped through the data.

Window lengths are bars (``252``) or calendar periods (``5y``, ``6m``, ``13w``, ``90d``). Each fold's training
window ends ``purge`` bars before its test window starts, so that no training label computed ``purge`` bars ahead
reaches into the test window (set it to the longest label horizon of the portfolio's learners, such as the
random forest's ``horizon``). ``rolling`` training windows keep their length; ``expanding`` ones start at the
first bar. The test windows follow each other every ``step`` (by default their own length, so they tile the
out-of-sample span without overlap).

A fold, as :meth:`WalkForwardSplit.folds` returns it::

    Fold(train=(0, 1255), test=(1260, 1512))   # bars [0, 1255) fit the learners, [1260, 1512) are tested

``embargo`` is the number of bars after a test window that no training window may use. Walk-forward training
windows always end before their test window starts, so it never removes a bar here; it is kept so that a
configuration can move between walk-forward and cross-validation schemes where training data follows test data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from framework.core.component import Component
from framework.core.errors import ConfigError, DataError
from framework.data.split import MIN_SEGMENT_BARS

#: Config key of the split in a run: errors name the split's keys by their full path.
CONFIG_KEY = "benchmark.split"
#: ``<count><unit>``: years, months, weeks, days of the calendar.
_PERIOD = re.compile(r"^\s*(\d+)\s*([ymwd])\s*$")
MODES: tuple[str, ...] = ("rolling", "expanding")


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold: bar ranges ``[start, stop)`` of its training and test windows.

    Attributes:
        train: The bars the learners are fitted on.
        test: The bars traded out of sample with that fit.

    Example:
        >>> Fold(train=(0, 100), test=(105, 130)).test
        (105, 130)
    """

    train: tuple[int, int]
    test: tuple[int, int]


def parse_window(value: object, key: str) -> int | tuple[int, str]:
    """A window length: bars (an int) or a calendar period (``(count, unit)`` with unit ``y``, ``m``, ``w``, ``d``).

    Args:
        value: ``252``, ``"252"``, ``"5y"``, ``"6m"``, ``"13w"`` or ``"90d"``.
        key: The config key, for errors.

    Returns:
        The bars as an int, or ``(count, unit)``.

    Raises:
        ConfigError: For anything else, or a length that is not positive.

    Example:
        >>> parse_window("5y", "benchmark.split.train"), parse_window(63, "benchmark.split.test")
        ((5, 'y'), 63)
        >>> parse_window("5 years", "benchmark.split.train")
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: benchmark.split.train: expected a number of bars (252) or a calendar \
period (5y, 6m, 13w, 90d), got '5 years'
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value <= 0:
            raise ConfigError(f"{key}: must be a positive number of bars, got {value!r}")
        return int(value)
    if isinstance(value, str):
        if value.strip().isdigit():
            return parse_window(int(value), key)
        match = _PERIOD.match(value.lower())
        if match and int(match.group(1)) > 0:
            return int(match.group(1)), match.group(2)
    raise ConfigError(f"{key}: expected a number of bars (252) or a calendar period (5y, 6m, 13w, 90d), got {value!r}")


def _shift(day: np.datetime64, period: tuple[int, str], sign: int) -> np.datetime64:
    """``day`` moved by a calendar period (months and years keep the day of the month, clipped to its end)."""
    count, unit = period
    if unit in ("d", "w"):
        return day + np.timedelta64(sign * count * (7 if unit == "w" else 1), "D")
    months = sign * count * (12 if unit == "y" else 1)
    month = day.astype("datetime64[M]")
    moved = month + np.timedelta64(months, "M")
    offset = day - month.astype("datetime64[D]")
    last = (moved + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D")
    return min(moved.astype("datetime64[D]") + offset, last)


class WalkForwardSplit(Component):
    """Walk-forward folds over the bars (see the module docstring).

    Args:
        train: Training window: bars or a calendar period (``5y``). With ``expanding``, the first window's length.
        test: Test window: bars or a calendar period (``1y``).
        step: Bars or period between the starts of consecutive test windows; None for ``test``.
        mode: ``rolling`` (a training window of constant length) or ``expanding`` (from the first bar).
        purge: Bars between the end of a training window and the start of its test window, >= 0.
        embargo: Bars after a test window that no training window may use, >= 0 (see the module docstring).
        start: First day of the first test window (ISO); None: as soon as one full training window is available.
        max_folds: Keep at most this many folds (the last ones); None for all.

    Raises:
        ConfigError: Naming the key by its full path (``benchmark.split.train``) for a bad length, mode, purge,
            embargo, date or fold count.

    Example:
        >>> dates = np.arange("2024-01-01", "2024-01-21", dtype="datetime64[D]")
        >>> for fold in WalkForwardSplit(train=8, test=4, purge=1).folds(dates):
        ...     print(fold)
        Fold(train=(0, 8), test=(9, 13))
        Fold(train=(4, 12), test=(13, 17))
        Fold(train=(8, 16), test=(17, 20))
        >>> [f.train for f in WalkForwardSplit(train=8, test=4, mode="expanding").folds(dates)]
        [(0, 8), (0, 12), (0, 16)]
        >>> WalkForwardSplit(train=8, test=4).segments(dates)
        {'test': (8, 20), 'fold_0': (8, 12), 'fold_1': (12, 16), 'fold_2': (16, 20)}
    """

    def __init__(
        self,
        train: int | str = "5y",
        test: int | str = "1y",
        step: int | str | None = None,
        mode: str = "rolling",
        purge: int = 0,
        embargo: int = 0,
        start: str | None = None,
        max_folds: int | None = None,
    ) -> None:
        self.train = parse_window(train, f"{CONFIG_KEY}.train")
        self.test = parse_window(test, f"{CONFIG_KEY}.test")
        self.step = self.test if step is None else parse_window(step, f"{CONFIG_KEY}.step")
        if mode not in MODES:
            raise ConfigError(f"{CONFIG_KEY}.mode: must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        for name, value in (("purge", purge), ("embargo", embargo)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ConfigError(f"{CONFIG_KEY}.{name}: must be a whole number of bars >= 0, got {value!r}")
        self.purge, self.embargo = int(purge), int(embargo)
        if start is not None:
            try:
                np.datetime64(str(start), "D")
            except ValueError:
                raise ConfigError(f"{CONFIG_KEY}.start: expected an ISO date (YYYY-MM-DD), got {start!r}") from None
        self.start = start
        if max_folds is not None and (isinstance(max_folds, bool) or not isinstance(max_folds, int) or max_folds < 1):
            raise ConfigError(f"{CONFIG_KEY}.max_folds: must be a whole number >= 1 or null, got {max_folds!r}")
        self.max_folds = max_folds

    def _after(self, days: np.ndarray, bar: int, window: int | tuple[int, str]) -> int:
        """The bar ``window`` after ``bar`` (bars, or the first day on or after the calendar shift)."""
        if isinstance(window, int):
            return bar + window
        return int(np.searchsorted(days, _shift(days[bar], window, 1)))

    def _before(self, days: np.ndarray, bar: int, window: int | tuple[int, str]) -> int:
        """The bar ``window`` before ``bar``, at least 0."""
        if isinstance(window, int):
            return max(bar - window, 0)
        return int(np.searchsorted(days, _shift(days[bar], window, -1)))

    def folds(self, dates: np.ndarray) -> list[Fold]:
        """The folds over ``dates``, in time order.

        Args:
            dates: The bars' dates, increasing.

        Returns:
            One :class:`Fold` per test window; the last window may be shorter (at least two bars).

        Raises:
            DataError: When the data is too short for one training window and one test window, saying how many
                bars it has and what the windows need.

        Example:
            >>> days = np.arange("2020-01-01", "2024-01-01", dtype="datetime64[D]")
            >>> folds = WalkForwardSplit(train="2y", test="1y").folds(days)
            >>> [(str(days[f.train[0]]), str(days[f.test[0]]), str(days[f.test[1] - 1])) for f in folds]
            [('2020-01-01', '2022-01-01', '2022-12-31'), ('2021-01-01', '2023-01-01', '2023-12-31')]
        """
        days = np.asarray(dates).astype("datetime64[D]")
        n = len(days)
        if self.start is not None:
            first = int(np.searchsorted(days, np.datetime64(str(self.start), "D")))
        elif isinstance(self.train, int):
            first = self.train + self.purge
        else:
            first = int(np.searchsorted(days, _shift(days[0], self.train, 1))) + self.purge if n else 0
        folds = []
        begin = first
        while begin < n - 1:
            stop = min(self._after(days, begin, self.test), n)
            train_stop = begin - self.purge
            train_start = 0 if self.mode == "expanding" else self._before(days, begin, self.train)
            if self.mode == "rolling" and isinstance(self.train, int):
                train_start = max(train_stop - self.train, 0)
            if stop - begin >= MIN_SEGMENT_BARS and train_stop - train_start >= MIN_SEGMENT_BARS:
                folds.append(Fold((train_start, train_stop), (begin, stop)))
            following = self._after(days, begin, self.step)
            if following <= begin:
                break
            begin = following
        if not folds:
            span = f"{days[0]} .. {days[-1]}" if n else "no bars"
            raise DataError(
                f"{CONFIG_KEY}: the data ({n} bars, {span}) is too short for one training window "
                f"({_describe(self.train)}) and one test window ({_describe(self.test)}) after a purge of "
                f"{self.purge} bars; shorten benchmark.split.train or benchmark.split.test, or use more data"
            )
        if self.max_folds is not None:
            folds = folds[-self.max_folds :]
        return folds

    def segments(self, dates: np.ndarray) -> dict[str, tuple[int, int]]:
        """The out-of-sample span as ``test`` and each fold's test window as ``fold_<k>``.

        Args:
            dates: The bars' dates.

        Returns:
            Segment name -> (start, stop) bars.

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-13", dtype="datetime64[D]")
            >>> WalkForwardSplit(train=6, test=3).segments(dates)
            {'test': (6, 12), 'fold_0': (6, 9), 'fold_1': (9, 12)}
        """
        folds = self.folds(dates)
        spans = {"test": (folds[0].test[0], folds[-1].test[1])}
        spans.update({f"fold_{k}": fold.test for k, fold in enumerate(folds)})
        return spans


def _describe(window: int | tuple[int, str]) -> str:
    """A window in words: ``252 bars`` or ``5y``."""
    return f"{window} bars" if isinstance(window, int) else f"{window[0]}{window[1]}"
