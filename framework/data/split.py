"""Holdout split of the bars into contiguous train, validation and test segments."""

from __future__ import annotations

import math

import numpy as np

from framework.core.component import Component
from framework.core.errors import ConfigError, DataError
from framework.data.validation import parse_iso_date

#: Segment names, in time order.
SEGMENTS: tuple[str, ...] = ("train", "val", "test")
#: Fewest bars a segment may have (one return needs two prices).
MIN_SEGMENT_BARS = 2
#: Config key of the split in a run (``conf/benchmark/*.yaml``): the split's errors name its keys by their full
#: path, ``benchmark.split.train_end``, since some are raised by :meth:`HoldoutSplit.segments` during the run,
#: where no caller adds the path.
CONFIG_KEY = "benchmark.split"


class HoldoutSplit(Component):
    """Contiguous train / val / test segments, by fractions of the bars or by dates.

    By fractions, train ends at bar ``round(n * train)`` and val at ``round(n * (train + val))`` (halves round
    up). By dates (when ``train_end`` and ``val_end`` are given, the fractions are then unused): train holds
    the dates ``<= train_end``, val those in ``(train_end, val_end]``, test the rest.

    Args:
        train: Fraction of the bars in the train segment, > 0.
        val: Fraction in the validation segment, > 0.
        test: Fraction in the test segment, > 0; the three fractions sum to 1.
        train_end: Last date of train (ISO), or ``None`` to split by fractions.
        val_end: Last date of val (ISO), after ``train_end``; given together with ``train_end``.

    Raises:
        ConfigError: Naming the key by its full path (``benchmark.split.val_end``) when a fraction is not
            positive, the fractions do not sum to 1, a date is not ISO, only one date is given, or ``val_end``
            is not after ``train_end``.

    Example:
        >>> dates = np.arange("2024-01-01", "2024-01-11", dtype="datetime64[D]")
        >>> HoldoutSplit().segments(dates)
        {'train': (0, 6), 'val': (6, 8), 'test': (8, 10)}
        >>> HoldoutSplit(train_end="2024-01-04", val_end="2024-01-07").segments(dates)
        {'train': (0, 4), 'val': (4, 7), 'test': (7, 10)}
        >>> HoldoutSplit(train_end="2024-01-04", val_end="2024-01-02")
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: benchmark.split.val_end: must be after train_end 2024-01-04, \
got 2024-01-02

    """

    def __init__(
        self,
        train: float = 0.6,
        val: float = 0.2,
        test: float = 0.2,
        train_end: str | None = None,
        val_end: str | None = None,
    ) -> None:
        self.train = train
        self.val = val
        self.test = test
        self.train_end = train_end
        self.val_end = val_end
        self._check_fractions()
        self._check_dates()

    def _check_fractions(self) -> None:
        for key in SEGMENTS:
            value = getattr(self, key)
            numeric = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
            if not numeric or not math.isfinite(value) or value <= 0:
                raise ConfigError(f"{CONFIG_KEY}.{key}: must be a fraction of the bars in (0, 1), got {value!r}")
        total = float(self.train) + float(self.val) + float(self.test)
        if abs(total - 1.0) > 1e-9:
            raise ConfigError(
                f"{CONFIG_KEY}.train + val + test: must sum to 1, got {self.train} + {self.val} + {self.test} "
                f"= {total:.12g}"
            )

    def _check_dates(self) -> None:
        train_end = parse_iso_date(f"{CONFIG_KEY}.train_end", self.train_end)
        val_end = parse_iso_date(f"{CONFIG_KEY}.val_end", self.val_end)
        if (train_end is None) != (val_end is None):
            given, absent = ("train_end", "val_end") if val_end is None else ("val_end", "train_end")
            raise ConfigError(
                f"{CONFIG_KEY}.{absent}: required when {given} is given (a split by dates needs both, or neither)"
            )
        if train_end is not None and val_end is not None and val_end <= train_end:
            raise ConfigError(f"{CONFIG_KEY}.val_end: must be after train_end {train_end}, got {val_end}")

    def segments(self, dates: np.ndarray) -> dict[str, tuple[int, int]]:
        """Bar-index ranges of the segments.

        Args:
            dates: Sorted dates of the bars (``datetime64`` or ISO strings), e.g. ``MarketData.dates``.

        Returns:
            ``{"train": (start, stop), "val": (...), "test": (...)}``: half-open ranges, in time order,
            covering every bar contiguously.

        Raises:
            ConfigError: If ``train_end`` or ``val_end`` is outside the data's dates (naming the key by its full
                path and the first and last date), or a date split leaves a segment with fewer than 2 bars.
            DataError: If a fraction split leaves a segment with fewer than 2 bars (too little data).

        Example:
            >>> dates = np.arange("2024-01-01", "2024-01-05", dtype="datetime64[D]")
            >>> HoldoutSplit(train=0.5, val=0.25, test=0.25).segments(dates)
            Traceback (most recent call last):
            ...
            framework.core.errors.DataError: segment 'val' has 1 bar (2024-01-03 to 2024-01-03) out of 4; \
each segment needs at least 2 bars: use more data or larger fractions

        """
        days = np.asarray(dates, dtype="datetime64[D]")
        if days.ndim != 1 or len(days) == 0:
            raise DataError(f"cannot split: expected a non-empty 1-D array of dates, got shape {days.shape}")
        if self.train_end is None:
            bounds = self._fraction_bounds(len(days))
        else:
            bounds = self._date_bounds(days)
        stops = (*bounds, len(days))
        starts = (0, *bounds)
        result = {name: (int(a), int(b)) for name, a, b in zip(SEGMENTS, starts, stops, strict=True)}
        self._check_sizes(result, days)
        return result

    def _fraction_bounds(self, n_bars: int) -> tuple[int, int]:
        train_stop = math.floor(n_bars * float(self.train) + 0.5)
        val_stop = math.floor(n_bars * (float(self.train) + float(self.val)) + 0.5)
        return train_stop, val_stop

    def _date_bounds(self, days: np.ndarray) -> tuple[int, int]:
        bounds = []
        for key in ("train_end", "val_end"):
            end = parse_iso_date(f"{CONFIG_KEY}.{key}", getattr(self, key))
            if end is None or not days[0] <= end <= days[-1]:
                raise ConfigError(
                    f"{CONFIG_KEY}.{key}: {end} is outside the data, which runs from {days[0]} to {days[-1]}; "
                    "choose a date within that range"
                )
            bounds.append(int(np.searchsorted(days, end, side="right")))
        return bounds[0], bounds[1]

    def _check_sizes(self, result: dict[str, tuple[int, int]], days: np.ndarray) -> None:
        for name, (start, stop) in result.items():
            count = stop - start
            if count >= MIN_SEGMENT_BARS:
                continue
            message = (
                f"segment '{name}' has {count} bar{'s' if count != 1 else ''} ({_span(days, start, stop)}) "
                f"out of {len(days)}; each segment needs at least {MIN_SEGMENT_BARS} bars"
            )
            if self.train_end is None:
                raise DataError(f"{message}: use more data or larger fractions")
            raise ConfigError(
                f"{CONFIG_KEY}.train_end, {CONFIG_KEY}.val_end: {message}: move train_end={_day(self.train_end)} "
                f"or val_end={_day(self.val_end)}"
            )


def _day(value: object) -> str:
    """A config date as ``YYYY-MM-DD``, whatever form it was given in (string, date, datetime)."""
    return str(parse_iso_date("date", value))


def _span(days: np.ndarray, start: int, stop: int) -> str:
    """Describe the dates of bars ``start:stop`` (or where an empty segment sits)."""
    if stop > start:
        return f"{days[start]} to {days[stop - 1]}"
    return f"no dates after {days[start - 1]}" if start > 0 else f"no dates before {days[0]}"
