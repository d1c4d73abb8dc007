"""Rebalancing calendars: period starts on hand-made calendars, and against pandas periods."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.agents.schedule import check_rebalance, period_starts
from framework.core.errors import ConfigError


def days(*dates: str) -> np.ndarray:
    return np.array(dates, dtype="datetime64[D]")


def starts(dates: np.ndarray, schedule: str | int) -> list[bool]:
    return period_starts(dates, schedule).tolist()  # type: ignore[no-any-return]


T, F = True, False


class TestPeriodStarts:
    def test_year_end(self) -> None:
        dates = days("2023-12-28", "2023-12-29", "2024-01-02", "2024-01-03")  # Thu, Fri, Tue, Wed
        assert starts(dates, "monthly") == [T, F, T, F]
        assert starts(dates, "quarterly") == [T, F, T, F]
        assert starts(dates, "weekly") == [T, F, T, F]  # the week of Monday 2024-01-01 is a new one

    def test_a_week_spanning_two_months(self) -> None:
        dates = days("2024-01-29", "2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02", "2024-02-05")
        assert starts(dates, "weekly") == [T, F, F, F, F, T]  # Monday to Friday is one week, then Monday
        assert starts(dates, "monthly") == [T, F, F, T, F, F]
        assert starts(dates, "quarterly") == [T, F, F, F, F, F]

    def test_weeks_start_on_monday(self) -> None:
        dates = days("2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04", "2024-03-10", "2024-03-11")
        # Fri, Sat, Sun (same week), Mon (new), Sun (same), Mon (new): a calendar with weekend bars
        assert starts(dates, "weekly") == [T, F, F, T, F, T]

    def test_the_same_weekday_a_week_apart(self) -> None:
        dates = days("2024-01-03", "2024-01-10", "2024-01-11", "2024-01-17")
        assert starts(dates, "weekly") == [T, T, F, T]

    def test_gaps_longer_than_a_period(self) -> None:
        dates = days("2023-01-02", "2024-01-01", "2024-01-15", "2024-04-15", "2025-04-14")
        assert starts(dates, "weekly") == [T, T, T, T, T]
        assert starts(dates, "monthly") == [T, T, F, T, T]
        assert starts(dates, "quarterly") == [T, T, F, T, T]  # the same quarter a year later is a new one

    def test_quarter_boundaries(self) -> None:
        dates = days(
            "2024-01-31", "2024-02-01", "2024-03-28", "2024-04-01", "2024-06-28", "2024-07-01", "2024-09-30",
            "2024-10-01", "2024-12-31", "2025-01-02",
        )  # fmt: skip
        assert starts(dates, "quarterly") == [T, F, F, T, F, T, F, T, F, T]
        assert starts(dates, "monthly") == [T, T, T, T, T, T, T, T, T, T]

    def test_before_1970(self) -> None:
        # The week arithmetic counts days from 1970-01-01 (a Thursday); earlier dates are negative.
        dates = days("1969-12-28", "1969-12-29", "1969-12-31", "1970-01-01", "1970-01-04", "1970-01-05")
        assert starts(dates, "weekly") == [T, T, F, F, F, T]  # Sun, Mon (new), Wed, Thu, Sun, Mon (new)
        assert starts(dates, "monthly") == [T, F, F, T, F, F]
        quarters = days("1969-09-30", "1969-10-01", "1969-11-03", "1969-12-31", "1970-01-02")
        assert starts(quarters, "quarterly") == [T, T, F, F, T]

    def test_every_n_bars(self) -> None:
        dates = np.arange(7).astype("datetime64[D]")
        assert starts(dates, 1) == [T] * 7
        assert starts(dates, 3) == [T, F, F, T, F, F, T]
        assert starts(dates, np.int64(2)) == [T, F, T, F, T, F, T]  # type: ignore[arg-type]
        assert starts(dates[:3], 10) == [T, F, F]

    @pytest.mark.parametrize("schedule", ["daily", "weekly", "monthly", "quarterly", 4])
    def test_bar_zero_always_starts_a_period(self, schedule: str | int) -> None:
        dates = days("2024-05-15", "2024-05-16")  # mid-week, mid-month, mid-quarter
        assert starts(dates, schedule)[0] is True
        assert starts(dates[:1], schedule) == [T]
        assert period_starts(dates[:0], schedule).shape == (0,)

    def test_daily(self) -> None:
        assert starts(days("2024-01-01", "2024-01-01", "2024-01-02"), "daily") == [T, T, T]

    @pytest.mark.parametrize("schedule", ["every_bar", "yearly", "", None, True, 2.0])
    def test_unknown_schedule(self, schedule: object) -> None:
        with pytest.raises(ConfigError, match=r"^schedule: must be daily, weekly, monthly, quarterly or a number"):
            period_starts(days("2024-01-01"), schedule)  # type: ignore[arg-type]

    @settings(max_examples=25, deadline=None)
    @given(
        offsets=st.lists(st.integers(-20000, 20000), min_size=1, max_size=60, unique=True),
        schedule=st.sampled_from(["weekly", "monthly", "quarterly"]),
    )
    def test_pandas_periods(self, offsets: list[int], schedule: str) -> None:
        dates = np.sort(np.array(offsets)).astype("datetime64[D]")
        freq = {"weekly": "W-SUN", "monthly": "M", "quarterly": "Q"}[schedule]  # W-SUN: weeks Monday..Sunday
        periods = pd.DatetimeIndex(dates).to_period(freq)
        want = np.ones(dates.shape[0], dtype=bool)
        want[1:] = periods[1:] != periods[:-1]
        np.testing.assert_array_equal(period_starts(dates, schedule), want)


class TestCheckRebalance:
    @pytest.mark.parametrize(
        "value", ["every_bar", "on_change", "never", "weekly", "monthly", "quarterly", 1, 21, np.int64(5)]
    )
    def test_valid(self, value: object) -> None:
        check_rebalance("agent.sizing.rebalance", value)

    @pytest.mark.parametrize("value", ["daily", "yearly", "Monthly", 0, -5, 2.5, 5.0, "5", True, None])
    def test_invalid_names_the_key(self, value: object) -> None:
        with pytest.raises(ConfigError) as info:
            check_rebalance("agent.sizing.rebalance", value)
        assert str(info.value) == (
            "agent.sizing.rebalance: must be one of every_bar, on_change, never, weekly, monthly, quarterly, "
            f"or a positive number of bars, got {value!r}"
        )
