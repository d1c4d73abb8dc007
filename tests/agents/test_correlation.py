"""CorrelationLimit: pairs, signed correlation, clusters, ties, held positions, refresh calendar, the saved matrix."""

from __future__ import annotations

import numpy as np
import pytest

from framework.agents import CorrelationLimit, EqualWeightSizing, Orchestrator
from framework.backtest.engine import run_backtest
from framework.core.market_data import MarketData
from framework.core.types import DecisionLog, ExecutionState, SignalFrame, TradeProposal
from framework.execution.broker import SimulatedBroker
from framework.stats.covariance import correlation_from_covariance, ewma_covariance, sample_covariance

nan = np.nan
TICKERS = ("A", "B", "C", "D", "E")
DAYS = 120
START = np.datetime64("2024-01-01")  # a Monday


def make_data(days: int = DAYS, seed: int = 1) -> MarketData:
    """A and B and E follow one factor (correlation ~0.96); C is independent; D is half A's factor, half C."""
    rng = np.random.default_rng(seed)
    f, g, e = rng.normal(size=(days, 1)), rng.normal(size=(days, 1)), rng.normal(size=(days, 3))
    returns = 0.01 * np.hstack([f + 0.2 * e[:, :1], f + 0.2 * e[:, 1:2], g, f + g, f + 0.2 * e[:, 2:]])
    close = 100.0 * np.vstack([np.ones((1, 5)), np.cumprod(1.0 + returns[1:], axis=0)])
    return MarketData(START + np.arange(days), TICKERS, close)


def window(data: MarketData, bar: int, lookback: int) -> np.ndarray:
    returns = data.close[1:] / data.close[:-1] - 1.0
    return returns[max(0, bar - lookback) : bar]


def corr_at(data: MarketData, bar: int, lookback: int = 60) -> np.ndarray:
    return np.corrcoef(window(data, bar, lookback), rowvar=False)


def state_at(
    data: MarketData,
    bar: int,
    weights: list[float] | np.ndarray | None = None,
    signal: list[float] | None = None,
    confidence: list[float] | None = None,
    log: DecisionLog | None = None,
) -> ExecutionState:
    """State of ``bar`` holding ``weights`` (fractions of an equity of 1) with the given signal strengths."""
    n = data.n_tickers
    state = ExecutionState.empty(data.tickers)
    state.bar, state.date, state.close = bar, data.dates[bar], data.close[bar]
    state.equity = 1.0
    state.positions = (np.zeros(n) if weights is None else np.asarray(weights, dtype=float)) / data.close[bar]
    state.signal = np.ones(n) if signal is None else np.array(signal, dtype=float)
    state.confidence = np.ones(n) if confidence is None else np.array(confidence, dtype=float)
    if log is not None:
        state.log = log
    return state


def agent(**kwargs: object) -> CorrelationLimit:
    settings: dict[str, object] = {"correlation_lookback": 60, "min_history": 30}
    settings.update(kwargs)
    out = CorrelationLimit(**settings)  # type: ignore[arg-type]
    out.name = "correlation"
    return out


def targets(values: list[float]) -> TradeProposal:
    return TradeProposal(np.array(values, dtype=float))


class TestCorrelationLimit:
    T = 100

    def test_the_weaker_of_a_pair_is_cut(self) -> None:
        data = make_data()
        corr = corr_at(data, self.T)
        assert corr[0, 1] > 0.9 and abs(corr[0, 2]) < 0.3 and abs(corr[1, 2]) < 0.3
        limiter = agent(max_correlation=0.7, adjustment_factor=0.4)
        limiter.prepare(data, None)
        log = DecisionLog()
        state = state_at(data, self.T, signal=[1.0, 0.5, 1.0, 0.0, 0.0], confidence=[0.5, 0.9, 1.0, 1.0, 1.0], log=log)
        out = limiter.propose(targets([0.3, 0.3, 0.3, 0.0, 0.0]), state)
        # strength |signal| x confidence: A 0.5 > B 0.45, so B is cut
        np.testing.assert_allclose(out.target_weights, [0.3, 0.12, 0.3, 0.0, 0.0], rtol=1e-15)
        frame = log.to_frame(data.dates, data.tickers)
        assert frame[["bar", "agent", "ticker", "before", "after"]].values.tolist() == [
            [self.T, "correlation", "B", 0.3, pytest.approx(0.12)]
        ]
        assert frame["reason"].iloc[0] == f"correlation {corr[0, 1]:.3f} > 0.7 with a position of stronger signal"
        assert limiter.cuts_[self.T] == 1

    def test_long_short_pair_of_correlated_stocks_is_a_hedge(self) -> None:
        data = make_data()
        limiter = agent(max_correlation=0.7)
        limiter.prepare(data, None)
        proposal = targets([0.3, -0.3, 0.0, 0.0, 0.0])
        assert limiter.propose(proposal, state_at(data, self.T, signal=[1.0, -0.5, 0, 0, 0])) is proposal

    def test_long_short_pair_of_opposite_stocks_is_cut(self) -> None:
        rng = np.random.default_rng(3)
        f = rng.normal(size=(DAYS, 1)) * 0.01
        returns = np.hstack([f, -f + 0.002 * rng.normal(size=(DAYS, 1))])
        close = 100.0 * np.vstack([np.ones((1, 2)), np.cumprod(1.0 + returns[1:], axis=0)])
        data = MarketData(START + np.arange(DAYS), ("A", "B"), close)
        assert corr_at(data, self.T)[0, 1] < -0.9
        limiter = agent(max_correlation=0.7)
        limiter.prepare(data, None)
        out = limiter.propose(targets([0.3, -0.3]), state_at(data, self.T, signal=[1.0, -0.5]))
        np.testing.assert_allclose(out.target_weights, [0.3, -0.15])  # long A and short B are the same bet

    def test_cluster_of_three_cuts_every_member_but_the_strongest_once(self) -> None:
        data = make_data()
        corr = corr_at(data, self.T)
        assert min(corr[0, 1], corr[0, 4], corr[1, 4]) > 0.9
        limiter = agent(max_correlation=0.7, adjustment_factor=0.5)
        limiter.prepare(data, None)
        log = DecisionLog()
        state = state_at(data, self.T, signal=[0.6, 1.0, 0.0, 0.0, 0.8], log=log)
        out = limiter.propose(targets([0.2, 0.2, 0.0, 0.0, 0.2]), state)
        # B is the strongest; A (two stronger partners) and E are cut once each, not twice
        np.testing.assert_allclose(out.target_weights, [0.1, 0.2, 0.0, 0.0, 0.1])
        frame = log.to_frame(data.dates, data.tickers)
        assert frame["ticker"].tolist() == ["A", "E"]
        # each row names its strongest too-close stronger partner's correlation
        assert frame["reason"].tolist() == [
            f"correlation {max(corr[0, 1], corr[0, 4]):.3f} > 0.7 with a position of stronger signal",
            f"correlation {corr[4, 1]:.3f} > 0.7 with a position of stronger signal",
        ]

    def chain(self) -> tuple[MarketData, float]:
        """A-D and D-C are too correlated, A-C is not: a chain A - D - C."""
        data = make_data()
        corr = corr_at(data, self.T)
        limit = min(corr[0, 3], corr[3, 2]) - 0.05
        assert abs(corr[0, 2]) < 0.3 < limit < 0.9
        return data, limit

    def test_chain_in_strength_order_cuts_both_weaker_members(self) -> None:
        data, limit = self.chain()
        limiter = agent(max_correlation=limit)
        limiter.prepare(data, None)
        out = limiter.propose(targets([0.2, 0.0, 0.2, 0.2, 0.0]), state_at(data, self.T, signal=[1.0, 0, 0.4, 0.7, 0]))
        # A > D > C: D is cut for A, and C for D, though D itself was cut (the docstring's example)
        np.testing.assert_allclose(out.target_weights, [0.2, 0.0, 0.1, 0.1, 0.0])

    def test_chain_with_the_middle_weakest_by_the_pair_rule(self) -> None:
        data, limit = self.chain()
        limiter = agent(max_correlation=limit)
        limiter.prepare(data, None)
        out = limiter.propose(targets([0.2, 0.0, 0.2, 0.2, 0.0]), state_at(data, self.T, signal=[1.0, 0, 0.7, 0.4, 0]))
        np.testing.assert_allclose(out.target_weights, [0.2, 0.0, 0.2, 0.1, 0.0])  # only D has a stronger partner

    @pytest.mark.parametrize(("pair", "weaker"), [((0, 1), 1), ((1, 4), 4), ((0, 4), 4)])
    def test_tie_goes_to_the_ticker_further_left(self, pair: tuple[int, int], weaker: int) -> None:
        data = make_data()
        limiter = agent(max_correlation=0.7)
        limiter.prepare(data, None)
        weights = np.zeros(5)
        weights[list(pair)] = 0.25
        signal = np.zeros(5)
        signal[list(pair)] = 0.8
        out = limiter.propose(TradeProposal(weights), state_at(data, self.T, signal=signal.tolist()))
        expected = weights.copy()
        expected[weaker] = 0.125
        np.testing.assert_array_equal(out.target_weights, expected)

    def test_held_positions_are_cut_once_until_a_new_target(self) -> None:
        data = make_data()
        limiter = agent(max_correlation=0.7)
        limiter.prepare(data, None)
        log = DecisionLog()
        signal = [1.0, 0.5, 0.0, 0.0, 0.0]
        t = self.T
        held = [0.3, 0.3, 0.0, 0.0, 0.0]
        out = limiter.propose(targets([nan] * 5), state_at(data, t, held, signal, log=log))
        np.testing.assert_allclose(out.target_weights, [nan, 0.15, nan, nan, nan], rtol=1e-15)
        # the cut filled: B is held at 0.15, still too correlated with A, and not cut again
        held = [0.3, 0.15, 0.0, 0.0, 0.0]
        for bar in (t + 1, t + 2):
            proposal = targets([nan] * 5)
            assert limiter.propose(proposal, state_at(data, bar, held, signal, log=log)) is proposal
        # a new target for B: cut again, from the new target
        out = limiter.propose(targets([nan, 0.4, nan, nan, nan]), state_at(data, t + 3, held, signal, log=log))
        np.testing.assert_allclose(out.target_weights, [nan, 0.2, nan, nan, nan], rtol=1e-15)
        assert log.to_frame(data.dates, data.tickers)["bar"].tolist() == [t, t + 3]
        np.testing.assert_array_equal(limiter.cuts_[t : t + 4], [1, 0, 0, 1])

    def test_a_cut_target_is_not_cut_again_while_held(self) -> None:
        """Cut on its explicit target, then held (NaN): the held weight already carries the cut."""
        data = make_data()
        limiter = agent(max_correlation=0.7)
        limiter.prepare(data, None)
        signal = [1.0, 0.5, 0.0, 0.0, 0.0]
        out = limiter.propose(targets([0.3, 0.3, 0.0, 0.0, 0.0]), state_at(data, self.T, signal=signal))
        np.testing.assert_array_equal(out.target_weights, [0.3, 0.15, 0.0, 0.0, 0.0])
        proposal = targets([nan] * 5)
        held = state_at(data, self.T + 1, [0.3, 0.15, 0.0, 0.0, 0.0], signal)
        assert limiter.propose(proposal, held) is proposal

    def test_held_position_cut_in_a_run_does_not_compound(self) -> None:
        data = make_data()
        limiter = agent(max_correlation=0.7)
        sizing = EqualWeightSizing(rebalance="monthly")
        orchestrator = Orchestrator({"sizing": sizing, "correlation": limiter})
        signal = np.zeros(data.shape)
        signal[:, :2] = [1.0, 0.5]
        result = run_backtest(data, SignalFrame(signal, np.ones(data.shape)), orchestrator, SimulatedBroker())
        weights = result.weights()
        # rebalanced on 2024-04-01 (filled the next bar): B is cut to half of A's weight once, then drifts with
        # the prices until the end of the data; a cut of the held B on a later bar would show as a jump
        fill = int(np.flatnonzero(data.dates == np.datetime64("2024-04-01"))[0]) + 1
        ratio = weights[fill:, 1] / weights[fill:, 0]
        drift = (data.close[fill:, 1] / data.close[fill, 1]) / (data.close[fill:, 0] / data.close[fill, 0])
        assert ratio.size > 20
        np.testing.assert_allclose(ratio, 0.5 * drift, rtol=1e-9)

    @pytest.mark.parametrize(("frequency", "refresh_weekday"), [("weekly", 0), ("monthly", None)])
    def test_update_frequency_reuses_the_matrix_between_refreshes(
        self, frequency: str, refresh_weekday: int | None
    ) -> None:
        data = make_data()
        limiter = agent(update_frequency=frequency)
        limiter.prepare(data, None)
        bars = []
        for t in range(25, DAYS):
            limiter.propose(targets([0.2] * 5), state_at(data, t))
            if t >= 30:
                bars.append(limiter.correlation_bar_)
                np.testing.assert_allclose(limiter.correlation_, corr_at(data, limiter.correlation_bar_), atol=1e-12)
                if limiter.correlation_bar_ != t:  # between refreshes the matrix is the last refresh's, not today's
                    assert not np.allclose(limiter.correlation_, corr_at(data, t), atol=1e-6)
            else:
                assert limiter.correlation_ is None  # warming up
        refreshed = sorted(set(bars))
        assert refreshed[0] == 30  # the first bar with min_history returns
        days = data.dates[refreshed[1:]]
        if refresh_weekday is not None:  # 2024-01-01 is a Monday: weeks start on bars 0, 7, 14...
            assert refreshed[1:] == list(range(35, DAYS, 7))
            assert ((days.astype(np.int64) + 3) % 7 == refresh_weekday).all()
        else:
            assert [str(d) for d in days] == ["2024-02-01", "2024-03-01", "2024-04-01"]

    def test_daily_refresh(self) -> None:
        data = make_data()
        limiter = agent()
        limiter.prepare(data, None)
        for t in (40, 41, 42):
            limiter.propose(targets([0.2] * 5), state_at(data, t))
            assert limiter.correlation_bar_ == t

    @pytest.mark.parametrize("covariance", ["sample", "ewma"])
    def test_matrix_is_the_correlation_of_the_windows_covariance(self, covariance: str) -> None:
        data = make_data()
        halflife = 12.0 if covariance == "ewma" else None
        limiter = agent(covariance=covariance, halflife=halflife)
        limiter.prepare(data, None)
        for t in range(30, self.T + 1):  # the running sums are moved bar by bar, as in a run
            limiter.propose(targets([0.2] * 5), state_at(data, t))
        x = window(data, self.T, 60)
        cov = sample_covariance(x) if covariance == "sample" else ewma_covariance(x, 12.0)
        np.testing.assert_allclose(limiter.correlation_, correlation_from_covariance(cov), rtol=0, atol=1e-12)
        if covariance == "sample":
            np.testing.assert_allclose(limiter.correlation_, np.corrcoef(x, rowvar=False), atol=1e-12)

    def test_outputs_give_the_last_matrix(self) -> None:
        data = make_data()
        limiter = agent(update_frequency="weekly")
        limiter.prepare(data, None)
        assert limiter.outputs(data.dates, data.tickers) == {}
        for t in range(30, 45):
            limiter.propose(targets([0.2] * 5), state_at(data, t))
        tables = limiter.outputs(data.dates, data.tickers)
        frame = tables["correlation"]
        assert list(tables) == ["correlation"]
        assert list(frame.index) == list(TICKERS) and list(frame.columns) == list(TICKERS)
        assert limiter.correlation_bar_ == 42
        assert frame.index.name == f"as of {data.dates[42]}"
        np.testing.assert_allclose(frame.to_numpy(), corr_at(data, 42), atol=1e-12)

    def test_warm_up_passes_the_proposal_through(self) -> None:
        data = make_data()
        limiter = agent()
        limiter.prepare(data, None)
        proposal = targets([0.3, 0.3, 0.3, 0.3, 0.3])
        assert limiter.propose(proposal, state_at(data, 29)) is proposal
        assert limiter.correlation_ is None and limiter.history_needed() == 30

    def test_one_position_passes_through(self) -> None:
        data = make_data()
        limiter = agent()
        limiter.prepare(data, None)
        proposal = targets([0.3, 0.0, 0.0, 0.0, 0.0])
        assert limiter.propose(proposal, state_at(data, self.T)) is proposal
