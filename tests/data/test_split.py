import datetime
from pathlib import Path

import numpy as np
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from framework.config.components import build_component
from framework.core.errors import ConfigError, DataError
from framework.data import HoldoutSplit

CONF = Path(__file__).resolve().parents[2] / "conf"


def days(first: str, count: int) -> np.ndarray:
    return np.datetime64(first, "D") + np.arange(count)


def business_days(first: str, count: int) -> np.ndarray:
    return np.busday_offset(np.datetime64(first, "D"), np.arange(count), roll="forward")


class TestHoldoutSplit:
    def test_default_fractions_on_ten_bars(self) -> None:
        assert HoldoutSplit().segments(days("2024-01-01", 10)) == {
            "train": (0, 6),
            "val": (6, 8),
            "test": (8, 10),
        }

    def test_fractions_on_the_sp500_length(self) -> None:
        # 8313 * 0.6 = 4987.8 -> 4988; 8313 * 0.8 = 6650.4 -> 6650
        segments = HoldoutSplit().segments(days("1990-01-02", 8313))
        assert segments == {"train": (0, 4988), "val": (4988, 6650), "test": (6650, 8313)}

    def test_fractions_round_half_up(self) -> None:
        # 9 * 0.5 = 4.5 -> 5; 9 * 0.75 = 6.75 -> 7
        segments = HoldoutSplit(train=0.5, val=0.25, test=0.25).segments(days("2024-01-01", 9))
        assert segments == {"train": (0, 5), "val": (5, 7), "test": (7, 9)}

    def test_segments_are_ordered_contiguous_and_cover_every_bar(self) -> None:
        split = HoldoutSplit(train=0.7, val=0.15, test=0.15)
        for count in range(14, 200):
            segments = split.segments(days("2024-01-01", count))
            assert list(segments) == ["train", "val", "test"]
            bounds = [bound for segment in segments.values() for bound in segment]
            assert bounds[0] == 0 and bounds[-1] == count
            assert bounds[1] == bounds[2] and bounds[3] == bounds[4]
            assert all(stop - start >= 2 for start, stop in segments.values())

    def test_too_little_data_names_the_segment_and_its_dates(self) -> None:
        # 7 * 0.5 = 3.5 -> 4; 7 * 0.8 = 5.6 -> 6: test keeps only bar 6
        split = HoldoutSplit(train=0.5, val=0.3, test=0.2)
        with pytest.raises(DataError, match=r"segment 'test' has 1 bar \(2024-01-07 to 2024-01-07\) out of 7"):
            split.segments(days("2024-01-01", 7))

    def test_by_dates(self) -> None:
        dates = business_days("2024-01-01", 10)  # Jan 1-5 and Jan 8-12
        split = HoldoutSplit(train_end="2024-01-04", val_end="2024-01-09")
        assert split.segments(dates) == {"train": (0, 4), "val": (4, 7), "test": (7, 10)}

    def test_by_dates_not_in_the_calendar(self) -> None:
        dates = business_days("2024-01-01", 10)
        # Saturday 6th: train ends Friday 5th; Sunday 7th ... val_end 10th
        split = HoldoutSplit(train_end="2024-01-06", val_end="2024-01-10")
        assert split.segments(dates) == {"train": (0, 5), "val": (5, 8), "test": (8, 10)}

    def test_by_dates_ignores_the_fractions(self) -> None:
        split = HoldoutSplit(train=0.1, val=0.1, test=0.8, train_end="2024-01-05", val_end="2024-01-07")
        assert split.segments(days("2024-01-01", 10))["train"] == (0, 5)

    @pytest.mark.parametrize(
        ("train_end", "val_end", "key"),
        [("2023-12-31", "2024-01-05", "train_end"), ("2024-01-03", "2024-01-11", "val_end")],
    )
    def test_dates_outside_the_data_name_the_key_and_the_data_range(
        self, train_end: str, val_end: str, key: str
    ) -> None:
        split = HoldoutSplit(train_end=train_end, val_end=val_end)
        with pytest.raises(
            ConfigError,
            match=rf"^benchmark\.split\.{key}: .* outside the data, which runs from 2024-01-01 to 2024-01-10",
        ):
            split.segments(days("2024-01-01", 10))

    def test_date_split_leaving_a_short_segment(self) -> None:
        split = HoldoutSplit(train_end="2024-01-05", val_end="2024-01-09")
        expected = (
            r"^benchmark\.split\.train_end, benchmark\.split\.val_end: segment 'test' has 1 bar "
            r"\(2024-01-10 to 2024-01-10\) out of 10; .*: move train_end=2024-01-05 or val_end=2024-01-09$"
        )
        with pytest.raises(ConfigError, match=expected):
            split.segments(days("2024-01-01", 10))

    def test_date_split_leaving_an_empty_segment(self) -> None:
        dates = business_days("2024-01-01", 10)
        split = HoldoutSplit(train_end="2024-01-05", val_end="2024-01-07")  # val would hold the weekend only
        with pytest.raises(ConfigError, match=r"segment 'val' has 0 bars \(no dates after 2024-01-05\)"):
            split.segments(dates)

    @pytest.mark.parametrize(
        ("kwargs", "key"),
        [
            ({"train": 0.0, "val": 0.5, "test": 0.5}, "train"),
            ({"train": 0.8, "val": -0.1, "test": 0.3}, "val"),
            ({"test": float("nan")}, "test"),
            ({"test": "0.2"}, "test"),
            ({"train": True}, "train"),
            ({"train": 0.6, "val": 0.2, "test": 0.3}, r"train \+ val \+ test"),
            ({"train_end": "2024-01-05"}, "val_end"),
            ({"val_end": "2024-01-05"}, "train_end"),
            ({"train_end": "2024/01/05", "val_end": "2024-01-06"}, "train_end"),
            ({"train_end": "2024-01-05", "val_end": "2024-01-05"}, "val_end"),
        ],
    )
    def test_invalid_parameters_name_the_key(self, kwargs: dict, key: str) -> None:
        with pytest.raises(ConfigError, match=rf"^benchmark\.split\.{key}: "):
            HoldoutSplit(**kwargs)

    def test_fractions_summing_to_one_within_rounding_are_accepted(self) -> None:
        # 0.7 + 0.2 + 0.1 is 0.9999999999999999 in floating point
        split = HoldoutSplit(train=0.7, val=0.2, test=0.1)
        assert split.segments(days("2024-01-01", 20)) == {"train": (0, 14), "val": (14, 18), "test": (18, 20)}
        with pytest.raises(ConfigError, match=r"must sum to 1"):
            HoldoutSplit(train=0.7, val=0.1, test=0.2 + 1e-8)

    def test_empty_dates(self) -> None:
        with pytest.raises(DataError, match=r"cannot split"):
            HoldoutSplit().segments(np.array([], dtype="datetime64[D]"))

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"train_end": "2024/01/05", "val_end": "2024-01-08"}, "benchmark.split.train_end: expected an ISO date"),
            ({"train_end": "2024-01-05", "val_end": "2024-01-05"}, "benchmark.split.val_end: must be after train_end "
             "2024-01-05, got 2024-01-05"),
            ({"train_end": "2024-01-05"}, "benchmark.split.val_end: required when train_end is given"),
            ({"test": 0.0}, "benchmark.split.test: must be a fraction"),
        ],
    )  # fmt: skip
    def test_errors_built_from_the_config_name_the_full_key_once(self, params: dict, expected: str) -> None:
        spec = {"_target_": "framework.data.HoldoutSplit", **params}
        with pytest.raises(ConfigError) as error:
            build_component(spec, "benchmark.split", object)
        assert str(error.value).startswith(expected)
        assert str(error.value).count("benchmark.split") == 1

    def test_errors_of_a_run_name_the_full_key(self) -> None:
        # segments() runs long after the split is built, where nothing adds the key path to its errors
        split = build_component(
            {"_target_": "framework.data.HoldoutSplit", "train_end": "2030-01-02", "val_end": "2030-06-30"},
            "benchmark.split",
            object,
        )
        with pytest.raises(ConfigError, match=r"^benchmark\.split\.train_end: 2030-01-02 is outside the data"):
            split.segments(days("2024-01-01", 10))

    def test_dates_in_messages_are_days_whatever_form_they_were_given_in(self) -> None:
        split = HoldoutSplit(train_end=datetime.datetime(2024, 1, 5, 12, 30), val_end=datetime.date(2024, 1, 9))
        with pytest.raises(ConfigError) as error:
            split.segments(days("2024-01-01", 10))
        assert str(error.value).endswith("move train_end=2024-01-05 or val_end=2024-01-09")

    def test_holdout_config_builds_the_split(self) -> None:
        config = OmegaConf.load(CONF / "benchmark" / "holdout.yaml")
        split = instantiate(config.split)
        assert isinstance(split, HoldoutSplit)
        assert split.get_params() == HoldoutSplit().get_params()
        assert config.periods_per_year == 252 and config.risk_free_rate == 0.0
