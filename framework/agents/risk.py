"""Risk management: limits on volatility, position risk, VaR and CVaR, enforced by a feedback loop.

Optional drawdown rules close positions or cut the portfolio after losses.

Measures, on every bar, of the weights the portfolio would hold after the next fill (the proposal where set,
the current weights where NaN), from the run's shared causal estimate (:mod:`framework.stats.estimates`):

- **portfolio risk**: ex-ante volatility ``sqrt(w' S w * periods_per_year)``, annualized;
- **position risk** (``position_risk``): ``standalone`` (the default) is ``|w_i| * vol_i``, the position's own
  annualized volatility as a fraction of equity; ``contribution`` is ``w_i (S w)_i / sqrt(w' S w)``, its share
  of the portfolio's volatility (annualized; the contributions sum to the portfolio's volatility);
- **VaR** and **CVaR**, one period, at ``var_confidence``: ``parametric`` (normal, zero mean) or ``historical``
  (the window's portfolio returns), see :mod:`framework.stats.risk`.

**The feedback loop** (the original design's RiskFeedbackLoop and PositionResizingAgent). Up to
``max_iterations`` times, while a limit is breached: every position over ``max_position_risk`` is scaled by
``limit / risk`` but not below ``resize_threshold`` of its size in that iteration; then, if the portfolio's
volatility, VaR or CVaR is over its limit, every position is scaled by ``limit / measure`` (the smallest such
ratio), again not below ``resize_threshold``. **Final step:** if a limit still does not hold after the last
iteration, every position is scaled by the one factor that makes every limit hold (the smallest
``limit / measure`` over all limits; every measure scales linearly with the portfolio), and the log says so.
After this agent every limit holds on every bar, by the run's own estimate.

**Drawdown rules** (as the per-security and portfolio drawdown risk models of well-known engines):
``max_position_drawdown`` closes a position whose price has fallen that far from its best close since the
position was opened (for a short, risen from its lowest), and keeps it closed for ``drawdown_cooldown`` bars;
``max_portfolio_drawdown`` scales every position by ``drawdown_exposure`` (0: to cash) when the equity falls that
far below its peak, for ``drawdown_cooldown`` bars, after which the peak restarts from the current equity.

Until ``min_history`` returns exist, risk cannot be measured and the agent holds nothing (every position's target
is 0), so no limit is ever unmeasured. With every limit and rule off (null) the agent is a no-op.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np

from framework.agents.base import Agent
from framework.core.checks import check_choice, check_int, check_number
from framework.core.errors import AgentError, ConfigError
from framework.core.market_data import MarketData
from framework.core.types import Adjustment, DecisionLog, ExecutionState, SignalFrame, TradeProposal
from framework.stats.covariance import check_covariance_method
from framework.stats.estimates import Estimates, RollingEstimate
from framework.stats.risk import check_confidence, historical_var_cvar, normal_quantile, parametric_cvar

#: Ways to measure a position's risk.
POSITION_RISK: tuple[str, ...] = ("standalone", "contribution")
#: Ways to compute VaR and CVaR.
VAR_METHODS: tuple[str, ...] = ("parametric", "historical")
#: Relative slack when comparing a measure with its limit (rounding after an exact rescale is not a breach).
TOLERANCE = 1e-9


class RiskMeasures(NamedTuple):
    """The risk of one weight vector on one bar.

    Attributes:
        volatility: Annualized ex-ante volatility.
        var: One-period VaR (a loss, fraction of equity) by ``var_method``.
        cvar: One-period CVaR by ``var_method``.
        position_risk: Risk of each position (see the module docstring), shape (tickers,).

    Example:
        >>> measures = RiskMeasures(volatility=0.2, var=0.02, cvar=0.025, position_risk=np.array([0.1, 0.05]))
        >>> measures.volatility, measures.position_risk.tolist()
        (0.2, [0.1, 0.05])
    """

    volatility: float
    var: float
    cvar: float
    position_risk: np.ndarray

    def scaled(self, factor: float) -> RiskMeasures:
        """The measures of the portfolio with every position multiplied by ``factor`` > 0.

        Every measure scales linearly with the positions, so no estimate is read again.

        Args:
            factor: The common multiplier of the positions.

        Returns:
            Every measure times ``factor``.

        Example:
            >>> half = RiskMeasures(0.2, 0.02, 0.025, np.array([0.1, 0.05])).scaled(0.5)
            >>> half.volatility, half.var, half.cvar, half.position_risk.tolist()
            (0.1, 0.01, 0.0125, [0.05, 0.025])
        """
        return RiskMeasures(self.volatility * factor, self.var * factor, self.cvar * factor,
                            self.position_risk * factor)  # fmt: skip


class RiskLimits(Agent):
    """Risk limits with a feedback loop that resizes positions until they hold (see the module docstring).

    Requires: ``min_history`` bars of returns (the run's shared estimate), the current positions and equity.
    Sets: ``target_weights``: resized where a limit was breached (or a drawdown rule fired); unchanged elsewhere.

    Args:
        max_portfolio_risk: Largest annualized ex-ante volatility of the portfolio, or None.
        max_position_risk: Largest risk of one position (``position_risk``), or None.
        var_limit: Largest one-period VaR (fraction of equity), or None.
        cvar_limit: Largest one-period CVaR, or None.
        var_confidence: Confidence of VaR and CVaR, in (0.5, 1).
        var_method: ``parametric`` or ``historical``.
        position_risk: ``standalone`` or ``contribution``.
        max_iterations: Iterations of the feedback loop before the final step, >= 1.
        resize_threshold: In each iteration a position keeps at least this fraction of its size, in (0, 1].
        lookback: Returns in the estimation window, >= 2.
        covariance: ``sample``, ``ledoit_wolf`` or ``ewma``.
        halflife: Half-life in bars, for ``ewma``.
        min_history: Returns needed before risk is measured (before that, nothing is held), in [2, lookback].
        periods_per_year: Bars per year, to annualize volatilities.
        max_position_drawdown: Close a position down this fraction from its best close, or None.
        max_portfolio_drawdown: Scale the portfolio when the equity is this fraction below its peak, or None.
        drawdown_exposure: Fraction of each position kept while the portfolio rule is active, in [0, 1].
        drawdown_cooldown: Bars a drawdown rule stays in force, >= 1.

    Raises:
        ConfigError: For a parameter out of range.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> close = 100 * np.cumprod(1 + rng.normal(size=(300, 2)) * np.array([0.03, 0.01]), axis=0)
        >>> data = MarketData(np.arange(300).astype("datetime64[D]"), ("A", "B"), close)
        >>> agent = RiskLimits(max_portfolio_risk=None, var_limit=None)  # position risk <= 0.05 only
        >>> agent.prepare(data, None)
        >>> state = ExecutionState.empty(("A", "B"))
        >>> state.bar, state.close, state.positions, state.equity = 299, close[299], np.zeros(2), 1.0
        >>> out = agent.propose(TradeProposal(np.array([0.2, 0.2])), state).target_weights
        >>> agent.measure(299, out).position_risk.round(3).tolist()  # A is cut to its limit, B is within it
        [0.05, 0.031]
    """

    requires: ClassVar[tuple[str, ...]] = ("returns", "positions", "equity")

    def __init__(
        self,
        max_portfolio_risk: float | None = 0.15,
        max_position_risk: float | None = 0.05,
        var_limit: float | None = 0.02,
        cvar_limit: float | None = None,
        var_confidence: float = 0.95,
        var_method: str = "parametric",
        position_risk: str = "standalone",
        max_iterations: int = 3,
        resize_threshold: float = 0.5,
        lookback: int = 252,
        covariance: str = "sample",
        halflife: float | None = None,
        min_history: int = 63,
        periods_per_year: int = 252,
        max_position_drawdown: float | None = None,
        max_portfolio_drawdown: float | None = None,
        drawdown_exposure: float = 0.0,
        drawdown_cooldown: int = 21,
    ) -> None:
        self.max_portfolio_risk = max_portfolio_risk
        self.max_position_risk = max_position_risk
        self.var_limit = var_limit
        self.cvar_limit = cvar_limit
        self.var_confidence = var_confidence
        self.var_method = var_method
        self.position_risk = position_risk
        self.max_iterations = max_iterations
        self.resize_threshold = resize_threshold
        self.lookback = lookback
        self.covariance = covariance
        self.halflife = halflife
        self.min_history = min_history
        self.periods_per_year = periods_per_year
        self.max_position_drawdown = max_position_drawdown
        self.max_portfolio_drawdown = max_portfolio_drawdown
        self.drawdown_exposure = drawdown_exposure
        self.drawdown_cooldown = drawdown_cooldown
        for key in ("max_portfolio_risk", "max_position_risk", "var_limit", "cvar_limit"):
            if getattr(self, key) is not None:
                check_number(key, getattr(self, key), minimum=0, exclusive_minimum=True)
        for key in ("max_position_drawdown", "max_portfolio_drawdown"):
            if getattr(self, key) is not None:
                check_number(key, getattr(self, key), minimum=0, exclusive_minimum=True, maximum=1)
        check_confidence("var_confidence", var_confidence)
        check_choice("var_method", var_method, VAR_METHODS)
        check_choice("position_risk", position_risk, POSITION_RISK)
        check_int("max_iterations", max_iterations)
        check_number("resize_threshold", resize_threshold, minimum=0, exclusive_minimum=True, maximum=1)
        check_int("lookback", lookback, minimum=2)
        check_covariance_method("", covariance, halflife)
        check_int("min_history", min_history, minimum=2)
        if min_history > lookback:
            raise ConfigError(f"min_history: must be <= lookback ({lookback}), got {min_history}")
        check_int("periods_per_year", periods_per_year)
        check_number("drawdown_exposure", drawdown_exposure, minimum=0, maximum=1)
        check_int("drawdown_cooldown", drawdown_cooldown)
        self._limits = {
            name: value
            for name, value in (("volatility", max_portfolio_risk), ("var", var_limit), ("cvar", cvar_limit))
            if value is not None
        }
        self._active = bool(self._limits) or max_position_risk is not None
        self._drawdown_rules = max_position_drawdown is not None or max_portfolio_drawdown is not None
        self._z = normal_quantile(var_confidence)
        self._cvar_factor = float(parametric_cvar(1.0, var_confidence))
        self._annualize = float(np.sqrt(periods_per_year))
        self._estimate: RollingEstimate | None = None

    @property
    def enabled(self) -> bool:
        """Whether any limit or drawdown rule is set (otherwise the agent is a no-op).

        Example:
            >>> RiskLimits().enabled
            True
            >>> RiskLimits(max_portfolio_risk=None, max_position_risk=None, var_limit=None).enabled
            False
            >>> RiskLimits(max_portfolio_risk=None, max_position_risk=None, var_limit=None,
            ...            max_portfolio_drawdown=0.2).enabled
            True
        """
        return self._active or self._drawdown_rules

    def history_needed(self) -> int:
        """``min_history`` bars of returns when a limit is set, else none.

        Returns:
            The number of bars; :meth:`check` refuses a run with fewer returns.

        Example:
            >>> RiskLimits(lookback=60, min_history=20).history_needed()
            20
            >>> RiskLimits(max_portfolio_risk=None, max_position_risk=None, var_limit=None,
            ...            max_position_drawdown=0.1).history_needed()  # drawdown rules need no estimate
            0
        """
        return int(self.min_history) if self._active else 0

    @property
    def supports_panel(self) -> bool:
        """Only when every limit and rule is off (the agent is then a no-op).

        Example:
            >>> RiskLimits().supports_panel
            False
            >>> RiskLimits(max_portfolio_risk=None, max_position_risk=None, var_limit=None).supports_panel
            True
        """
        return not self.enabled

    def panel_targets(
        self,
        previous: np.ndarray,
        data: MarketData,
        signals: SignalFrame,
        allocation: np.ndarray | None,
        log: DecisionLog,
    ) -> np.ndarray:
        """With every limit off, the previous stage's targets pass through.

        Args:
            previous: The previous stage's targets, shape (days, tickers).
            data: The whole panel (not read).
            signals: The combined signals (not read).
            allocation: The portfolio's fixed allocation, or None (not read).
            log: The run's decision log (nothing is recorded).

        Returns:
            ``previous`` itself.

        Raises:
            NotImplementedError: When a limit or rule is set.

        Example:
            >>> data = MarketData(np.arange(2).astype("datetime64[D]"), ("A",), np.array([[10.0], [11.0]]))
            >>> signals = SignalFrame(np.ones((2, 1)), np.ones((2, 1)))
            >>> previous = np.array([[np.nan], [1.0]])
            >>> off = RiskLimits(max_portfolio_risk=None, max_position_risk=None, var_limit=None)
            >>> off.panel_targets(previous, data, signals, None, DecisionLog()) is previous
            True
            >>> RiskLimits().panel_targets(previous, data, signals, None, DecisionLog())
            Traceback (most recent call last):
            ...
            NotImplementedError: risk limits are measured bar by bar
        """
        if self.enabled:
            raise NotImplementedError("risk limits are measured bar by bar")
        return previous

    def prepare(self, data: MarketData, signals: SignalFrame | None) -> None:
        """Take the run's shared estimate; allocate the per-bar records.

        Args:
            data: The whole panel of the run.
            signals: The combined signals of the run (not read).

        Example:
            >>> close = np.array([[100.0, 50.0], [102.0, 50.5], [99.0, 50.0], [103.0, 50.5], [100.0, 50.0]])
            >>> agent = RiskLimits(lookback=4, min_history=3)
            >>> agent.prepare(MarketData(np.arange(5).astype("datetime64[D]"), ("A", "B"), close), None)
            >>> agent.volatility_.tolist(), agent.iterations_.tolist()  # nothing measured yet
            ([nan, nan, nan, nan, nan], [0, 0, 0, 0, 0])
        """
        n_days, n = data.shape
        self._estimate = Estimates.of(data).rolling(self.lookback, self.covariance, self.halflife)
        nan = np.full(n_days, np.nan)
        self.volatility_ = nan.copy()
        self.var_ = nan.copy()
        self.cvar_ = nan.copy()
        self.iterations_ = np.zeros(n_days, dtype=np.int64)
        self.at_limit_ = np.zeros(n_days, dtype=bool)
        self.forced_ = np.zeros(n_days, dtype=bool)
        self._extreme = np.full(n, np.nan)
        self._side = np.zeros(n)
        self._blocked_until = np.full(n, -1)
        self._peak_equity = -np.inf
        self._portfolio_rule_until = -1

    # --- measuring ---------------------------------------------------------------------------------------

    def measure(self, bar: int, weights: np.ndarray) -> RiskMeasures:
        """The risk of ``weights`` at ``bar`` by the run's estimate (see the module docstring).

        Args:
            bar: The bar, with at least 2 returns in its window.
            weights: Shape (tickers,), fractions of equity.

        Returns:
            The :class:`RiskMeasures` (``position_risk`` of every ticker, 0 where nothing is held; empty when
            ``max_position_risk`` is None, as it is then not measured).

        Raises:
            AgentError: Without :meth:`prepare`.

        Example:
            >>> close = np.array([[100.0, 50.0], [102.0, 50.5], [99.0, 50.0], [103.0, 50.5], [100.0, 50.0]])
            >>> agent = RiskLimits(lookback=4, min_history=3)
            >>> agent.prepare(MarketData(np.arange(5).astype("datetime64[D]"), ("A", "B"), close), None)
            >>> measures = agent.measure(4, np.array([0.5, 0.0]))
            >>> round(measures.volatility, 4), round(measures.var, 4), round(measures.cvar, 4)
            (0.2804, 0.0291, 0.0364)
            >>> measures.position_risk.round(4).tolist()  # standalone: |w| x annualized volatility
            [0.2804, 0.0]
        """
        columns = np.flatnonzero(weights)
        measures = self._measure(bar, columns, weights[columns])
        if self.max_position_risk is None:
            return measures
        position = np.zeros(weights.shape)
        position[columns] = measures.position_risk
        return measures._replace(position_risk=position)

    def _measure(self, bar: int, columns: np.ndarray, weights: np.ndarray) -> RiskMeasures:
        """The risk of the positions ``weights`` held in ``columns`` (nothing elsewhere), over held tickers only."""
        estimate = self._estimate
        if estimate is None:
            raise AgentError(f"agent.{self.name}: RiskLimits needs prepare(data, signals) first")
        if not columns.size:
            return RiskMeasures(0.0, 0.0, 0.0, np.zeros(0))
        returns = estimate.portfolio_returns(bar, weights, columns) if self.covariance != "ledoit_wolf" else None
        sigma = float(np.sqrt(estimate.portfolio_variance(bar, weights, returns, columns)))
        if self.var_method == "parametric":
            var, cvar = self._z * sigma, sigma * self._cvar_factor
        else:
            window = estimate.portfolio_returns(bar, weights, columns) if returns is None else returns
            var, cvar = historical_var_cvar(window, self.var_confidence)
        if self.max_position_risk is None:
            position = np.zeros(0)
        elif self.position_risk == "standalone":
            position = np.abs(weights) * estimate.volatility(bar)[columns] * self._annualize
        elif sigma > 0:
            marginal = estimate.marginal_variance(bar, weights, returns, columns)
            position = weights * marginal * (self._annualize / sigma)
        else:
            position = np.zeros_like(weights)
        return RiskMeasures(sigma * self._annualize, var, cvar, position)

    def _portfolio_ratio(self, measures: RiskMeasures) -> tuple[float, str, float, float]:
        """The smallest ``limit / measure`` over the portfolio limits, with the name, measure and limit."""
        worst = (1.0, "", 0.0, 0.0)
        for name, limit in self._limits.items():
            value = getattr(measures, name)
            if value > limit * (1 + TOLERANCE):
                ratio = limit / value
                if ratio < worst[0]:
                    worst = (ratio, name, value, limit)
        return worst

    def _breached(self, measures: RiskMeasures) -> bool:
        if self._portfolio_ratio(measures)[0] < 1.0:
            return True
        limit = self.max_position_risk
        return limit is not None and bool((measures.position_risk > limit * (1 + TOLERANCE)).any())

    # --- the pipeline interface --------------------------------------------------------------------------

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        """Resize the proposal until every limit holds (see the module docstring).

        Args:
            proposal: The previous stage's targets.
            state: What is known at the close of bar t: the positions, prices and equity.

        Returns:
            ``proposal`` itself when every position keeps its size; else every resized position as an explicit
            target, reason ``"risk limits"``.

        Example:
            >>> close = np.array([[100.0, 50.0], [102.0, 50.5], [99.0, 50.0], [103.0, 50.5], [100.0, 50.0]])
            >>> agent = RiskLimits(max_portfolio_risk=None, max_position_risk=0.1, var_limit=None, lookback=4,
            ...                    min_history=3)
            >>> agent.prepare(MarketData(np.arange(5).astype("datetime64[D]"), ("A", "B"), close), None)
            >>> state = ExecutionState.empty(("A", "B"))
            >>> state.bar, state.close, state.positions, state.equity = 4, close[4], np.zeros(2), 1.0
            >>> out = agent.propose(TradeProposal(np.array([0.5, 0.5])), state).target_weights
            >>> out.round(4).tolist(), agent.measure(4, out).position_risk.round(4).tolist()  # A cut in 2 iterations
            ([0.1783, 0.5], [0.1, 0.0912])
            >>> state.bar = 2  # 2 returns, min_history 3: nothing is held yet
            >>> agent.propose(TradeProposal(np.array([0.5, 0.5])), state).target_weights.tolist()
            [0.0, 0.0]
        """
        if not self.enabled:
            return proposal
        adjustment = self.assess(proposal, state)
        if adjustment is None:
            return proposal
        return adjustment.apply(proposal, state.held(proposal.target_weights), "risk limits")

    def assess(self, proposal: TradeProposal, state: ExecutionState) -> Adjustment | None:
        """The resizing the limits and rules ask for on this bar, or None when every position keeps its size.

        Args:
            proposal: The previous stage's targets.
            state: The state of the bar.

        Returns:
            The :class:`Adjustment`: scale per ticker, the measures after resizing (``volatility``, ``var``,
            ``cvar``, ``iterations``) and warnings (limits forced, no estimate yet).

        Example:
            >>> close = np.array([[100.0, 50.0], [102.0, 50.5], [99.0, 50.0], [103.0, 50.5], [100.0, 50.0]])
            >>> agent = RiskLimits(max_portfolio_risk=0.2, max_position_risk=None, var_limit=None, lookback=4,
            ...                    min_history=3)
            >>> agent.prepare(MarketData(np.arange(5).astype("datetime64[D]"), ("A", "B"), close), None)
            >>> state = ExecutionState.empty(("A", "B"))
            >>> state.bar, state.close, state.positions, state.equity = 4, close[4], np.zeros(2), 1.0
            >>> adjustment = agent.assess(TradeProposal(np.array([0.5, 0.5])), state)
            >>> adjustment.scale.round(4).tolist(), adjustment.metrics["volatility"], adjustment.metrics["iterations"]
            ([0.541, 0.541], 0.2, 1.0)
            >>> state.log.to_frame(np.arange(5).astype("datetime64[D]"), ("A", "B"))["reason"].tolist()
            ['portfolio volatility 0.3697 > 0.2', 'portfolio volatility 0.3697 > 0.2']
            >>> agent.assess(TradeProposal(np.array([0.1, 0.1])), state) is None  # within the limit
            True
        """
        t = state.bar
        before = state.held(proposal.target_weights)
        weights = before
        if self._drawdown_rules:
            weights = self._drawdown_rules_apply(before, ~np.isnan(proposal.target_weights), state)
        if not self._active or not weights.any():
            return self._adjustment(before, weights, {}, ())
        estimate = self._estimate
        assert estimate is not None
        observed = estimate.n_observations(t)
        if observed < self.min_history:
            nonzero = np.flatnonzero(weights)
            state.log.record(t, self.name, nonzero, weights[nonzero], 0.0,
                             "no risk estimate yet: {value:.0f} of {limit:.0f} returns", values=observed,
                             limit=self.min_history)  # fmt: skip
            return self._adjustment(before, np.zeros_like(weights), {}, ("no risk estimate yet",))
        columns = np.flatnonzero(weights)
        held = weights[columns]
        measures = self._measure(t, columns, held)
        iterations = 0
        breached = self._breached(measures)
        while breached and iterations < self.max_iterations:
            iterations += 1
            held, measures = self._resize_positions(t, columns, held, measures, state.log)
            ratio, name, value, limit = self._portfolio_ratio(measures)
            if ratio < 1.0:
                factor = max(ratio, self.resize_threshold)
                new = held * factor
                state.log.record(t, self.name, columns, held, new,
                                 f"portfolio {_LABELS[name]} {{value:.4f}} > {{limit:g}}", values=value,
                                 limit=limit)  # fmt: skip
                held, measures = new, measures.scaled(factor)
            breached = self._breached(measures)
        if breached:
            held, measures = self._force(t, columns, held, measures, state.log, iterations)
        self.iterations_[t] = iterations
        self.at_limit_[t] = iterations > 0
        self.volatility_[t], self.var_[t], self.cvar_[t] = measures.volatility, measures.var, measures.cvar
        if iterations or breached:
            weights = weights.copy() if weights is before else weights
            weights[columns] = held
        metrics = {"volatility": measures.volatility, "var": measures.var, "cvar": measures.cvar,
                   "iterations": float(iterations)}  # fmt: skip
        return self._adjustment(before, weights, metrics, ("limits forced",) if breached else ())

    def _resize_positions(
        self, t: int, columns: np.ndarray, held: np.ndarray, measures: RiskMeasures, log: DecisionLog
    ) -> tuple[np.ndarray, RiskMeasures]:
        """Scale every position over its limit by ``limit / risk``, not below ``resize_threshold``."""
        limit = self.max_position_risk
        if limit is None:
            return held, measures
        risk = measures.position_risk
        over = np.flatnonzero(risk > limit * (1 + TOLERANCE))
        if not over.size:
            return held, measures
        factors = np.maximum(limit / risk[over], self.resize_threshold)
        new = held.copy()
        new[over] *= factors
        log.record(t, self.name, columns[over], held[over], new[over], "position risk {value:.4f} > {limit:g}",
                   values=risk[over].copy(), limit=limit)  # fmt: skip
        return new, self._measure(t, columns, new)

    def _force(
        self,
        t: int,
        columns: np.ndarray,
        held: np.ndarray,
        measures: RiskMeasures,
        log: DecisionLog,
        iterations: int,
    ) -> tuple[np.ndarray, RiskMeasures]:
        """The final step: one factor for every position that makes every limit hold."""
        factor = self._portfolio_ratio(measures)[0]
        if self.max_position_risk is not None:
            risk = measures.position_risk
            over = risk > self.max_position_risk
            if over.any():
                factor = min(factor, float((self.max_position_risk / risk[over]).min()))
        new = held * factor
        log.record(t, self.name, columns, held, new,
                   f"limits still breached after {iterations} iteration(s): every position scaled by {{value:.4f}}",
                   values=factor)  # fmt: skip
        self.forced_[t] = True
        return new, measures.scaled(factor)

    @staticmethod
    def _adjustment(
        before: np.ndarray, weights: np.ndarray, metrics: dict[str, float], warnings: tuple[str, ...]
    ) -> Adjustment | None:
        """The adjustment from ``before`` to ``weights``, or None when they are the same."""
        if weights is before or not (weights != before).any():
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(before != 0, weights / before, 1.0)
        return Adjustment(scale, weights, metrics, warnings)

    def _drawdown_rules_apply(self, weights: np.ndarray, explicit: np.ndarray, state: ExecutionState) -> np.ndarray:
        """Apply the position and portfolio drawdown rules to ``weights`` (a new array); ``explicit``: targets set."""
        t = state.bar
        out = weights.copy()
        if self.max_position_drawdown is not None:
            side = np.sign(state.positions)
            opened = side != self._side
            self._extreme = np.where(opened, state.close, self._extreme)
            self._extreme = np.where(side > 0, np.fmax(self._extreme, state.close),
                                     np.where(side < 0, np.fmin(self._extreme, state.close), np.nan))  # fmt: skip
            self._side = side
            with np.errstate(invalid="ignore", divide="ignore"):
                drawdown = np.where(side > 0, state.close / self._extreme - 1.0, 1.0 - state.close / self._extreme)
            stop = (side != 0) & (drawdown < -self.max_position_drawdown)
            if stop.any():
                self._blocked_until[stop] = t + self.drawdown_cooldown - 1
                hit = np.flatnonzero(stop)
                state.log.record(t, self.name, hit, out[hit], 0.0, "position drawdown {value:.4f} beyond -{limit:g}",
                                 values=drawdown[hit], limit=self.max_position_drawdown)  # fmt: skip
            blocked = self._blocked_until >= t
            out[blocked] = 0.0
        if self.max_portfolio_drawdown is not None:
            if t > self._portfolio_rule_until:
                if self._portfolio_rule_until >= 0 and t == self._portfolio_rule_until + 1:
                    self._peak_equity = state.equity  # the rule ended: the peak restarts here
                self._peak_equity = max(self._peak_equity, state.equity)
                drawdown = state.equity / self._peak_equity - 1.0
                if drawdown < -self.max_portfolio_drawdown:
                    self._portfolio_rule_until = t + self.drawdown_cooldown - 1
                    held = np.flatnonzero(out)
                    state.log.record(t, self.name, held, out[held], out[held] * self.drawdown_exposure,
                                     "portfolio drawdown {value:.4f} beyond -{limit:g}", values=drawdown,
                                     limit=self.max_portfolio_drawdown)  # fmt: skip
            if t <= self._portfolio_rule_until:
                if t == self._portfolio_rule_until - self.drawdown_cooldown + 1:
                    out *= self.drawdown_exposure
                else:  # a held position (NaN target) was scaled on the bar the rule fired: once, not compounded
                    out[explicit] *= self.drawdown_exposure
        return out

    def series(self) -> dict[str, np.ndarray]:
        """Per-bar records: the measures after resizing, iterations, and bars at a limit.

        Returns:
            Series name to a shape (days,) array (NaN on the bars not measured); none when the agent is a no-op
            or was not prepared.

        Example:
            >>> close = np.array([[100.0, 50.0], [102.0, 50.5], [99.0, 50.0], [103.0, 50.5], [100.0, 50.0]])
            >>> agent = RiskLimits(max_portfolio_risk=0.2, max_position_risk=None, var_limit=None, lookback=4,
            ...                    min_history=3)
            >>> agent.prepare(MarketData(np.arange(5).astype("datetime64[D]"), ("A", "B"), close), None)
            >>> state = ExecutionState.empty(("A", "B"))
            >>> state.bar, state.close, state.positions, state.equity = 4, close[4], np.zeros(2), 1.0
            >>> _ = agent.propose(TradeProposal(np.array([0.5, 0.5])), state)
            >>> series = agent.series()
            >>> sorted(series)
            ['at_limit', 'limits_forced', 'risk_cvar', 'risk_iterations', 'risk_var', 'risk_volatility']
            >>> series["risk_volatility"].tolist(), series["at_limit"].tolist()
            ([nan, nan, nan, nan, 0.2], [0.0, 0.0, 0.0, 0.0, 1.0])
        """
        if not self.enabled or not hasattr(self, "volatility_"):
            return {}
        return {
            "risk_volatility": self.volatility_,
            "risk_var": self.var_,
            "risk_cvar": self.cvar_,
            "risk_iterations": self.iterations_.astype(np.float64),
            "at_limit": self.at_limit_.astype(np.float64),
            "limits_forced": self.forced_.astype(np.float64),
        }


_LABELS = {"volatility": "volatility", "var": "VaR", "cvar": "CVaR"}
