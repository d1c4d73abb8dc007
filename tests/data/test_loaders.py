import csv
import datetime
import gzip
import importlib.util
import re
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from framework.core.errors import ConfigError, DataError
from framework.core.market_data import MarketData
from framework.data import (
    CSVLoader,
    DataWarning,
    ParquetLoader,
    SP500Loader,
    SyntheticLoader,
    frame_to_market_data,
    load_sp500_index,
)

CONF = Path(__file__).resolve().parents[2] / "conf"
SP500_TICKERS = "AAPL AMD BAC BBY CVX GE HD JNJ JPM KO LLY MRK MSFT PEP PFE PG RRC UNH WMT XOM".split()


def read_bundled_with_stdlib(name: str) -> tuple[list[str], list[str], np.ndarray]:
    """Independent reading of a bundled skfolio file (gzip + csv, no pandas)."""
    folder = Path(importlib.util.find_spec("skfolio").submodule_search_locations[0]) / "datasets" / "data"
    with gzip.open(folder / name, "rt", newline="") as file:
        rows = list(csv.reader(file))
    return (
        rows[0][1:],
        [row[0] for row in rows[1:]],
        np.array([[float(v) for v in row[1:]] for row in rows[1:]]),
    )


@pytest.fixture(scope="module")
def sp500() -> MarketData:
    return SP500Loader().load()


@pytest.fixture(scope="module")
def synthetic() -> MarketData:
    return SyntheticLoader(n_tickers=4, n_days=30, seed=7).load()


class TestSP500Loader:
    def test_full_panel_shape_dates_and_no_missing_values(self, sp500: MarketData) -> None:
        assert sp500.shape == (8313, 20)
        assert str(sp500.dates[0]) == "1990-01-02"
        assert str(sp500.dates[-1]) == "2022-12-28"
        assert not np.isnan(sp500.close).any()
        assert sp500.tickers == tuple(SP500_TICKERS)
        assert [sp500.has(name) for name in ("open", "high", "low", "volume")] == [False] * 4

    def test_matches_an_independent_reading_of_the_file(self, sp500: MarketData) -> None:
        tickers, dates, values = read_bundled_with_stdlib("sp500_dataset.csv.gz")
        assert list(sp500.tickers) == tickers
        np.testing.assert_array_equal(sp500.dates, np.array(dates, dtype="datetime64[D]"))
        np.testing.assert_array_equal(sp500.close, values)
        assert sp500.close[0, 0] == 0.264  # AAPL on 1990-01-02
        assert sp500.close[-1, -1] == 106.627  # XOM on 2022-12-28

    def test_selects_tickers_in_the_order_asked_and_a_date_range(self, sp500: MarketData) -> None:
        data = SP500Loader(tickers=["MSFT", "AAPL"], start="2022-12-01", end="2022-12-09").load()
        assert data.tickers == ("MSFT", "AAPL")
        assert [str(d) for d in data.dates] == [
            "2022-12-01", "2022-12-02", "2022-12-05", "2022-12-06", "2022-12-07", "2022-12-08", "2022-12-09",
        ]  # fmt: skip
        rows = (sp500.dates >= np.datetime64("2022-12-01")) & (sp500.dates <= np.datetime64("2022-12-09"))
        np.testing.assert_array_equal(data.close, sp500.close[rows][:, [12, 0]])

    def test_absent_tickers_list_the_available_ones(self) -> None:
        with pytest.raises(DataError, match=r"^sp500: ticker\(s\) not in the data: TSLA, NVDA; available: AAPL, AMD"):
            SP500Loader(tickers=["AAPL", "TSLA", "NVDA"]).load()

    @pytest.mark.parametrize(("start", "end"), [("2022-12-28", None), ("2023-01-02", None), (None, "1990-01-02")])
    def test_range_with_fewer_than_two_bars(self, start: str | None, end: str | None) -> None:
        with pytest.raises(DataError, match=r"leaves [01] bar\(s\).*the data covers 1990-01-02 to 2022-12-28"):
            SP500Loader(start=start, end=end).load()

    @pytest.mark.parametrize(
        ("kwargs", "key"),
        [
            ({"start": "2020/01/01"}, "start"),
            ({"end": "yesterday"}, "end"),
            ({"start": "2021-01-01", "end": "2020-01-01"}, "start"),
            ({"tickers": "AAPL"}, "tickers"),
            ({"tickers": []}, "tickers"),
            ({"tickers": ["AAPL", "AAPL"]}, "tickers"),
            ({"missing": "suspend"}, "missing"),
            ({"ffill_limit": 0}, "ffill_limit"),
            ({"max_daily_move": 1}, "max_daily_move"),
            ({"max_daily_move": "5"}, "max_daily_move"),
        ],
    )
    def test_invalid_parameters_name_the_key(self, kwargs: dict, key: str) -> None:
        with pytest.raises(ConfigError, match=rf"^{key}: "):
            SP500Loader(**kwargs)

    def test_the_bundled_data_has_no_move_beyond_the_default_factor(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            SP500Loader().load()
        with pytest.warns(DataWarning, match=r"^sp500: \d+ one-day price moves beyond max_daily_move=1.2 "):
            SP500Loader(tickers=["AMD"], max_daily_move=1.2).load()

    def test_parameters_are_stored_unchanged(self) -> None:
        params = {
            "tickers": ["KO"], "start": "2000-01-03", "end": None, "missing": "ffill", "ffill_limit": 3,
            "max_daily_move": 10,
        }  # fmt: skip
        assert SP500Loader(**params).get_params() == params


class TestLoadSP500Index:
    def test_full_series(self) -> None:
        index = load_sp500_index()
        _, dates, values = read_bundled_with_stdlib("sp500_index.csv.gz")
        assert index.name == "SP500"
        assert len(index) == 8313
        assert isinstance(index.index, pd.DatetimeIndex)
        assert index.index[0] == pd.Timestamp("1990-01-02")
        np.testing.assert_array_equal(index.to_numpy(), values[:, 0])
        assert index.iloc[0] == 359.69

    def test_range(self) -> None:
        index = load_sp500_index(start="2022-12-23", end="2022-12-27")
        assert index.tolist() == [3844.82, 3829.25]

    def test_bad_range(self) -> None:
        with pytest.raises(ConfigError, match=r"^end: expected an ISO date"):
            load_sp500_index(end="2022")
        with pytest.raises(DataError, match=r"leaves 0 bar"):
            load_sp500_index(start="2030-01-01")

    def test_dates_given_as_datetimes_are_printed_as_days(self) -> None:
        with pytest.raises(DataError, match=r"^sp500 index: start=2030-01-01, end=None leaves 0 bar"):
            load_sp500_index(start=datetime.datetime(2030, 1, 1, 9, 30))  # type: ignore[arg-type]


class TestSyntheticLoader:
    def test_same_seed_gives_identical_data_and_another_seed_differs(self) -> None:
        first = SyntheticLoader(n_tickers=5, n_days=50, seed=3).load()
        second = SyntheticLoader(n_tickers=5, n_days=50, seed=3).load()
        other = SyntheticLoader(n_tickers=5, n_days=50, seed=4).load()
        assert first.fingerprint() == second.fingerprint()
        for name in ("open", "high", "low", "close", "volume"):
            np.testing.assert_array_equal(first.field(name), second.field(name))
        assert not np.allclose(first.close, other.close)

    def test_shape_tickers_and_business_days(self) -> None:
        data = SyntheticLoader(n_tickers=12, n_days=10, start="2024-03-01").load()
        assert data.shape == (10, 12)
        assert data.tickers[:2] == ("T000", "T001") and data.tickers[-1] == "T011"
        assert [str(d) for d in data.dates[:3]] == ["2024-03-01", "2024-03-04", "2024-03-05"]
        assert str(data.dates[-1]) == "2024-03-14"
        assert np.is_busday(data.dates).all()

    def test_weekend_start_rolls_forward_and_wide_ticker_names(self) -> None:
        data = SyntheticLoader(n_tickers=1001, n_days=2, start="2024-03-02").load()
        assert str(data.dates[0]) == "2024-03-04"
        assert data.tickers[0] == "T0000" and data.tickers[-1] == "T1000"

    def test_ohlcv_is_consistent(self) -> None:
        data = SyntheticLoader(n_tickers=30, n_days=500, seed=11).load()
        assert (data.high >= np.maximum(data.open, data.close)).all()
        assert (data.low <= np.minimum(data.open, data.close)).all()
        assert (data.low > 0).all() and (data.volume > 0).all()
        gap = np.abs(np.log(data.open[1:] / data.close[:-1]))  # open near the previous close
        assert np.median(gap) < 0.005

    def test_returns_have_the_asked_correlation_and_volatility(self) -> None:
        data = SyntheticLoader(n_tickers=100, n_days=2520, seed=5, correlation=0.5, annual_volatility=0.2).load()
        log_returns = np.diff(np.log(data.close), axis=0)
        correlations = np.corrcoef(log_returns.T)[np.triu_indices(100, 1)]
        assert correlations.mean() == pytest.approx(0.5, abs=0.03)
        assert (log_returns.std(axis=0) * np.sqrt(252)).mean() == pytest.approx(0.2, abs=0.005)

    def test_zero_correlation(self) -> None:
        data = SyntheticLoader(n_tickers=50, n_days=2520, seed=5, correlation=0.0).load()
        correlations = np.corrcoef(np.diff(np.log(data.close), axis=0).T)[np.triu_indices(50, 1)]
        assert abs(correlations.mean()) < 0.01

    def test_500_tickers_by_2520_days_is_fast(self) -> None:
        loader = SyntheticLoader(n_tickers=500, n_days=2520)
        best = float("inf")
        for _ in range(2):
            began = time.perf_counter()
            data = loader.load()
            best = min(best, time.perf_counter() - began)
        assert data.shape == (2520, 500)
        assert best < 1.0

    @pytest.mark.parametrize(
        ("kwargs", "key"),
        [
            ({"n_tickers": 0}, "n_tickers"),
            ({"n_tickers": 2.0}, "n_tickers"),
            ({"n_days": 1}, "n_days"),
            ({"seed": -1}, "seed"),
            ({"seed": True}, "seed"),
            ({"start": "03/01/2024"}, "start"),
            ({"start": None}, "start"),
            ({"correlation": 1.2}, "correlation"),
            ({"correlation": -0.1}, "correlation"),
            ({"annual_drift": float("nan")}, "annual_drift"),
            ({"annual_volatility": 0.0}, "annual_volatility"),
            ({"annual_volatility": "high"}, "annual_volatility"),
            ({"max_daily_move": 0.5}, "max_daily_move"),
        ],
    )
    def test_invalid_parameters_name_the_key(self, kwargs: dict, key: str) -> None:
        with pytest.raises(ConfigError, match=rf"^{key}: "):
            SyntheticLoader(**kwargs)

    def test_moves_beyond_max_daily_move_warn_only_at_extreme_volatility(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            SyntheticLoader(n_tickers=50, n_days=500, seed=2).load()
            SyntheticLoader(n_tickers=50, n_days=500, seed=2, annual_volatility=10.0, max_daily_move=None).load()
        with pytest.warns(DataWarning, match=r"^synthetic: \d+ one-day price moves beyond max_daily_move=5"):
            SyntheticLoader(n_tickers=50, n_days=500, seed=2, annual_volatility=10.0).load()


def wide_frame(data: MarketData) -> pd.DataFrame:
    frame = pd.DataFrame(data.close, columns=list(data.tickers))
    frame.insert(0, "date", [str(d) for d in data.dates])
    return frame


def long_frame(data: MarketData) -> pd.DataFrame:
    days, tickers = data.shape
    frame = pd.DataFrame(
        {
            "Date": np.repeat([str(d) for d in data.dates], tickers),
            "Ticker": np.tile(data.tickers, days),
            **{name.capitalize(): data.field(name).ravel() for name in ("open", "high", "low", "close", "volume")},
            "Comment": "ignored",
        }
    )
    return frame.sample(frac=1.0, random_state=0)  # row order must not matter in the long layout


class FileLoaderContract:
    """Behaviour shared by the CSV and Parquet loaders; subclasses set the loader and file suffix."""

    loader: type
    suffix: str

    def write(self, frame: pd.DataFrame, folder: Path, name: str = "prices") -> str:
        path = folder / f"{name}.{self.suffix}"
        if self.suffix == "csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        return str(path)

    def test_wide_round_trip(self, synthetic: MarketData, tmp_path: Path) -> None:
        data = self.loader(path=self.write(wide_frame(synthetic), tmp_path)).load()
        assert data.tickers == synthetic.tickers
        np.testing.assert_array_equal(data.dates, synthetic.dates)
        np.testing.assert_array_equal(data.close, synthetic.close)
        assert not data.has("volume")

    def test_long_round_trip_with_ohlcv(self, synthetic: MarketData, tmp_path: Path) -> None:
        data = self.loader(path=self.write(long_frame(synthetic), tmp_path), layout="long").load()
        assert data.tickers == synthetic.tickers
        np.testing.assert_array_equal(data.dates, synthetic.dates)
        for name in ("open", "high", "low", "close", "volume"):
            np.testing.assert_array_equal(data.field(name), synthetic.field(name))

    def test_selection_of_tickers_and_dates(self, synthetic: MarketData, tmp_path: Path) -> None:
        path = self.write(long_frame(synthetic), tmp_path)
        start, end = str(synthetic.dates[3]), str(synthetic.dates[9])
        data = self.loader(path=path, layout="long", tickers=["T002", "T000"], start=start, end=end).load()
        assert data.tickers == ("T002", "T000")
        np.testing.assert_array_equal(data.dates, synthetic.dates[3:10])
        np.testing.assert_array_equal(data.close, synthetic.close[3:10][:, [2, 0]])

    def test_missing_file_names_the_path(self, tmp_path: Path) -> None:
        path = str(tmp_path / f"absent.{self.suffix}")
        with pytest.raises(DataError, match=rf"^{path}: file not found"):
            self.loader(path=path).load()

    def test_missing_date_column_lists_the_columns_present(self, synthetic: MarketData, tmp_path: Path) -> None:
        path = self.write(wide_frame(synthetic).rename(columns={"date": "day"}), tmp_path)
        with pytest.raises(DataError, match=r"required column 'date' is absent; columns present: day, T000, T001"):
            self.loader(path=path).load()

    def test_long_file_without_close_lists_the_columns_present(self, synthetic: MarketData, tmp_path: Path) -> None:
        path = self.write(long_frame(synthetic).drop(columns=["Close"]), tmp_path)
        with pytest.raises(DataError, match=r"required column 'close' is absent; columns present: Date, Ticker"):
            self.loader(path=path, layout="long").load()

    def test_long_file_without_ticker_column(self, synthetic: MarketData, tmp_path: Path) -> None:
        path = self.write(long_frame(synthetic).drop(columns=["Ticker"]), tmp_path)
        with pytest.raises(DataError, match=r"required column 'symbol' is absent"):
            self.loader(path=path, layout="long", ticker_column="symbol").load()

    def test_validation_errors_name_the_file_ticker_and_date(self, synthetic: MarketData, tmp_path: Path) -> None:
        frame = wide_frame(synthetic)
        frame.loc[5, "T001"] = -3.0
        path = self.write(frame, tmp_path)
        expected = f"{path}: ticker 'T001' on {synthetic.dates[5]}: close = -3.0 is invalid"
        with pytest.raises(DataError, match=f"^{expected}"):
            self.loader(path=path).load()

    def test_missing_policy_applies(self, synthetic: MarketData, tmp_path: Path) -> None:
        frame = wide_frame(synthetic)
        frame.loc[5, "T001"] = np.nan
        path = self.write(frame, tmp_path)
        with pytest.raises(DataError, match=rf"ticker 'T001' has no close on {synthetic.dates[5]}"):
            self.loader(path=path).load()
        data = self.loader(path=path, missing="ffill", ffill_limit=1).load()
        assert data.close[5, 1] == synthetic.close[4, 1]

    def test_unsorted_dates_in_a_wide_file(self, synthetic: MarketData, tmp_path: Path) -> None:
        frame = wide_frame(synthetic)
        frame = frame.iloc[[0, 2, 1, *range(3, len(frame))]]
        with pytest.raises(DataError, match=rf"dates are not sorted: {synthetic.dates[1]} \(row 2\)"):
            self.loader(path=self.write(frame, tmp_path)).load()

    def test_repeated_date_and_ticker_in_a_long_file(self, synthetic: MarketData, tmp_path: Path) -> None:
        frame = long_frame(synthetic).sort_index()
        frame = pd.concat([frame, frame.iloc[[6]]], ignore_index=True)  # row 6 is day 1, ticker T002
        expected = rf"ticker 'T002' has two rows for {synthetic.dates[1]} \(rows 6 and {len(frame) - 1}\)"
        with pytest.raises(DataError, match=expected):
            self.loader(path=self.write(frame, tmp_path), layout="long").load()

    def test_non_numeric_value(self, synthetic: MarketData, tmp_path: Path) -> None:
        frame = wide_frame(synthetic).astype({"T003": str})
        frame.loc[2, "T003"] = "twelve"
        with pytest.raises(DataError, match=rf"ticker 'T003' on {synthetic.dates[2]}, close: 'twelve' is not a number"):
            self.loader(path=self.write(frame, tmp_path)).load()

    def test_bad_date_value(self, synthetic: MarketData, tmp_path: Path) -> None:
        frame = wide_frame(synthetic)
        frame.loc[4, "date"] = "05/01/2000"
        with pytest.raises(DataError, match=r"row 4: '05/01/2000' in column 'date' is not an ISO date"):
            self.loader(path=self.write(frame, tmp_path)).load()

    @pytest.mark.parametrize("layout", ["wide", "long"])
    @pytest.mark.parametrize("time", ["00:00:00+09:00", "23:30:00-05:00", "16:00Z", "09:30"])
    def test_dates_with_a_time_and_offset_keep_the_date_as_written(
        self, synthetic: MarketData, tmp_path: Path, layout: str, time: str
    ) -> None:
        frame = wide_frame(synthetic) if layout == "wide" else long_frame(synthetic)
        column = "date" if layout == "wide" else "Date"
        frame[column] = frame[column] + " " + time
        data = self.loader(path=self.write(frame, tmp_path), layout=layout).load()
        np.testing.assert_array_equal(data.dates, synthetic.dates)
        np.testing.assert_array_equal(data.close, synthetic.close)

    def test_mixed_offsets_name_the_first_row_that_differs(self, synthetic: MarketData, tmp_path: Path) -> None:
        frame = wide_frame(synthetic)
        frame["date"] = frame["date"] + " 00:00:00+09:00"
        frame.loc[5:, "date"] = frame.loc[5:, "date"].str.replace("+09:00", "+08:00")
        expected = (
            rf"row 5: '{synthetic.dates[5]} 00:00:00\+08:00' in column 'date' has UTC offset \+08:00, but row 0 "
            rf"\('{synthetic.dates[0]} 00:00:00\+09:00'\) has \+09:00"
        )
        with pytest.raises(DataError, match=expected):
            self.loader(path=self.write(frame, tmp_path)).load()

    def test_mixed_offsets_in_a_long_file_name_the_first_row_in_file_order(
        self, synthetic: MarketData, tmp_path: Path
    ) -> None:
        frame = long_frame(synthetic).reset_index(drop=True)  # shuffled rows, numbered in file order
        frame["Date"] = frame["Date"] + "T10:00-05:00"
        frame.loc[[7, 40], "Date"] = frame.loc[[7, 40], "Date"].str.replace("-05:00", "-04:00")
        with pytest.raises(DataError, match=r"row 7: '.*T10:00-04:00' in column 'Date' has UTC offset -04:00"):
            self.loader(path=self.write(frame, tmp_path), layout="long").load()

    def test_a_directory_as_path_says_a_file_is_expected(self, synthetic: MarketData, tmp_path: Path) -> None:
        folder = tmp_path / "prices"
        folder.mkdir()
        with pytest.raises(
            DataError, match=rf"^{folder}: is a directory, but the path \(data.path\) must name a file; "
        ):
            self.loader(path=str(folder)).load()
        self.write(wide_frame(synthetic), folder, "daily")
        with pytest.raises(DataError, match=rf"is a directory, .*; \.{self.suffix} files in it: daily\.{self.suffix}$"):
            self.loader(path=str(folder)).load()

    @pytest.mark.parametrize(
        ("layout", "edit", "expected"),
        [
            ("wide", lambda f: f.assign(FLAG=[True, False] * 15), "column 'FLAG' holds true/false values, not numbers"),
            ("wide", lambda f: f.assign(Sector="tech"), "column 'Sector' is not numeric (row 0 holds 'tech')"),
            ("wide", lambda f: f.assign(**{"": 1.0}), "column 6 has no name in the header"),
            ("wide", lambda f: f.assign(T001=f["T001"] * 1e300), "ticker 'T001' on {d0}: close = "),
            ("long", lambda f: f.assign(Volume=True), "column 'Volume' holds true/false values, not numbers"),
            ("long", lambda f: f.assign(Open="unknown"), "column 'Open' is not numeric (row "),
            ("long", lambda f: f.assign(Ticker=f["Ticker"].where(f.index != 9, " ")), "row 9 has no ticker"),
            ("long", lambda f: f.assign(Ticker=f["Ticker"].where(f.index != 9, "")), "row 9 has no ticker"),
            ("long", lambda f: f.assign(High=f["Low"] * 0.99), "each bar needs low <= open, close <= high"),
            ("long", lambda f: f.assign(Close=f["Close"].where(f.index != 5, 1e13)), "close = 10000000000000.0 is "
             "invalid; prices above 1e+12 are rejected as corrupt"),
            ("long", lambda f: f.assign(Volume=f["Volume"].where(f.index != 5, -1.0)), "volume = -1.0 is invalid"),
            ("long", lambda f: f.assign(Date=f["Date"].where(f.index != 5, "2000-01-32")), "row 5: '2000-01-32' in "
             "column 'Date' is not an ISO date"),
        ],
    )  # fmt: skip
    def test_bad_files_are_data_errors_naming_the_fault(
        self,
        synthetic: MarketData,
        tmp_path: Path,
        layout: str,
        edit: Callable[[pd.DataFrame], pd.DataFrame],
        expected: str,
    ) -> None:
        frame = wide_frame(synthetic) if layout == "wide" else long_frame(synthetic).sort_index()
        path = self.write(edit(frame), tmp_path)
        with pytest.raises(DataError) as error:
            self.loader(path=path, layout=layout).load()
        message = str(error.value)
        assert message.startswith(f"{path}: ")
        assert expected.format(d0=synthetic.dates[0]) in message
        unquoted = re.sub(r"'[^']*'", "", message)  # values quoted from the file are shown as written
        assert not re.search(r"numpy|datetime64|Timestamp|\d{4}-\d{2}-\d{2}[T ]\d", unquoted)  # dates as dates

    def test_a_large_one_day_move_is_a_warning_naming_the_file_ticker_and_date(
        self, synthetic: MarketData, tmp_path: Path
    ) -> None:
        frame = wide_frame(synthetic)
        frame.loc[10:, "T002"] *= 8.0
        path = self.write(frame, tmp_path)
        expected = rf"^{path}: 1 one-day price move beyond max_daily_move=5 .*: ticker 'T002' on {synthetic.dates[10]} "
        with pytest.warns(DataWarning, match=expected):
            data = self.loader(path=path).load()
        np.testing.assert_array_equal(data.close[:, 2], frame["T002"].to_numpy())
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            self.loader(path=path, max_daily_move=10).load()
            self.loader(path=path, max_daily_move=None).load()

    @pytest.mark.parametrize(
        ("kwargs", "key"),
        [
            ({"layout": "tall"}, "layout"),
            ({"field": "price"}, "field"),
            ({"field": "open"}, "field"),
            ({"date_column": ""}, "date_column"),
            ({"path": None}, "path"),
            ({"start": "1st May"}, "start"),
            ({"missing": None}, "missing"),
            ({"max_daily_move": -5}, "max_daily_move"),
            ({"max_daily_move": True}, "max_daily_move"),
        ],
    )
    def test_invalid_parameters_name_the_key(self, kwargs: dict, key: str) -> None:
        with pytest.raises(ConfigError, match=rf"^{key}: "):
            self.loader(**{"path": "prices", **kwargs})

    def test_parameters_are_stored_unchanged(self) -> None:
        loader = self.loader(path="p", layout="long", tickers=["A"], missing="drop_ticker", max_daily_move=None)
        assert loader.get_params() == {
            "path": "p", "layout": "long", "date_column": "date", "ticker_column": "ticker", "field": "close",
            "tickers": ["A"], "start": None, "end": None, "missing": "drop_ticker", "ffill_limit": None,
            "max_daily_move": None,
        }  # fmt: skip


class TestCSVLoader(FileLoaderContract):
    loader = CSVLoader
    suffix = "csv"

    def test_repeated_ticker_column_is_named(self, tmp_path: Path) -> None:
        path = tmp_path / "prices.csv"
        path.write_text("date,AAA,BBB,AAA\n2024-01-02,1,2,3\n2024-01-03,1,2,3\n")
        with pytest.raises(DataError, match=r"column 'AAA' appears twice in the header"):
            CSVLoader(path=str(path)).load()

    def test_empty_header_cell_is_named_by_its_position(self, tmp_path: Path) -> None:
        path = tmp_path / "prices.csv"
        path.write_text("date,AAA,,BBB,\n2024-01-02,1,2,3,4\n2024-01-03,1,2,3,4\n")
        with pytest.raises(
            DataError, match=r"^\S+prices.csv: column 3 has no name in the header \(read as 'Unnamed: 2'\)"
        ):
            CSVLoader(path=str(path)).load()

    def test_index_written_by_to_csv_is_named(self, synthetic: MarketData, tmp_path: Path) -> None:
        path = tmp_path / "prices.csv"
        wide_frame(synthetic).set_index("date").reset_index().to_csv(path)  # index=True: a first, unnamed column
        with pytest.raises(DataError, match=r"column 1 has no name in the header .*unless index=False\)$"):
            CSVLoader(path=str(path)).load()

    def test_same_offset_data_loads_identically_from_csv_and_parquet(
        self, synthetic: MarketData, tmp_path: Path
    ) -> None:
        frame = wide_frame(synthetic)
        frame["date"] = pd.to_datetime(frame["date"]).dt.tz_localize("Asia/Tokyo")  # midnight in Tokyo
        frame.to_csv(tmp_path / "prices.csv", index=False)  # written as 2000-01-03 00:00:00+09:00
        frame.to_parquet(tmp_path / "prices.parquet", index=False)  # a timezone-aware timestamp column
        assert "00:00:00+09:00" in (tmp_path / "prices.csv").read_text()
        from_csv = CSVLoader(path=str(tmp_path / "prices.csv")).load()
        from_parquet = ParquetLoader(path=str(tmp_path / "prices.parquet")).load()
        np.testing.assert_array_equal(from_csv.dates, synthetic.dates)
        np.testing.assert_array_equal(from_parquet.dates, synthetic.dates)
        np.testing.assert_array_equal(from_csv.close, from_parquet.close)
        assert from_csv.fingerprint() == from_parquet.fingerprint()

    def test_garbage_file_is_a_data_error(self, tmp_path: Path) -> None:
        path = tmp_path / "prices.csv"
        path.write_bytes(b"\xff\xfe\x00garbage")
        with pytest.raises(DataError, match=rf"^{path}: "):
            CSVLoader(path=str(path)).load()


class TestParquetLoader(FileLoaderContract):
    loader = ParquetLoader
    suffix = "parquet"

    def test_datetime_column_is_read_as_days(self, synthetic: MarketData, tmp_path: Path) -> None:
        frame = wide_frame(synthetic)
        frame["date"] = pd.to_datetime(frame["date"]).dt.tz_localize("UTC")
        data = ParquetLoader(path=self.write(frame, tmp_path)).load()
        np.testing.assert_array_equal(data.dates, synthetic.dates)

    @pytest.mark.parametrize(
        ("zone", "time"), [("Asia/Tokyo", "00:30"), ("America/New_York", "23:00"), ("UTC", "23:59"), (None, "23:59")]
    )
    @pytest.mark.parametrize("layout", ["wide", "long"])
    def test_timestamp_columns_give_their_local_dates(
        self, synthetic: MarketData, tmp_path: Path, zone: str | None, time: str, layout: str
    ) -> None:
        frame = wide_frame(synthetic) if layout == "wide" else long_frame(synthetic)
        column = "date" if layout == "wide" else "Date"
        stamps = pd.to_datetime(frame[column] + " " + time)
        frame[column] = stamps if zone is None else stamps.dt.tz_localize(zone)
        data = ParquetLoader(path=self.write(frame, tmp_path), layout=layout).load()
        np.testing.assert_array_equal(data.dates, synthetic.dates)

    def test_date_columns_are_read(self, synthetic: MarketData, tmp_path: Path) -> None:
        frame = wide_frame(synthetic)
        frame["date"] = pd.to_datetime(frame["date"]).dt.date  # written as a Parquet date32 column
        data = ParquetLoader(path=self.write(frame, tmp_path)).load()
        np.testing.assert_array_equal(data.dates, synthetic.dates)

    def test_missing_timestamp_names_the_row(self, synthetic: MarketData, tmp_path: Path) -> None:
        frame = wide_frame(synthetic)
        frame["date"] = pd.to_datetime(frame["date"]).dt.tz_localize("Asia/Tokyo")
        frame.loc[3, "date"] = pd.NaT
        with pytest.raises(DataError, match=r"row 3: the date in column 'date' is missing; every row needs a date"):
            ParquetLoader(path=self.write(frame, tmp_path)).load()

    def test_not_a_parquet_file(self, tmp_path: Path) -> None:
        path = tmp_path / "prices.parquet"
        path.write_text("date,AAA\n2024-01-02,1\n")
        with pytest.raises(DataError, match=rf"^{path}: cannot read the file"):
            ParquetLoader(path=str(path)).load()


class TestFrameToMarketData:
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "DATE": ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-02", "2024-01-05"],
                "ticker": ["AAA", "AAA", "AAA", "BBB", "BBB"],
                "close": [10.0, 11.0, 12.0, 20.0, 21.0],
            }
        )

    def test_long_calendar_is_the_union_of_dates_and_gaps_are_missing_values(self) -> None:
        with pytest.raises(DataError, match=r"ticker 'BBB' has no close on 2024-01-03"):
            frame_to_market_data(self.frame(), layout="long")
        data = frame_to_market_data(self.frame(), layout="long", missing="ffill")
        assert [str(d) for d in data.dates] == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
        # BBB's gap is filled; AAA's data ends a day before BBB's: not a gap, the end of AAA
        np.testing.assert_array_equal(data.close, [[10.0, 20.0], [11.0, 20.0], [12.0, 20.0], [np.nan, 21.0]])

    def test_selected_tickers_alone_make_the_calendar(self) -> None:
        data = frame_to_market_data(self.frame(), layout="long", tickers=["AAA"])
        assert [str(d) for d in data.dates] == ["2024-01-02", "2024-01-03", "2024-01-04"]

    def test_absent_ticker_lists_the_available_ones(self) -> None:
        with pytest.raises(DataError, match=r"^frame: ticker\(s\) not in the data: CCC; available: AAA, BBB$"):
            frame_to_market_data(self.frame(), layout="long", tickers=["CCC"])

    def test_columns_differing_only_by_case_are_ambiguous(self) -> None:
        frame = self.frame().assign(Close=1.0)
        with pytest.raises(DataError, match=r"columns 'close', 'Close' all match 'close'"):
            frame_to_market_data(frame, layout="long")

    def test_non_numeric_value_in_a_long_table_names_ticker_date_and_field(self) -> None:
        frame = self.frame().assign(volume=["1", "2", "3", "many", "5"])
        with pytest.raises(DataError, match=r"ticker 'BBB' on 2024-01-02, volume: 'many' is not a number"):
            frame_to_market_data(frame, layout="long")

    def test_row_without_ticker(self) -> None:
        frame = self.frame()
        frame.loc[3, "ticker"] = None
        with pytest.raises(DataError, match=r"row 3 has no ticker in column 'ticker'"):
            frame_to_market_data(frame, layout="long")


class TestDataConfigs:
    def compose(self, name: str, **overrides: object) -> object:
        config = OmegaConf.merge({"seed": 42}, {"data": OmegaConf.load(CONF / "data" / f"{name}.yaml")})
        config.data.merge_with(overrides)
        return instantiate(config.data)

    def test_sp500_config_builds_the_loader_with_its_defaults(self) -> None:
        loader = self.compose("sp500")
        assert isinstance(loader, SP500Loader)
        assert loader.get_params() == SP500Loader().get_params()

    def test_synthetic_config_takes_the_global_seed(self) -> None:
        loader = self.compose("synthetic")
        assert isinstance(loader, SyntheticLoader)
        assert loader.seed == 42 and loader.n_tickers == 20 and loader.n_days == 2520
        assert loader.get_params() == {**SyntheticLoader().get_params(), "seed": 42}

    @pytest.mark.parametrize("name", ["csv", "parquet", "sp500", "synthetic"])
    def test_every_data_config_sets_max_daily_move_to_the_default(self, name: str) -> None:
        config = OmegaConf.load(CONF / "data" / f"{name}.yaml")
        assert config.max_daily_move == 5.0
        loader = self.compose(name, path="prices.x", max_daily_move=None) if name in ("csv", "parquet") else None
        loader = loader or self.compose(name, max_daily_move=None)
        assert loader.max_daily_move is None

    @pytest.mark.parametrize(("name", "cls"), [("csv", CSVLoader), ("parquet", ParquetLoader)])
    def test_file_configs_require_a_path(self, name: str, cls: type) -> None:
        with pytest.raises(Exception, match="Missing mandatory value"):
            self.compose(name)
        loader = self.compose(name, path="prices.x", tickers=["A", "B"])
        assert isinstance(loader, cls)
        assert loader.get_params() == {**cls(path="prices.x").get_params(), "tickers": ["A", "B"]}
