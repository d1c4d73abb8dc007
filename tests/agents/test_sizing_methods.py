"""Sizing agents against skfolio and cases worked by hand: weights, bounds, schedules, panels, adaptive tilt."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skfolio.moments import EmpiricalCovariance, EWCovariance, LedoitWolf
from skfolio.optimization import InverseVolatility, MeanRisk, RiskBudgeting
from skfolio.prior import EmpiricalPrior

from framework.agents.base import RunContext
from framework.agents.sizing import (
    TILT_BOUNDS,
    EqualWeightSizing,
    FixedAllocationSizing,
    InverseVolatilitySizing,
    OptimizerSizing,
    RiskParitySizing,
    SignalWeightedSizing,
    SizingAgent,
    bound_positions,
)
from framework.core.errors import AgentError, ConfigError, EstimationError
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog, ExecutionState, SignalFrame, TradeProposal
from framework.data import SP500Loader

nan = np.nan
TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}  # CLARABEL to about 1e-6 in weights


# --- driving an agent bar by bar ---------------------------------------------------------------------------


def make_data(close: np.ndarray, dates: np.ndarray | None = None, tickers: tuple[str, ...] | None = None) -> MarketData:
    days, n = close.shape
    dates = np.arange(days).astype("datetime64[D]") if dates is None else dates
    return MarketData(dates, tickers or tuple("ABCDEFGH"[:n]), close)


def drive(
    agent: SizingAgent,
    data: MarketData,
    signal: np.ndarray,
    *,
    confidence: np.ndarray | None = None,
    allocation: np.ndarray | None = None,
    held: np.ndarray | None = None,
    bars: list[int] | range | None = None,
    name: str = "sizing",
) -> tuple[np.ndarray, DecisionLog]:
    """``agent.propose`` on ``bars`` (all by default) of one run, as the engine calls it; targets per bar and log.

    ``held`` (days, tickers) are the weights the portfolio holds at each bar's close (what ``state.weights``
    reports); none by default.
    """
    signal = np.asarray(signal, dtype=np.float64)
    confidence = np.ones_like(signal) if confidence is None else confidence
    agent.name = name
    agent.prepare(data, SignalFrame(signal, confidence))
    log = DecisionLog()
    state = ExecutionState.empty(data.tickers)
    state.log, state.allocation, state.equity = log, allocation, 1.0
    out = np.full(signal.shape, nan)
    for t in range(data.n_days) if bars is None else bars:
        state.bar, state.date, state.close = t, data.dates[t], data.close[t]
        state.signal, state.confidence = signal[t], confidence[t]
        weights = np.zeros(data.n_tickers) if held is None else held[t]
        state.positions = weights * state.equity / data.close[t]
        out[t] = agent.propose(TradeProposal(np.full(data.n_tickers, nan)), state).target_weights
    return out, log


def frame(log: DecisionLog, data: MarketData) -> Any:
    return log.to_frame(data.dates, data.tickers)


def random_close(days: int, tickers: int, seed: int, vols: np.ndarray | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vols = rng.uniform(0.005, 0.03, tickers) if vols is None else vols
    factor = rng.normal(0.0, 0.008, (days, 1))
    returns = factor + rng.normal(0.0003, 1.0, (days, tickers)) * vols
    returns[0] = 0.0
    return 100.0 * np.cumprod(1.0 + returns, axis=0)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def sp500() -> MarketData:
    return SP500Loader(start="2019-01-01").load()


#: Signals of the 20 S&P 500 tickers for the estimate-based agents: 9 longs, 2 shorts (with long_only: false).
SP_SIGNAL = np.zeros(20)
SP_SIGNAL[[0, 2, 5, 7, 9, 11, 13, 16, 19]] = [1.0, 0.5, 0.8, 0.2, 1.0, 0.3, 0.9, 0.6, 0.4]
SP_SIGNAL[[3, 8]] = [-0.7, -1.0]
LONGS = np.flatnonzero(SP_SIGNAL > 0)
BOTH = np.flatnonzero(SP_SIGNAL)


def one_bar(agent: SizingAgent, data: MarketData, t: int, signal: np.ndarray = SP_SIGNAL) -> np.ndarray:
    """The agent's targets on bar ``t`` alone (its first computed bar)."""
    panel = np.tile(signal, (data.n_days, 1))
    return drive(agent, data, panel, bars=[t])[0][t]


def window(data: MarketData, t: int, lookback: int) -> np.ndarray:
    return data.returns()[t - lookback + 1 : t + 1]


# --- the simple agents ---------------------------------------------------------------------------------------


class TestEqualWeightSizing:
    def test_by_hand(self) -> None:
        data = make_data(np.ones((3, 5)))
        signal = np.array([[nan, 0.2, 0.0, -0.4, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0], [-1.0, -0.1, 0.0, 0.0, 0.0]])
        out, _ = drive(EqualWeightSizing(long_only=False, gross_exposure=1.5), data, signal)
        np.testing.assert_allclose(out, [[0, 0.5, 0, -0.5, 0.5], [0.3] * 5, [-0.75, -0.75, 0, 0, 0]], rtol=1e-15)
        out, _ = drive(EqualWeightSizing(threshold=0.3), data, signal)
        np.testing.assert_allclose(out, [[0, 0, 0, 0, 1.0], [0.2] * 5, [0] * 5], rtol=1e-15)

    def test_is_a_panel_agent_unless_tilted_or_bounded(self) -> None:
        assert EqualWeightSizing().supports_panel
        assert not EqualWeightSizing(adaptive=True).supports_panel
        assert not EqualWeightSizing(max_position_size=0.3).supports_panel
        assert not EqualWeightSizing(min_position_size=0.01).supports_panel


class TestFixedAllocationSizing:
    def test_by_hand(self) -> None:
        data = make_data(np.ones((2, 4)))
        allocation = np.array([0.4, 0.3, 0.2, 0.1])
        signal = np.array([[1.0, 0.5, -0.25, nan], [-1.0, 0.0, 2.0, 0.1]])
        out, _ = drive(
            FixedAllocationSizing(long_only=False, scale_by_signal=True), data, signal, allocation=allocation
        )
        np.testing.assert_allclose(out, [[0.4, 0.15, -0.05, 0.0], [-0.4, 0.0, 0.2, 0.01]], rtol=1e-15)
        out, _ = drive(FixedAllocationSizing(threshold=0.4), data, signal, allocation=allocation)
        np.testing.assert_allclose(out, [[0.4, 0.3, 0.0, 0.0], [0.0, 0.0, 0.2, 0.0]], rtol=1e-15)


class TestSignalWeightedSizing:
    def test_by_hand(self) -> None:
        data = make_data(np.ones((3, 4)))
        signal = np.array([[1.0, 0.5, -1.0, nan], [0.6, -0.2, 0.2, 0.0], [0.5, 0.5, 0.5, 0.5]])
        confidence = np.array([[0.5, 1.0, 1.0, 1.0], [1.0, 0.5, 0.5, 1.0], [0.0, 0.0, 0.0, 0.0]])
        out, _ = drive(SignalWeightedSizing(), data, signal, confidence=confidence)
        # bar 0: strengths .5, .5 over A, B; bar 1: .6 and .1 over A, C; bar 2: no confidence anywhere
        np.testing.assert_allclose(out, [[0.5, 0.5, 0, 0], [6 / 7, 0, 1 / 7, 0], [0, 0, 0, 0]], rtol=1e-15)
        out, _ = drive(SignalWeightedSizing(long_only=False, gross_exposure=2.0), data, signal, confidence=confidence)
        # bar 0: .5, .5, -1 (sum 2); bar 1: .6, -.1, .1 (sum .8)
        np.testing.assert_allclose(out, [[0.5, 0.5, -1.0, 0], [1.5, -0.25, 0.25, 0], [0, 0, 0, 0]], rtol=1e-15)


# --- the estimate-based agents ------------------------------------------------------------------------------


def prior(method: str, halflife: float | None, n: int) -> EmpiricalPrior:
    estimator: Any = {
        "sample": EmpiricalCovariance(),
        "ledoit_wolf": LedoitWolf(),
        "ewma": EWCovariance(half_life=halflife, window_size=n, min_observations=1, nearest=False),
    }[method]
    return EmpiricalPrior(covariance_estimator=estimator)


ESTIMATORS = [("sample", None), ("ewma", 10.0)]


class TestInverseVolatilitySizing:
    @pytest.mark.parametrize(("method", "halflife"), ESTIMATORS)
    @pytest.mark.parametrize("t", [150, 700])
    def test_skfolio_on_the_selected_tickers(
        self, sp500: MarketData, method: str, halflife: float | None, t: int
    ) -> None:
        agent = InverseVolatilitySizing(lookback=120, min_history=60, covariance=method, halflife=halflife)
        got = one_bar(agent, sp500, t)
        returns = window(sp500, t, 120)[:, LONGS]
        want = InverseVolatility(prior_estimator=prior(method, halflife, 120)).fit(returns).weights_
        np.testing.assert_allclose(got[LONGS], want, rtol=1e-11)
        assert np.count_nonzero(got) == LONGS.size and got.sum() == pytest.approx(1.0, abs=1e-14)

    def test_ledoit_wolf_is_the_diagonal_of_the_shared_estimate(self, sp500: MarketData) -> None:
        from framework.stats.covariance import covariance

        agent = InverseVolatilitySizing(lookback=120, min_history=60, covariance="ledoit_wolf")
        got = one_bar(agent, sp500, 700)
        inverse = 1.0 / np.sqrt(np.diag(covariance(window(sp500, 700, 120), "ledoit_wolf"))[LONGS])
        np.testing.assert_allclose(got[LONGS], inverse / inverse.sum(), rtol=1e-11)

    def test_shorts_and_gross_exposure(self, sp500: MarketData) -> None:
        agent = InverseVolatilitySizing(lookback=120, min_history=60, long_only=False, gross_exposure=1.6)
        got = one_bar(agent, sp500, 700)
        returns = window(sp500, 700, 120)
        inverse = 1.0 / returns[:, BOTH].std(axis=0, ddof=1)
        want = np.zeros(20)
        want[BOTH] = np.sign(SP_SIGNAL[BOTH]) * 1.6 * inverse / inverse.sum()
        np.testing.assert_allclose(got, want, rtol=1e-11)

    def test_docstring_example_by_hand(self) -> None:
        # Returns over bars 1..3 of A: .02, -.0196, .02; of B: .01, -.0099, .01: vol(A) = 2.0 * vol(B) nearly
        close = np.array([[10.0, 10.0], [10.2, 10.1], [10.0, 10.0], [10.2, 10.1]])
        got = one_bar(InverseVolatilitySizing(lookback=3, min_history=2), make_data(close), 3, np.ones(2))
        vols = np.diff(close, axis=0) / close[:-1]
        inverse = 1.0 / vols.std(axis=0, ddof=1)
        np.testing.assert_allclose(got, inverse / inverse.sum(), rtol=1e-12)


def flat_data(seed: int) -> MarketData:
    """B's price stops moving at bar 60 (a halted stock)."""
    close = random_close(120, 3, seed)
    close[60:, 1] = close[59, 1]
    return make_data(close)


class TestRiskParitySizing:
    @pytest.mark.parametrize(("method", "halflife"), ESTIMATORS)
    def test_skfolio_risk_budgeting_on_the_selected_tickers(
        self, sp500: MarketData, method: str, halflife: float | None
    ) -> None:
        agent = RiskParitySizing(lookback=200, min_history=100, covariance=method, halflife=halflife)
        got = one_bar(agent, sp500, 900)
        returns = window(sp500, 900, 200)[:, LONGS]
        want = RiskBudgeting(prior_estimator=prior(method, halflife, 200), solver_params=TIGHT).fit(returns)
        np.testing.assert_allclose(got[LONGS], want.weights_, atol=1e-5)
        np.testing.assert_array_equal(np.delete(got, LONGS), 0.0)

    def test_budgets(self, sp500: MarketData) -> None:
        budgets = {"AAPL": 3.0, "CVX": 0.5, "JNJ": 2.0, "XOM": 1.5, "GE": 4.0}  # GE is not selected
        agent = RiskParitySizing(risk_budgets=budgets, lookback=200, min_history=100)
        got = one_bar(agent, sp500, 900)
        vector = np.array([budgets.get(t, 1.0) for t in sp500.tickers])[LONGS]
        returns = window(sp500, 900, 200)[:, LONGS]
        want = RiskBudgeting(risk_budget=vector, prior_estimator=prior("sample", None, 200), solver_params=TIGHT)
        np.testing.assert_allclose(got[LONGS], want.fit(returns).weights_, atol=1e-5)
        cov = np.cov(returns, rowvar=False)
        contributions = got[LONGS] * (cov @ got[LONGS]) / (got[LONGS] @ cov @ got[LONGS])
        np.testing.assert_allclose(contributions, vector / vector.sum(), rtol=1e-9)

    def test_long_short_flips_the_returns_of_shorts(self, sp500: MarketData) -> None:
        agent = RiskParitySizing(lookback=200, min_history=100, long_only=False, gross_exposure=1.2)
        got = one_bar(agent, sp500, 900)
        direction = np.sign(SP_SIGNAL[BOTH])
        flipped = window(sp500, 900, 200)[:, BOTH] * direction
        want = RiskBudgeting(prior_estimator=prior("sample", None, 200), solver_params=TIGHT).fit(flipped).weights_
        np.testing.assert_allclose(got[BOTH], 1.2 * direction * want, atol=1.2e-5)
        assert (np.sign(got[BOTH]) == direction).all()
        # Equal contributions to the risk of the portfolio actually held (shorts included):
        held = got[BOTH]
        cov = np.cov(window(sp500, 900, 200)[:, BOTH], rowvar=False)
        np.testing.assert_allclose(held * (cov @ held) / (held @ cov @ held), 1 / BOTH.size, rtol=1e-9)

    def test_two_tickers_by_hand(self) -> None:
        # A's returns are exactly twice B's (a singular covariance): for two assets the contributions are equal at
        # w ∝ 1/vol whatever the correlation, so the weights are 1/3 and 2/3.
        returns = np.random.default_rng(0).normal(0.0, 0.01, 80)
        close = np.column_stack([np.cumprod(1 + 2 * returns), np.cumprod(1 + returns)]) * 100
        got = one_bar(RiskParitySizing(lookback=60, min_history=30), make_data(close), 79, np.ones(2))
        np.testing.assert_allclose(got, [1 / 3, 2 / 3], rtol=1e-9)

    @pytest.mark.parametrize("agent_class", [RiskParitySizing, InverseVolatilitySizing])
    @pytest.mark.parametrize("seed", range(4))
    def test_a_flat_ticker_is_an_error_whatever_the_bars_visited_before(
        self, agent_class: type[SizingAgent], seed: int
    ) -> None:
        data = flat_data(seed)
        signal = np.ones((120, 3))
        for bars in (range(10, 120), [75, 90], range(60, 120, 7)):  # every bar, jumps, ...
            agent = agent_class(lookback=10, min_history=10)  # type: ignore[call-arg]
            agent.name = "sizing"
            agent.prepare(data, None)
            for t in bars:
                state = ExecutionState.empty(data.tickers)
                state.bar, state.signal = t, signal[t]
                if t >= 69:  # the window of bar 69 is bars 60..69: B did not move
                    with pytest.raises(EstimationError, match=r"B had no price variation over the last 10 returns"):
                        agent.propose(TradeProposal(np.full(3, nan)), state)
                else:
                    assert agent.propose(TradeProposal(np.full(3, nan)), state).target_weights[1] > 0.1

    def test_no_convergence(self, sp500: MarketData) -> None:
        agent = RiskParitySizing(lookback=200, min_history=100, max_iterations=1)
        with pytest.raises(EstimationError, match=r"^risk parity over AAPL, BAC, GE, .*did not converge in 1 iter"):
            one_bar(agent, sp500, 900)

    def test_budgets_of_unknown_tickers(self) -> None:
        agent = RiskParitySizing(risk_budgets={"ZZZ": 2.0, "A": 1.0, "YYY": 1.0})
        agent.name = "sizing"
        with pytest.raises(
            ConfigError, match=r"^agent\.sizing\.risk_budgets: YYY, ZZZ not in the data; tickers: A, B$"
        ):
            agent.check(RunContext(n_days=500, tickers=("A", "B")))


class TestOptimizerSizing:
    @pytest.mark.parametrize("t", [300, 900])
    def test_min_variance_with_the_optimizers_own_prior(self, sp500: MarketData, t: int) -> None:
        agent = OptimizerSizing(MeanRisk(), lookback=150, min_history=100, covariance=None, rebalance="every_bar")
        got = one_bar(agent, sp500, t)
        want = MeanRisk().fit(window(sp500, t, 150)[:, LONGS]).weights_
        np.testing.assert_allclose(got[LONGS], want, atol=1e-8)
        np.testing.assert_array_equal(np.delete(got, LONGS), 0.0)

    @pytest.mark.parametrize(("method", "halflife"), ESTIMATORS)
    def test_min_variance_with_the_shared_estimate(
        self, sp500: MarketData, method: str, halflife: float | None
    ) -> None:
        agent = OptimizerSizing(MeanRisk(), lookback=150, min_history=100, covariance=method, halflife=halflife)
        got = one_bar(agent, sp500, 900)
        direct = MeanRisk(prior_estimator=prior(method, halflife, 150)).fit(window(sp500, 900, 150)[:, LONGS])
        np.testing.assert_allclose(got[LONGS], direct.weights_, atol=1e-7)
        assert got[LONGS].sum() == pytest.approx(1.0, abs=1e-12) and (got >= 0).all()

    @pytest.mark.parametrize("covariance", [None, "sample"])
    def test_long_short_flips_the_returns_of_shorts(self, sp500: MarketData, covariance: str | None) -> None:
        agent = OptimizerSizing(MeanRisk(), lookback=150, min_history=100, covariance=covariance, long_only=False)
        got = one_bar(agent, sp500, 900)
        direction = np.sign(SP_SIGNAL[BOTH])
        flipped = window(sp500, 900, 150)[:, BOTH] * direction
        want = MeanRisk(prior_estimator=prior("sample", None, 150)).fit(flipped).weights_
        want = np.clip(want, 0.0, None) / np.clip(want, 0.0, None).sum()
        np.testing.assert_allclose(got[BOTH], direction * want, atol=1e-7)

    def test_one_selected_ticker(self, sp500: MarketData) -> None:
        signal = np.zeros(20)
        signal[4] = -1.0
        agent = OptimizerSizing(MeanRisk(), lookback=150, min_history=100, long_only=False, gross_exposure=0.5)
        np.testing.assert_array_equal(one_bar(agent, sp500, 900, signal), np.where(np.arange(20) == 4, -0.5, 0.0))

    def test_the_optimizer_is_not_fitted_in_place(self, sp500: MarketData) -> None:
        optimizer = MeanRisk()
        one_bar(OptimizerSizing(optimizer, lookback=150, min_history=100), sp500, 900)
        assert not hasattr(optimizer, "weights_")

    def test_a_failing_optimizer_is_an_estimation_error(self, sp500: MarketData) -> None:
        optimizer = MeanRisk(min_weights=0.5)  # infeasible with 9 tickers summing to 1
        agent = OptimizerSizing(optimizer, lookback=150, min_history=100)
        with pytest.raises(EstimationError, match=r"^MeanRisk over AAPL, BAC, GE"):
            one_bar(agent, sp500, 900)

    def test_the_optimizer_must_fit(self) -> None:
        with pytest.raises(ConfigError, match=r"^optimizer: must be a skfolio optimization estimator with fit\(\)"):
            OptimizerSizing(optimizer="MeanRisk")


class TestWarmUp:
    @pytest.mark.parametrize(
        "agent",
        [
            InverseVolatilitySizing(lookback=8, min_history=5),
            RiskParitySizing(lookback=8, min_history=5),
            OptimizerSizing(MeanRisk(), lookback=8, min_history=5, rebalance="every_bar"),
        ],
        ids=["inverse_volatility", "risk_parity", "optimizer"],
    )
    def test_nothing_is_held_before_min_history(self, agent: SizingAgent) -> None:
        data = make_data(random_close(12, 3, seed=1))
        out, log = drive(agent, data, np.ones((12, 3)))
        np.testing.assert_array_equal(out[:5], 0.0)  # bar t has t returns: 5 from bar 5 on
        assert (out[5:] > 0).all()
        assert frame(log, data)["bar"].min() == 5
        assert agent.history_needed() == 5

    def test_the_warm_up_reason(self) -> None:
        agent = InverseVolatilitySizing(lookback=8, min_history=5)
        agent.prepare(make_data(random_close(12, 2, seed=1)), None)
        state = ExecutionState.empty(("A", "B"))
        state.bar, state.signal = 3, np.ones(2)
        assert agent.targets(state) == (pytest.approx(np.zeros(2)), "warming up: 3 of 5 bars of returns")

    def test_too_short_a_run_is_a_config_error_before_the_loop(self) -> None:
        agent = RiskParitySizing(lookback=100, min_history=63)
        agent.name = "sizing"
        with pytest.raises(ConfigError, match=r"^agent\.sizing\.min_history: RiskParitySizing needs 63 bars"):
            agent.check(RunContext(n_days=63, tickers=("A", "B")))
        agent.check(RunContext(n_days=64, tickers=("A", "B")))

    def test_estimate_agents_need_prepare(self) -> None:
        agent = RiskParitySizing()
        agent.name = "sizing"
        state = ExecutionState.empty(("A",))
        state.bar, state.signal = 100, np.ones(1)
        with pytest.raises(AgentError, match=r"^agent\.sizing: RiskParitySizing needs prepare"):
            agent.propose(TradeProposal(np.full(1, nan)), state)


# --- position bounds ---------------------------------------------------------------------------------------


def water_filled(target: np.ndarray, min_size: float, max_size: float | None) -> np.ndarray:
    """Independent form of the documented bounds with redistribution: drop below the minimum and scale the rest
    up to the gross; then min(max, c * size) with the one c that keeps the gross, or everything at the cap.

    c is found in closed form: with the k largest positions at the cap, c = (gross - k max) / (sum of the others),
    for the smallest k at which the largest of the others stays under the cap."""
    sizes = np.abs(target)
    gross = sizes.sum()
    kept = np.where(sizes < min_size, 0.0, sizes)
    if kept.sum() == 0:
        return np.zeros_like(target)
    kept *= gross / kept.sum()
    if max_size is not None:
        if np.count_nonzero(kept) * max_size <= gross:
            kept = np.where(kept > 0, max_size, 0.0)
        else:
            ordered = np.sort(kept[kept > 0])[::-1]
            for k in range(ordered.size):
                c = (gross - k * max_size) / ordered[k:].sum()
                if c * ordered[k] <= max_size:
                    break
            kept = np.minimum(max_size, c * kept)
    return np.sign(target) * kept  # type: ignore[no-any-return]


class TestBoundPositions:
    def test_docstring_examples(self) -> None:
        np.testing.assert_allclose(bound_positions(np.array([0.5, 0.3, 0.15, 0.05]), 0.1, 0.4), [0.4, 0.4, 0.2, 0.0])
        np.testing.assert_array_equal(bound_positions(np.array([0.25] * 4), 0.0, 0.1), [0.1] * 4)

    def test_minimum_drops_and_redistributes(self) -> None:
        got = bound_positions(np.array([0.5, 0.3, 0.15, 0.05]), 0.1, None)
        np.testing.assert_allclose(got, [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0.0], rtol=1e-15)

    def test_cap_by_water_filling_over_two_rounds(self) -> None:
        # Round 1: A's excess .3 goes to B, C, D as .1875, .075, .0375; B is then .4375 > .3.
        # Round 2: B's excess .1375 goes to C, D in proportion .175 : .0875.
        got = bound_positions(np.array([0.6, 0.25, 0.1, 0.05]), 0.0, 0.3)
        np.testing.assert_allclose(got, [0.3, 0.3, 0.175 + 0.1375 * 2 / 3, 0.0875 + 0.1375 / 3], rtol=1e-14)
        assert got.sum() == pytest.approx(1.0, abs=1e-15)

    def test_signs_are_kept(self) -> None:
        got = bound_positions(np.array([-0.5, 0.3, -0.15, 0.05]), 0.1, 0.4)
        np.testing.assert_allclose(got, [-0.4, 0.4, -0.2, 0.0], rtol=1e-14)

    def test_without_redistribution_the_rest_stays_in_cash(self) -> None:
        got = bound_positions(np.array([0.5, -0.3, 0.15, 0.05]), 0.1, 0.4, redistribute=False)
        np.testing.assert_array_equal(got, [0.4, -0.3, 0.15, 0.0])

    def test_nothing_to_do(self) -> None:
        target = np.array([0.2, -0.3, 0.0])
        np.testing.assert_array_equal(bound_positions(target, 0.1, 0.5), target)
        zero = np.zeros(3)
        np.testing.assert_array_equal(bound_positions(zero, 0.1, 0.5), zero)
        np.testing.assert_array_equal(bound_positions(np.array([0.05, -0.05]), 0.1, None), [0.0, 0.0])

    @settings(max_examples=25, deadline=None)
    @given(
        sizes=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8),
        signs=st.lists(st.sampled_from([-1.0, 1.0]), min_size=8, max_size=8),
        gross=st.floats(0.2, 3.0),
        min_size=st.sampled_from([0.0, 0.02, 0.1]),
        max_size=st.sampled_from([None, 0.15, 0.3, 0.5, 1.0]),
        redistribute=st.booleans(),
    )
    def test_properties(
        self,
        sizes: list[float],
        signs: list[float],
        gross: float,
        min_size: float,
        max_size: float | None,
        redistribute: bool,
    ) -> None:
        raw = np.array(sizes)
        if raw.sum() == 0:
            return
        target = raw / raw.sum() * gross * np.array(signs[: raw.size])
        original = target.copy()
        got = bound_positions(target, min_size, max_size, redistribute)
        np.testing.assert_array_equal(target, original)  # the input is left alone
        assert (got * target >= 0).all() and (got[target == 0] == 0).all()  # signs kept, nothing new
        if max_size is not None:
            assert (np.abs(got) <= max_size).all()
        assert (np.abs(got)[got != 0] >= min_size - 1e-12).all()
        if redistribute:
            want = water_filled(target, min_size, max_size)
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
            kept = np.count_nonzero((target != 0) & (np.abs(target) >= min_size))
            feasible = kept > 0 and (max_size is None or kept * max_size >= gross)
            if feasible:  # the gross is kept whenever the positions left can hold it
                assert np.abs(got).sum() == pytest.approx(gross, rel=1e-12)
        else:
            dropped = np.where(np.abs(target) < min_size, 0.0, target)
            want = dropped if max_size is None else np.clip(dropped, -max_size, max_size)
            np.testing.assert_array_equal(got, want)

    def test_through_the_agents(self) -> None:
        data = make_data(np.ones((1, 4)))
        allocation = np.array([0.6, 0.25, 0.1, 0.05])
        signal = np.ones((1, 4))
        fixed, _ = drive(
            FixedAllocationSizing(min_position_size=0.08, max_position_size=0.3), data, signal, allocation=allocation
        )
        np.testing.assert_array_equal(fixed[0], [0.3, 0.25, 0.1, 0.0])  # no redistribution: .35 in cash
        confidence = np.tile(allocation, (1, 1))
        weighted, _ = drive(
            SignalWeightedSizing(min_position_size=0.08, max_position_size=0.3), data, signal, confidence=confidence
        )
        np.testing.assert_allclose(weighted[0], [0.3, 0.3, 0.3, 0.0], rtol=1e-12)  # 3 positions of at most .3
        np.testing.assert_allclose(weighted[0], water_filled(allocation, 0.08, 0.3), rtol=1e-12)


# --- schedules through propose -------------------------------------------------------------------------------

#: Business days from Tuesday 2024-01-23 across the ends of January and February (21 bars).
CALENDAR = np.array(
    [
        "2024-01-23", "2024-01-24", "2024-01-25", "2024-01-26", "2024-01-29", "2024-01-30", "2024-01-31",
        "2024-02-01", "2024-02-02", "2024-02-05", "2024-02-06", "2024-02-26", "2024-02-27", "2024-02-28",
        "2024-02-29", "2024-03-01", "2024-03-04", "2024-03-05", "2024-04-01", "2024-04-02", "2024-04-03",
    ],
    dtype="datetime64[D]",
)  # fmt: skip


def calendar_signal(entry: int) -> np.ndarray:
    """Two tickers: nothing until ``entry``, then A and B, then A alone from bar 10, both again from bar 17."""
    signal = np.full((21, 2), nan)
    signal[entry:] = [1.0, 1.0]
    signal[10:17] = [1.0, -1.0]
    signal[:entry] = nan
    return signal


def sent_bars(out: np.ndarray) -> list[int]:
    return np.flatnonzero(~np.isnan(out).all(axis=1)).tolist()  # type: ignore[no-any-return]


class TestSchedules:
    def data(self) -> MarketData:
        return make_data(np.ones((21, 2)), CALENDAR)

    def test_every_bar(self) -> None:
        out, _ = drive(EqualWeightSizing(), self.data(), calendar_signal(0))
        assert sent_bars(out) == list(range(21))
        np.testing.assert_array_equal(out[9], [0.5, 0.5])
        np.testing.assert_array_equal(out[10], [1.0, 0.0])

    def test_on_change(self) -> None:
        out, _ = drive(EqualWeightSizing(rebalance="on_change"), self.data(), calendar_signal(3))
        assert sent_bars(out) == [3, 10, 17]

    def test_never_holds_after_the_first_non_zero_target(self) -> None:
        out, log = drive(EqualWeightSizing(rebalance="never"), self.data(), calendar_signal(3))
        assert sent_bars(out) == [3]
        np.testing.assert_array_equal(out[3], [0.5, 0.5])
        assert sorted(set(frame(log, self.data())["bar"])) == [3, 10, 17]  # computed and logged all the same

    def test_monthly_from_bar_zero(self) -> None:
        out, log = drive(EqualWeightSizing(rebalance="monthly"), self.data(), calendar_signal(0))
        assert sent_bars(out) == [0, 7, 15, 18]  # bar 0, then the first bars of February, March and April
        np.testing.assert_array_equal(out[7], [0.5, 0.5])
        np.testing.assert_array_equal(out[15], [1.0, 0.0])  # A alone since bar 10, seen on March 1st
        np.testing.assert_array_equal(out[18], [0.5, 0.5])
        assert sorted(set(frame(log, self.data())["bar"])) == [0, 15, 18]  # changes of the computed targets only

    def test_entering_before_the_first_period_start(self) -> None:
        for entry in (2, 8):
            out, _ = drive(EqualWeightSizing(rebalance="monthly"), self.data(), calendar_signal(entry))
            assert sent_bars(out) == sorted({entry, *[b for b in (7, 15, 18) if b > entry]})
            np.testing.assert_array_equal(out[entry], [0.5, 0.5])

    def test_weekly_and_quarterly(self) -> None:
        out, _ = drive(EqualWeightSizing(rebalance="weekly"), self.data(), calendar_signal(1))
        assert sent_bars(out) == [1, 4, 9, 11, 16, 18]  # the Mondays (and Feb 26), after entering on bar 1
        out, _ = drive(EqualWeightSizing(rebalance="quarterly"), self.data(), calendar_signal(1))
        assert sent_bars(out) == [1, 18]

    def test_every_n_bars(self) -> None:
        out, _ = drive(EqualWeightSizing(rebalance=5), self.data(), calendar_signal(3))
        assert sent_bars(out) == [3, 5, 10, 15, 20]

    def test_an_exit_on_a_period_start_is_sent(self) -> None:
        signal = calendar_signal(0)
        signal[14:] = -1.0  # nothing selected from bar 14: zeros on the next period start
        out, _ = drive(EqualWeightSizing(rebalance="monthly"), self.data(), signal)
        assert sent_bars(out) == [0, 7, 15, 18]
        np.testing.assert_array_equal(out[15], [0.0, 0.0])

    def test_a_calendar_needs_the_dates(self) -> None:
        agent = EqualWeightSizing(rebalance="monthly")
        agent.name = "sizing"
        agent.prepare(None, None)
        state = ExecutionState.empty(("A",))
        state.bar, state.signal = 0, np.ones(1)
        agent.propose(TradeProposal(np.full(1, nan)), state)  # entering needs no calendar
        state.bar = 1
        with pytest.raises(AgentError, match=r"^agent\.sizing: a calendar rebalance needs prepare\(data, signals\)"):
            agent.propose(TradeProposal(np.full(1, nan)), state)


# --- the whole-panel form ------------------------------------------------------------------------------------

REBALANCES: list[str | int] = ["every_bar", "on_change", "never", "weekly", "monthly", "quarterly", 3]


def panel_agents(rebalance: str | int) -> list[SizingAgent]:
    return [
        EqualWeightSizing(rebalance=rebalance),
        EqualWeightSizing(rebalance=rebalance, long_only=False, gross_exposure=1.5, threshold=0.25),
        FixedAllocationSizing(rebalance=rebalance),
        FixedAllocationSizing(rebalance=rebalance, long_only=False, scale_by_signal=True, threshold=0.1),
        SignalWeightedSizing(rebalance=rebalance),
        SignalWeightedSizing(rebalance=rebalance, long_only=False, gross_exposure=0.8),
    ]


def random_panel(seed: int, days: int, tickers: int) -> tuple[MarketData, np.ndarray, np.ndarray, np.ndarray]:
    """Dates with gaps of 1 to 4 days, signals from a few levels (NaN warm-up, repeated rows), confidences."""
    rng = np.random.default_rng(seed)
    dates = np.datetime64("2023-12-20") + np.cumsum(rng.integers(1, 5, days)).astype("timedelta64[D]")
    levels = np.array([nan, -1.0, -0.5, -0.1, 0.0, 0.2, 0.3, 1.0])
    signal = levels[rng.integers(0, levels.size, (days, tickers))]
    repeat = rng.random(days) < 0.5
    for t in range(1, days):
        if repeat[t]:
            signal[t] = signal[t - 1]
    signal[: rng.integers(0, days // 2 + 1)] = nan  # warm-up: nothing selected before the entry
    confidence = np.round(rng.uniform(0.0, 1.0, (days, tickers)), 1)
    allocation = rng.dirichlet(np.ones(tickers))
    return make_data(np.ones((days, tickers)), dates), signal, confidence, allocation


class TestPanelTargets:
    @settings(max_examples=25, deadline=None)
    @given(seed=st.integers(0, 10_000), days=st.integers(1, 60), tickers=st.integers(1, 4))
    def test_equal_to_propose_bar_by_bar_with_the_same_log(self, seed: int, days: int, tickers: int) -> None:
        data, signal, confidence, allocation = random_panel(seed, days, tickers)
        signals = SignalFrame(signal, confidence)
        for rebalance in REBALANCES:
            for agent, twin in zip(panel_agents(rebalance), panel_agents(rebalance), strict=True):
                assert agent.supports_panel
                looped, loop_log = drive(agent, data, signal, confidence=confidence, allocation=allocation)
                twin.name = "sizing"
                twin.prepare(data, signals)
                panel_log = DecisionLog()
                panel = twin.panel_targets(np.full(signal.shape, nan), data, signals, allocation, panel_log)
                np.testing.assert_array_equal(panel, looped, err_msg=f"{agent!r}")
                assert frame(panel_log, data).equals(frame(loop_log, data)), f"{agent!r}"

    def test_the_calendar_case_by_hand(self) -> None:
        data = make_data(np.ones((21, 2)), CALENDAR)
        signal = calendar_signal(8)
        agent = EqualWeightSizing(rebalance="monthly")
        agent.prepare(data, SignalFrame(signal, np.ones_like(signal)))
        panel = agent.panel_targets(
            np.full(signal.shape, nan), data, SignalFrame(signal, np.ones_like(signal)), None, DecisionLog()
        )
        assert sent_bars(panel) == [8, 15, 18]

    def test_not_offered_by_the_estimate_agents(self) -> None:
        assert not InverseVolatilitySizing().supports_panel
        assert not RiskParitySizing().supports_panel
        assert not OptimizerSizing(MeanRisk()).supports_panel
        with pytest.raises(NotImplementedError, match="RiskParitySizing has no whole-panel form"):
            RiskParitySizing().panel_targets(
                np.zeros((1, 1)),
                make_data(np.ones((1, 1))),
                SignalFrame(np.ones((1, 1)), np.ones((1, 1))),
                None,
                DecisionLog(),
            )


# --- adaptive mode -------------------------------------------------------------------------------------------


def documented_tilts(held: np.ndarray, close: np.ndarray, period: int, learning_rate: float) -> np.ndarray:
    """The class docstring's rule, bar by bar: the tilt in force on each bar, shape (days, tickers)."""
    days, n = close.shape
    tilt, sums, was_held = np.ones(n), np.zeros(n), np.zeros(n, dtype=bool)
    out = np.empty((days, n))
    for t in range(days):
        if t > 0:
            sums += held[t - 1] * (close[t] / close[t - 1] - 1.0)  # w[t-1] * r[t]
            was_held |= held[t - 1] != 0
        if (t + 1) % period == 0:
            c = sums[was_held]
            if c.size >= 2 and c.std() > 0:
                tilt[was_held] *= np.exp(learning_rate * (c - c.mean()) / c.std())
                tilt = np.clip(tilt / np.exp(np.log(tilt).mean()), *TILT_BOUNDS)
            sums[:], was_held[:] = 0.0, False
        out[t] = tilt
    return out


class TestAdaptive:
    def test_by_hand(self) -> None:
        # A gains 10 %, B loses 5 % on bar 1 while each is held at .5; C is not held. Period 2: the tilt
        # is updated at the end of bar 1 from contributions .05 and -.025: z = +1, -1.
        close = np.array([[100.0, 100.0, 100.0], [110.0, 95.0, 100.0], [110.0, 95.0, 100.0]])
        held = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
        agent = EqualWeightSizing(adaptive=True, learning_rate=0.5, adaptation_period=2)
        out, log = drive(agent, make_data(close), np.ones((3, 3)), held=held)
        np.testing.assert_allclose(out[0], [1 / 3] * 3, rtol=1e-15)
        tilt = np.array([np.exp(0.5), np.exp(-0.5), 1.0])
        np.testing.assert_allclose(out[1], tilt / tilt.sum(), rtol=1e-14)
        np.testing.assert_allclose(out[2], tilt / tilt.sum(), rtol=1e-14)
        tilts = frame(log, make_data(close))
        tilts = tilts[tilts["reason"].str.startswith("adaptive tilt")]
        assert tilts["ticker"].tolist() == ["A", "B"] and tilts["bar"].tolist() == [1, 1]
        np.testing.assert_allclose(tilts["after"], tilt[:2], rtol=1e-14)

    def test_three_held_tickers_with_the_bounds(self) -> None:
        # Contributions (.03, 0, 0): z = (sqrt 2, -1/sqrt 2, -1/sqrt 2); a learning rate of 2 takes A past 10.
        close = np.array([[100.0, 100.0, 100.0, 100.0], [106.0, 100.0, 100.0, 100.0]])
        held = np.array([[0.5, 0.25, 0.25, 0.0], [0.5, 0.25, 0.25, 0.0]])
        agent = SignalWeightedSizing(adaptive=True, learning_rate=2.0, adaptation_period=2)
        out, _ = drive(agent, make_data(close), np.ones((2, 4)), held=held)
        tilt = np.exp(2.0 * np.array([np.sqrt(2), -1 / np.sqrt(2), -1 / np.sqrt(2), 0.0]))  # geometric mean 1
        tilt = np.clip(tilt, 0.1, 10.0)
        assert tilt[0] == 10.0
        np.testing.assert_allclose(out[1], tilt / tilt.sum(), rtol=1e-13)

    @pytest.mark.parametrize("period", [2, 5])
    def test_the_documented_rule_over_a_panel(self, period: int) -> None:
        days = 40
        close = random_close(days, 4, seed=period, vols=np.array([0.05, 0.02, 0.04, 0.01]))
        rng = np.random.default_rng(period)
        held = rng.choice([0.0, 0.2, 0.3, -0.1], (days, 4))
        signal = rng.choice([1.0, 0.5, -1.0, nan], (days, 4))
        confidence = rng.uniform(0.2, 1.0, (days, 4))
        agent = SignalWeightedSizing(adaptive=True, learning_rate=1.5, adaptation_period=period, long_only=False)
        out, _ = drive(agent, make_data(close), signal, confidence=confidence, held=held)
        plain, _ = drive(SignalWeightedSizing(long_only=False), make_data(close), signal, confidence=confidence)
        tilts = documented_tilts(held, close, period, 1.5)
        want = plain * tilts
        gross = np.abs(plain).sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            want = np.where(gross > 0, want * gross / np.abs(want).sum(axis=1, keepdims=True), 0.0)
        np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-15)
        assert not np.allclose(tilts[-1], 1.0)  # the tilt did move
        assert ((tilts >= 0.1) & (tilts <= 10.0)).all()

    def test_the_tilt_is_causal(self) -> None:
        days = 30
        close = random_close(days, 3, seed=3)
        held = np.tile([0.4, 0.3, 0.3], (days, 1))
        later = close.copy()
        later[16:] *= np.random.default_rng(1).uniform(0.5, 1.5, (days - 16, 3))
        changed_held = held.copy()
        changed_held[16:] = [0.9, 0.0, 0.1]
        runs = []
        for c, h in ((close, held), (later, changed_held)):
            agent = EqualWeightSizing(adaptive=True, learning_rate=1.0, adaptation_period=3)
            runs.append(drive(agent, make_data(c), np.ones((days, 3)), held=h)[0])
        np.testing.assert_array_equal(runs[0][:16], runs[1][:16])  # the tilt of bar 15 uses returns up to 15
        assert not np.allclose(runs[0][17:], runs[1][17:])

    def test_bounds_apply_after_the_tilt(self) -> None:
        close = np.array([[100.0, 100.0, 100.0], [110.0, 95.0, 100.0]])
        held = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
        agent = EqualWeightSizing(adaptive=True, learning_rate=0.5, adaptation_period=2, max_position_size=0.4)
        out, _ = drive(agent, make_data(close), np.ones((2, 3)), held=held)
        tilt = np.array([np.exp(0.5), np.exp(-0.5), 1.0])
        np.testing.assert_allclose(out[1], water_filled(tilt / tilt.sum(), 0.0, 0.4), rtol=1e-12)

    def test_prepare_resets_the_tilt(self) -> None:
        close = np.array([[100.0, 100.0, 100.0], [110.0, 95.0, 100.0]])
        held = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
        agent = EqualWeightSizing(adaptive=True, learning_rate=0.5, adaptation_period=2)
        first, _ = drive(agent, make_data(close), np.ones((2, 3)), held=held)
        again, _ = drive(agent, make_data(close), np.ones((2, 3)), held=held)
        np.testing.assert_array_equal(first, again)


# --- parameters ------------------------------------------------------------------------------------------------


class TestParameters:
    @pytest.mark.parametrize(
        ("agent_class", "params", "key"),
        [
            (InverseVolatilitySizing, {"lookback": 1}, "lookback"),
            (InverseVolatilitySizing, {"lookback": 30.0}, "lookback"),
            (InverseVolatilitySizing, {"min_history": 1}, "min_history"),
            (InverseVolatilitySizing, {"min_history": 300}, "min_history"),
            (InverseVolatilitySizing, {"covariance": "lw"}, "covariance"),
            (InverseVolatilitySizing, {"covariance": None}, "covariance"),
            (InverseVolatilitySizing, {"covariance": "ewma"}, "halflife"),
            (InverseVolatilitySizing, {"covariance": "ewma", "halflife": -2}, "halflife"),
            (RiskParitySizing, {"covariance": "sample", "halflife": 0}, "halflife"),
            (RiskParitySizing, {"max_iterations": 0}, "max_iterations"),
            (RiskParitySizing, {"risk_budgets": {"A": 0.0}}, "risk_budgets.A"),
            (RiskParitySizing, {"risk_budgets": {"A": "2"}}, "risk_budgets.A"),
            (RiskParitySizing, {"risk_budgets": [1.0, 2.0]}, "risk_budgets"),
            (RiskParitySizing, {"rebalance": "daily"}, "rebalance"),
            (EqualWeightSizing, {"min_position_size": 1.5}, "min_position_size"),
            (EqualWeightSizing, {"max_position_size": 0.0}, "max_position_size"),
            (EqualWeightSizing, {"min_position_size": 0.2, "max_position_size": 0.1}, "max_position_size"),
            (EqualWeightSizing, {"adaptive": "yes"}, "adaptive"),
            (EqualWeightSizing, {"learning_rate": 0.0}, "learning_rate"),
            (EqualWeightSizing, {"adaptation_period": 1}, "adaptation_period"),
            (SignalWeightedSizing, {"long_only": 1}, "long_only"),
            (FixedAllocationSizing, {"scale_by_signal": "no"}, "scale_by_signal"),
            (FixedAllocationSizing, {"threshold": -0.5}, "threshold"),
        ],
    )
    def test_errors_name_the_key(self, agent_class: type[SizingAgent], params: dict[str, Any], key: str) -> None:
        with pytest.raises(ConfigError) as info:
            agent_class(**params)
        assert str(info.value).startswith(f"{key}: "), str(info.value)

    def test_optimizer_accepts_no_covariance(self) -> None:
        assert OptimizerSizing(MeanRisk(), covariance=None).covariance is None
        with pytest.raises(ConfigError, match=r"^covariance: must be one of sample, ledoit_wolf, ewma, got 'x'"):
            OptimizerSizing(MeanRisk(), covariance="x")

    def test_params_are_stored_unchanged(self) -> None:
        budgets = {"A": 2.0}
        agent = RiskParitySizing(risk_budgets=budgets, lookback=100, covariance="ewma", halflife=20, min_history=50)
        params = agent.get_params()
        assert params["risk_budgets"] is budgets
        assert (params["lookback"], params["covariance"], params["halflife"], params["min_history"]) == (
            100, "ewma", 20, 50,
        )  # fmt: skip
