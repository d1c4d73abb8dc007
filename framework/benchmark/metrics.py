"""Performance metrics of one segment (train, val, test, a fold) of a backtest's equity curve.

A segment is the bars ``start..stop-1`` of the run. Its daily simple returns are
``r[t] = equity[t] / equity[t-1] - 1`` for the bars of the segment; the return into the segment's first bar
belongs to the segment, except for a segment that starts at bar 0, whose first bar has no predecessor (see
:func:`segment_returns`). ``base = max(start - 1, 0)`` is the bar the returns are measured from, ``n`` the
number of returns, ``ppy`` is ``periods_per_year`` and ``rf_daily = (1 + risk_free_rate) ** (1 / ppy) - 1``.

============  ======================================================================  ========================
Metric        Definition                                                              empyrical equivalent
============  ======================================================================  ========================
total_return  ``prod(1 + r) - 1``, computed as ``equity[stop-1] / equity[base] - 1``  ``cum_returns_final``
cagr          ``(1 + total_return) ** (ppy / n) - 1``; +inf when that overflows (a    ``annual_return``
              huge gain over a few bars), as empyrical
volatility    ``std(r, ddof=1) * sqrt(ppy)``                                          ``annual_volatility``
sharpe        ``mean(r - rf_daily) / std(r - rf_daily, ddof=1) * sqrt(ppy)``;         ``sharpe_ratio``
              NaN when all excess returns are equal (empyrical: +-inf, or NaN         (``risk_free=rf_daily``)
              when they are all 0)
sortino       ``mean(r - rf_daily) * ppy``                                            ``sortino_ratio``
              ``/ (sqrt(mean(min(r - rf_daily, 0) ** 2)) * sqrt(ppy))``;              (``required_return=``
              NaN when no return is below ``rf_daily`` (empyrical: +inf, or           ``rf_daily``)
              NaN when all excess returns are 0)
max_drawdown  ``min(curve / cummax(curve) - 1)`` over the segment's own curve         ``max_drawdown``
              ``curve = [1, cumprod(1 + r)]``, computed as
              ``equity[base:stop] / equity[base]``; in [-1, 0], e.g. -0.35
calmar        ``cagr / abs(max_drawdown)``; NaN when max_drawdown is 0                ``calmar_ratio``
turnover      ``sum(traded_value[start:stop]) / mean(equity[start:stop])``            none
              ``* ppy / (stop - start)``: times the portfolio's value is traded
              a year (one way)
exposure      ``mean(gross_exposure[start:stop])``                                    none
n_trades      ``sum(trade_counts[start:stop])`` as a float                            none
hit_rate      share of returns > 0 among returns != 0; NaN when all are 0             none
============  ======================================================================  ========================

A metric whose optional input (``traded_value``, ``gross_exposure``, ``trade_counts``) is not given is NaN.
Sharpe and Sortino are NaN where empyrical gives +-inf, so a sweep that optimizes a ratio never ranks an
undefined one first; where empyrical's value is finite, the values agree. The total return and the
drawdowns are read from the equity itself rather than rebuilt from ``1 + r``: the same numbers, without the
rounding of ``1 + r`` that loses digits when a return is close to -100%.

Relative metrics (:func:`relative_metrics`, names in :data:`RELATIVE_METRIC_NAMES`) compare the segment with a
benchmark equity curve, usually the index, over the same bars: ``b`` are the benchmark's daily simple returns,
measured like ``r``, and ``a = r - b`` the active returns.

=================  ==================================================================  ==========================
Metric             Definition                                                          empyrical equivalent
=================  ==================================================================  ==========================
beta               ``cov(r - rf_daily, b - rf_daily) / var(b - rf_daily)``; NaN when   ``beta``
                   all benchmark returns are equal                                     (``risk_free=rf_daily``)
alpha              Jensen's alpha, compounded to a year like ``cagr``:                 ``alpha``
                   ``(1 + mean(r - rf_daily - beta * (b - rf_daily))) ** ppy - 1``;    (``risk_free=rf_daily``)
                   NaN where beta is, or when the mean is -100% or less
tracking_error     ``std(a, ddof=1) * sqrt(ppy)``; 0 when all active returns are       ``annual_volatility(a)``
                   equal
information_ratio  ``mean(a) * ppy / tracking_error``; NaN when tracking_error is 0    ``excess_sharpe(r, b)``
                                                                                       ``* sqrt(ppy)``
=================  ==================================================================  ==========================
"""

from __future__ import annotations

import math

import numpy as np

from framework.core.checks import is_int, is_number
from framework.core.errors import ConfigError, DataError

METRIC_NAMES: tuple[str, ...] = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "turnover",
    "exposure",
    "n_trades",
    "hit_rate",
)

#: Names of :func:`relative_metrics`, in order: the segment against a benchmark equity curve (the index).
RELATIVE_METRIC_NAMES: tuple[str, ...] = ("beta", "alpha", "tracking_error", "information_ratio")


def drawdown_curve(equity: np.ndarray) -> np.ndarray:
    """Drawdown at every bar: the fall of the equity from its highest value so far, ``equity / cummax - 1``.

    Args:
        equity: Shape (days,). Portfolio value at each bar's close; finite and positive.

    Returns:
        Shape (days,). Values in [-1, 0]: 0 at a new high, -0.25 when 25% below the previous high.

    Raises:
        DataError: If ``equity`` is not a non-empty 1-D array of finite positive values.

    Example:
        >>> drawdown_curve(np.array([100.0, 120.0, 90.0, 130.0])).tolist()
        [0.0, 0.0, -0.25, 0.0]

    """
    equity = _as_equity(equity)
    if equity.size == 0:
        raise DataError("equity: must have at least one bar, got an empty array")
    _check_positive(equity, 0)
    return _drawdown(equity)


def segment_returns(equity: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Daily simple returns of the bars ``start..stop-1``: ``r[t] = equity[t] / equity[t-1] - 1``.

    For ``start == 0`` the first bar has no predecessor and is skipped, so the result has ``stop - start - 1``
    values; otherwise it has ``stop - start`` values (the return into the segment's first bar counts for that
    segment, so consecutive segments split the run's returns without overlap or gap).

    Args:
        equity: Shape (days,). Portfolio value at each bar's close; finite and positive from bar
            ``max(start - 1, 0)`` to bar ``stop - 1``.
        start: First bar of the segment, ``0 <= start < stop``.
        stop: One past the last bar of the segment, ``stop <= len(equity)``.

    Returns:
        Shape (stop - start - 1,) if ``start == 0``, else (stop - start,).

    Raises:
        ConfigError: If ``start`` or ``stop`` is not an integer, out of range, or the segment has no return.
        DataError: If ``equity`` is not 1-D, or not finite and positive in the segment.

    Example:
        >>> equity = np.array([100.0, 110.0, 99.0, 108.9])
        >>> np.round(segment_returns(equity, 0, 4), 10).tolist()
        [0.1, -0.1, 0.1]
        >>> np.round(segment_returns(equity, 2, 4), 10).tolist()
        [-0.1, 0.1]

    """
    equity = _as_equity(equity)
    base = _check_segment(equity, start, stop, min_returns=1)
    return _returns(equity, base, stop)


def compute_metrics(
    equity: np.ndarray,
    start: int,
    stop: int,
    *,
    traded_value: np.ndarray | None = None,
    gross_exposure: np.ndarray | None = None,
    trade_counts: np.ndarray | None = None,
    periods_per_year: int = 252,
    risk_free_rate: float = 0.0,
) -> dict[str, float]:
    """Compute every metric of :data:`METRIC_NAMES` for the bars ``start..stop-1`` (see the module docstring).

    Args:
        equity: Shape (days,). Portfolio value at each bar's close; finite and positive from bar
            ``max(start - 1, 0)`` to bar ``stop - 1``.
        start: First bar of the segment, ``0 <= start < stop``.
        stop: One past the last bar of the segment, ``stop <= len(equity)``. The segment must have at least
            two returns (``stop >= 3`` when ``start == 0``, else ``stop >= start + 2``).
        traded_value: Shape (days,). Absolute notional traded on each bar (sum over tickers of
            ``|quantity * fill_price|``), non-negative. None makes ``turnover`` NaN.
        gross_exposure: Shape (days,). Sum of ``|position value|`` over equity at each bar's close,
            non-negative. None makes ``exposure`` NaN.
        trade_counts: Shape (days,). Number of fills on each bar, non-negative. None makes ``n_trades`` NaN.
        periods_per_year: Bars per year used to annualize (252 for daily bars).
        risk_free_rate: Annual risk-free rate (0.02 for 2%), compounded to a per-bar rate for the Sharpe and
            Sortino ratios.

    Returns:
        Metric name to value, in the order of :data:`METRIC_NAMES`; plain Python floats, NaN where undefined.

    Raises:
        ConfigError: If ``start``, ``stop``, ``periods_per_year`` or ``risk_free_rate`` is invalid.
        DataError: If ``equity`` is not 1-D, finite and positive in the segment, or an optional array is not
            1-D with one finite non-negative value per bar of ``equity``.

    Example:
        >>> equity = np.array([100.0, 110.0, 99.0, 108.9, 119.79])
        >>> metrics = compute_metrics(equity, 0, 5, trade_counts=np.array([0, 2, 1, 0, 3]))
        >>> names = ("total_return", "max_drawdown", "hit_rate", "n_trades")
        >>> {name: round(metrics[name], 4) for name in names}
        {'total_return': 0.1979, 'max_drawdown': -0.1, 'hit_rate': 0.75, 'n_trades': 6.0}
        >>> math.isnan(metrics["turnover"])
        True

    """
    equity = _as_equity(equity)
    base = _check_segment(equity, start, stop, min_returns=2)
    if not is_int(periods_per_year):
        raise ConfigError(f"periods_per_year: must be a positive integer, got {periods_per_year!r}")
    if periods_per_year <= 0:
        raise ConfigError(f"periods_per_year: must be a positive integer, got {periods_per_year!r}")
    if not (isinstance(risk_free_rate, (int, float, np.floating, np.integer)) and math.isfinite(risk_free_rate)):
        raise ConfigError(f"risk_free_rate: must be a finite annual rate above -1, got {risk_free_rate!r}")
    if risk_free_rate <= -1:
        raise ConfigError(f"risk_free_rate: must be a finite annual rate above -1, got {risk_free_rate!r}")
    traded = _bar_values("traded_value", traded_value, equity.size, start, stop)
    exposure = _bar_values("gross_exposure", gross_exposure, equity.size, start, stop)
    counts = _bar_values("trade_counts", trade_counts, equity.size, start, stop)

    ppy = int(periods_per_year)
    metrics = _return_metrics(equity[base:stop], ppy, float(risk_free_rate))
    metrics["turnover"] = (
        math.nan if traded is None else float(traded.sum() / equity[start:stop].mean() * ppy / (stop - start))
    )
    metrics["exposure"] = math.nan if exposure is None else float(exposure.mean())
    metrics["n_trades"] = math.nan if counts is None else float(counts.sum())
    return {name: float(metrics[name]) for name in METRIC_NAMES}


#: Metric name (a key's last part) -> the direction in which it gets better (``maximize`` or ``minimize``).
METRIC_DIRECTIONS: dict[str, str] = {
    "total_return": "maximize",
    "cagr": "maximize",
    "sharpe": "maximize",
    "sortino": "maximize",
    "calmar": "maximize",
    "hit_rate": "maximize",
    "max_drawdown": "maximize",  # in [-1, 0]: closer to 0 is a smaller fall
    "fill_rate": "maximize",
    "alpha": "maximize",
    "information_ratio": "maximize",
    "volatility": "minimize",
    "turnover": "minimize",
    "n_trades": "minimize",
    "tracking_error": "minimize",
    "ex_ante_volatility": "minimize",
    "bars_at_limit": "minimize",
    "recoveries": "minimize",
    "orders": "minimize",
    "orders_expired": "minimize",
    "slippage_bps": "minimize",
    "impact_bps": "minimize",
}

#: Families of metrics (one per stage of the pipeline, one per cost model of the broker) -> their direction.
METRIC_FAMILY_DIRECTIONS: dict[str, str] = {"resizes_<stage>": "minimize", "cost_<model>": "minimize"}


def better_direction(name: str) -> str | None:
    """The direction in which a metric gets better, by its name; None for one with no better direction.

    Args:
        name: A metric name (``sharpe``, ``cost_per_share``), without segment or prefix.

    Returns:
        ``"maximize"``, ``"minimize"``, or None (``exposure``, ``beta``, an unknown name).

    Example:
        >>> better_direction("sharpe"), better_direction("cost_spread"), better_direction("beta")
        ('maximize', 'minimize', None)
    """
    direction = METRIC_DIRECTIONS.get(name)
    for family, family_direction in METRIC_FAMILY_DIRECTIONS.items():
        if direction is None and name.startswith(family.partition("<")[0]):
            direction = family_direction
    return direction


def relative_metrics(
    equity: np.ndarray,
    benchmark_equity: np.ndarray,
    start: int,
    stop: int,
    *,
    periods_per_year: int = 252,
    risk_free_rate: float = 0.0,
) -> dict[str, float]:
    """Compute every metric of :data:`RELATIVE_METRIC_NAMES` for the bars ``start..stop-1`` against a benchmark.

    The benchmark's returns are measured over the same bars as the portfolio's (see the module docstring).

    Args:
        equity: Shape (days,). Portfolio value at each bar's close; finite and positive from bar
            ``max(start - 1, 0)`` to bar ``stop - 1``.
        benchmark_equity: Shape (days,). Benchmark value (an index level, or the equity of a baseline) at each
            bar's close, same bars as ``equity``; finite and positive on the same bars.
        start: First bar of the segment, ``0 <= start < stop``.
        stop: One past the last bar of the segment, ``stop <= len(equity)``. The segment must have at least
            two returns (``stop >= 3`` when ``start == 0``, else ``stop >= start + 2``).
        periods_per_year: Bars per year used to annualize (252 for daily bars).
        risk_free_rate: Annual risk-free rate (0.02 for 2%), compounded to a per-bar rate for beta and alpha.

    Returns:
        Metric name to value, in the order of :data:`RELATIVE_METRIC_NAMES`; plain Python floats, NaN where
        undefined.

    Raises:
        ConfigError: If ``start``, ``stop``, ``periods_per_year`` or ``risk_free_rate`` is invalid.
        DataError: If ``equity`` or ``benchmark_equity`` is not 1-D with the same length, or not finite and
            positive in the segment.

    Example:
        >>> equity = np.array([100.0, 110.0, 99.0, 108.9, 119.79])  # returns +10%, -10%, +10%, +10%
        >>> index = np.array([100.0, 105.0, 99.75, 99.75, 109.725])  # returns +5%, -5%, 0%, +10%
        >>> metrics = relative_metrics(equity, index, 0, 5, periods_per_year=4)
        >>> {name: round(value, 4) for name, value in metrics.items()}
        {'beta': 1.2, 'alpha': 0.0824, 'tracking_error': 0.1291, 'information_ratio': 0.7746}

    """
    equity = _as_equity(equity)
    base = _check_segment(equity, start, stop, min_returns=2)
    ppy, rf_daily = _check_annualization(periods_per_year, risk_free_rate)
    benchmark = _benchmark_segment(benchmark_equity, equity.size, base, stop)

    returns = _returns(equity, base, stop)
    benchmark_returns = _returns(benchmark, 0, benchmark.size)
    excess = returns - rf_daily
    benchmark_excess = benchmark_returns - rf_daily
    beta = alpha = math.nan
    # Identical values have a ~1e-18 rounding residue as variance, not 0: test equality (as the Sharpe ratio).
    if benchmark_excess.max() != benchmark_excess.min():
        centered = benchmark_excess - benchmark_excess.mean()
        beta = float(np.mean(centered * excess) / np.mean(centered**2))
        daily_alpha = float(np.mean(excess - beta * benchmark_excess))
        if daily_alpha > -1.0:
            with np.errstate(over="ignore"):  # +inf where it overflows, as cagr
                alpha = float(np.power(1.0 + daily_alpha, ppy)) - 1.0
    active = returns - benchmark_returns
    tracking_error, information_ratio = 0.0, math.nan
    if active.max() != active.min():
        tracking_error = float(active.std(ddof=1)) * math.sqrt(ppy)
        information_ratio = float(active.mean()) * ppy / tracking_error
    return {
        "beta": beta,
        "alpha": alpha,
        "tracking_error": tracking_error,
        "information_ratio": information_ratio,
    }


def _return_metrics(curve: np.ndarray, ppy: int, risk_free_rate: float) -> dict[str, float]:
    """Compute the metrics that depend on the segment's equity ``equity[base:stop]`` only (as empyrical)."""
    returns = _returns(curve, 0, curve.size)
    growth = float(curve[-1] / curve[0])
    # Same operation order as empyrical.annual_return; a numpy power gives inf (as empyrical) where a short
    # segment's growth overflows when annualized, instead of raising OverflowError.
    with np.errstate(over="ignore"):
        cagr = float(np.power(growth, 1.0 / (returns.size / ppy))) - 1.0
    rf_daily = (1.0 + risk_free_rate) ** (1.0 / ppy) - 1.0
    excess = returns - rf_daily
    mean_excess = float(excess.mean())
    # Identical values have a sample std of a ~1e-18 rounding residue, not 0: test equality (as empyrical).
    if excess.max() == excess.min():
        sharpe = math.nan
    else:
        sharpe = mean_excess / float(excess.std(ddof=1)) * math.sqrt(ppy)
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2))) * math.sqrt(ppy)
    sortino = math.nan if downside == 0.0 else mean_excess * ppy / downside
    max_drawdown = float(_drawdown(curve).min())
    calmar = cagr / abs(max_drawdown) if max_drawdown < 0.0 else math.nan
    moved = np.count_nonzero(returns)
    return {
        "total_return": growth - 1.0,
        "cagr": cagr,
        "volatility": float(returns.std(ddof=1)) * math.sqrt(ppy),
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": max_drawdown,
        "calmar": calmar if math.isfinite(calmar) else math.nan,
        "hit_rate": math.nan if moved == 0 else np.count_nonzero(returns > 0) / moved,
    }


def _drawdown(curve: np.ndarray) -> np.ndarray:
    """``curve / cummax(curve) - 1`` without validation."""
    return curve / np.maximum.accumulate(curve) - 1.0


def _returns(equity: np.ndarray, base: int, stop: int) -> np.ndarray:
    """Compute the simple returns of bars ``base+1..stop-1`` over their predecessors."""
    return equity[base + 1 : stop] / equity[base : stop - 1] - 1.0


def _as_equity(equity: np.ndarray) -> np.ndarray:
    """Return ``equity`` as a 1-D float array, or raise a DataError naming what it is instead."""
    values = _as_floats("equity", equity)
    if values.ndim != 1:
        raise DataError(f"equity: must be a 1-D array of portfolio values, got shape {values.shape}")
    return values


def _as_floats(name: str, values: np.ndarray) -> np.ndarray:
    """Return ``values`` as a float array, or raise a DataError naming the argument."""
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise DataError(f"{name}: must be an array of numbers, got {type(values).__name__} ({error})") from None


def _check_segment(equity: np.ndarray, start: int, stop: int, *, min_returns: int) -> int:
    """Validate the segment bounds and its equity; return the first bar the returns are measured from."""
    for name, value in (("start", start), ("stop", stop)):
        if not is_int(value):
            raise ConfigError(f"{name}: must be an integer bar index, got {value!r}")
    days = equity.size
    if not 0 <= start < stop <= days:
        bad = "start" if not 0 <= start < min(stop, days) else "stop"
        raise ConfigError(
            f"{bad}: the segment must satisfy 0 <= start < stop <= len(equity) = {days}, got start={start}, stop={stop}"
        )
    base = max(start - 1, 0)
    n_returns = stop - base - 1
    if n_returns < min_returns:
        raise ConfigError(
            f"stop: the segment start={start}, stop={stop} has {n_returns} return(s), at least {min_returns} "
            f"needed (stop >= {base + 1 + min_returns})"
        )
    _check_positive(equity[base:stop], base)
    return base


def _check_positive(values: np.ndarray, offset: int) -> None:
    """Raise a DataError naming the first bar whose equity is not finite and positive."""
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        bar = int(np.argmax(bad))
        raise DataError(f"equity: must be finite and positive, got {float(values[bar])!r} at bar {offset + bar}")


def _bar_values(name: str, values: np.ndarray | None, days: int, start: int, stop: int) -> np.ndarray | None:
    """Return the validated segment ``start:stop`` of an optional per-bar array, or None when not given."""
    if values is None:
        return None
    array = _as_floats(name, values)
    if array.shape != (days,):
        raise DataError(f"{name}: must have shape ({days},) like equity, got shape {array.shape}")
    segment = array[start:stop]
    bad = ~(np.isfinite(segment) & (segment >= 0))
    if bad.any():
        bar = int(np.argmax(bad))
        raise DataError(f"{name}: must be finite and non-negative, got {float(segment[bar])!r} at bar {start + bar}")
    return segment


def _check_annualization(periods_per_year: int, risk_free_rate: float) -> tuple[int, float]:
    """Validate the annualization arguments as :func:`compute_metrics` does; return ``(ppy, rf_daily)``."""
    if not is_int(periods_per_year) or periods_per_year <= 0:
        raise ConfigError(f"periods_per_year: must be a positive integer, got {periods_per_year!r}")
    if not (is_number(risk_free_rate) and math.isfinite(risk_free_rate) and risk_free_rate > -1):
        raise ConfigError(f"risk_free_rate: must be a finite annual rate above -1, got {risk_free_rate!r}")
    ppy = int(periods_per_year)
    return ppy, (1.0 + float(risk_free_rate)) ** (1.0 / ppy) - 1.0


def _benchmark_segment(benchmark_equity: np.ndarray, days: int, base: int, stop: int) -> np.ndarray:
    """Return the validated bars ``base..stop-1`` of the benchmark's equity curve."""
    values = _as_floats("benchmark_equity", benchmark_equity)
    if values.shape != (days,):
        raise DataError(f"benchmark_equity: must have shape ({days},) like equity, got shape {values.shape}")
    segment = values[base:stop]
    bad = ~(np.isfinite(segment) & (segment > 0))
    if bad.any():
        bar = int(np.argmax(bad))
        raise DataError(
            f"benchmark_equity: must be finite and positive, got {float(segment[bar])!r} at bar {base + bar}"
        )
    return segment
