"""Price features for machine-learning strategies: each ticker described by its own past, bar by bar.

Every feature of row t uses the ticker's closes up to and including t only, so a model that reads row t
cannot see the future. Rows where any feature is still warming up hold NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from framework.core.checks import is_int
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.stats.rolling import pct_change, rolling_std, rsi, sma


def _positive_int(value: object, key: str, minimum: int = 1) -> int:
    if not is_int(value) or value < minimum:
        raise ConfigError(f"{key}: must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _int_list(values: object, key: str) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
        raise ConfigError(f"{key}: must be a non-empty list of positive integers, got {values!r}")
    checked = tuple(_positive_int(v, f"{key}[{i}]") for i, v in enumerate(values))
    if len(set(checked)) != len(checked):
        raise ConfigError(f"{key}: each value may appear once (they name features), got {list(checked)}")
    return checked


def check_feature_params(
    horizons: Sequence[int], vol_window: int, rsi_window: int, ma_windows: Sequence[int]
) -> tuple[tuple[int, ...], int, int, tuple[int, ...]]:
    """Validate the feature parameters, with errors that name the key.

    Args:
        horizons: Return horizons in bars, positive and distinct.
        vol_window: Bars of daily returns in the rolling volatility, >= 2.
        rsi_window: RSI smoothing window, >= 1.
        ma_windows: Moving-average windows, positive and distinct.

    Returns:
        The parameters as plain ints and tuples.

    Raises:
        ConfigError: Naming the first invalid key and what would be valid.

    Example:
        >>> check_feature_params([1, 5], 20, 14, [10])
        ((1, 5), 20, 14, (10,))
        >>> check_feature_params([1, 0], 20, 14, [10])
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: horizons[1]: must be an integer >= 1, got 0
    """
    return (
        _int_list(horizons, "horizons"),
        _positive_int(vol_window, "vol_window", 2),
        _positive_int(rsi_window, "rsi_window"),
        _int_list(ma_windows, "ma_windows"),
    )


def feature_names(
    horizons: Sequence[int] = (1, 5, 20, 60),
    vol_window: int = 20,
    rsi_window: int = 14,
    ma_windows: Sequence[int] = (10, 50),
) -> list[str]:
    """Names of the columns of :func:`price_features`, in order.

    Args:
        horizons: Return horizons in bars.
        vol_window: Volatility window.
        rsi_window: RSI window.
        ma_windows: Moving-average windows.

    Returns:
        ``return_<h>`` per horizon, ``volatility_<w>``, ``rsi_<w>``, ``ma_distance_<w>`` per window.

    Raises:
        ConfigError: If a parameter is invalid (see :func:`check_feature_params`).

    Example:
        >>> feature_names(horizons=(1, 5))
        ['return_1', 'return_5', 'volatility_20', 'rsi_14', 'ma_distance_10', 'ma_distance_50']
    """
    horizons, vol_window, rsi_window, ma_windows = check_feature_params(horizons, vol_window, rsi_window, ma_windows)
    return [
        *(f"return_{h}" for h in horizons),
        f"volatility_{vol_window}",
        f"rsi_{rsi_window}",
        *(f"ma_distance_{w}" for w in ma_windows),
    ]


def warm_up_bars(
    horizons: Sequence[int] = (1, 5, 20, 60),
    vol_window: int = 20,
    rsi_window: int = 14,
    ma_windows: Sequence[int] = (10, 50),
) -> int:
    """Index of the first row where every feature of :func:`price_features` exists (rows before are NaN).

    Args:
        horizons: Return horizons in bars.
        vol_window: Volatility window.
        rsi_window: RSI window.
        ma_windows: Moving-average windows.

    Returns:
        ``max(max(horizons), vol_window, rsi_window, max(ma_windows) - 1)``.

    Raises:
        ConfigError: If a parameter is invalid (see :func:`check_feature_params`).

    Example:
        >>> warm_up_bars()
        60
        >>> warm_up_bars(horizons=(1,), vol_window=5, rsi_window=3, ma_windows=(10,))
        9
    """
    horizons, vol_window, rsi_window, ma_windows = check_feature_params(horizons, vol_window, rsi_window, ma_windows)
    return max(max(horizons), vol_window, rsi_window, max(ma_windows) - 1)


def price_features(
    data: MarketData,
    horizons: Sequence[int] = (1, 5, 20, 60),
    vol_window: int = 20,
    rsi_window: int = 14,
    ma_windows: Sequence[int] = (10, 50),
) -> np.ndarray:
    """Each ticker's own recent history as features, shape (days, tickers, n_features).

    Columns, in the order of :func:`feature_names`:

    - ``return_<h>``: ``close[t] / close[t - h] - 1`` for each horizon h;
    - ``volatility_<w>``: sample standard deviation (ddof=1) of the last ``w`` daily returns, not annualized
      (the first row has no return, so it first exists at row ``w``);
    - ``rsi_<w>``: Wilder's RSI scaled to [-1, 1] as ``rsi / 50 - 1`` (first exists at row ``w``);
    - ``ma_distance_<w>``: ``close / sma(close, w) - 1`` for each window w (first exists at row ``w - 1``).

    Row t uses closes up to and including t only. A row is NaN in a column until that column's window is
    full; :func:`warm_up_bars` gives the first row where all exist.

    Args:
        data: The panel (only ``close`` is used).
        horizons: Return horizons in bars, positive and distinct.
        vol_window: Daily returns in the rolling volatility, >= 2.
        rsi_window: RSI smoothing window, >= 1.
        ma_windows: Moving-average windows, positive and distinct.

    Returns:
        Float64 array of shape (days, tickers, n_features).

    Raises:
        ConfigError: If a parameter is invalid (naming it).

    Example:
        >>> close = np.array([[10.0], [11.0], [12.1], [10.89], [11.979]])
        >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("A",), close)
        >>> x = price_features(data, horizons=(1, 2), vol_window=2, rsi_window=2, ma_windows=(2,))
        >>> x.shape
        (5, 1, 5)
        >>> x[4, 0].round(4).tolist()  # return_1, return_2, volatility_2, rsi_2, ma_distance_2
        [0.1, -0.01, 0.1414, 0.4547, 0.0476]
    """
    horizons, vol_window, rsi_window, ma_windows = check_feature_params(horizons, vol_window, rsi_window, ma_windows)
    close = data.close
    columns = [pct_change(close, h) for h in horizons]
    daily = pct_change(close, 1)
    volatility = np.full(close.shape, np.nan)
    # Row 0 has no return; the rolling std must not see its NaN (it would poison every later row).
    volatility[1:] = rolling_std(daily[1:], vol_window)
    columns.append(volatility)
    columns.append(rsi(close, rsi_window) / 50.0 - 1.0)
    columns.extend(close / sma(close, w) - 1.0 for w in ma_windows)
    return np.stack(columns, axis=-1)
