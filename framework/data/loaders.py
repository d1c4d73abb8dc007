"""Loaders: the S&P 500 sample bundled with skfolio, CSV and Parquet files, and synthetic prices.

Every loader is a component (explicit keyword arguments stored unchanged, validated with a
:class:`ConfigError`) whose ``load()`` returns a validated :class:`MarketData`. pandas is imported inside the
functions that read files so that importing this module stays cheap.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import math
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from framework.core.checks import is_int, is_number
from framework.core.component import Component
from framework.core.errors import ConfigError, DataError
from framework.core.market_data import FIELDS, MarketData
from framework.data.validation import (
    DEFAULT_MAX_DAILY_MOVE,
    build_market_data,
    check_max_daily_move,
    check_missing_policy,
    parse_dates,
    parse_iso_date,
)

if TYPE_CHECKING:
    import pandas as pd

#: Valid values of the ``layout`` parameter of the file loaders.
LAYOUTS: tuple[str, ...] = ("wide", "long")


# ---------------------------------------------------------------------------------------------- parameters


def _check_tickers_param(tickers: object) -> None:
    if tickers is None:
        return
    if isinstance(tickers, str) or not isinstance(tickers, Sequence):
        raise ConfigError(f"tickers: expected a list of ticker names such as [AAPL, MSFT] or null, got {tickers!r}")
    names = list(tickers)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ConfigError(f"tickers: expected a non-empty list of non-empty ticker names or null, got {names!r}")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"tickers: each ticker must be listed once; repeated: {', '.join(duplicates)}")


def _check_range_params(start: object, end: object) -> tuple[np.datetime64 | None, np.datetime64 | None]:
    first, last = parse_iso_date("start", start), parse_iso_date("end", end)
    if first is not None and last is not None and first > last:
        raise ConfigError(f"start: {first} is after end {last}; start must be on or before end")
    return first, last


def _check_common(
    tickers: object, start: object, end: object, missing: object, ffill_limit: object, max_daily_move: object
) -> None:
    _check_tickers_param(tickers)
    _check_range_params(start, end)
    check_missing_policy(missing, ffill_limit)
    check_max_daily_move(max_daily_move)


def _check_int(key: str, value: object, minimum: int) -> None:
    if not is_int(value) or value < minimum:
        raise ConfigError(f"{key}: must be an integer >= {minimum}, got {value!r}")


def _check_float(key: str, value: object, low: float, high: float, rule: str) -> None:
    valid = is_number(value)
    if not valid or not math.isfinite(float(value)) or not low <= float(value) <= high:  # type: ignore[arg-type]
        raise ConfigError(f"{key}: must be {rule}, got {value!r}")


# ---------------------------------------------------------------------------------------------- selection


def _ticker_columns(available: Sequence[str], wanted: Sequence[str] | None, source: str) -> np.ndarray:
    """Column positions of ``wanted`` (all columns when ``None``); absent ones are a DataError."""
    if wanted is None:
        return np.arange(len(available))
    position = {name: column for column, name in enumerate(available)}
    absent = [name for name in wanted if name not in position]
    if absent:
        raise DataError(f"{source}: ticker(s) not in the data: {', '.join(absent)}; available: {', '.join(available)}")
    return np.array([position[name] for name in wanted], dtype=np.intp)


def _date_rows(dates: np.ndarray, start: object, end: object, source: str) -> np.ndarray:
    """Boolean mask of the rows within [start, end]; fewer than 2 rows is a DataError."""
    first, last = _check_range_params(start, end)
    keep = np.ones(len(dates), dtype=bool)
    if first is not None:
        keep &= dates >= first
    if last is not None:
        keep &= dates <= last
    count = int(keep.sum())
    if count < 2:
        covers = f"{dates.min()} to {dates.max()}" if len(dates) else "no dates"
        raise DataError(
            f"{source}: start={first}, end={last} leaves {count} bar(s), at least 2 are needed; "
            f"the data covers {covers}"
        )
    return keep


# ---------------------------------------------------------------------------------------------- S&P 500


def _bundled_file(name: str) -> Path:
    # find_spec locates the package without importing it (importing skfolio costs about a second).
    spec = importlib.util.find_spec("skfolio")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"sp500: the skfolio package, which bundles {name}, is not installed (pip install skfolio)")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
    if not path.is_file():
        raise DataError(f"sp500: bundled file {path} not found; reinstall skfolio")
    return path


@functools.lru_cache(maxsize=2)
def _read_bundled(name: str) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """Dates, column names and read-only values of a bundled skfolio CSV (cached: the files never change)."""
    import pandas as pd

    frame = pd.read_csv(_bundled_file(name), index_col=0)
    dates = np.array(frame.index.to_numpy(dtype=str), dtype="datetime64[D]")
    values = frame.to_numpy(dtype=np.float64)
    dates.setflags(write=False)
    values.setflags(write=False)
    return dates, tuple(str(column) for column in frame.columns), values


class SP500Loader(Component):
    """The 20 S&P 500 stocks bundled with skfolio: daily adjusted closes, 1990-01-02 to 2022-12-28.

    The panel has ``close`` only (8313 bars x 20 tickers in full), which has no missing values.

    Args:
        tickers: Tickers to keep, in this order; ``None`` keeps all 20.
        start: First date kept (ISO ``'YYYY-MM-DD'``), ``None`` for the first available.
        end: Last date kept (ISO), ``None`` for the last available.
        missing: Missing-value policy (``error``, ``ffill``, ``skip``, ``drop_ticker``), see
            :func:`~framework.data.validation.build_market_data`.
        ffill_limit: Longest gap forward-filled with ``missing="ffill"``, ``None`` for no limit.
        max_daily_move: Factor > 1 beyond which a one-day price move is reported by a
            :class:`~framework.data.validation.DataWarning` (5: a close above 5x or below 1/5 of the previous
            one); ``None`` turns the check off.

    Raises:
        ConfigError: If a parameter is invalid (naming it).

    Example:
        >>> data = SP500Loader(tickers=["AAPL", "MSFT"], start="2022-12-01").load()
        >>> data.shape, data.tickers, str(data.dates[-1])
        ((19, 2), ('AAPL', 'MSFT'), '2022-12-28')

    """

    def __init__(
        self,
        tickers: list[str] | None = None,
        start: str | None = None,
        end: str | None = None,
        missing: str = "error",
        ffill_limit: int | None = None,
        max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE,
    ) -> None:
        self.tickers = tickers
        self.start = start
        self.end = end
        self.missing = missing
        self.ffill_limit = ffill_limit
        self.max_daily_move = max_daily_move
        _check_common(tickers, start, end, missing, ffill_limit, max_daily_move)

    def load(self) -> MarketData:
        """Read the bundled file and return the selected tickers and dates.

        Returns:
            The validated panel (close only).

        Raises:
            DataError: For tickers not in the data set (listing the available ones) or a date range leaving
                fewer than 2 bars.

        Example:
            >>> data = SP500Loader(tickers=["MSFT", "AAPL"], start="2022-12-22", end="2022-12-27").load()
            >>> [str(date) for date in data.dates], data.close.tolist()  # no bar on the 26th (a holiday)
            (['2022-12-22', '2022-12-23', '2022-12-27'], [[237.077, 131.846], [237.614, 131.477], [235.852, 129.652]])
            >>> SP500Loader(tickers=["AAPL", "XYZ"]).load()  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            framework.core.errors.DataError: sp500: ticker(s) not in the data: XYZ; available: AAPL, AMD, ...

        """
        dates, names, closes = _read_bundled("sp500_dataset.csv.gz")
        columns = _ticker_columns(names, self.tickers, "sp500")
        rows = _date_rows(dates, self.start, self.end, "sp500")
        return build_market_data(
            dates[rows],
            [names[column] for column in columns],
            {"close": closes[np.ix_(rows, columns)]},
            missing=self.missing,
            ffill_limit=self.ffill_limit,
            max_daily_move=self.max_daily_move,
            source="sp500",
        )


def load_sp500_index(start: str | None = None, end: str | None = None) -> pd.Series:
    """Load the S&P 500 index level bundled with skfolio (1990-01-02 to 2022-12-28), e.g. as a benchmark.

    Args:
        start: First date kept (ISO), ``None`` for the first available.
        end: Last date kept (ISO), ``None`` for the last available.

    Returns:
        A float Series named ``SP500`` indexed by a ``DatetimeIndex`` named ``date``.

    Raises:
        ConfigError: If ``start`` or ``end`` is not an ISO date or start is after end.
        DataError: If the range leaves fewer than 2 bars.

    Example:
        >>> index = load_sp500_index(start="2022-12-27")
        >>> index.name, index.tolist()
        ('SP500', [3829.25, 3783.22])

    """
    import pandas as pd

    dates, _, values = _read_bundled("sp500_index.csv.gz")
    rows = _date_rows(dates, start, end, "sp500 index")
    return pd.Series(values[rows, 0], index=pd.DatetimeIndex(dates[rows], name="date"), name="SP500")


# ---------------------------------------------------------------------------------------------- files


def frame_to_market_data(
    frame: pd.DataFrame,
    *,
    layout: str = "wide",
    date_column: str = "date",
    ticker_column: str = "ticker",
    field: str = "close",
    tickers: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    missing: str = "error",
    ffill_limit: int | None = None,
    max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE,
    source: str = "frame",
) -> MarketData:
    """Turn a table of prices into a validated :class:`MarketData` (shared by the file loaders).

    Column names are matched case-insensitively. In the ``wide`` layout the table has ``date_column`` and
    one column per ticker holding ``field``; rows stay in file order, so unsorted or repeated dates are
    reported. In the ``long`` layout each row holds ``date_column``, ``ticker_column`` and any of open, high,
    low, close, volume (close required, other columns ignored); the calendar is the sorted union of the dates
    of the tickers kept, tickers are sorted by name, and a bar absent for a ticker is a missing value.

    Dates are read by :func:`~framework.data.validation.parse_dates`: the calendar date as written, in the
    file's local time (``2024-01-02 00:00:00+09:00`` is 2024-01-02; a timezone-aware datetime column gives its
    local dates), never shifted to UTC. Errors name rows by the table's index: in a file read by a loader, the
    position among the data rows, counted from 0 (the header is not a row).

    Args:
        frame: The table as read from the file.
        layout: ``wide`` or ``long``.
        date_column: Name of the column of ISO dates.
        ticker_column: Name of the ticker column (long layout).
        field: The field the ticker columns hold (wide layout); must be ``close`` since close is required.
        tickers: Tickers to keep, in this order; ``None`` keeps all (wide: in file order; long: sorted).
        start: First date kept (ISO), ``None`` for no bound.
        end: Last date kept (ISO), ``None`` for no bound.
        missing: Missing-value policy: ``error``, ``ffill``, ``skip`` or ``drop_ticker``.
        ffill_limit: Longest gap forward-filled with ``missing="ffill"``, ``None`` for no limit.
        max_daily_move: Factor > 1 beyond which a one-day price move is a warning, ``None`` for no check.
        source: Name of the source (the file path) prefixing error messages.

    Returns:
        The validated panel.

    Raises:
        ConfigError: For an invalid parameter.
        DataError: For a missing column (listing the columns present); a value that is not a number or a date;
            dates with different UTC offsets; in the wide layout, a column without a name or not holding
            numbers (true/false or text); in the long layout, a row without a ticker, a field column not
            holding numbers or a repeated (date, ticker) row; absent tickers; or any failure of
            :func:`~framework.data.validation.build_market_data`.

    Example:
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"Date": ["2024-01-02", "2024-01-03", "2024-01-02"],
        ...                       "Ticker": ["AAA", "AAA", "BBB"], "Close": [10.0, 11.0, 20.0]})
        >>> frame_to_market_data(frame, layout="long").close.tolist()  # BBB's data ends on the first day
        [[10.0, 20.0], [11.0, nan]]
        >>> frame_to_market_data(frame, layout="long", tickers=["AAA"]).close.ravel().tolist()
        [10.0, 11.0]

    """
    _check_file_params(layout, date_column, ticker_column, field)
    _check_common(tickers, start, end, missing, ffill_limit, max_daily_move)
    date_name = _require_column(frame, date_column, source)
    if layout == "wide":
        dates, names, fields = _wide_panel(frame, date_name, source)
    else:
        dates, names, fields = _long_panel(
            frame, date_name, _require_column(frame, ticker_column, source), tickers, source
        )
    selected = _ticker_columns(names, tickers, source)
    rows = _date_rows(dates, start, end, source)
    return build_market_data(
        dates[rows],
        [names[column] for column in selected],
        {name: values[np.ix_(rows, selected)] for name, values in fields.items()},
        missing=missing,
        ffill_limit=ffill_limit,
        max_daily_move=max_daily_move,
        source=source,
    )


def _check_file_params(layout: object, date_column: object, ticker_column: object, field: object) -> None:
    if layout not in LAYOUTS:
        raise ConfigError(f"layout: unknown layout {layout!r}; valid layouts are {', '.join(LAYOUTS)}")
    for key, value in (("date_column", date_column), ("ticker_column", ticker_column)):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key}: must be a non-empty column name, got {value!r}")
    if field not in FIELDS:
        raise ConfigError(f"field: unknown field {field!r}; fields are {', '.join(FIELDS)}")
    if layout == "wide" and field != "close":
        raise ConfigError(
            f"field: a wide file holds one field and close prices are required, so field must be 'close', "
            f"got {field!r}; use layout='long' for files with open/high/low/volume"
        )


def _find_column(frame: pd.DataFrame, name: str, source: str) -> object | None:
    """Find the label of the column called ``name`` whatever its case (``None`` if absent)."""
    matches = [label for label in frame.columns if str(label).lower() == name.lower()]
    if len(matches) > 1:
        raise DataError(f"{source}: columns {', '.join(map(repr, matches))} all match '{name}'; keep one")
    return matches[0] if matches else None


def _require_column(frame: pd.DataFrame, name: str, source: str) -> object:
    label = _find_column(frame, name, source)
    if label is None:
        present = ", ".join(str(label) for label in frame.columns) or "none"
        raise DataError(f"{source}: required column '{name}' is absent; columns present: {present}")
    return label


def _frame_dates(series: pd.Series, source: str) -> np.ndarray:
    """The calendar days of a date column, as written in its local time (see :func:`parse_dates`)."""
    import pandas as pd

    column = str(series.name)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_localize(None)  # the local wall time, not UTC
    if pd.api.types.is_datetime64_dtype(series):
        return parse_dates(series.to_numpy(), source=source, column=column, rows=series.index)
    # Parse each distinct value once (a long file repeats every date once per ticker). factorize keeps the
    # order of first appearance, so the first bad value found is the first bad row of the file.
    codes, uniques = pd.factorize(series)
    if (codes < 0).any():  # an empty cell: let the row-by-row reading name the first faulty row
        return parse_dates(series.to_numpy(dtype=object), source=source, column=column, rows=series.index)
    first_rows = np.unique(codes, return_index=True)[1]
    days = parse_dates(np.asarray(uniques, dtype=object), source=source, column=column, rows=series.index[first_rows])
    return days[codes]


def _numeric(series: pd.Series, source: str, describe: Callable[[int], str], holds: str) -> np.ndarray:
    """Convert a column to float64.

    A true/false column, or one without a single number, is a DataError naming the column and saying what it
    ``holds``; a non-numeric cell among numbers is a DataError described by ``describe(row)``.
    """
    import pandas as pd

    if pd.api.types.is_bool_dtype(series) or (
        series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) == "boolean"
    ):
        raise DataError(f"{source}: column '{series.name}' holds true/false values, not numbers; {holds}")
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    coerced = pd.to_numeric(series, errors="coerce")
    bad = (coerced.isna() & series.notna()).to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        if coerced.isna().all():
            raise DataError(
                f"{source}: column '{series.name}' is not numeric (row {series.index[row]} holds "
                f"{series.iloc[row]!r}); {holds}"
            )
        raise DataError(f"{source}: {describe(row)}: {series.iloc[row]!r} is not a number")
    return coerced.to_numpy(dtype=np.float64, na_value=np.nan)


# What pandas calls a column whose header cell is empty.
_UNNAMED = re.compile(r"Unnamed: \d+(?:_level_\d+)?")


def _wide_panel(
    frame: pd.DataFrame, date_name: object, source: str
) -> tuple[np.ndarray, tuple[str, ...], dict[str, np.ndarray]]:
    holds = (
        f"in the wide layout every column but '{date_name}' holds the close prices of the ticker it is named "
        "after: remove the column, or use layout='long', which ignores other columns"
    )
    positions = [j for j, label in enumerate(frame.columns) if label != date_name]
    for position in positions:
        label = frame.columns[position]
        if label is None or not str(label).strip() or _UNNAMED.fullmatch(str(label)):
            read_as = f" (read as '{label}')" if label is not None and str(label).strip() else ""
            index = " (DataFrame.to_csv writes its index as such a column unless index=False)" if position == 0 else ""
            raise DataError(f"{source}: column {position + 1} has no name in the header{read_as}; {holds}{index}")
    dates = _frame_dates(frame[date_name], source)
    names = tuple(str(frame.columns[j]) for j in positions)
    closes = np.empty((len(dates), len(names)))
    for column, (position, name) in enumerate(zip(positions, names, strict=True)):
        where = functools.partial(_describe_cell, dates, np.full(len(dates), name), "close")
        closes[:, column] = _numeric(frame.iloc[:, position], source, where, holds)
    return dates, names, {"close": closes}


def _describe_cell(dates: np.ndarray, tickers: np.ndarray, field: str, row: int) -> str:
    """Name the ticker, date and field of a row, for errors about a cell."""
    return f"ticker '{tickers[row]}' on {dates[row]}, {field}"


def _long_panel(
    frame: pd.DataFrame, date_name: object, ticker_name: object, wanted: Sequence[str] | None, source: str
) -> tuple[np.ndarray, tuple[str, ...], dict[str, np.ndarray]]:
    value_columns = {name: _find_column(frame, name, source) for name in FIELDS}
    if value_columns["close"] is None:
        _require_column(frame, "close", source)
    frame = _long_rows(frame, ticker_name, wanted, source)
    labels, ticker_codes = np.unique(frame[ticker_name].to_numpy(dtype=str), return_inverse=True)
    names = tuple(str(name) for name in labels)
    dates = _frame_dates(frame[date_name], source)
    days, day_codes = np.unique(dates, return_inverse=True)
    _check_unique_rows(day_codes, ticker_codes, days, names, frame.index, source)
    fields: dict[str, np.ndarray] = {}
    for name, label in value_columns.items():
        if label is None:
            continue
        panel = np.full((len(days), len(names)), np.nan)
        where = functools.partial(_describe_cell, dates, labels[ticker_codes], name)
        holds = f"in the long layout column '{label}' holds the {name} of each row"
        panel[day_codes, ticker_codes] = _numeric(frame[label], source, where, holds)
        fields[name] = panel
    return days, names, fields


def _long_rows(frame: pd.DataFrame, ticker_name: object, wanted: Sequence[str] | None, source: str) -> pd.DataFrame:
    """Rows with a ticker, keeping only ``wanted`` ones (so their dates alone make the calendar)."""
    import pandas as pd

    codes, uniques = pd.factorize(frame[ticker_name])  # an empty cell has code -1
    blank = [code for code, name in enumerate(uniques) if not str(name).strip()]
    unnamed = (codes < 0) | np.isin(codes, blank)
    if unnamed.any():
        raise DataError(
            f"{source}: row {frame.index[int(np.argmax(unnamed))]} has no ticker in column '{ticker_name}'; "
            "every row needs a ticker name"
        )
    if wanted is None:
        return frame
    labels = frame[ticker_name].astype(str)
    _ticker_columns(list(dict.fromkeys(labels.tolist())), wanted, source)
    return frame[labels.isin(list(wanted)).to_numpy()]


def _check_unique_rows(
    day_codes: np.ndarray,
    ticker_codes: np.ndarray,
    days: np.ndarray,
    names: tuple[str, ...],
    index: pd.Index,
    source: str,
) -> None:
    keys = day_codes.astype(np.int64) * len(names) + ticker_codes
    order = np.argsort(keys, kind="stable")
    repeated = keys[order][1:] == keys[order][:-1]
    if repeated.any():
        pair = int(np.argmax(repeated))
        first, second = order[pair], order[pair + 1]
        raise DataError(
            f"{source}: ticker '{names[ticker_codes[first]]}' has two rows for {days[day_codes[first]]} "
            f"(rows {index[first]} and {index[second]}); each (date, ticker) pair must appear once"
        )


class _FileLoader(Component):
    """Shared parameters and ``load`` of :class:`CSVLoader` and :class:`ParquetLoader`."""

    #: Suffix of the files the loader reads, to suggest some when ``path`` is a directory.
    _suffix = ""

    def __init__(
        self,
        path: str,
        layout: str = "wide",
        date_column: str = "date",
        ticker_column: str = "ticker",
        field: str = "close",
        tickers: list[str] | None = None,
        start: str | None = None,
        end: str | None = None,
        missing: str = "error",
        ffill_limit: int | None = None,
        max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE,
    ) -> None:
        self.path = path
        self.layout = layout
        self.date_column = date_column
        self.ticker_column = ticker_column
        self.field = field
        self.tickers = tickers
        self.start = start
        self.end = end
        self.missing = missing
        self.ffill_limit = ffill_limit
        self.max_daily_move = max_daily_move
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise ConfigError(f"path: must be the path of a file, got {path!r}")
        _check_file_params(layout, date_column, ticker_column, field)
        _check_common(tickers, start, end, missing, ffill_limit, max_daily_move)

    def load(self) -> MarketData:
        """Read the file and return the selected tickers and dates.

        Returns:
            The validated panel.

        Raises:
            DataError: If the file is missing, a directory or unreadable (naming the path), or its content is
                invalid (see :func:`frame_to_market_data`).

        Warns:
            DataWarning: For one-day price moves beyond ``max_daily_move``.

        """
        path = Path(self.path).expanduser()
        if path.is_dir():
            raise DataError(
                f"{self.path}: is a directory, but the path (data.path) must name a file; {self._describe_folder(path)}"
            )
        if not path.is_file():
            raise DataError(f"{self.path}: file not found (looked for {path.resolve()})")
        try:
            frame = self._read(path)
        except (OSError, ValueError) as error:
            raise DataError(f"{self.path}: cannot read the file: {error}") from None
        return frame_to_market_data(
            frame,
            layout=self.layout,
            date_column=self.date_column,
            ticker_column=self.ticker_column,
            field=self.field,
            tickers=self.tickers,
            start=self.start,
            end=self.end,
            missing=self.missing,
            ffill_limit=self.ffill_limit,
            max_daily_move=self.max_daily_move,
            source=str(self.path),
        )

    def _describe_folder(self, folder: Path) -> str:
        """Name a few files of the loader's kind in ``folder``, to help pick one."""
        candidates = sorted(entry.name for entry in folder.glob(f"*{self._suffix}") if entry.is_file())
        if not candidates:
            return f"it holds no {self._suffix} file"
        shown = ", ".join(candidates[:5]) + (f" and {len(candidates) - 5} more" if len(candidates) > 5 else "")
        return f"{self._suffix} files in it: {shown}"

    def _read(self, path: Path) -> pd.DataFrame:
        raise NotImplementedError


class CSVLoader(_FileLoader):
    r"""Prices from a CSV file, in the wide or long layout (see :func:`frame_to_market_data`).

    Args:
        path: Path of the file (relative to the working directory, ``~`` expanded).
        layout: ``wide`` (a date column plus one close column per ticker) or ``long`` (rows of date, ticker
            and any of open, high, low, close, volume).
        date_column: Name of the date column (case-insensitive): ISO dates, possibly with a time and a UTC
            offset, of which the calendar date as written is kept (``2024-01-02 00:00:00+09:00`` is 2024-01-02).
        ticker_column: Name of the ticker column in the long layout (case-insensitive).
        field: Field held by the ticker columns in the wide layout; must be ``close``.
        tickers: Tickers to keep, in this order; ``None`` keeps all.
        start: First date kept (ISO), ``None`` for no bound.
        end: Last date kept (ISO), ``None`` for no bound.
        missing: Missing-value policy: ``error``, ``ffill``, ``skip`` or ``drop_ticker``.
        ffill_limit: Longest gap forward-filled with ``missing="ffill"``, ``None`` for no limit.
        max_daily_move: Factor > 1 beyond which a one-day price move is reported by a
            :class:`~framework.data.validation.DataWarning` (5: a close above 5x or below 1/5 of the previous
            one, or a bar whose high is above 5x its low); ``None`` turns the check off.

    Raises:
        ConfigError: If a parameter is invalid (naming it).

    Example:
        >>> import tempfile, pathlib
        >>> folder = tempfile.TemporaryDirectory()
        >>> file = pathlib.Path(folder.name) / "prices.csv"
        >>> _ = file.write_text("Date,AAA,BBB\n2024-01-02,10,20\n2024-01-03,11,21\n")
        >>> CSVLoader(path=str(file)).load().close.tolist()
        [[10.0, 20.0], [11.0, 21.0]]
        >>> folder.cleanup()

    """

    _suffix = ".csv"

    def _read(self, path: Path) -> pd.DataFrame:
        import pandas as pd

        _check_unique_header(path)
        return pd.read_csv(path)


def _check_unique_header(path: Path) -> None:
    """Reject repeated column names, which pandas would silently rename (``AAA``, ``AAA.1``)."""
    with path.open(newline="", encoding="utf-8") as file:
        header = next(csv.reader(file), [])
    seen: set[str] = set()
    for name in header:
        if not name.strip():  # pandas names it 'Unnamed: N'; the wide layout reports it
            continue
        if name in seen:
            raise DataError(f"{path}: column '{name}' appears twice in the header; tickers must be unique")
        seen.add(name)


class ParquetLoader(_FileLoader):
    """Prices from a Parquet file, with the parameters and behaviour of :class:`CSVLoader`.

    Args:
        path: Path of the file (relative to the working directory, ``~`` expanded).
        layout: ``wide`` or ``long``, see :class:`CSVLoader`.
        date_column: Name of the date column (case-insensitive): dates, datetimes (timezone-aware ones give
            their local date) or ISO strings as in :class:`CSVLoader`.
        ticker_column: Name of the ticker column in the long layout (case-insensitive).
        field: Field held by the ticker columns in the wide layout; must be ``close``.
        tickers: Tickers to keep, in this order; ``None`` keeps all.
        start: First date kept (ISO), ``None`` for no bound.
        end: Last date kept (ISO), ``None`` for no bound.
        missing: Missing-value policy: ``error``, ``ffill``, ``skip`` or ``drop_ticker``.
        ffill_limit: Longest gap forward-filled with ``missing="ffill"``, ``None`` for no limit.
        max_daily_move: Factor > 1 beyond which a one-day price move is a warning, see :class:`CSVLoader`.

    Raises:
        ConfigError: If a parameter is invalid (naming it).

    Example:
        >>> import tempfile, pathlib, pandas as pd
        >>> folder = tempfile.TemporaryDirectory()
        >>> file = pathlib.Path(folder.name) / "prices.parquet"
        >>> pd.DataFrame({"date": pd.to_datetime(["2024-01-02", "2024-01-03"]), "ticker": ["AAA", "AAA"],
        ...               "close": [10.0, 11.0], "volume": [5.0, 6.0]}).to_parquet(file)
        >>> data = ParquetLoader(path=str(file), layout="long").load()
        >>> data.tickers, data.volume.ravel().tolist()
        (('AAA',), [5.0, 6.0])
        >>> folder.cleanup()

    """

    _suffix = ".parquet"

    def _read(self, path: Path) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(path)


# ---------------------------------------------------------------------------------------------- synthetic


class SyntheticLoader(Component):
    """Seeded synthetic OHLCV prices: correlated geometric Brownian motions on business days.

    Daily log returns are ``(drift - volatility**2 / 2) / 252 + volatility / sqrt(252) * shock`` where each
    ticker's shock is ``sqrt(correlation) * market + sqrt(1 - correlation) * own`` (one-factor model, so
    every pair of tickers has correlation ``correlation``). Opens sit near the previous close, highs and lows
    bracket open and close, volumes are positive. Tickers are ``T000``, ``T001``... (at least 3 digits, more
    when ``n_tickers`` needs them). The same parameters give identical data.

    Args:
        n_tickers: Number of tickers, >= 1.
        n_days: Number of bars, >= 2.
        seed: Seed of ``numpy.random.default_rng``, >= 0.
        start: First business day (ISO); a weekend rolls forward to Monday.
        correlation: Pairwise correlation of daily returns, in [0, 1].
        annual_drift: GBM drift ``mu``: the expected price grows by ``exp(annual_drift)`` a year.
        annual_volatility: Annual volatility, > 0.
        max_daily_move: Factor > 1 beyond which a one-day price move is reported by a
            :class:`~framework.data.validation.DataWarning`, as for the file loaders (only a very high
            ``annual_volatility`` reaches 5); ``None`` turns the check off.

    Raises:
        ConfigError: If a parameter is invalid (naming it).

    Example:
        >>> data = SyntheticLoader(n_tickers=3, n_days=5, seed=1).load()
        >>> data.shape, data.tickers, str(data.dates[0]), str(data.dates[-1])
        ((5, 3), ('T000', 'T001', 'T002'), '2000-01-03', '2000-01-07')
        >>> bool((data.high >= data.close).all() and (data.low <= data.open).all())
        True

    """

    def __init__(
        self,
        n_tickers: int = 20,
        n_days: int = 2520,
        seed: int = 0,
        start: str = "2000-01-03",
        correlation: float = 0.3,
        annual_drift: float = 0.06,
        annual_volatility: float = 0.25,
        max_daily_move: float | None = DEFAULT_MAX_DAILY_MOVE,
    ) -> None:
        self.n_tickers = n_tickers
        self.n_days = n_days
        self.seed = seed
        self.start = start
        self.correlation = correlation
        self.annual_drift = annual_drift
        self.annual_volatility = annual_volatility
        self.max_daily_move = max_daily_move
        _check_int("n_tickers", n_tickers, 1)
        _check_int("n_days", n_days, 2)
        _check_int("seed", seed, 0)
        if start is None:
            raise ConfigError("start: expected an ISO date 'YYYY-MM-DD' such as '2000-01-03', got None")
        parse_iso_date("start", start)
        _check_float("correlation", correlation, 0.0, 1.0, "a number in [0, 1]")
        _check_float("annual_drift", annual_drift, -10.0, 10.0, "a number in [-10, 10] (0.06 is 6% a year)")
        _check_float("annual_volatility", annual_volatility, 1e-12, 10.0, "a number in (0, 10] (0.25 is 25%)")
        check_max_daily_move(max_daily_move)

    def load(self) -> MarketData:
        """Generate the panel.

        Returns:
            The validated OHLCV panel of shape (n_days, n_tickers).

        Example:
            >>> loader = SyntheticLoader(n_tickers=2, n_days=3, seed=7, start="2024-01-06")
            >>> data = loader.load()
            >>> [str(date) for date in data.dates]  # a Saturday start rolls to Monday
            ['2024-01-08', '2024-01-09', '2024-01-10']
            >>> data.fingerprint() == loader.load().fingerprint()  # the same seed, the same prices
            True

        """
        rng = np.random.default_rng(self.seed)
        days, count = int(self.n_days), int(self.n_tickers)
        daily_vol = float(self.annual_volatility) / math.sqrt(252.0)
        close = self._closes(rng, days, count)
        # Work in place on freshly drawn arrays: at 500 x 2520 every temporary costs ~10 ms.
        open_ = _exp_noise(rng, (days, count), 0.2 * daily_vol)
        open_[1:] *= close[:-1]
        open_[0] *= close[0]
        high = _exp_noise(rng, (days, count), 0.5 * daily_vol, exponential=True)
        high *= np.maximum(open_, close)
        low = _exp_noise(rng, (days, count), -0.5 * daily_vol, exponential=True)
        low *= np.minimum(open_, close)
        volume = _exp_noise(rng, (days, count), 0.3)
        volume *= rng.lognormal(13.0, 1.0, count)
        np.rint(volume, out=volume)
        volume += 1.0
        width = max(3, len(str(count - 1)))
        first = parse_iso_date("start", self.start)
        if first is None:
            raise ConfigError("start: expected an ISO date 'YYYY-MM-DD' such as '2000-01-03', got None")
        dates = np.busday_offset(first, np.arange(days), roll="forward")
        return build_market_data(
            dates,
            [f"T{j:0{width}d}" for j in range(count)],
            {"open": open_, "high": high, "low": low, "close": close, "volume": volume},
            max_daily_move=self.max_daily_move,
            source="synthetic",
            copy=False,
        )

    def _closes(self, rng: np.random.Generator, days: int, count: int) -> np.ndarray:
        rho, sigma = float(self.correlation), float(self.annual_volatility)
        log_prices = np.empty((days, count))
        log_prices[0] = np.log(rng.uniform(20.0, 200.0, count))
        shocks = log_prices[1:]
        rng.standard_normal(out=shocks)
        shocks *= math.sqrt(1.0 - rho) * sigma / math.sqrt(252.0)
        shocks += math.sqrt(rho) * sigma / math.sqrt(252.0) * rng.standard_normal((days - 1, 1))
        shocks += (float(self.annual_drift) - 0.5 * sigma**2) / 252.0
        np.cumsum(log_prices, axis=0, out=log_prices)
        return np.exp(log_prices, out=log_prices)


def _exp_noise(
    rng: np.random.Generator, shape: tuple[int, int], scale: float, *, exponential: bool = False
) -> np.ndarray:
    """Draw ``exp(scale * z)`` with z standard normal (or standard exponential), computed in place."""
    noise = rng.standard_exponential(shape) if exponential else rng.standard_normal(shape)
    noise *= scale
    return np.exp(noise, out=noise)
