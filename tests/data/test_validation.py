import datetime
import re
import warnings
import zoneinfo

import numpy as np
import pandas as pd
import pytest

from framework.core.errors import ConfigError, DataError
from framework.data.validation import (
    MAX_PRICE,
    MISSING_POLICIES,
    DataWarning,
    build_market_data,
    check_max_daily_move,
    check_missing_policy,
    parse_dates,
    parse_iso_date,
)

DATES = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]
TICKERS = ["AAA", "BBB", "CCC"]


def closes() -> np.ndarray:
    """5 bars x 3 tickers of valid closes: 10.., 20.., 30.."""
    return np.array([[10.0, 20.0, 30.0], [11.0, 21.0, 31.0], [12.0, 22.0, 32.0], [13.0, 23.0, 33.0], [14, 24, 34]])


def build(close: np.ndarray | None = None, **kwargs: object) -> object:
    fields = kwargs.pop("fields", {"close": closes() if close is None else close})
    dates = kwargs.pop("dates", DATES)
    tickers = kwargs.pop("tickers", TICKERS)
    return build_market_data(dates, tickers, fields, **kwargs)


class TestParseIsoDate:
    def test_reads_iso_strings_and_keeps_none(self) -> None:
        assert parse_iso_date("start", "2015-01-02") == np.datetime64("2015-01-02")
        assert parse_iso_date("start", None) is None

    @pytest.mark.parametrize("value", ["01/02/2015", "2015-13-01", "2015-02-30", "2015", 20150102, ""])
    def test_rejects_other_formats_naming_the_key(self, value: object) -> None:
        with pytest.raises(ConfigError, match=r"^end: expected an ISO date 'YYYY-MM-DD'") as error:
            parse_iso_date("end", value)
        assert repr(value) in str(error.value)


def as_text(days: np.ndarray) -> list[str]:
    return [str(day) for day in days]


class TestParseDates:
    @pytest.mark.parametrize(
        ("values", "expected"),
        [
            (["2024-01-02", "2024-01-03"], ["2024-01-02", "2024-01-03"]),
            # the calendar date as written, not the UTC date (2024-01-01 15:00 and 2024-01-03 04:30 in UTC)
            (["2024-01-02 00:00:00+09:00"], ["2024-01-02"]),
            (["2024-01-02T23:30:00-05:00"], ["2024-01-02"]),
            (["2024-01-02 00:00:00+09:00", "2024-01-03 00:00:00+09:00"], ["2024-01-02", "2024-01-03"]),
            (["2024-01-02T23:30:00-05:00", "2024-01-03T23:30:00-0500"], ["2024-01-02", "2024-01-03"]),
            (["2024-01-02T16:00Z", "2024-01-03 16:00:00.250+00:00"], ["2024-01-02", "2024-01-03"]),
            (["2024-01-02 16", " 2024-01-03 16:00:00,5 "], ["2024-01-02", "2024-01-03"]),
            (["2024-01-02 09:00:00 +09", "2024-01-03 09:00:00 +0900"], ["2024-01-02", "2024-01-03"]),
        ],
    )
    def test_strings_give_the_date_as_written(self, values: list[str], expected: list[str]) -> None:
        assert as_text(parse_dates(values)) == expected

    def test_timezone_aware_datetimes_give_their_local_date(self) -> None:
        tokyo, new_york = zoneinfo.ZoneInfo("Asia/Tokyo"), zoneinfo.ZoneInfo("America/New_York")
        assert as_text(parse_dates([datetime.datetime(2024, 1, 2, 0, 30, tzinfo=tokyo)])) == ["2024-01-02"]
        # one zone, hence one offset: winter and summer offsets of New York differ (-05:00, -04:00)
        winter = datetime.datetime(2024, 1, 2, 23, 0, tzinfo=new_york)
        with pytest.raises(DataError, match=r"row 1: '2024-07-02 23:00:00-04:00' has UTC offset -04:00"):
            parse_dates([winter, winter.replace(month=7)])

    def test_dates_naive_datetimes_and_numpy_days(self) -> None:
        values = [datetime.date(2024, 1, 2), datetime.datetime(2024, 1, 3, 23, 59), np.datetime64("2024-01-04T22")]
        assert as_text(parse_dates(values)) == ["2024-01-02", "2024-01-03", "2024-01-04"]

    def test_a_datetime64_array_is_cut_to_days(self) -> None:
        values = np.array(["2024-01-02T23:59", "1969-12-31T12:00"], dtype="datetime64[m]")
        assert as_text(parse_dates(values)) == ["2024-01-02", "1969-12-31"]

    @pytest.mark.parametrize(
        ("values", "expected"),
        [
            (["2024-01-02 00:00+09:00", "2024-01-03 00:00+08:00"], "row 1: '2024-01-03 00:00+08:00' has UTC offset "
             "+08:00, but row 0 ('2024-01-02 00:00+09:00') has +09:00"),
            (["2024-01-02", "2024-01-03", "2024-01-04T10:00Z"], "row 2: '2024-01-04T10:00Z' has UTC offset +00:00, "
             "but row 0 ('2024-01-02') has none"),
            (["2024-01-02T10:00-05:00", "2024-01-03T10:00"], "row 1: '2024-01-03T10:00' has no UTC offset, but "
             "row 0 ('2024-01-02T10:00-05:00') has -05:00"),
        ],
    )  # fmt: skip
    def test_mixed_offsets_name_the_first_row_that_differs(self, values: list[str], expected: str) -> None:
        with pytest.raises(DataError, match=re.escape(expected)) as error:
            parse_dates(values)
        assert "every date of the data must carry the same offset, or none" in str(error.value)

    def test_the_same_offset_written_two_ways_is_one_offset(self) -> None:
        assert as_text(parse_dates(["2024-01-02T10:00Z", "2024-01-03T10:00+00:00"])) == ["2024-01-02", "2024-01-03"]

    @pytest.mark.parametrize(
        "value",
        [
            "2024-02-30", "2024-13-01", "01/02/2024", "2024-1-2", "20240102", "2024-01", "next day", "",
            "2024-01-02 24:00", "2024-01-02 10:60", "2024-01-02 10:00:61", "2024-01-02 10:00 UTC",
            "2024-01-02+09:00", "2024-01-02 10:00+25:00", 20240102, 1.5, True,
        ],
    )  # fmt: skip
    def test_unparseable_values_name_the_row_column_and_value(self, value: object) -> None:
        expected = f"prices.csv: row 7: {value!r} in column 'Date' is not an ISO date 'YYYY-MM-DD'"
        with pytest.raises(DataError, match=f"^{re.escape(expected)}"):
            parse_dates(["2024-01-01", value], source="prices.csv", column="Date", rows=[6, 7])

    @pytest.mark.parametrize("value", [None, float("nan"), np.datetime64("NaT")])
    def test_missing_dates_name_the_row(self, value: object) -> None:
        with pytest.raises(DataError, match=r"^row 1: the date is missing; every row needs a date$"):
            parse_dates(["2024-01-02", value])
        with pytest.raises(DataError, match=r"^f: row 5: the date in column 'd' is missing"):
            parse_dates(np.array(["2024-01-02", "NaT"], dtype="datetime64[D]"), source="f", column="d", rows=[4, 5])

    def test_pandas_values_are_read_the_same_way(self) -> None:
        aware = pd.DatetimeIndex(["2024-01-02 00:30", "2024-01-03 00:30"]).tz_localize("Asia/Tokyo")
        assert as_text(parse_dates(aware)) == ["2024-01-02", "2024-01-03"]  # not the UTC days, Jan 1 and 2
        mixed = pd.Series(["2024-01-02T10:00+01:00", "2024-01-03T10:00+02:00"], index=[10, 11])
        with pytest.raises(DataError, match=r"row 1: .* but row 0 \('2024-01-02T10:00\+01:00'\) has \+01:00"):
            parse_dates(mixed)

    def test_two_dimensional_arrays_are_rejected(self) -> None:
        with pytest.raises(DataError, match=r"dates must be one-dimensional, got shape \(1, 2\)"):
            parse_dates(np.array([["2024-01-02", "2024-01-03"]]))


class TestCheckMaxDailyMove:
    @pytest.mark.parametrize("value", [None, 5, 5.0, 1.5, np.float64(20.0)])
    def test_accepts_factors_above_one_and_none(self, value: object) -> None:
        check_max_daily_move(value)

    @pytest.mark.parametrize("value", [1, 1.0, 0.5, 0, -3, float("nan"), float("inf"), True, "5"])
    def test_rejects_other_values_naming_the_key(self, value: object) -> None:
        with pytest.raises(ConfigError, match=r"^max_daily_move: must be a number > 1 .* or null") as error:
            check_max_daily_move(value)
        assert str(error.value).endswith(f"got {value!r}")


class TestCheckMissingPolicy:
    @pytest.mark.parametrize("policy", MISSING_POLICIES)
    def test_accepts_the_valid_policies(self, policy: str) -> None:
        check_missing_policy(policy, None)
        check_missing_policy(policy, 3)

    @pytest.mark.parametrize("policy", ["interpolate", "", "FFILL", None])
    def test_unknown_policy_lists_valid_ones(self, policy: object) -> None:
        with pytest.raises(
            ConfigError, match=r"^missing: unknown policy .*valid policies are error, ffill, skip, drop_ticker"
        ):
            check_missing_policy(policy, None)

    @pytest.mark.parametrize("limit", [0, -2, 1.5, True, "3"])
    def test_ffill_limit_must_be_a_positive_integer(self, limit: object) -> None:
        with pytest.raises(ConfigError, match=r"^ffill_limit: must be a positive integer"):
            check_missing_policy("ffill", limit)


class TestBuildMarketData:
    def test_builds_the_panel_and_copies_the_input(self) -> None:
        close = closes()
        volume = np.full_like(close, 100.0)
        data = build(fields={"close": close, "volume": volume, "open": None})
        assert data.shape == (5, 3)
        assert data.tickers == ("AAA", "BBB", "CCC")
        assert data.dates[-1] == np.datetime64("2024-01-08")
        np.testing.assert_array_equal(data.close, close)
        assert data.open is None and data.has("volume")
        close[0, 0] = -5.0  # the caller's array is not shared with the panel
        assert data.close[0, 0] == 10.0
        assert close.flags.writeable

    def test_copy_false_takes_over_the_arrays(self) -> None:
        close = closes()
        data = build(close, copy=False)
        assert np.shares_memory(data.close, close)

    def test_unsorted_dates_name_the_first_out_of_order_date(self) -> None:
        dates = ["2024-01-02", "2024-01-04", "2024-01-03", "2024-01-01", "2024-01-08"]
        with pytest.raises(DataError, match=r"dates are not sorted: 2024-01-03 \(row 2\) comes after 2024-01-04"):
            build(dates=dates)

    def test_duplicate_date_is_named(self) -> None:
        dates = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-04", "2024-01-08"]
        with pytest.raises(DataError, match=r"date 2024-01-04 appears twice \(rows 2 and 3\)"):
            build(dates=dates)

    def test_duplicate_ticker_is_named(self) -> None:
        with pytest.raises(DataError, match=r"ticker 'AAA' appears twice \(columns 0 and 2\)"):
            build(tickers=["AAA", "BBB", "AAA"])

    def test_messages_start_with_the_source(self) -> None:
        with pytest.raises(DataError, match=r"^prices\.csv: ticker 'BBB' appears twice"):
            build(tickers=["AAA", "BBB", "BBB"], source="prices.csv")

    @pytest.mark.parametrize("field", ["open", "high", "low", "close"])
    @pytest.mark.parametrize("value", [0.0, -1.5])
    def test_non_positive_prices_name_ticker_date_field_value(self, field: str, value: float) -> None:
        fields = {name: closes() for name in ("open", "high", "low", "close")}
        fields[field][3, 1] = value
        fields[field][4, 2] = value
        expected = (
            f"ticker 'BBB' on 2024-01-05: {field} = {value} is invalid; prices (open, high, low, close) "
            f"must be finite and > 0 (2 invalid values in {field})"
        )
        with pytest.raises(DataError, match=re.escape(expected)):
            build(fields=fields)

    @pytest.mark.parametrize("policy", MISSING_POLICIES)
    @pytest.mark.parametrize("value", [np.inf, -np.inf])
    def test_infinite_prices_fail_under_every_policy(self, policy: str, value: float) -> None:
        close = closes()
        close[2, 0] = value
        with pytest.raises(DataError, match=rf"ticker 'AAA' on 2024-01-04: close = {value} is invalid"):
            build(close, missing=policy)

    def test_negative_volume_is_an_error(self) -> None:
        volume = np.full((5, 3), 1000.0)
        volume[1, 2] = -1.0
        with pytest.raises(DataError, match=r"ticker 'CCC' on 2024-01-03: volume = -1.0 is invalid; volume must"):
            build(fields={"close": closes(), "volume": volume})

    @pytest.mark.parametrize("policy", MISSING_POLICIES)
    def test_infinite_volume_is_an_error(self, policy: str) -> None:
        volume = np.full((5, 3), 1000.0)
        volume[4, 0] = np.inf
        with pytest.raises(DataError, match=r"ticker 'AAA' on 2024-01-08: volume = inf is invalid"):
            build(fields={"close": closes(), "volume": volume}, missing=policy)

    def test_zero_volume_is_valid(self) -> None:
        data = build(fields={"close": closes(), "volume": np.zeros((5, 3))})
        assert data.volume.sum() == 0.0

    def test_missing_error_names_first_ticker_and_date_and_the_other_policies(self) -> None:
        close = closes()
        close[3, 0] = np.nan
        close[1, 2] = np.nan
        with pytest.raises(DataError) as error:
            build(close)
        message = str(error.value)
        assert message.startswith(
            "ticker 'CCC' has no close on 2024-01-03, inside its data (first of 2 bar(s) with missing values)"
        )
        assert "missing='ffill'" in message and "missing='skip'" in message and "missing='drop_ticker'" in message

    def test_missing_error_names_the_field_missing(self) -> None:
        volume = np.full((5, 3), 7.0)
        volume[2, 1] = np.nan
        with pytest.raises(DataError, match=r"ticker 'BBB' has no volume on 2024-01-04"):
            build(fields={"close": closes(), "volume": volume})

    def test_ffill_without_limit_repeats_the_last_value(self) -> None:
        close = closes()
        close[1:4, 1] = np.nan
        close[4, 2] = np.nan
        data = build(close, missing="ffill")
        assert data.close[:, 1].tolist() == [20.0, 20.0, 20.0, 20.0, 24.0]
        # CCC's last bar has no close: its data ends there (not a gap to fill)
        np.testing.assert_array_equal(data.close[:, 2], [30.0, 31.0, 32.0, 33.0, np.nan])
        assert data.close[:, 0].tolist() == [10.0, 11.0, 12.0, 13.0, 14.0]

    def test_ffill_fills_each_field_from_its_own_past(self) -> None:
        close, volume = closes(), np.arange(15.0).reshape(5, 3) + 1.0
        close[2, 0] = np.nan
        volume[3, 0] = np.nan
        data = build(fields={"close": close, "volume": volume}, missing="ffill")
        assert data.close[:, 0].tolist() == [10.0, 11.0, 11.0, 13.0, 14.0]
        assert data.volume[:, 0].tolist() == [1.0, 4.0, 7.0, 7.0, 13.0]

    def test_ffill_limit_allows_gaps_up_to_the_limit(self) -> None:
        close = closes()
        close[1:3, 1] = np.nan
        data = build(close, missing="ffill", ffill_limit=2)
        assert data.close[:, 1].tolist() == [20.0, 20.0, 20.0, 23.0, 24.0]

    def test_ffill_gap_longer_than_the_limit_names_ticker_and_dates(self) -> None:
        close = closes()
        close[1:4, 1] = np.nan
        expected = "ticker 'BBB' has no close from 2024-01-03 to at least 2024-01-05, more than ffill_limit=2"
        with pytest.raises(DataError, match=re.escape(expected)):
            build(close, missing="ffill", ffill_limit=2)

    @pytest.mark.parametrize("policy", MISSING_POLICIES)
    def test_late_listing_and_early_end_are_not_missing_values(self, policy: str) -> None:
        close = closes()
        close[0:2, 2] = np.nan  # CCC lists on 2024-01-04
        close[3:, 0] = np.nan  # AAA's data ends on 2024-01-04
        volume = np.full((5, 3), 5.0)
        data = build(fields={"close": close, "volume": volume}, missing=policy)
        np.testing.assert_array_equal(data.close[:, 2], [np.nan, np.nan, 32.0, 33.0, 34.0])
        np.testing.assert_array_equal(data.close[:, 0], [10.0, 11.0, 12.0, np.nan, np.nan])
        # every field follows the close's span
        np.testing.assert_array_equal(np.isnan(data.volume), np.isnan(data.close))

    def test_ticker_without_any_close_is_an_error(self) -> None:
        close = closes()
        close[:, 0] = np.nan
        with pytest.raises(DataError, match=r"ticker\(s\) AAA have no close price at all"):
            build(close, missing="ffill")

    def test_ffill_field_missing_on_the_first_bar_names_it(self) -> None:
        volume = np.full((5, 3), 5.0)
        volume[0:2, 1] = np.nan
        with pytest.raises(DataError, match=r"ticker 'BBB' has no volume on 2024-01-02, its first bar with a close"):
            build(fields={"close": closes(), "volume": volume}, missing="ffill")

    def test_skip_blanks_the_bars_with_a_missing_field(self) -> None:
        close, volume = closes(), np.full((5, 3), 5.0)
        close[2, 0] = np.nan
        volume[3, 1] = np.nan
        data = build(fields={"close": close, "volume": volume}, missing="skip")
        np.testing.assert_array_equal(data.close[:, 0], [10.0, 11.0, np.nan, 13.0, 14.0])
        np.testing.assert_array_equal(data.close[:, 1], [20.0, 21.0, 22.0, np.nan, 24.0])  # not tradable that bar
        np.testing.assert_array_equal(np.isnan(data.volume), np.isnan(data.close))

    def test_drop_ticker_ends_the_ticker_at_its_first_gap_and_warns(self) -> None:
        close = closes()
        close[2, 0] = np.nan
        close[4, 2] = np.nan  # CCC's data ends: not a gap
        with pytest.warns(DataWarning, match=r"1 ticker\(s\) end at their first missing value: AAA on 2024-01-04"):
            data = build(close, missing="drop_ticker")
        assert data.tickers == ("AAA", "BBB", "CCC")
        np.testing.assert_array_equal(data.close[:, 0], [10.0, 11.0, np.nan, np.nan, np.nan])
        assert data.close[:, 1].tolist() == [20.0, 21.0, 22.0, 23.0, 24.0]

    def test_drop_ticker_is_causal(self) -> None:
        """A gap on a late bar changes nothing before it (the old policy dropped the whole ticker)."""
        close = closes()
        close[3, 1] = np.nan
        with pytest.warns(DataWarning):
            data = build(close, missing="drop_ticker")
        np.testing.assert_array_equal(data.close[:3], closes()[:3])

    def test_drop_ticker_on_any_field(self) -> None:
        volume = np.ones((5, 3))
        volume[2, 1] = np.nan
        with pytest.warns(DataWarning, match="BBB"):
            data = build(fields={"close": closes(), "volume": volume}, missing="drop_ticker")
        np.testing.assert_array_equal(data.close[:, 1], [20.0, 21.0, np.nan, np.nan, np.nan])

    def test_drop_ticker_without_missing_values_does_not_warn(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert build(missing="drop_ticker").n_tickers == 3

    def test_invalid_policy_is_a_config_error(self) -> None:
        with pytest.raises(ConfigError, match=r"valid policies are error, ffill, skip, drop_ticker"):
            build(missing="zero")

    def test_close_is_required(self) -> None:
        with pytest.raises(DataError, match=r"'close' prices are required; got fields open"):
            build(fields={"open": closes()})

    def test_unknown_field_lists_the_fields(self) -> None:
        with pytest.raises(DataError, match=r"unknown field\(s\) 'adj_close'; fields are open, high, low"):
            build(fields={"close": closes(), "adj_close": closes()})

    def test_wrong_shape_names_the_field(self) -> None:
        with pytest.raises(DataError, match=r"field 'high' has shape \(5, 2\), expected \(days, tickers\) = \(5, 3\)"):
            build(fields={"close": closes(), "high": closes()[:, :2]})

    def test_unreadable_dates(self) -> None:
        with pytest.raises(DataError, match=r"^row 1: 'next day' is not an ISO date 'YYYY-MM-DD'"):
            build(dates=["2024-01-02", "next day", "2024-01-04", "2024-01-05", "2024-01-08"])

    def test_no_tickers(self) -> None:
        with pytest.raises(DataError, match=r"no tickers"):
            build_market_data(DATES, [], {"close": np.empty((5, 0))})

    def test_dates_with_an_offset_keep_the_date_as_written(self) -> None:
        dates = [f"{day} 00:00:00+09:00" for day in DATES]
        np.testing.assert_array_equal(build(dates=dates).dates, np.array(DATES, dtype="datetime64[D]"))


def ohlc(**changes: tuple[int, int, float]) -> dict[str, np.ndarray]:
    """Consistent open/high/low/close around closes(), with ``field=(row, column, value)`` changes."""
    close = closes()
    fields = {"open": close - 0.5, "high": close + 1.0, "low": close - 1.0, "close": close}
    for name, (row, column, value) in changes.items():
        fields[name][row, column] = value
    return fields


class TestBuildMarketDataSanity:
    @pytest.mark.parametrize("field", ["open", "high", "low", "close"])
    @pytest.mark.parametrize("value", [1e300, 1.1e12])
    def test_absurdly_large_prices_are_rejected_as_corrupt(self, field: str, value: float) -> None:
        fields = ohlc(**{name: (2, 1, value) for name in ("open", "high", "close") if name == field})
        fields[field][2, 1] = value
        expected = (
            f"prices.csv: ticker 'BBB' on 2024-01-04: {field} = {value} is invalid; prices above 1e+12 are "
            "rejected as corrupt"
        )
        with pytest.raises(DataError, match=f"^{re.escape(expected)}"):
            build(fields=fields, source="prices.csv")

    def test_the_largest_price_allowed_is_max_price(self) -> None:
        close = closes()
        close[:, 0] = MAX_PRICE
        assert build(close).close[0, 0] == 1e12

    @pytest.mark.parametrize(
        ("changes", "expected"),
        [
            ({"high": (1, 0, 9.0)}, "ticker 'AAA' on 2024-01-03: low = 10.0 is above high = 9.0"),
            ({"low": (2, 1, 21.8)}, "ticker 'BBB' on 2024-01-04: low = 21.8 is above open = 21.5"),
            ({"open": (3, 2, 29.0), "low": (3, 2, 32.5)},
             "ticker 'CCC' on 2024-01-05: low = 32.5 is above open = 29.0"),
            ({"open": (4, 0, 15.5)}, "ticker 'AAA' on 2024-01-08: open = 15.5 is above high = 15.0"),
            ({"close": (0, 1, 21.5)}, "ticker 'BBB' on 2024-01-02: close = 21.5 is above high = 21.0"),
            ({"close": (0, 2, 28.5)}, "ticker 'CCC' on 2024-01-02: low = 29.0 is above close = 28.5"),
        ],
    )  # fmt: skip
    def test_bars_out_of_order_name_ticker_date_and_values(self, changes: dict, expected: str) -> None:
        with pytest.raises(DataError, match=f"^{re.escape(expected)}; each bar needs low <= open, close <= high"):
            build(fields=ohlc(**changes))

    def test_the_count_of_bars_out_of_order_is_given(self) -> None:
        fields = ohlc()
        fields["high"][1:4, 0] = 1.0
        with pytest.raises(DataError, match=r"low = 10.0 is above high = 1.0; .* \(3 bars out of order\)$"):
            build(fields=fields)

    def test_rounding_within_1e_9_is_tolerated_and_missing_values_are_skipped(self) -> None:
        fields = ohlc()
        fields["high"][:, 0] = fields["close"][:, 0] * (1 - 1e-10)
        fields["low"][2, 1] = np.nan
        fields["high"][2, 1] = np.nan
        data = build(fields=fields, missing="ffill")
        assert data.high[2, 1] == fields["high"][1, 1]

    def test_only_the_fields_present_are_compared(self) -> None:
        close = closes()
        data = build(fields={"close": close, "low": close - 1.0})
        assert data.has("low") and not data.has("high")
        expected = r"ticker 'AAA' on 2024-01-02: low = 11.0 is above close = 10.0; .*\(15 bars out of order\)"
        with pytest.raises(DataError, match=expected):
            build(fields={"close": close, "low": close + 1.0})

    def test_volume_is_not_compared_with_prices(self) -> None:
        data = build(fields={**ohlc(), "volume": np.full((5, 3), 1e15)})
        assert data.volume[0, 0] == 1e15


class TestBuildMarketDataMoves:
    def test_a_close_more_than_five_times_the_previous_one_is_a_warning_naming_ticker_and_date(self) -> None:
        close = closes()
        close[2:, 1] *= 6.0  # 21 -> 132 on 2024-01-04
        with pytest.warns(DataWarning) as record:
            data = build(close, source="prices.csv")
        assert len(record) == 1
        message = str(record[0].message)
        assert message.startswith(
            "prices.csv: 1 one-day price move beyond max_daily_move=5 (a price more than 5x, or less than 1/5, "
            "of the previous close or of another price of the bar): ticker 'BBB' on 2024-01-04 "
            "(close 21.0 -> 132.0 from the previous bar); check for a missing split adjustment"
        )
        np.testing.assert_array_equal(data.close, close)  # a warning only: the data is kept as is

    def test_a_fall_below_a_fifth_is_a_warning_too(self) -> None:
        close = closes()
        close[4, 0] = 2.5  # 13 -> 2.5
        with pytest.warns(DataWarning, match=r"ticker 'AAA' on 2024-01-08 \(close 13.0 -> 2.5 from the previous"):
            build(close)

    def test_moves_within_the_factor_do_not_warn(self) -> None:
        close = closes()
        close[2:, 1] *= 4.5  # 21 -> 99
        close[4, 0] = 13.0 / 4.9
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            build(close)

    def test_the_factor_is_configurable_and_none_turns_the_check_off(self) -> None:
        close = closes()
        close[3:, 2] *= 2.5
        with pytest.warns(DataWarning, match=r"beyond max_daily_move=2 .*ticker 'CCC' on 2024-01-05"):
            build(close, max_daily_move=2)
        close[3:, 2] *= 100.0
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            build(close, max_daily_move=None)

    def test_a_bar_whose_prices_differ_beyond_the_factor_is_a_warning(self) -> None:
        close = closes()
        open_ = close.copy()
        open_[1, 0] = 50.0 * close[1, 0]  # the open 50x the close, with no high or low to compare
        with pytest.warns(DataWarning, match=r"ticker 'AAA' on 2024-01-03 \(close 11.0 and open 550.0 in the same"):
            build(fields={"open": open_, "close": close})

    def test_missing_closes_are_not_moves(self) -> None:
        close = closes()
        close[2, 0] = np.nan
        close[3:, 0] *= 10.0  # 12 is missing: 11 -> NaN -> 130 is not compared
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            build(close, missing="ffill")

    def test_many_moves_are_counted_and_the_first_three_named(self) -> None:
        close = np.tile([10.0, 60.0], 4)[:, None] * np.ones((1, 3))[:, :3]
        dates = [str(day) for day in np.datetime64("2024-01-01") + np.arange(8)]
        with pytest.warns(DataWarning) as record:
            build(close, dates=dates)
        message = str(record[0].message)
        assert message.startswith("21 one-day price moves beyond max_daily_move=5")
        assert (
            "ticker 'AAA' on 2024-01-02 (close 10.0 -> 60.0 from the previous bar), ticker 'BBB' on 2024-01-02"
            in message
        )
        assert "ticker 'CCC' on 2024-01-02 (close 10.0 -> 60.0 from the previous bar), and 18 more;" in message

    def test_the_warning_category_can_be_filtered(self) -> None:
        close = closes()
        close[2:, 1] *= 6.0
        assert issubclass(DataWarning, UserWarning)
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataWarning)
            with pytest.raises(DataWarning):
                build(close)

    def test_invalid_factor_is_a_config_error(self) -> None:
        with pytest.raises(ConfigError, match=r"^max_daily_move: must be a number > 1"):
            build(max_daily_move=0.2)
