"""RiskLimits: the worked example through the engine, the feedback loop, the final step, drawdown rules."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.covariance import ledoit_wolf

from framework.agents import Agent, EqualWeightSizing, NoOp, Orchestrator, RiskLimits
from framework.backtest.engine import run_backtest
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog, ExecutionState, SignalFrame, TradeProposal, held_weights
from framework.execution.broker import SimulatedBroker

nan = np.nan
ANNUAL = math.sqrt(252)
RELATIVE = 1e-9  # the agent's own slack: a measure within limit * (1 + 1e-9) holds


class ProposeOn(Agent):
    """A first stage that proposes fixed target weights on some bars and nothing (NaN) on the others."""

    def __init__(self, weights: list[float], bars: tuple[int, ...] | None = None) -> None:
        self.weights = weights
        self.bars = bars

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        if self.bars is not None and state.bar not in self.bars:
            return proposal
        return TradeProposal(np.array(self.weights, dtype=float))


def dates(n: int) -> np.ndarray:
    return np.datetime64("2024-01-01") + np.arange(n)


def market(returns: np.ndarray, tickers: tuple[str, ...] | None = None) -> MarketData:
    """Prices whose bar-t return is ``returns[t]`` (row 0 is ignored: bar 0 has no return)."""
    growth = np.cumprod(1.0 + returns[1:], axis=0)
    close = 100.0 * np.vstack([np.ones((1, returns.shape[1])), growth])
    return MarketData(dates(returns.shape[0]), tickers or tuple("ABCDE"[: returns.shape[1]]), close)


def random_market(days: int = 120, vols: tuple[float, ...] = (0.02, 0.01, 0.015), seed: int = 0) -> MarketData:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(days, 1))
    noise = rng.normal(size=(days, len(vols)))
    returns = (0.6 * common + 0.8 * noise) * np.array(vols)
    return market(returns)


def state_at(
    data: MarketData,
    bar: int,
    positions: np.ndarray | None = None,
    equity: float = 1.0,
    log: DecisionLog | None = None,
) -> ExecutionState:
    state = ExecutionState.empty(data.tickers)
    state.bar, state.date, state.close = bar, data.dates[bar], data.close[bar]
    state.positions = np.zeros(data.n_tickers) if positions is None else np.asarray(positions, dtype=float)
    state.equity = equity
    state.signal, state.confidence = np.ones(data.n_tickers), np.ones(data.n_tickers)
    if log is not None:
        state.log = log
    return state


def window(data: MarketData, bar: int, lookback: int) -> np.ndarray:
    """The returns of bar ``bar``'s window, computed here from the prices."""
    returns = data.close[1:] / data.close[:-1] - 1.0
    return returns[max(0, bar - lookback) : bar]


def ewma_cov(x: np.ndarray, halflife: float) -> np.ndarray:
    ages = np.arange(x.shape[0])[::-1]
    a = 0.5 ** (ages / halflife)
    a /= a.sum()
    return (x * a[:, None]).T @ x


def covariance_of(x: np.ndarray, method: str, halflife: float | None = None) -> np.ndarray:
    if method == "sample":
        return np.cov(x, rowvar=False)
    if method == "ewma":
        assert halflife is not None
        return ewma_cov(x, halflife)
    return ledoit_wolf(x)[0]  # type: ignore[no-any-return]


def assert_limits_hold(agent: RiskLimits, bar: int, weights: np.ndarray) -> None:
    """Every limit of ``agent`` holds for ``weights`` by the agent's own measure."""
    measures = agent.measure(bar, weights)
    for name, limit in (("volatility", agent.max_portfolio_risk), ("var", agent.var_limit), ("cvar", agent.cvar_limit)):
        if limit is not None:
            assert getattr(measures, name) <= limit * (1 + RELATIVE), (name, getattr(measures, name), limit)
    if agent.max_position_risk is not None:
        assert (measures.position_risk <= agent.max_position_risk * (1 + RELATIVE)).all(), measures.position_risk


def propose(agent: RiskLimits, data: MarketData, bar: int, targets: list[float], **kwargs: object) -> np.ndarray:
    state = state_at(data, bar, **kwargs)  # type: ignore[arg-type]
    out = agent.propose(TradeProposal(np.array(targets, dtype=float)), state)
    return held_weights(out.target_weights, state.weights)


def reasons(log: DecisionLog, data: MarketData) -> list[str]:
    return log.to_frame(data.dates, data.tickers)["reason"].tolist()


def alternating(n: int, vol: float, pattern: tuple[int, ...]) -> np.ndarray:
    """``n`` returns of +-a in ``pattern`` (zero mean) whose sample standard deviation is exactly ``vol``."""
    signs = np.resize(np.array(pattern, dtype=float), n)
    assert signs.sum() == 0
    return signs * vol * math.sqrt((n - 1) / n)


PROPERTY_DATA = random_market()


class TestRiskLimits:
    # --- the original design's worked example, through the engine and the broker -------------------------

    def worked_example(self, risk: Agent) -> tuple[object, int]:
        n = 20  # returns in the window of the decision bar, which is bar n; the orders fill at bar n + 1
        aapl = alternating(n, 0.56 / ANNUAL, (1, -1))  # annualized 0.56: weight 0.125 -> position risk 0.07
        msft = alternating(n, 0.24 / ANNUAL, (1, 1, -1, -1))  # annualized 0.24: weight 0.125 -> 0.03
        close = np.empty((n + 2, 2))
        close[n] = close[n + 1] = (125.0, 50.0)  # the fill price equals the decision bar's close
        for k in range(n, 0, -1):
            close[k - 1] = close[k] / (1.0 + np.array([aapl[k - 1], msft[k - 1]]))
        data = MarketData(dates(n + 2), ("AAPL", "MSFT"), close)
        # 0.125 of 100,000 at 125 is 100 AAPL; at 50, 250 MSFT.
        orchestrator = Orchestrator({"sizing": ProposeOn([0.125, 0.125], bars=(n,)), "risk": risk})
        signals = SignalFrame(np.zeros(data.shape), np.ones(data.shape))
        broker = SimulatedBroker(initial_cash=100_000.0, fractional_shares=False, fill_price="close")
        return run_backtest(data, signals, orchestrator, broker), n

    def test_worked_example_buy_100_aapl_becomes_71(self) -> None:
        risk = RiskLimits(max_portfolio_risk=None, var_limit=None, max_position_risk=0.05, lookback=20, min_history=20)
        result, n = self.worked_example(risk)
        unresized, _ = self.worked_example(NoOp())
        np.testing.assert_array_equal(unresized.positions[n + 1], [100.0, 250.0])  # type: ignore[attr-defined]
        np.testing.assert_array_equal(result.positions[n + 1], [71.0, 250.0])  # type: ignore[attr-defined]
        np.testing.assert_array_equal(result.trade_quantity, [71.0, 250.0])  # type: ignore[attr-defined]
        np.testing.assert_array_equal(result.trade_bar, [n + 1, n + 1])  # type: ignore[attr-defined]
        # the measured risks at the decision bar are the example's numbers
        measures = risk.measure(n, np.array([0.125, 0.125]))
        np.testing.assert_allclose(measures.position_risk, [0.07, 0.03], rtol=1e-12)
        frame = result.decisions_frame()  # type: ignore[attr-defined]
        rows = frame[frame["agent"] == "risk"]
        assert len(rows) == 1
        row = rows.iloc[0]
        assert (row["bar"], row["ticker"], row["before"]) == (n, "AAPL", 0.125)
        assert row["after"] == pytest.approx(0.125 * 0.05 / 0.07, rel=1e-12)
        assert "0.07" in row["reason"] and "0.05" in row["reason"]
        assert row["reason"] == "position risk 0.0700 > 0.05"
        assert risk.iterations_[n] == 1 and not risk.forced_[n]

    # --- the feedback loop -------------------------------------------------------------------------------

    def test_position_at_four_times_its_limit_needs_two_iterations(self) -> None:
        data = random_market()
        t = 100
        vol = window(data, t, 60).std(axis=0, ddof=1) * ANNUAL
        weights = np.array([0.2 / vol[0], 0.03 / vol[1], 0.0])  # A at 4x the limit 0.05, B within it
        agent = RiskLimits(max_portfolio_risk=None, var_limit=None, max_position_risk=0.05, resize_threshold=0.5,
                           lookback=60, min_history=30)  # fmt: skip
        agent.prepare(data, None)
        log = DecisionLog()
        out = propose(agent, data, t, weights.tolist(), log=log)
        # limit / risk = 0.25, but each iteration keeps at least half: 0.5, then 0.5
        np.testing.assert_allclose(out, [weights[0] * 0.25, weights[1], 0.0], rtol=1e-12)
        assert agent.iterations_[t] == 2 and agent.at_limit_[t] and not agent.forced_[t]
        assert reasons(log, data) == ["position risk 0.2000 > 0.05", "position risk 0.1000 > 0.05"]
        assert agent.measure(t, out).position_risk[0] == pytest.approx(0.05, rel=1e-12)
        assert_limits_hold(agent, t, out)

    def test_final_step_when_the_iterations_run_out(self) -> None:
        data = random_market()
        t = 100
        vol = window(data, t, 60).std(axis=0, ddof=1) * ANNUAL
        weights = np.array([0.2 / vol[0], 0.03 / vol[1], 0.01 / vol[2]])
        agent = RiskLimits(max_portfolio_risk=None, var_limit=None, max_position_risk=0.05, max_iterations=1,
                           lookback=60, min_history=30)  # fmt: skip
        agent.prepare(data, None)
        log = DecisionLog()
        out = propose(agent, data, t, weights.tolist(), log=log)
        # one iteration halves A (risk 0.1); the final step scales every position by 0.05 / 0.1
        np.testing.assert_allclose(out, weights * [0.25, 0.5, 0.5], rtol=1e-12)
        assert agent.forced_[t] and agent.iterations_[t] == 1
        assert reasons(log, data)[-1] == "limits still breached after 1 iteration(s): every position scaled by 0.5000"
        assert_limits_hold(agent, t, out)

    @pytest.mark.parametrize("covariance", ["sample", "ewma", "ledoit_wolf"])
    def test_final_step_makes_every_limit_hold(self, covariance: str) -> None:
        data = random_market()
        t = 100
        agent = RiskLimits(max_portfolio_risk=0.05, max_position_risk=0.02, var_limit=0.002, cvar_limit=0.003,
                           max_iterations=1, resize_threshold=0.9, lookback=60, min_history=30,
                           covariance=covariance, halflife=10 if covariance == "ewma" else None)  # fmt: skip
        agent.prepare(data, None)
        log = DecisionLog()
        out = propose(agent, data, t, [0.5, 0.3, -0.4], log=log)
        assert agent.forced_[t] and agent.iterations_[t] == 1
        assert "limits still breached after 1 iteration(s)" in reasons(log, data)[-1]
        assert_limits_hold(agent, t, out)
        # the final step scales by the one factor that makes the tightest limit bind
        measures = agent.measure(t, out)
        ratios = [
            measures.volatility / 0.05,
            measures.var / 0.002,
            measures.cvar / 0.003,
            measures.position_risk.max() / 0.02,
        ]
        assert max(ratios) == pytest.approx(1.0, rel=1e-9)

    @pytest.mark.parametrize(
        ("limit", "var_method", "measure"),
        [
            ("max_portfolio_risk", "parametric", "volatility"),
            ("var_limit", "parametric", "var"),
            ("var_limit", "historical", "var"),
            ("cvar_limit", "parametric", "cvar"),
            ("cvar_limit", "historical", "cvar"),
        ],
    )
    def test_portfolio_step(self, limit: str, var_method: str, measure: str) -> None:
        data = random_market(days=140)
        t, lookback, confidence = 120, 100, 0.95
        weights = np.array([0.5, 0.3, -0.2])
        r = window(data, t, lookback) @ weights
        sigma = r.std(ddof=1)
        z = NormalDist().inv_cdf(confidence)
        worst = np.sort(r)[:5]  # ceil(0.05 * 100) = 5 returns in the tail
        expected = {
            ("volatility", "parametric"): sigma * ANNUAL,
            ("var", "parametric"): z * sigma,
            ("var", "historical"): -worst[-1],
            ("cvar", "parametric"): sigma * NormalDist().pdf(z) / (1 - confidence),
            ("cvar", "historical"): -worst.mean(),
        }[(measure, var_method)]
        settings: dict[str, object] = {"max_portfolio_risk": None, "var_limit": None, "max_position_risk": None}
        settings[limit] = 0.7 * expected
        agent = RiskLimits(**settings, var_method=var_method, lookback=lookback, min_history=30)  # type: ignore[arg-type]
        agent.prepare(data, None)
        assert getattr(agent.measure(t, weights), measure) == pytest.approx(expected, rel=1e-10)
        log = DecisionLog()
        out = propose(agent, data, t, weights.tolist(), log=log)
        np.testing.assert_allclose(out, weights * 0.7, rtol=1e-10)
        assert agent.iterations_[t] == 1 and not agent.forced_[t]
        label = {"volatility": "volatility", "var": "VaR", "cvar": "CVaR"}[measure]
        assert reasons(log, data) == [f"portfolio {label} {expected:.4f} > {0.7 * expected:g}"] * 3
        assert_limits_hold(agent, t, out)
        recorded = {"volatility": agent.volatility_, "var": agent.var_, "cvar": agent.cvar_}[measure][t]
        assert recorded == pytest.approx(0.7 * expected, rel=1e-10)

    def test_portfolio_step_below_the_threshold_takes_three_iterations(self) -> None:
        data = random_market()
        t = 100
        weights = np.array([0.5, 0.5, 0.0])
        vol = (window(data, t, 60) @ weights).std(ddof=1) * ANNUAL
        agent = RiskLimits(max_portfolio_risk=0.2 * vol, max_position_risk=None, var_limit=None, lookback=60,
                           min_history=30)  # fmt: skip
        agent.prepare(data, None)
        out = propose(agent, data, t, weights.tolist())
        # 0.5 (floor), 0.5 (floor), then 0.2 / 0.25 = 0.8: at the limit after 3 iterations, no final step
        np.testing.assert_allclose(out, weights * 0.2, rtol=1e-10)
        assert agent.iterations_[t] == 3 and not agent.forced_[t]
        assert agent.volatility_[t] == pytest.approx(0.2 * vol, rel=1e-10)

    def test_contribution_position_risk(self) -> None:
        data = random_market()
        t = 100
        weights = np.array([0.6, 0.3, 0.3])
        x = window(data, t, 60)
        cov = np.cov(x, rowvar=False)
        sigma = math.sqrt(weights @ cov @ weights)
        contributions = weights * (cov @ weights) / sigma * ANNUAL
        agent = RiskLimits(max_portfolio_risk=None, var_limit=None, max_position_risk=0.6 * contributions.max(),
                           position_risk="contribution", lookback=60, min_history=30)  # fmt: skip
        agent.prepare(data, None)
        measures = agent.measure(t, weights)
        np.testing.assert_allclose(measures.position_risk, contributions, rtol=1e-10)
        assert measures.position_risk.sum() == pytest.approx(measures.volatility, rel=1e-12)
        assert measures.volatility == pytest.approx(sigma * ANNUAL, rel=1e-12)
        out = propose(agent, data, t, weights.tolist())
        assert agent.at_limit_[t]
        assert_limits_hold(agent, t, out)
        after = agent.measure(t, out)
        assert after.position_risk.sum() == pytest.approx(after.volatility, rel=1e-12)
        # positions are only ever scaled down, and the largest contributor was cut
        assert (np.abs(out) <= np.abs(weights)).all() and out[0] < weights[0]
        assert after.position_risk.max() < 0.6 * contributions.max() * (1 + RELATIVE)

    @pytest.mark.parametrize("covariance", ["sample", "ewma", "ledoit_wolf"])
    def test_measures_by_covariance_method(self, covariance: str) -> None:
        data = random_market()
        t, halflife = 100, 10.0
        weights = np.array([0.4, -0.3, 0.5])
        cov = covariance_of(window(data, t, 60), covariance, halflife)
        sigma = math.sqrt(weights @ cov @ weights)
        agent = RiskLimits(max_portfolio_risk=0.5 * sigma * ANNUAL, var_limit=None, max_position_risk=0.05,
                           position_risk="standalone", lookback=60, min_history=30, covariance=covariance,
                           halflife=halflife if covariance == "ewma" else None)  # fmt: skip
        agent.prepare(data, None)
        measures = agent.measure(t, weights)
        assert measures.volatility == pytest.approx(sigma * ANNUAL, rel=1e-10)
        np.testing.assert_allclose(measures.position_risk, np.abs(weights) * np.sqrt(np.diag(cov)) * ANNUAL, rtol=1e-10)
        assert measures.var == pytest.approx(NormalDist().inv_cdf(0.95) * sigma, rel=1e-10)
        out = propose(agent, data, t, weights.tolist())
        assert agent.at_limit_[t]
        assert_limits_hold(agent, t, out)

    @pytest.mark.parametrize(
        ("covariance", "position_risk", "var_method"),
        [("sample", "standalone", "parametric"), ("ewma", "contribution", "historical"),
         ("ledoit_wolf", "standalone", "historical")],
    )  # fmt: skip
    def test_every_limit_holds_on_every_bar(self, covariance: str, position_risk: str, var_method: str) -> None:
        data = random_market(days=150, vols=(0.03, 0.01, 0.02, 0.015))
        risk = RiskLimits(max_portfolio_risk=0.15, max_position_risk=0.06, var_limit=0.012, cvar_limit=0.014,
                          var_method=var_method, position_risk=position_risk, lookback=60, min_history=40,
                          covariance=covariance, halflife=15 if covariance == "ewma" else None)  # fmt: skip
        orchestrator = Orchestrator({"sizing": EqualWeightSizing(), "risk": risk})
        signals = SignalFrame(np.ones(data.shape), np.ones(data.shape))
        result = run_backtest(data, signals, orchestrator, SimulatedBroker(initial_cash=1e6))
        weights = result.weights()
        bars = range(40, data.n_days)
        for t in bars:
            assert_limits_hold(risk, t, held_weights(result.target_weights[t], weights[t]))
        assert risk.at_limit_[40:].all()  # equal weight of these stocks is over some limit on every bar
        assert (result.target_weights[:40] == 0).all()  # warm-up: nothing held
        np.testing.assert_array_equal(result.agent_series["at_limit"], risk.at_limit_.astype(float))

    @settings(max_examples=40, deadline=None)
    @given(
        weights=st.lists(st.floats(-1.0, 1.0) | st.just(nan), min_size=3, max_size=3),
        held=st.lists(st.floats(-0.5, 0.5), min_size=3, max_size=3),
        limits=st.tuples(*[st.none() | st.floats(0.001, 0.3)] * 4),
        var_method=st.sampled_from(["parametric", "historical"]),
        position_risk=st.sampled_from(["standalone", "contribution"]),
        covariance=st.sampled_from(["sample", "ewma", "ledoit_wolf"]),
        max_iterations=st.integers(1, 4),
        resize_threshold=st.floats(0.05, 1.0),
    )
    def test_every_limit_holds_after_the_agent(
        self,
        weights: list[float],
        held: list[float],
        limits: tuple[float | None, ...],
        var_method: str,
        position_risk: str,
        covariance: str,
        max_iterations: int,
        resize_threshold: float,
    ) -> None:
        data = PROPERTY_DATA
        agent = RiskLimits(max_portfolio_risk=limits[0], max_position_risk=limits[1], var_limit=limits[2],
                           cvar_limit=limits[3], var_method=var_method, position_risk=position_risk,
                           max_iterations=max_iterations, resize_threshold=resize_threshold, lookback=60,
                           min_history=30, covariance=covariance,
                           halflife=10 if covariance == "ewma" else None)  # fmt: skip
        agent.prepare(data, None)
        t = 100
        state = state_at(data, t, positions=np.array(held) / data.close[t])
        proposal = TradeProposal(np.array(weights))
        out = agent.propose(proposal, state)
        after = held_weights(out.target_weights, state.weights)
        before = held_weights(proposal.target_weights, state.weights)
        assert_limits_hold(agent, t, after)
        # positions are only scaled down, never flipped or grown; targets left NaN are positions left alone
        assert (np.abs(after) <= np.abs(before) * (1 + 1e-12)).all() and (after * before >= 0).all()
        changed = ~np.isnan(out.target_weights) & np.isnan(proposal.target_weights)
        assert (after[changed] != before[changed]).all()

    # --- warm-up and the no-op ---------------------------------------------------------------------------

    def test_warm_up_holds_nothing_and_says_why(self) -> None:
        data = random_market()
        agent = RiskLimits(lookback=60, min_history=30)
        agent.prepare(data, None)
        log = DecisionLog()
        state = state_at(data, 10, positions=np.array([0.002, 0.0, 0.0]), equity=1.0, log=log)
        out = agent.propose(TradeProposal(np.array([nan, 0.3, nan])), state)
        np.testing.assert_array_equal(out.target_weights, [0.0, 0.0, nan])
        frame = log.to_frame(data.dates, data.tickers)
        assert frame["ticker"].tolist() == ["A", "B"]
        assert frame["after"].tolist() == [0.0, 0.0]
        assert set(frame["reason"]) == {"no risk estimate yet: 10 of 30 returns"}
        assert agent.iterations_[10] == 0 and np.isnan(agent.volatility_[10])
        # with min_history returns the agent measures and acts
        out = propose(agent, data, 30, [0.3, 0.3, 0.3])
        assert not np.isnan(agent.volatility_[30])
        assert_limits_hold(agent, 30, out)

    def test_no_limits_is_a_no_op(self) -> None:
        agent = RiskLimits(max_portfolio_risk=None, max_position_risk=None, var_limit=None, cvar_limit=None)
        assert not agent.enabled and agent.supports_panel and agent.history_needed() == 0
        data = random_market(days=10)
        agent.prepare(data, None)
        proposal = TradeProposal(np.array([5.0, nan, -3.0]))
        assert agent.propose(proposal, state_at(data, 3, positions=np.array([1.0, 1.0, 1.0]))) is proposal
        previous = np.full(data.shape, 0.5)
        assert agent.panel_targets(previous, data, SignalFrame(previous, previous), None, DecisionLog()) is previous
        assert agent.series() == {}

    def test_within_every_limit_returns_the_same_proposal(self) -> None:
        data = random_market()
        agent = RiskLimits(lookback=60, min_history=30)
        agent.prepare(data, None)
        proposal = TradeProposal(np.array([0.01, 0.01, nan]))
        assert agent.propose(proposal, state_at(data, 100)) is proposal
        assert agent.iterations_[100] == 0 and not agent.at_limit_[100]


class TestDrawdownRules:
    @staticmethod
    def drive(
        agent: RiskLimits, closes: list[float], positions: list[float], targets: list[float] | None = None
    ) -> tuple[np.ndarray, DecisionLog]:
        """Run ``agent`` bar by bar on one ticker with the given closes and positions held after each bar's fill."""
        n = len(closes)
        data = MarketData(dates(n), ("A",), np.array(closes, dtype=float)[:, None])
        agent.prepare(data, None)
        log = DecisionLog()
        out = np.empty(n)
        for t in range(n):
            state = state_at(data, t, positions=np.array([positions[t]]), equity=1.0, log=log)
            target = nan if targets is None else targets[t]
            out[t] = agent.propose(TradeProposal(np.array([target])), state).target_weights[0]
        return out, log

    @staticmethod
    def rules(**kwargs: object) -> RiskLimits:
        return RiskLimits(max_portfolio_risk=None, max_position_risk=None, var_limit=None, **kwargs)  # type: ignore[arg-type]

    def test_long_closed_after_its_drawdown_kept_closed_then_re_enters(self) -> None:
        agent = self.rules(max_position_drawdown=0.1, drawdown_cooldown=3)
        #           0      1      2      3 stop 4     5     6      7
        closes = [100.0, 110.0, 100.0, 98.0, 97.0, 96.0, 99.0, 100.0]
        held = [0.01, 0.01, 0.01, 0.01, 0.0, 0.0, 0.0, 0.01]
        out, log = self.drive(agent, closes, held, targets=[0.5] * 8)
        # bar 2: 100 / 110 - 1 = -9.1 %, kept; bar 3: 98 / 110 - 1 = -10.9 %, closed; closed for 3 bars (3, 4, 5)
        np.testing.assert_array_equal(out, [0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.5, 0.5])
        frame = log.to_frame(np.array(dates(8)), ("A",))
        assert frame["bar"].tolist() == [3]
        assert frame["reason"].iloc[0] == "position drawdown -0.1091 beyond -0.1"
        assert agent.supports_panel is False and agent.history_needed() == 0

    def test_short_closed_after_the_price_rose_that_far_from_its_lowest(self) -> None:
        agent = self.rules(max_position_drawdown=0.1, drawdown_cooldown=2)
        # a short opened at 100, lowest close 95, then 104 (+9.5 % from the lowest) and 105 (+10.5 %: closed)
        closes = [100.0, 95.0, 104.0, 105.0, 106.0, 107.0, 108.0]
        held = [-0.01, -0.01, -0.01, -0.01, 0.0, 0.0, -0.01]
        out, log = self.drive(agent, closes, held, targets=[-0.5] * 7)
        np.testing.assert_array_equal(out, [-0.5, -0.5, -0.5, 0.0, 0.0, -0.5, -0.5])
        frame = log.to_frame(np.array(dates(7)), ("A",))
        assert frame["bar"].tolist() == [3]
        assert frame["reason"].iloc[0] == f"position drawdown {1 - 105 / 95:.4f} beyond -0.1"

    def test_held_position_is_closed_with_an_explicit_target(self) -> None:
        agent = self.rules(max_position_drawdown=0.05, drawdown_cooldown=1)
        out, _ = self.drive(agent, [100.0, 94.0, 93.0], [0.01, 0.01, 0.0])
        np.testing.assert_array_equal(out, [nan, 0.0, nan])  # NaN: keep the (closed) position as it is

    def test_a_new_position_measures_from_its_own_entry(self) -> None:
        agent = self.rules(max_position_drawdown=0.1, drawdown_cooldown=1)
        # held from 120 down to 100 is -16.7 %, but the position opened at 100 (bar 2): nothing fires
        out, log = self.drive(agent, [120.0, 110.0, 100.0, 95.0], [0.0, 0.0, 0.01, 0.01], targets=[0.5] * 4)
        np.testing.assert_array_equal(out, [0.5] * 4)
        assert len(log) == 0

    def test_portfolio_drawdown_scales_for_the_cooldown_then_the_peak_restarts(self) -> None:
        agent = self.rules(max_portfolio_drawdown=0.1, drawdown_exposure=0.5, drawdown_cooldown=3)
        data = random_market(days=10)
        agent.prepare(data, None)
        log = DecisionLog()
        #          0      1      2 fires 3     4     5 peak 6     7 fires
        equity = [100.0, 110.0, 98.0, 90.0, 80.0, 80.0, 85.0, 71.0]
        out = []
        for t, value in enumerate(equity):
            state = state_at(data, t, positions=np.array([0.1, 0.1, 0.0]), equity=value, log=log)
            out.append(agent.propose(TradeProposal(np.array([0.4, 0.2, 0.0])), state).target_weights)
        scaled, full = [0.2, 0.1, 0.0], [0.4, 0.2, 0.0]
        # bar 2: 98 / 110 - 1 = -10.9 %: half for 3 bars (2, 3, 4); bar 5: the peak restarts at 80 (not 110);
        # bar 7: 71 / 85 - 1 = -16.5 %, fires again
        np.testing.assert_allclose(out, [full, full, scaled, scaled, scaled, full, full, scaled])
        frame = log.to_frame(data.dates[:8], data.tickers)
        assert frame["bar"].tolist() == [2, 2, 7, 7]
        assert frame["reason"].iloc[0] == f"portfolio drawdown {98 / 110 - 1:.4f} beyond -0.1"

    def test_portfolio_drawdown_to_cash(self) -> None:
        agent = self.rules(max_portfolio_drawdown=0.2, drawdown_cooldown=2)
        data = random_market(days=5)
        agent.prepare(data, None)
        out = []
        for t, value in enumerate([100.0, 79.0, 79.0, 79.0]):
            state = state_at(data, t, positions=np.array([0.1, 0.1, 0.0]), equity=value)
            out.append(agent.propose(TradeProposal(np.array([0.4, 0.2, nan])), state).target_weights)
        np.testing.assert_array_equal(out, [[0.4, 0.2, nan], [0.0, 0.0, nan], [0.0, 0.0, nan], [0.4, 0.2, nan]])

    def test_portfolio_drawdown_does_not_compound_on_held_positions(self) -> None:
        """A held position (NaN target) is scaled once by the rule, not again on every bar it lasts."""
        agent = self.rules(max_portfolio_drawdown=0.1, drawdown_exposure=0.5, drawdown_cooldown=3)
        data = random_market(days=5)
        agent.prepare(data, None)
        close = data.close[0]
        out = []
        shares = np.array([0.4, 0.2, 0.0]) * 100.0 / close
        for t, value in enumerate([100.0, 89.0, 89.0, 89.0]):
            state = state_at(data, t, equity=value)
            state.close = close
            state.positions = shares
            targets = agent.propose(TradeProposal(np.full(3, nan)), state).target_weights
            out.append(held_weights(targets, state.weights))
            if t >= 1:  # the fill of bar t's targets at the same prices
                shares = held_weights(targets, state.weights) * value / close
        weights = np.array([0.4, 0.2, 0.0]) * 100.0 / 89.0
        np.testing.assert_allclose(out, [[0.4, 0.2, 0.0], weights / 2, weights / 2, weights / 2], rtol=1e-12)

    def test_position_drawdown_through_the_engine(self) -> None:
        closes = np.array([100.0, 100.0, 110.0, 104.0, 98.0, 97.0, 96.0, 96.0, 96.0, 97.0, 98.0])
        data = MarketData(dates(closes.size), ("A",), closes[:, None])
        risk = self.rules(max_position_drawdown=0.1, drawdown_cooldown=2)
        orchestrator = Orchestrator({"sizing": ProposeOn([0.5]), "risk": risk})
        signals = SignalFrame(np.ones(data.shape), np.ones(data.shape))
        result = run_backtest(data, signals, orchestrator, SimulatedBroker(initial_cash=1000.0, fill_price="close"))
        # bought at bar 1 (100), best close 110; bar 4: 98 / 110 - 1 = -10.9 %: sold at bar 5, out while the rule
        # holds (decisions of bars 4 and 5), back in from the decision of bar 6 (filled at bar 7)
        held = result.positions[:, 0] > 0
        np.testing.assert_array_equal(held, [False, True, True, True, True, False, False, True, True, True, True])
        np.testing.assert_array_equal(result.target_weights[:, 0], [0.5] * 4 + [0.0, 0.0] + [0.5] * 5)
