"""The run's risk series and the decision pipeline's metrics per segment.

The risk series describes, on every bar, the portfolio the pipeline decided to hold after the next fill (the
final target where set, the current weight where NaN), measured with the same estimate the risk agent uses:

==================  ================================================================================
column              meaning
==================  ================================================================================
ex_ante_volatility  annualized ``sqrt(w' S w * periods_per_year)`` (NaN before ``min_history`` returns)
var_parametric      1-day normal VaR at the confidence, a fraction of equity
var_historical      1-day historical VaR of the window's portfolio returns
cvar_historical     1-day historical CVaR (mean loss of the tail)
positions           number of positions held at the close
gross_exposure      sum of absolute weights held at the close
==================  ================================================================================

plus what the agents recorded (``at_limit``, ``risk_iterations``, ``correlation_cuts``, ``recoveries_<stage>``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from framework.backtest.result import BacktestResult
from framework.core.market_data import MarketData
from framework.core.types import held_weights
from framework.stats.estimates import Estimates
from framework.stats.risk import historical_var_cvar, normal_quantile

#: Pipeline metrics per segment (besides ``resizes_<stage>``, one per stage of the pipeline).
PIPELINE_METRIC_NAMES: tuple[str, ...] = ("avg_positions", "ex_ante_volatility", "bars_at_limit", "recoveries")
#: Execution metrics per segment (besides ``cost_<model>``, one per cost model of the broker).
EXECUTION_METRIC_NAMES: tuple[str, ...] = ("orders", "fill_rate", "orders_expired", "slippage_bps", "impact_bps")


@dataclass(frozen=True)
class RiskSpec:
    """How the run's risk series is measured (the risk agent's settings when it has one).

    Attributes:
        lookback: Returns in the estimation window.
        covariance: ``sample``, ``ledoit_wolf`` or ``ewma``.
        halflife: Half-life for ``ewma``.
        confidence: VaR confidence.
        min_history: Returns needed before risk is measured.
        periods_per_year: Bars per year, to annualize.

    Example:
        >>> RiskSpec().lookback
        252
    """

    lookback: int = 252
    covariance: str = "sample"
    halflife: float | None = None
    confidence: float = 0.95
    min_history: int = 63
    periods_per_year: int = 252


def risk_spec(agents: Sequence[object], periods_per_year: int = 252) -> RiskSpec:
    """The risk agent's measuring settings when the pipeline has an active one, else the defaults.

    Args:
        agents: The pipeline's agents, in order; the first enabled :class:`~framework.agents.risk.RiskLimits`
            gives the settings.
        periods_per_year: Bars per year, to annualize, when no risk agent gives it.

    Returns:
        The :class:`RiskSpec` the risk series is measured with.

    Example:
        >>> from framework.agents import EqualWeightSizing, RiskLimits
        >>> risk_spec([EqualWeightSizing(), RiskLimits(lookback=126, min_history=21)]).lookback
        126
        >>> risk_spec([EqualWeightSizing()], periods_per_year=52)
        RiskSpec(lookback=252, covariance='sample', halflife=None, confidence=0.95, min_history=63, periods_per_year=52)
    """
    from framework.agents.risk import RiskLimits

    for agent in agents:
        if isinstance(agent, RiskLimits) and agent.enabled:
            return RiskSpec(agent.lookback, agent.covariance, agent.halflife, agent.var_confidence,
                            agent.min_history, agent.periods_per_year)  # fmt: skip
    return RiskSpec(periods_per_year=periods_per_year)


def risk_series(result: BacktestResult, data: MarketData, spec: RiskSpec | None = None) -> dict[str, np.ndarray]:
    """The run's risk series (see the module docstring), each of shape (days,).

    Args:
        result: The backtest.
        data: Its data (for the shared estimate of returns).
        spec: How to measure; the defaults of :class:`RiskSpec` when None.

    Returns:
        Column name -> per-bar values.

    Example:
        >>> from framework.agents import EqualWeightSizing, Orchestrator
        >>> from framework.backtest.engine import run_backtest
        >>> from framework.core.types import SignalFrame
        >>> from framework.execution import SimulatedBroker
        >>> rng = np.random.default_rng(0)
        >>> close = 100 * np.cumprod(1 + rng.normal(size=(100, 2)) * 0.01, axis=0)
        >>> data = MarketData(np.arange(100).astype("datetime64[D]"), ("A", "B"), close)
        >>> ones = np.ones(data.shape)
        >>> result = run_backtest(data, SignalFrame(ones, ones), Orchestrator({"s": EqualWeightSizing()}),
        ...                       SimulatedBroker())
        >>> series = risk_series(result, data, RiskSpec(lookback=50, min_history=20))
        >>> int(series["positions"][-1]), bool(np.isnan(series["ex_ante_volatility"][10]))
        (2, True)
        >>> round(float(series["ex_ante_volatility"][-1]), 3)
        0.113
    """
    spec = spec or RiskSpec()
    weights = result.weights()
    intended = held_weights(result.target_weights, weights)
    estimate = Estimates.of(data).rolling(spec.lookback, spec.covariance, spec.halflife)
    n_days = result.equity.shape[0]
    volatility, var_historical, cvar = np.full(n_days, np.nan), np.full(n_days, np.nan), np.full(n_days, np.nan)
    annualize = float(np.sqrt(spec.periods_per_year))
    start = max(spec.min_history, 1)
    for t in np.flatnonzero(intended.any(axis=1)):
        if t < start or estimate.n_observations(int(t)) < spec.min_history:
            continue
        w = intended[t]
        returns = estimate.portfolio_returns(int(t), w)
        volatility[t] = np.sqrt(estimate.portfolio_variance(int(t), w, returns))
        var_historical[t], cvar[t] = historical_var_cvar(returns, spec.confidence)
    zero = ~intended.any(axis=1) & (np.arange(n_days) >= start)
    volatility[zero] = var_historical[zero] = cvar[zero] = 0.0
    series = {
        "ex_ante_volatility": volatility * annualize,
        "var_parametric": volatility * normal_quantile(spec.confidence),
        "var_historical": var_historical,
        "cvar_historical": cvar,
        "positions": np.count_nonzero(result.positions, axis=1).astype(np.float64),
        "gross_exposure": np.abs(weights).sum(axis=1),
    }
    series.update(result.agent_series)
    return series


def pipeline_metrics(
    result: BacktestResult, series: Mapping[str, np.ndarray], segments: Mapping[str, tuple[int, int]]
) -> dict[str, float]:
    """The decision pipeline's metrics of each segment, keyed ``<segment>/<name>``.

    ``avg_positions`` (mean positions held), ``ex_ante_volatility`` (mean of the series, to set beside the realised
    ``volatility``), ``bars_at_limit`` (bars where the risk agent resized), ``recoveries`` (stage failures recovered
    from), and ``resizes_<stage>`` (decisions in the log per stage: one per ticker touched).

    Args:
        result: The backtest.
        series: Its :func:`risk_series`.
        segments: Segment name -> (start, stop); ``full`` is added.

    Returns:
        The metrics.

    Example:
        >>> result = BacktestResult.empty(np.arange(4).astype("datetime64[D]"), ("A",), 100.0)
        >>> series = {"positions": np.array([0.0, 1.0, 1.0, 2.0]), "ex_ante_volatility": np.full(4, 0.1)}
        >>> pipeline_metrics(result, series, {"train": (0, 2)})["full/avg_positions"]
        1.0
    """
    counts = result.log.counts(result.equity.shape[0])
    recoveries = sum((v for k, v in series.items() if k.startswith("recoveries_")), np.zeros(result.equity.shape[0]))
    at_limit = series.get("at_limit")
    out: dict[str, float] = {}
    for name, (start, stop) in {**segments, "full": (0, result.equity.shape[0])}.items():
        part = slice(start, stop)
        volatility = series.get("ex_ante_volatility", np.full(result.equity.shape[0], np.nan))[part]
        out[f"{name}/avg_positions"] = float(np.mean(series["positions"][part]))
        out[f"{name}/ex_ante_volatility"] = float(np.nanmean(volatility)) if np.isfinite(volatility).any() else np.nan
        out[f"{name}/bars_at_limit"] = float(np.sum(at_limit[part])) if at_limit is not None else 0.0
        out[f"{name}/recoveries"] = float(np.sum(recoveries[part]))
        for agent, per_bar in counts.items():
            if agent != "broker":
                key = f"{name}/resizes_{agent.split('.')[0]}"  # a fallback's decisions count for its stage
                out[key] = out.get(key, 0.0) + float(per_bar[part].sum())
    return out


def execution_metrics(result: BacktestResult, segments: Mapping[str, tuple[int, int]]) -> dict[str, float]:
    """How the orders of each segment were executed, keyed ``<segment>/<name>``.

    - ``orders``: orders decided in the segment; ``fill_rate``: the shares they filled over the shares they
      asked for (NaN without orders); ``orders_expired``: those that ended with nothing filled (status expired);
    - ``slippage_bps``: the notional-weighted mean of ``side * (fill price / decision close - 1)`` in basis
      points over the segment's fills (positive: paid more than the close the order was decided at); the close
      of the decision bar is the order's reference, so a limit can give a negative slippage;
    - ``impact_bps``: what the square-root impact model charged, in basis points of the notional traded;
    - ``cost_<model>``: what each cost model of the broker charged in the segment (``cost_proportional`` for
      ``cost_bps``, ``cost_borrow`` for borrow fees...).

    Args:
        result: The backtest.
        segments: Segment name -> (start, stop); ``full`` is added. Orders count in the segment of the bar they
            were decided on, fills and costs in that of the bar they filled on.

    Returns:
        The metrics.

    Example:
        >>> result = BacktestResult.empty(np.arange(3).astype("datetime64[D]"), ("A",), 100.0)
        >>> metrics = execution_metrics(result, {"train": (0, 3)})
        >>> metrics["train/orders"], bool(np.isnan(metrics["train/fill_rate"]))
        (0.0, True)
    """
    from framework.execution.orders import EXPIRED

    orders = result.orders
    n_days = result.equity.shape[0]
    close = result.decision_close if result.decision_close is not None else result.close
    trade_order = result.trade_order
    order_bar = np.full(max(int(orders["id"].max()) + 1, 0) if orders["id"].size else 0, 0, dtype=np.int64)
    order_bar[orders["id"]] = orders["decision_bar"]
    decision = order_bar[trade_order] if trade_order.size else np.empty(0, dtype=np.int64)
    reference = close[decision, result.trade_asset] if trade_order.size else np.empty(0)
    notional = np.abs(result.trade_quantity * result.trade_price)
    with np.errstate(invalid="ignore", divide="ignore"):
        slippage = np.sign(result.trade_quantity) * (result.trade_price / reference - 1.0) * 1e4
    labels = result.cost_labels
    model_costs = result.model_costs if result.model_costs is not None else np.zeros((n_days, 0))
    out: dict[str, float] = {}
    for name, (start, stop) in {**segments, "full": (0, n_days)}.items():
        mine = (orders["decision_bar"] >= start) & (orders["decision_bar"] < stop)
        asked = float(np.abs(orders["quantity"][mine]).sum())
        fills = (result.trade_bar >= start) & (result.trade_bar < stop)
        traded = float(notional[fills].sum())
        out[f"{name}/orders"] = float(mine.sum())
        out[f"{name}/fill_rate"] = float(np.abs(orders["filled"][mine]).sum()) / asked if asked else np.nan
        out[f"{name}/orders_expired"] = float((orders["status"][mine] == EXPIRED).sum())
        out[f"{name}/slippage_bps"] = float(np.sum(slippage[fills] * notional[fills]) / traded) if traded else np.nan
        impact = model_costs[start:stop, labels.index("impact")].sum() if "impact" in labels else 0.0
        out[f"{name}/impact_bps"] = float(impact / traded * 1e4) if traded else np.nan
        for column, label in enumerate(labels):
            out[f"{name}/cost_{label}"] = float(model_costs[start:stop, column].sum())
    return out
