"""Data layer: loaders (bundled S&P 500 sample, CSV/Parquet, synthetic prices), validation, splitting."""

from framework.data.loaders import (
    LAYOUTS,
    CSVLoader,
    ParquetLoader,
    SP500Loader,
    SyntheticLoader,
    frame_to_market_data,
    load_sp500_index,
)
from framework.data.split import SEGMENTS, HoldoutSplit
from framework.data.validation import (
    MISSING_POLICIES,
    DataWarning,
    build_market_data,
    check_max_daily_move,
    check_missing_policy,
    parse_dates,
    parse_iso_date,
)
from framework.data.walk_forward import Fold, WalkForwardSplit

__all__ = [
    "LAYOUTS",
    "MISSING_POLICIES",
    "SEGMENTS",
    "CSVLoader",
    "DataWarning",
    "Fold",
    "HoldoutSplit",
    "WalkForwardSplit",
    "ParquetLoader",
    "SP500Loader",
    "SyntheticLoader",
    "build_market_data",
    "check_max_daily_move",
    "check_missing_policy",
    "frame_to_market_data",
    "load_sp500_index",
    "parse_dates",
    "parse_iso_date",
]
