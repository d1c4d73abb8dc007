"""Validation of raw price arrays into a :class:`MarketData` panel: dates, sanity of the prices, missing values."""

from __future__ import annotations

import datetime
import math
import re
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from framework.core.checks import is_int, is_number
from framework.core.errors import ConfigError, DataError
from framework.core.market_data import FIELDS, MarketData

#: Valid values of the ``missing`` parameter of loaders and :func:`build_market_data`.
MISSING_POLICIES: tuple[str, ...] = ("error", "ffill", "skip", "drop_ticker")
#: Fields that hold prices: finite and strictly positive where present.
PRICE_FIELDS: tuple[str, ...] = ("open", "high", "low", "close")
#: Prices above this are rejected as corrupt: no traded price comes near it (bitcoin in Vietnamese dong is
#: about 3e9), while a misplaced decimal point, a timestamp or an overflow read as a price usually exceeds it.
MAX_PRICE: float = 1e12
#: Default ``max_daily_move``: a close more than 5x, or less than 1/5, of the previous close is reported.
DEFAULT_MAX_DAILY_MOVE: float = 5.0
#: Relative rounding tolerated by the checks low <= open, close <= high.
OHLC_TOLERANCE: float = 1e-9

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# An ISO date, optionally followed by a time and a UTC offset; only the date part is kept.
_TIMESTAMP = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<hour>\d{2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?)?"
    r" ?(?P<offset>Z|(?P<sign>[+-])(?P<offset_hours>\d{2})(?::?(?P<offset_minutes>\d{2}))?)?)?",
    re.IGNORECASE,
)


class DataWarning(UserWarning):
    """Data that loads but looks suspicious, such as a one-day price move beyond ``max_daily_move``.

    A category of its own, so a run can silence it or turn it into an error with the ``warnings`` filters.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("error", DataWarning)
        ...     warnings.warn("prices.csv: ticker 'AAA' on 2024-01-03: close 10.0 -> 60.0", DataWarning)
        Traceback (most recent call last):
        ...
        framework.data.validation.DataWarning: prices.csv: ticker 'AAA' on 2024-01-03: close 10.0 -> 60.0

    """


def parse_iso_date(key: str, value: object) -> np.datetime64 | None:
    """Read a config date given as ``'YYYY-MM-DD'`` (or a ``datetime.date``); ``None`` stays ``None``.

    Args:
        key: Config key the value comes from, named in the error.
        value: The date as an ISO string, a ``datetime.date``, or ``None``.

    Returns:
        The day as ``numpy.datetime64[D]``, or ``None``.

    Raises:
        ConfigError: Naming ``key`` when the value is not a valid ISO date.

    Example:
        >>> parse_iso_date("start", "2015-01-02")
        np.datetime64('2015-01-02')
        >>> parse_iso_date("start", "01/02/2015")
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: start: expected an ISO date 'YYYY-MM-DD' such as '2015-01-02' \
or null, got '01/02/2015'

    """
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return np.datetime64(value.date(), "D")
    if isinstance(value, datetime.date):
        return np.datetime64(value, "D")
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return np.datetime64(value.strip(), "D")
        except ValueError:
            pass
    raise ConfigError(f"{key}: expected an ISO date 'YYYY-MM-DD' such as '2015-01-02' or null, got {value!r}")


def parse_dates(
    values: Sequence[object] | np.ndarray,
    *,
    source: str = "",
    column: str | None = None,
    rows: Sequence[object] | None = None,
) -> np.ndarray:
    """The calendar day of each value, as written in the value's own local time.

    A value is an ISO date ``'YYYY-MM-DD'``, optionally followed by a time (after ``T`` or a space,
    ``HH[:MM[:SS[.fff]]]``) and a UTC offset (``Z``, ``+09:00``, ``-0500``); or a ``datetime.date``,
    ``datetime.datetime`` (a timezone-aware one gives its local date) or ``numpy.datetime64``. The day kept is
    the date as written, never shifted to UTC: ``'2024-01-02 00:00:00+09:00'`` is 2024-01-02. Since days from
    different offsets would not line up, every value must carry the same UTC offset as the first, or none.

    Args:
        values: The dates, one per row.
        source: Name of the data source (the file) that prefixes every error message.
        column: Name of the column the values come from, named in error messages.
        rows: Label of each value's row, named in error messages; ``None`` numbers the values from 0.

    Returns:
        The days, as a ``datetime64[D]`` array of the same length.

    Raises:
        DataError: Naming the row and its value when a date is missing or not an ISO date, or when its UTC
            offset differs from the first row's.

    Example:
        >>> [str(day) for day in parse_dates(["2024-01-02 00:00:00+09:00", "2024-01-03T00:00:00+09:00"])]
        ['2024-01-02', '2024-01-03']
        >>> parse_dates(["2024-01-02 00:00+09:00", "2024-01-03 00:00+08:00"], source="prices.csv", column="date")
        Traceback (most recent call last):
        ...
        framework.core.errors.DataError: prices.csv: row 1: '2024-01-03 00:00+08:00' in column 'date' has UTC \
offset +08:00, but row 0 ('2024-01-02 00:00+09:00') has +09:00; every date of the data must carry the same \
offset, or none, since the calendar date is kept as written: write the dates in one offset, or as 'YYYY-MM-DD'

    """
    prefix = f"{source}: " if source else ""
    where = f" in column '{column}'" if column is not None else ""
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise DataError(f"{prefix}dates must be one-dimensional, got shape {values.shape}")
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        days = values.astype("datetime64[D]")
        absent = np.isnat(days)
        if absent.any():
            position = int(np.argmax(absent))
            row = rows[position] if rows is not None else position
            raise DataError(f"{prefix}row {row}: the date{where} is missing; every row needs a date")
        return days
    days = np.empty(len(values), dtype="datetime64[D]")
    first_value: object = None
    first_offset: int | None = None
    for position, value in enumerate(values):
        row = rows[position] if rows is not None else position
        if _is_missing(value):
            raise DataError(f"{prefix}row {row}: the date{where} is missing; every row needs a date")
        parsed = _local_day(value)
        if parsed is None:
            raise DataError(
                f"{prefix}row {row}: {_show(value)}{where} is not an ISO date 'YYYY-MM-DD' (a time and a UTC "
                "offset may follow, as in '2024-01-02 16:00:00-05:00')"
            )
        days[position], offset = parsed
        if position == 0:
            first_value, first_offset = value, offset
        elif offset != first_offset:
            first_row = rows[0] if rows is not None else 0
            raise DataError(
                f"{prefix}row {row}: {_show(value)}{where} has {_describe_offset(offset)}, but row {first_row} "
                f"({_show(first_value)}) has {_describe_offset(first_offset, short=True)}; every date of the data "
                "must carry the same offset, or none, since the calendar date is kept as written: write the dates "
                "in one offset, or as 'YYYY-MM-DD'"
            )
    return days


def _is_missing(value: object) -> bool:
    """Whether a date cell is empty: ``None``, NaN, NaT or ``pandas.NA``."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are the values not equal to themselves
    except TypeError:  # pandas.NA refuses to be a bool
        return True
    except ValueError:  # an array in a cell: not missing, and not a date either
        return False


def _local_day(value: object) -> tuple[np.datetime64, int | None] | None:
    """The local calendar day of a date value and its UTC offset in seconds (``None`` if naive), or ``None``."""
    if isinstance(value, str):
        return _parse_timestamp(value)
    if isinstance(value, datetime.datetime):  # pandas.Timestamp included
        offset = value.utcoffset()
        return np.datetime64(value.date(), "D"), None if offset is None else int(offset.total_seconds())
    if isinstance(value, datetime.date):
        return np.datetime64(value, "D"), None
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[D]"), None
    return None


def _parse_timestamp(text: str) -> tuple[np.datetime64, int | None] | None:
    match = _TIMESTAMP.fullmatch(text.strip())
    if match is None:
        return None
    try:
        day = np.datetime64(match["date"], "D")
    except ValueError:  # such as 2024-02-30
        return None
    limits = (("hour", 23), ("minute", 59), ("second", 59), ("offset_hours", 23), ("offset_minutes", 59))
    if any(match[part] is not None and int(match[part]) > limit for part, limit in limits):
        return None
    if match["offset"] is None:
        return day, None
    if match["sign"] is None:  # Z
        return day, 0
    seconds = 3600 * int(match["offset_hours"]) + 60 * int(match["offset_minutes"] or 0)
    return day, -seconds if match["sign"] == "-" else seconds


def _describe_offset(seconds: int | None, short: bool = False) -> str:
    if seconds is None:
        return "none" if short else "no UTC offset"
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, rest = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}" + (f":{rest:02d}" if rest else "")
    return text if short else f"UTC offset {text}"


def _show(value: object) -> str:
    """A cell's value as written: strings quoted, dates and times in ISO form."""
    if isinstance(value, (datetime.date, np.datetime64)):
        return f"'{value}'"
    return repr(value)


def check_missing_policy(missing: object, ffill_limit: object) -> None:
    """Check the ``missing`` policy name and ``ffill_limit``.

    Args:
        missing: One of :data:`MISSING_POLICIES`.
        ffill_limit: Maximum number of consecutive bars forward-filled, or ``None`` for no limit.

    Raises:
        ConfigError: Naming the key and listing what is valid.

    Example:
        >>> check_missing_policy("ffill", 5)
        >>> check_missing_policy("interpolate", None)
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: missing: unknown policy 'interpolate'; valid policies are \
error, ffill, skip, drop_ticker

    """
    if not isinstance(missing, str) or missing not in MISSING_POLICIES:
        raise ConfigError(f"missing: unknown policy {missing!r}; valid policies are {', '.join(MISSING_POLICIES)}")
    if ffill_limit is None:
        return
    if not is_int(ffill_limit) or ffill_limit < 1:
        raise ConfigError(
            f"ffill_limit: must be a positive integer (consecutive bars) or null for no limit, got {ffill_limit!r}"
        )


def check_max_daily_move(max_daily_move: object) -> None:
    """Check ``max_daily_move``: a factor > 1, or ``None`` to turn the check of one-day moves off.

    Args:
        max_daily_move: The factor, see :func:`build_market_data`.

    Raises:
        ConfigError: Naming the key and what is valid.

    Example:
        >>> check_max_daily_move(5.0)
        >>> check_max_daily_move(None)
        >>> check_max_daily_move(0.2)
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: max_daily_move: must be a number > 1 (5 reports a close above 5x or \
below 1/5 of the previous close) or null to turn the check off, got 0.2

    """
    if max_daily_move is None:
        return
    if not is_number(max_daily_move) or not math.isfinite(max_daily_move) or max_daily_move <= 1:
        raise ConfigError(
            "max_daily_move: must be a number > 1 (5 reports a close above 5x or below 1/5 of the previous close) "
            f"or null to turn the check off, got {max_daily_move!r}"
        )


def build_market_data(
    dates: Sequence[object] | np.ndarray,
    tickers: Sequence[str],
    fields: Mapping[str, np.ndarray | None],
    *,
    missing: str = "error",
    ffill_limit: int | None = None,
    max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE,
    source: str = "",
    copy: bool = True,
) -> MarketData:
    """Validate raw arrays and build a :class:`MarketData` panel.

    Checks, in order: dates are days (see :func:`parse_dates`), unique and strictly increasing; tickers are
    unique; every field has shape (days, tickers); prices (open, high, low, close) are finite, > 0 and at most
    :data:`MAX_PRICE` (1e12: larger prices are rejected as corrupt), volumes finite and >= 0 (an infinite value
    is an error under every policy); each bar has ``low <= open, close <= high`` for the fields present (with a
    relative tolerance of 1e-9 for rounding). A price more than ``max_daily_move`` times, or less than
    ``1 / max_daily_move`` of, the previous close (close to close), or of another price of the same bar, is a
    :class:`DataWarning` naming the ticker and date: it may be a missing split adjustment or a corrupt value,
    but it may be real. These checks skip missing values (NaN).

    **A time-varying universe.** A ticker trades from its first close to its last: the bars before (not listed
    yet) and after (delisted, or the data ends early) are NaN in every field, whatever the policy, and the run
    treats the ticker as not tradable there. A ticker with no close at all is an error. Missing values *inside*
    a ticker's span are handled by ``missing``, each causally (no bar's data depends on a later bar):

    - ``"error"``: a missing value inside a span is an error naming the ticker and date.
    - ``"ffill"``: each field is forward-filled along time inside the span, at most ``ffill_limit`` consecutive
      bars (``None`` = unlimited); a longer gap is an error.
    - ``"skip"``: the bar is not tradable for that ticker (every field NaN): no trade, the position is kept and
      valued at its last price.
    - ``"drop_ticker"``: the ticker's data ends the bar before its first gap (a warning names it and the date);
      earlier bars are untouched, so no decision before the gap depends on it.

    Args:
        dates: Days of the rows: ISO strings (a time and UTC offset may follow), dates, datetimes or
            ``datetime64``, read by :func:`parse_dates` (the calendar date as written).
        tickers: Ticker names of the columns.
        fields: Arrays of shape (days, tickers) keyed by field name among open, high, low, close, volume;
            ``close`` is required, ``None`` values are treated as absent.
        missing: Missing-value policy inside a ticker's span, one of ``error``, ``ffill``, ``skip``,
            ``drop_ticker``.
        ffill_limit: With ``missing="ffill"``, the longest gap filled, in bars; ``None`` for no limit.
        max_daily_move: Factor > 1 beyond which a one-day price move is reported by a :class:`DataWarning`;
            ``None`` turns the check off.
        source: Name of the data source (file, data set) that prefixes every error message.
        copy: Copy the arrays (the default). ``False`` lets the panel take over float64 arrays the caller just
            made and will not reuse: they become read-only; missing values are still filled in new arrays.

    Returns:
        The validated panel; with ``copy=True`` the input arrays are never modified.

    Raises:
        DataError: Naming the ticker, date (ISO) and field at fault and what would be valid.
        ConfigError: If ``missing``, ``ffill_limit`` or ``max_daily_move`` is invalid.

    Warns:
        DataWarning: For one-day price moves beyond ``max_daily_move``, naming the first tickers and dates, and
            for the tickers ``drop_ticker`` ends.

    Example:
        >>> data = build_market_data(
        ...     ["2024-01-02", "2024-01-03", "2024-01-04"], ["AAA", "BBB"],
        ...     {"close": np.array([[10.0, 20.0], [np.nan, 21.0], [11.0, 22.0]])},
        ...     missing="ffill",
        ... )
        >>> data.close[:, 0].tolist()
        [10.0, 10.0, 11.0]
        >>> build_market_data(["2024-01-02"], ["AAA"], {"close": np.array([[-1.0]])}, source="prices.csv")
        Traceback (most recent call last):
        ...
        framework.core.errors.DataError: prices.csv: ticker 'AAA' on 2024-01-02: close = -1.0 is invalid; \
prices (open, high, low, close) must be finite and > 0 (1 invalid value in close)
        >>> build_market_data(["2024-01-02"], ["AAA"], {"close": np.array([[10.0]]), "high": np.array([[9.5]])})
        Traceback (most recent call last):
        ...
        framework.core.errors.DataError: ticker 'AAA' on 2024-01-02: close = 10.0 is above high = 9.5; each bar \
needs low <= open, close <= high (1 bar out of order)

    """
    check_missing_policy(missing, ffill_limit)
    check_max_daily_move(max_daily_move)
    prefix = f"{source}: " if source else ""
    days = parse_dates(dates, source=source)
    names = tuple(str(name) for name in tickers)
    _check_dates(days, prefix)
    _check_tickers(names, prefix)
    panels = _as_panels(fields, (len(days), len(names)), prefix, copy)
    for name, values in panels.items():
        _check_values(name, values, days, names, prefix)
    _check_bar_order(panels, days, names, prefix)
    if max_daily_move is not None:
        _warn_large_moves(panels, days, names, float(max_daily_move), prefix)
    panels, names = _resolve_missing(panels, days, names, missing, ffill_limit, prefix)
    return MarketData(
        dates=days,
        tickers=names,
        close=panels["close"],
        open=panels.get("open"),
        high=panels.get("high"),
        low=panels.get("low"),
        volume=panels.get("volume"),
    )


def _check_dates(days: np.ndarray, prefix: str) -> None:
    if len(days) == 0:
        raise DataError(f"{prefix}no dates: the data has no rows")
    steps = np.diff(days.astype(np.int64))
    bad = steps <= 0
    if not bad.any():
        return
    row = int(np.argmax(bad)) + 1
    if steps[row - 1] == 0:
        raise DataError(
            f"{prefix}date {days[row]} appears twice (rows {row - 1} and {row}); each date must appear once"
        )
    raise DataError(
        f"{prefix}dates are not sorted: {days[row]} (row {row}) comes after {days[row - 1]}; "
        "dates must be strictly increasing"
    )


def _check_tickers(names: tuple[str, ...], prefix: str) -> None:
    if not names:
        raise DataError(f"{prefix}no tickers: the data has no columns of prices")
    first_column: dict[str, int] = {}
    for column, name in enumerate(names):
        if name in first_column:
            raise DataError(
                f"{prefix}ticker '{name}' appears twice (columns {first_column[name]} and {column}); "
                "tickers must be unique"
            )
        first_column[name] = column


def _as_panels(
    fields: Mapping[str, np.ndarray | None], shape: tuple[int, int], prefix: str, copy: bool
) -> dict[str, np.ndarray]:
    unknown = [name for name in fields if name not in FIELDS]
    if unknown:
        raise DataError(f"{prefix}unknown field(s) {', '.join(map(repr, unknown))}; fields are {', '.join(FIELDS)}")
    if fields.get("close") is None:
        raise DataError(f"{prefix}'close' prices are required; got fields {', '.join(fields) or 'none'}")
    panels: dict[str, np.ndarray] = {}
    for name in FIELDS:
        if fields.get(name) is None:
            continue
        try:
            values = np.array(fields[name], dtype=np.float64, copy=True if copy else None)
        except (TypeError, ValueError) as error:
            raise DataError(f"{prefix}field '{name}' is not numeric: {error}") from None
        if values.shape != shape:
            raise DataError(f"{prefix}field '{name}' has shape {values.shape}, expected (days, tickers) = {shape}")
        values.setflags(write=False)  # the panel owns it now: MarketData shares a read-only array as is
        panels[name] = values
    return panels


def _check_values(name: str, values: np.ndarray, days: np.ndarray, names: tuple[str, ...], prefix: str) -> None:
    # NaN compares False, so missing values are left to the missing policy; infinities are always errors.
    if name in PRICE_FIELDS:
        invalid = (values <= 0.0) | (values > MAX_PRICE)  # +inf is above MAX_PRICE
    else:
        invalid = (values < 0.0) | np.isposinf(values)
    if not invalid.any():
        return
    row, column = divmod(int(np.argmax(invalid)), values.shape[1])
    value = values[row, column]
    if name not in PRICE_FIELDS:
        rule = "volume must be finite and >= 0"
    elif math.isfinite(value) and value > MAX_PRICE:
        rule = f"prices above {MAX_PRICE:g} are rejected as corrupt: a misplaced decimal point, or not a price"
    else:
        rule = "prices (open, high, low, close) must be finite and > 0"
    count = int(invalid.sum())
    raise DataError(
        f"{prefix}ticker '{names[column]}' on {days[row]}: {name} = {values[row, column]} is invalid; {rule} "
        f"({count} invalid value{'s' if count > 1 else ''} in {name})"
    )


#: Pairs (lower, upper) that every bar must respect where both fields are present.
_BAR_ORDER: tuple[tuple[str, str], ...] = (
    ("low", "high"),
    ("low", "open"),
    ("low", "close"),
    ("open", "high"),
    ("close", "high"),
)


def _check_bar_order(panels: dict[str, np.ndarray], days: np.ndarray, names: tuple[str, ...], prefix: str) -> None:
    """Reject a bar whose low is above its open, close or high, or whose high is below its open or close."""
    for lower, upper in _BAR_ORDER:
        if lower not in panels or upper not in panels:
            continue
        below, above = panels[lower], panels[upper]
        # NaN compares False, so missing values are left to the missing policy.
        out_of_order = below > above * (1.0 + OHLC_TOLERANCE)
        if not out_of_order.any():
            continue
        row, column = divmod(int(np.argmax(out_of_order)), out_of_order.shape[1])
        count = int(out_of_order.sum())
        raise DataError(
            f"{prefix}ticker '{names[column]}' on {days[row]}: {lower} = {below[row, column]} is above "
            f"{upper} = {above[row, column]}; each bar needs low <= open, close <= high "
            f"({count} bar{'s' if count > 1 else ''} out of order)"
        )


def _warn_large_moves(
    panels: dict[str, np.ndarray], days: np.ndarray, names: tuple[str, ...], factor: float, prefix: str
) -> None:
    """Warn (:class:`DataWarning`) about close-to-close moves, and ranges within a bar, beyond ``factor``."""
    close = panels["close"]
    with np.errstate(divide="ignore", invalid="ignore"):
        step = close[1:] / close[:-1]
    jumps = np.zeros(close.shape, dtype=bool)
    jumps[1:] = (step > factor) | (step * factor < 1.0)  # NaN compares False: gaps are not moves
    prices = [panels[name] for name in PRICE_FIELDS if name in panels]
    wide_bars = np.zeros(close.shape, dtype=bool)
    if len(prices) > 1:
        top, bottom = prices[0].copy(), prices[0].copy()
        for values in prices[1:]:
            np.fmax(top, values, out=top)  # fmax/fmin skip NaN
            np.fmin(bottom, values, out=bottom)
        wide_bars = top > bottom * factor
    flagged = jumps | wide_bars
    if not flagged.any():
        return
    count = int(flagged.sum())
    listed = []
    for row, column in np.argwhere(flagged)[:3]:
        moves = []
        if jumps[row, column]:
            moves.append(f"close {close[row - 1, column]} -> {close[row, column]} from the previous bar")
        if wide_bars[row, column]:
            bar = {name: panels[name][row, column] for name in PRICE_FIELDS if name in panels}
            bar = {name: value for name, value in bar.items() if not math.isnan(value)}
            high, low = max(bar, key=bar.__getitem__), min(bar, key=bar.__getitem__)
            moves.append(f"{low} {bar[low]} and {high} {bar[high]} in the same bar")
        listed.append(f"ticker '{names[column]}' on {days[row]} ({'; '.join(moves)})")
    more = f", and {count - len(listed)} more" if count > len(listed) else ""
    warnings.warn(
        f"{prefix}{count} one-day price move{'s' if count > 1 else ''} beyond max_daily_move={factor:g} (a price "
        f"more than {factor:g}x, or less than 1/{factor:g}, of the previous close or of another price of the "
        f"bar): {', '.join(listed)}{more}; check for a missing split adjustment or a corrupt value, or set "
        "max_daily_move higher (null turns the check off)",
        DataWarning,
        stacklevel=3,
    )


def _resolve_missing(
    panels: dict[str, np.ndarray],
    days: np.ndarray,
    names: tuple[str, ...],
    missing: str,
    ffill_limit: int | None,
    prefix: str,
) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    close = panels["close"]
    has_close = ~np.isnan(close)
    listed = has_close.any(axis=0)
    if not listed.all():
        unlisted = [names[j] for j in np.flatnonzero(~listed)]
        raise DataError(
            f"{prefix}ticker(s) {', '.join(unlisted)} have no close price at all; remove them (data.tickers) "
            "or fix the data"
        )
    rows = np.arange(close.shape[0])[:, None]
    first = np.argmax(has_close, axis=0)
    last = close.shape[0] - 1 - np.argmax(has_close[::-1], axis=0)
    inside = (rows >= first) & (rows <= last)  # the ticker's own span: from its first close to its last
    if not inside.all():  # before listing and after the end, no field has a value (new arrays: inputs stay)
        panels = {name: np.where(inside, values, np.nan) for name, values in panels.items()}
    absent = np.zeros(close.shape, dtype=bool)
    for values in panels.values():
        absent |= np.isnan(values)
    gaps = absent & inside
    if not gaps.any():
        return panels, names
    if missing == "error":
        raise _missing_error(panels, gaps, days, names, prefix)
    if missing == "ffill":
        return {name: _forward_fill(name, values, inside, days, names, ffill_limit, prefix)
                for name, values in panels.items()}, names  # fmt: skip
    # skip: a bar with a missing field is a bar the ticker does not trade; drop_ticker: the ticker ends there.
    blanked = gaps if missing == "skip" else _after_first_gap(gaps, inside, days, names, prefix)
    return {name: np.where(blanked, np.nan, values) for name, values in panels.items()}, names


def _missing_error(
    panels: dict[str, np.ndarray], gaps: np.ndarray, days: np.ndarray, names: tuple[str, ...], prefix: str
) -> DataError:
    row, column = divmod(int(np.argmax(gaps)), gaps.shape[1])
    fields = [name for name, values in panels.items() if np.isnan(values[row, column])]
    count = int(gaps.sum())
    return DataError(
        f"{prefix}ticker '{names[column]}' has no {'/'.join(fields)} on {days[row]}, inside its data "
        f"(first of {count} bar(s) with missing values); fix the data, or set missing='ffill' "
        "(with ffill_limit to cap the gap filled), missing='skip' (not tradable while missing) or "
        f"missing='drop_ticker' (the ticker ends at its first gap); valid policies are {', '.join(MISSING_POLICIES)}"
    )


def _forward_fill(
    name: str,
    values: np.ndarray,
    inside: np.ndarray,
    days: np.ndarray,
    names: tuple[str, ...],
    limit: int | None,
    prefix: str,
) -> np.ndarray:
    absent = np.isnan(values) & inside
    if not absent.any():
        return values
    rows = np.arange(values.shape[0])[:, None]
    last_seen = np.where(np.isnan(values), -1, rows)
    np.maximum.accumulate(last_seen, axis=0, out=last_seen)
    leading = absent & (last_seen < 0)
    if leading.any():  # a field other than close missing on the ticker's first bar
        row, column = divmod(int(np.argmax(leading)), values.shape[1])
        raise DataError(_leading_gap_message(name, np.isnan(values[:, column]), days, names[column], row, prefix))
    if limit is not None:
        too_long = absent & (rows - last_seen > limit)
        if too_long.any():
            row, column = divmod(int(np.argmax(too_long)), values.shape[1])
            gap_start = int(last_seen[row, column]) + 1
            raise DataError(
                f"{prefix}ticker '{names[column]}' has no {name} from {days[gap_start]} to at least "
                f"{days[row]}, more than ffill_limit={limit} consecutive bars; raise ffill_limit, "
                "set it to null (no limit), or use missing='skip'"
            )
    filled = np.take_along_axis(values, np.maximum(last_seen, 0), axis=0)
    return np.where(inside, filled, values)


def _leading_gap_message(name: str, absent: np.ndarray, days: np.ndarray, ticker: str, row: int, prefix: str) -> str:
    if absent.all():
        return f"{prefix}ticker '{ticker}' has no {name} at all; use missing='skip' or remove the ticker"
    first = days[int(np.argmin(absent))]
    return (
        f"{prefix}ticker '{ticker}' has no {name} on {days[row]}, its first bar with a close, and none before "
        f"{first}; forward-fill cannot fill a leading gap: use missing='skip', or start the data on {first}"
    )


def _after_first_gap(
    gaps: np.ndarray, inside: np.ndarray, days: np.ndarray, names: tuple[str, ...], prefix: str
) -> np.ndarray:
    """missing='drop_ticker': a ticker ends the bar before its first gap (causal: earlier bars keep their data)."""
    rows = np.arange(gaps.shape[0])[:, None]
    first_gap = np.where(gaps.any(axis=0), np.argmax(gaps, axis=0), gaps.shape[0])
    ended = np.flatnonzero(first_gap < gaps.shape[0])
    described = ", ".join(f"{names[j]} on {days[first_gap[j]]}" for j in ended)
    warnings.warn(
        f"{prefix}missing='drop_ticker': {len(ended)} ticker(s) end at their first missing value: {described}; "
        "a position held then is closed at the last price before it",
        DataWarning,
        stacklevel=4,
    )
    return (rows >= first_gap) & inside
