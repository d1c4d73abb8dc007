import numpy as np
import pandas as pd
import pytest

from framework.core.errors import DataError
from framework.core.market_data import FIELDS, MarketData
from framework.core.types import DecisionLog, ExecutionState


def make_dates(days: int) -> np.ndarray:
    return np.datetime64("2024-01-01", "D") + np.arange(days)


def make_panel(days: int = 6, tickers: tuple[str, ...] = ("AAA", "BBB", "CCC"), seed: int = 3, **fields: bool):
    rng = np.random.default_rng(seed)
    close = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, (days, len(tickers))), axis=0)
    extra = {}
    if fields.get("open"):
        extra["open"] = close * (1.0 + rng.normal(0.0, 0.005, close.shape))
    if fields.get("volume"):
        extra["volume"] = rng.integers(1_000, 10_000, close.shape).astype(float)
    return MarketData(dates=make_dates(days), tickers=tickers, close=close, **extra)


class TestMarketData:
    def test_shape_properties_and_fields(self) -> None:
        data = make_panel(days=5, open=True)
        assert data.shape == (5, 3)
        assert (data.n_days, data.n_tickers) == (5, 3)
        assert data.has("close") and data.has("open")
        assert not data.has("volume") and not data.has("high") and not data.has("bogus")
        assert data.dates.dtype == np.dtype("datetime64[D]")
        assert data.close.dtype == np.float64

    def test_converts_ints_and_lists(self) -> None:
        data = MarketData(dates=["2024-01-02", "2024-01-03"], tickers=["A", 7], close=[[1, 2], [3, 4]])
        assert data.tickers == ("A", "7")
        assert data.close.dtype == np.float64
        assert data.close.tolist() == [[1.0, 2.0], [3.0, 4.0]]
        assert str(data.dates[1]) == "2024-01-03"

    def test_close_is_required(self) -> None:
        with pytest.raises(DataError, match="'close' prices are required"):
            MarketData(dates=make_dates(2), tickers=("A",), close=None)  # type: ignore[arg-type]

    @pytest.mark.parametrize("name", ["close", "open", "volume"])
    def test_wrong_shape_names_the_field_and_both_shapes(self, name: str) -> None:
        good = np.ones((4, 2))
        kwargs = {"close": good, name: np.ones((4, 3))}
        with pytest.raises(DataError) as info:
            MarketData(dates=make_dates(4), tickers=("A", "B"), **kwargs)
        message = str(info.value)
        assert f"'{name}'" in message
        assert "(4, 3)" in message and "(4, 2)" in message

    def test_dates_length_must_match_rows(self) -> None:
        with pytest.raises(DataError, match="'close'.*expected"):
            MarketData(dates=make_dates(3), tickers=("A",), close=np.ones((4, 1)))

    def test_arrays_are_read_only(self) -> None:
        data = make_panel(open=True)
        for name in ("close", "open"):
            array = data.field(name)
            assert not array.flags.writeable
            with pytest.raises(ValueError, match="read-only"):
                array[0, 0] = 1.0
        with pytest.raises(ValueError, match="read-only"):
            data.returns()[1, 0] = 0.0

    def test_does_not_freeze_the_callers_array(self) -> None:
        close = np.array([[1.0, 2.0], [3.0, 4.0]])
        MarketData(dates=make_dates(2), tickers=("A", "B"), close=close)
        close[0, 0] = 5.0  # the caller's array is theirs to change
        assert close[0, 0] == 5.0

    def test_returns_against_pandas_pct_change(self) -> None:
        data = make_panel(days=30)
        expected = pd.DataFrame(data.close).pct_change().fillna(0.0).to_numpy()
        np.testing.assert_allclose(data.returns(), expected, rtol=1e-12, atol=1e-15)
        assert (data.returns()[0] == 0.0).all()
        assert data.returns() is data.returns()  # cached

    def test_returns_by_hand(self) -> None:
        data = MarketData(make_dates(3), ("A", "B"), np.array([[10.0, 50.0], [12.0, 40.0], [9.0, 40.0]]))
        np.testing.assert_allclose(data.returns(), [[0.0, 0.0], [0.2, -0.2], [-0.25, 0.0]])

    def test_field_returns_the_array(self) -> None:
        data = make_panel(open=True)
        assert data.field("close") is data.close
        assert data.field("open") is data.open

    def test_field_absent_names_the_field_and_what_the_data_has(self) -> None:
        data = make_panel(open=True, volume=True)
        with pytest.raises(DataError) as info:
            data.field("high")
        message = str(info.value)
        assert "'high' is absent" in message
        assert "open, close, volume" in message

    def test_field_unknown_lists_the_fields(self) -> None:
        with pytest.raises(DataError) as info:
            make_panel().field("adj_close")
        assert "'adj_close'" in str(info.value)
        assert ", ".join(FIELDS) in str(info.value)

    def test_ticker_index_in_the_order_asked(self) -> None:
        data = make_panel()
        assert data.ticker_index(["CCC", "AAA"]).tolist() == [2, 0]
        assert data.ticker_index([]).tolist() == []

    def test_ticker_index_error_names_missing_and_lists_available(self) -> None:
        with pytest.raises(DataError) as info:
            make_panel().ticker_index(["AAA", "ZZZ", "YYY"])
        message = str(info.value)
        assert "ZZZ, YYY" in message
        assert "available: AAA, BBB, CCC" in message
        assert "AAA," not in message.split(";")[0]  # present tickers are not reported missing

    def test_select_reorders_every_field(self) -> None:
        data = make_panel(open=True, volume=True)
        picked = data.select(["CCC", "AAA"])
        assert picked.tickers == ("CCC", "AAA")
        np.testing.assert_array_equal(picked.close, data.close[:, [2, 0]])
        np.testing.assert_array_equal(picked.open, data.open[:, [2, 0]])
        np.testing.assert_array_equal(picked.volume, data.volume[:, [2, 0]])
        assert picked.high is None
        np.testing.assert_array_equal(picked.dates, data.dates)

    def test_select_absent_ticker_lists_available(self) -> None:
        with pytest.raises(DataError, match="tickers not in the data: XXX; available: AAA, BBB, CCC"):
            make_panel().select(["AAA", "XXX"])

    def test_slice_rows(self) -> None:
        data = make_panel(days=10, open=True)
        data.returns()
        data.fingerprint()
        part = data.slice_rows(3, 7)
        assert part.shape == (4, 3)
        np.testing.assert_array_equal(part.dates, data.dates[3:7])
        np.testing.assert_array_equal(part.close, data.close[3:7])
        np.testing.assert_array_equal(part.open, data.open[3:7])
        assert part.volume is None
        # A fresh cache: returns restart at zero on the slice's first row.
        assert (part.returns()[0] == 0.0).all()
        np.testing.assert_allclose(part.returns()[1:], data.returns()[4:7])
        assert part.fingerprint() != data.fingerprint()
        assert data.slice_rows(0, 10).fingerprint() == data.fingerprint()

    def test_fingerprint_is_stable_for_equal_data(self) -> None:
        first = make_panel(days=20, open=True)
        second = make_panel(days=20, open=True)
        assert first is not second
        assert first.fingerprint() == second.fingerprint()
        assert len(first.fingerprint()) == 16
        assert all(c in "0123456789abcdef" for c in first.fingerprint())

    @pytest.mark.parametrize("name", ["close", "open"])
    def test_fingerprint_changes_when_one_price_changes(self, name: str) -> None:
        data = make_panel(days=20, open=True)
        changed = {n: (None if getattr(data, n) is None else getattr(data, n).copy()) for n in FIELDS}
        changed[name][13, 1] += 1e-9
        other = MarketData(dates=data.dates, tickers=data.tickers, **changed)
        assert other.fingerprint() != data.fingerprint()

    def test_fingerprint_changes_with_dates_tickers_and_fields(self) -> None:
        data = make_panel(days=5)
        base = data.fingerprint()
        shifted = MarketData(data.dates + 1, data.tickers, data.close)
        renamed = MarketData(data.dates, ("AAA", "BBB", "CCD"), data.close)
        with_volume = MarketData(data.dates, data.tickers, data.close, volume=np.ones(data.shape))
        prints = {base, shifted.fingerprint(), renamed.fingerprint(), with_volume.fingerprint()}
        assert len(prints) == 4


class TestDecisionLog:
    DATES = make_dates(5)
    TICKERS = ("A", "B", "C")

    def test_empty_log_has_the_columns(self) -> None:
        log = DecisionLog()
        assert len(log) == 0
        frame = log.to_frame(self.DATES, self.TICKERS)
        assert list(frame.columns) == ["date", "bar", "agent", "ticker", "before", "after", "reason"]
        assert len(frame) == 0

    def test_array_and_scalar_records(self) -> None:
        log = DecisionLog()
        log.record(1, "sizing", np.array([0, 2]), np.array([0.0, 0.5]), np.array([0.5, 0.0]), "signal")
        log.record(3, "broker", -1, 1010.0, 1000.0, "buys scaled")
        log.record(4, "risk", np.array([1, 2]), 0.25, np.array([0.1, 0.2]), "cap")
        log.record(4, "risk", 1, 0.3, 0.2, "single asset")
        assert len(log) == 6
        frame = log.to_frame(self.DATES, self.TICKERS)
        assert frame["bar"].tolist() == [1, 1, 3, 4, 4, 4]
        assert frame["agent"].tolist() == ["sizing", "sizing", "broker", "risk", "risk", "risk"]
        assert frame["ticker"].tolist() == ["A", "C", "*", "B", "C", "B"]
        assert frame["before"].tolist() == [0.0, 0.5, 1010.0, 0.25, 0.25, 0.3]
        assert frame["after"].tolist() == [0.5, 0.0, 1000.0, 0.1, 0.2, 0.2]
        assert frame["reason"].tolist() == ["signal", "signal", "buys scaled", "cap", "cap", "single asset"]
        expected_dates = pd.to_datetime(
            ["2024-01-02", "2024-01-02", "2024-01-04", "2024-01-05", "2024-01-05", "2024-01-05"]
        )
        assert frame["date"].tolist() == list(expected_dates)

    def test_numpy_integer_asset_counts_once(self) -> None:
        log = DecisionLog()
        log.record(0, "x", np.int64(2), 1.0, 2.0, "r")
        assert len(log) == 1
        assert log.to_frame(self.DATES, self.TICKERS)["ticker"].tolist() == ["C"]


class TestExecutionState:
    def test_empty(self) -> None:
        state = ExecutionState.empty(("A", "B", "C"))
        assert state.bar == -1
        assert np.isnat(state.date)
        assert state.tickers == ("A", "B", "C")
        assert np.isnan(state.close).all() and state.close.shape == (3,)
        assert np.isnan(state.signal).all() and state.signal.shape == (3,)
        assert state.confidence.tolist() == [0.0] * 3
        assert state.positions.tolist() == [0.0] * 3
        assert state.weights.tolist() == [0.0] * 3
        assert (state.cash, state.equity) == (0.0, 0.0)
        assert len(state.log) == 0

    def test_empty_arrays_are_independent(self) -> None:
        state = ExecutionState.empty(("A", "B"))
        state.signal[0] = 1.0
        state.positions[1] = 3.0
        assert np.isnan(state.close).all()
        assert state.weights.tolist() == [0.0, 0.0]
        assert ExecutionState.empty(("A", "B")).log is not state.log
