"""Correlation control: cut the weaker of two positions that move too much alike.

The rule, on every bar, over the positions the portfolio would hold after the next fill (the proposal where
set, the current weights where NaN): two positions are *too correlated* when the correlation of their returns,
signed by their sides (a long and a short of correlated stocks hedge each other), exceeds ``max_correlation``.
Each position that is too correlated with at least one *stronger* position (larger ``|signal| x confidence``;
on a tie, the one further left in the ticker order) is scaled by ``adjustment_factor`` once, however many
stronger partners it has. The rule is about pairs, also in a cluster of three or more: when every member is too
close to every other, every member but the strongest is cut once (each has the strongest as a stronger partner,
and a member's cut does not spare the others). In a chain A - D - C where only A - D and D - C are too close, a
member is cut only if one of *its own* too-close partners is stronger: with A > D > C, D and C are cut (C's
partner D is stronger, even though D was itself cut); with A > C > D, only D is cut and C keeps its size. The
strongest position of a cluster is never cut.

The correlation matrix comes from the run's shared estimate and is refreshed on ``update_frequency`` (daily,
weekly or monthly: the first bar of each new period); between refreshes the last one is used. A held position
(NaN target) is cut at most once until it gets a new target, so cuts never compound. The last matrix is saved
with the run (``correlation.csv``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from framework.agents.base import Agent
from framework.agents.schedule import period_starts
from framework.core.checks import check_choice, check_int, check_number
from framework.core.errors import AgentError, ConfigError
from framework.core.market_data import MarketData
from framework.core.types import Adjustment, ExecutionState, SignalFrame, TradeProposal
from framework.stats.covariance import check_covariance_method, correlation_from_covariance
from framework.stats.estimates import Estimates, RollingEstimate

if TYPE_CHECKING:
    import pandas as pd

#: How often the correlation matrix is refreshed.
UPDATE_FREQUENCIES: tuple[str, ...] = ("daily", "weekly", "monthly")


class CorrelationLimit(Agent):
    """Scale down the weaker of each pair of too-correlated positions (see the module docstring).

    Requires: ``min_history`` bars of returns, ``state.signal`` and ``state.confidence``, the current positions.
    Sets: ``target_weights``: multiplied by ``adjustment_factor`` for the positions cut; unchanged elsewhere.

    Args:
        max_correlation: Largest signed correlation allowed between two positions, in (-1, 1).
        correlation_lookback: Returns in the estimation window, >= 2.
        adjustment_factor: Multiplier of a cut position, in [0, 1).
        update_frequency: ``daily``, ``weekly`` or ``monthly``.
        covariance: ``sample``, ``ledoit_wolf`` or ``ewma`` (the correlation of that covariance).
        halflife: Half-life in bars, for ``ewma``.
        min_history: Returns needed before the agent acts, in [2, correlation_lookback].

    Raises:
        ConfigError: For a parameter out of range.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> common = rng.normal(size=(300, 1)) * 0.01
        >>> returns = np.hstack([common, common + rng.normal(size=(300, 1)) * 0.002, rng.normal(size=(300, 1)) * 0.01])
        >>> data = MarketData(np.arange(300).astype("datetime64[D]"), ("A", "B", "C"),
        ...                   100 * np.cumprod(1 + returns, axis=0))
        >>> agent = CorrelationLimit()
        >>> agent.prepare(data, None)
        >>> state = ExecutionState.empty(data.tickers)
        >>> state.bar, state.positions, state.equity = 299, np.zeros(3), 1.0
        >>> state.signal, state.confidence = np.array([1.0, 0.5, 1.0]), np.ones(3)
        >>> agent.propose(TradeProposal(np.array([0.3, 0.3, 0.3])), state).target_weights.tolist()  # B is weaker
        [0.3, 0.15, 0.3]
    """

    requires: ClassVar[tuple[str, ...]] = ("returns", "signal", "confidence", "positions")

    def __init__(
        self,
        max_correlation: float = 0.7,
        correlation_lookback: int = 252,
        adjustment_factor: float = 0.5,
        update_frequency: str = "daily",
        covariance: str = "sample",
        halflife: float | None = None,
        min_history: int = 63,
    ) -> None:
        self.max_correlation = max_correlation
        self.correlation_lookback = correlation_lookback
        self.adjustment_factor = adjustment_factor
        self.update_frequency = update_frequency
        self.covariance = covariance
        self.halflife = halflife
        self.min_history = min_history
        check_number("max_correlation", max_correlation, minimum=-1, exclusive_minimum=True, maximum=0.999999)
        check_int("correlation_lookback", correlation_lookback, minimum=2)
        check_number("adjustment_factor", adjustment_factor, minimum=0, maximum=0.999999)
        check_choice("update_frequency", update_frequency, UPDATE_FREQUENCIES)
        check_covariance_method("", covariance, halflife)
        check_int("min_history", min_history, minimum=2)
        if min_history > correlation_lookback:
            raise ConfigError(
                f"min_history: must be <= correlation_lookback ({correlation_lookback}), got {min_history}"
            )
        self._estimate: RollingEstimate | None = None
        self._updates: np.ndarray = np.empty(0, dtype=bool)
        self.correlation_bar_ = -1
        self._full: tuple[int, np.ndarray] | None = None

    def history_needed(self) -> int:
        """``min_history`` bars of returns.

        Returns:
            ``min_history``.

        Example:
            >>> CorrelationLimit(min_history=21).history_needed()
            21
        """
        return int(self.min_history)

    def prepare(self, data: MarketData, signals: SignalFrame | None) -> None:
        """Take the run's shared estimate and lay out the refresh calendar; forget the cuts of an earlier run.

        Args:
            data: The whole panel of the run.
            signals: The combined signals (not read).

        Example:
            >>> closes = np.array([[10.0, 20.0, 30.0], [11.0, 22.0, 29.0], [10.0, 20.0, 31.0], [12.0, 24.0, 30.0]])
            >>> dates = np.arange("2024-01-01", "2024-01-05", dtype="datetime64[D]")
            >>> data = MarketData(dates, ("A", "B", "C"), closes)  # B is twice A
            >>> agent = CorrelationLimit(correlation_lookback=3, min_history=2)
            >>> agent.prepare(data, None)
            >>> agent.correlation_ is None, agent.cuts_.tolist()
            (True, [0, 0, 0, 0])
        """
        self._estimate = Estimates.of(data).rolling(self.correlation_lookback, self.covariance, self.halflife)
        self._updates = period_starts(data.dates, self.update_frequency)
        self._cut_held = np.zeros(data.n_tickers, dtype=bool)
        self._any_cut = False
        self._last_key: tuple[bytes, bytes, bytes] | None = None
        self.correlation_bar_ = -1
        self._full = None
        self.cuts_ = np.zeros(data.n_days, dtype=np.int64)

    def propose(self, proposal: TradeProposal, state: ExecutionState) -> TradeProposal:
        """Cut the weaker positions of too-correlated pairs (see the module docstring).

        Args:
            proposal: The previous stage's targets.
            state: The state of bar t.

        Returns:
            ``proposal`` itself when nothing is cut, else a new proposal with the cut positions as targets.

        Raises:
            AgentError: Before :meth:`prepare`.

        Example:
            >>> closes = np.array([[10.0, 20.0, 30.0], [11.0, 22.0, 29.0], [10.0, 20.0, 31.0], [12.0, 24.0, 30.0]])
            >>> dates = np.arange("2024-01-01", "2024-01-05", dtype="datetime64[D]")
            >>> data = MarketData(dates, ("A", "B", "C"), closes)  # B is twice A
            >>> agent = CorrelationLimit(correlation_lookback=3, min_history=2)
            >>> agent.prepare(data, None)
            >>> state = ExecutionState.empty(data.tickers)
            >>> state.bar, state.positions, state.equity = 3, np.zeros(3), 1.0
            >>> state.signal, state.confidence = np.array([1.0, 0.5, 1.0]), np.ones(3)
            >>> agent.propose(TradeProposal(np.array([0.3, 0.3, 0.3])), state).target_weights.tolist()
            [0.3, 0.15, 0.3]
        """
        adjustment = self.assess(proposal, state)
        if adjustment is None:
            return proposal
        return adjustment.apply(proposal, state.held(proposal.target_weights), "correlation limit")

    def assess(self, proposal: TradeProposal, state: ExecutionState) -> Adjustment | None:
        """The cuts of this bar, or None when no position is cut.

        Args:
            proposal: The previous stage's targets.
            state: The state of the bar.

        Returns:
            The :class:`Adjustment`: ``adjustment_factor`` for the positions cut, 1 elsewhere; ``cuts`` in its
            metrics.

        Raises:
            AgentError: Before :meth:`prepare`.

        Example:
            >>> closes = np.array([[10.0, 20.0, 30.0], [11.0, 22.0, 29.0], [10.0, 20.0, 31.0], [12.0, 24.0, 30.0]])
            >>> dates = np.arange("2024-01-01", "2024-01-05", dtype="datetime64[D]")
            >>> data = MarketData(dates, ("A", "B", "C"), closes)  # B is twice A
            >>> agent = CorrelationLimit(correlation_lookback=3, min_history=2)
            >>> agent.prepare(data, None)
            >>> state = ExecutionState.empty(data.tickers)
            >>> state.bar, state.positions, state.equity = 3, np.zeros(3), 1.0
            >>> state.signal, state.confidence = np.array([1.0, 0.5, 1.0]), np.ones(3)
            >>> adjustment = agent.assess(TradeProposal(np.array([0.3, 0.3, 0.3])), state)
            >>> adjustment.scale.tolist(), adjustment.metrics
            ([1.0, 0.5, 1.0], {'cuts': 1.0})
        """
        estimate = self._estimate
        if estimate is None:
            raise AgentError(f"agent.{self.name}: CorrelationLimit needs prepare(data, signals) first")
        t = state.bar
        targets = proposal.target_weights
        if self._any_cut:
            self._cut_held[targets == targets] = False  # a new target: any earlier cut of the held position is spent
        if estimate.n_observations(t) < self.min_history:
            return None
        updated = self.correlation_bar_ < 0 or bool(self._updates[t])
        if updated:
            self.correlation_bar_ = t
        weights = state.held(targets)
        active = np.flatnonzero(weights)
        if active.size < 2:
            return None
        side = weights[active] > 0
        # Nothing new to decide on a bar without new targets when the matrix, the positions held, their sides
        # and their strengths are those of the last bar decided: its cuts are already held.
        key = (active.tobytes(), side.tobytes(), state.strength[active].tobytes())
        if not updated and key == self._last_key and not (targets == targets).any():
            return None
        self._last_key = key
        # Only the block of the positions held is needed: from the shared estimate at the last refresh.
        corr = correlation_from_covariance(estimate.covariance_of(self.correlation_bar_, active))
        signed = corr if side.all() else corr * np.where(side[:, None] == side[None, :], 1.0, -1.0)
        too_close = signed > self.max_correlation
        np.fill_diagonal(too_close, False)
        if not too_close.any():
            return None
        strength = state.strength[active]
        order = np.arange(active.size)
        # stronger[i, j]: j is stronger than i (larger strength; on a tie, further left)
        stronger = (strength[None, :] > strength[:, None]) | (
            (strength[None, :] == strength[:, None]) & (order[None, :] < order[:, None])
        )
        pairs = too_close & stronger
        cut = pairs.any(axis=1)
        cut &= ~(np.isnan(targets[active]) & self._cut_held[active])  # a held position is cut once
        if not cut.any():
            return None
        columns = active[cut]
        scale = np.ones(weights.shape)
        scale[columns] = self.adjustment_factor
        new = weights * scale
        self._cut_held[columns] = True  # held from here on, the position carries this cut: not cut again
        self._any_cut = True
        partner = np.where(pairs, signed, -np.inf).max(axis=1)[cut]
        state.log.record(t, self.name, columns, weights[columns], new[columns],
                         "correlation {value:.3f} > {limit:g} with a position of stronger signal",
                         values=partner, limit=self.max_correlation)  # fmt: skip
        self.cuts_[t] = columns.size
        return Adjustment(scale, new, {"cuts": float(columns.size)})

    @property
    def correlation_(self) -> np.ndarray | None:
        """The whole correlation matrix of the last refresh (None before the first), computed when asked.

        Example:
            >>> closes = np.array([[10.0, 20.0, 30.0], [11.0, 22.0, 29.0], [10.0, 20.0, 31.0], [12.0, 24.0, 30.0]])
            >>> dates = np.arange("2024-01-01", "2024-01-05", dtype="datetime64[D]")
            >>> data = MarketData(dates, ("A", "B", "C"), closes)  # B is twice A
            >>> agent = CorrelationLimit(correlation_lookback=3, min_history=2)
            >>> agent.prepare(data, None)
            >>> state = ExecutionState.empty(data.tickers)
            >>> state.bar, state.positions, state.equity = 3, np.zeros(3), 1.0
            >>> state.signal, state.confidence = np.array([1.0, 0.5, 1.0]), np.ones(3)
            >>> _ = agent.propose(TradeProposal(np.array([0.3, 0.3, 0.3])), state)  # B moves with A: cut
            >>> agent.correlation_.round(2)
            array([[ 1.  ,  1.  , -0.94],
                   [ 1.  ,  1.  , -0.94],
                   [-0.94, -0.94,  1.  ]])
        """
        if self.correlation_bar_ < 0 or self._estimate is None:
            return None
        if self._full is None or self._full[0] != self.correlation_bar_:
            self._full = (self.correlation_bar_, self._estimate.correlation(self.correlation_bar_))
        return self._full[1]

    def series(self) -> dict[str, np.ndarray]:
        """Positions cut per bar.

        Returns:
            ``{"correlation_cuts": array}``, shape (days,); empty before :meth:`prepare`.

        Example:
            >>> closes = np.array([[10.0, 20.0, 30.0], [11.0, 22.0, 29.0], [10.0, 20.0, 31.0], [12.0, 24.0, 30.0]])
            >>> dates = np.arange("2024-01-01", "2024-01-05", dtype="datetime64[D]")
            >>> data = MarketData(dates, ("A", "B", "C"), closes)  # B is twice A
            >>> agent = CorrelationLimit(correlation_lookback=3, min_history=2)
            >>> agent.prepare(data, None)
            >>> state = ExecutionState.empty(data.tickers)
            >>> state.bar, state.positions, state.equity = 3, np.zeros(3), 1.0
            >>> state.signal, state.confidence = np.array([1.0, 0.5, 1.0]), np.ones(3)
            >>> _ = agent.propose(TradeProposal(np.array([0.3, 0.3, 0.3])), state)  # B moves with A: cut
            >>> agent.series()["correlation_cuts"].tolist()
            [0.0, 0.0, 0.0, 1.0]
        """
        return {"correlation_cuts": self.cuts_.astype(np.float64)} if hasattr(self, "cuts_") else {}

    def outputs(self, dates: np.ndarray, tickers: tuple[str, ...]) -> dict[str, pd.DataFrame]:
        """The last correlation matrix used (``correlation``), tickers as rows and columns.

        Args:
            dates: Bar dates of the run; the date of the last refresh names the index.
            tickers: Column names of the run.

        Returns:
            ``{"correlation": frame}``, or nothing before the first refresh.

        Example:
            >>> closes = np.array([[10.0, 20.0, 30.0], [11.0, 22.0, 29.0], [10.0, 20.0, 31.0], [12.0, 24.0, 30.0]])
            >>> dates = np.arange("2024-01-01", "2024-01-05", dtype="datetime64[D]")
            >>> data = MarketData(dates, ("A", "B", "C"), closes)  # B is twice A
            >>> agent = CorrelationLimit(correlation_lookback=3, min_history=2)
            >>> agent.prepare(data, None)
            >>> state = ExecutionState.empty(data.tickers)
            >>> state.bar, state.positions, state.equity = 3, np.zeros(3), 1.0
            >>> state.signal, state.confidence = np.array([1.0, 0.5, 1.0]), np.ones(3)
            >>> _ = agent.propose(TradeProposal(np.array([0.3, 0.3, 0.3])), state)  # B moves with A: cut
            >>> frame = agent.outputs(data.dates, data.tickers)["correlation"]
            >>> frame.index.name, frame.round(2).to_dict("list")
            ('as of 2024-01-04', {'A': [1.0, 1.0, -0.94], 'B': [1.0, 1.0, -0.94], 'C': [-0.94, -0.94, 1.0]})
        """
        import pandas as pd

        if self.correlation_ is None:
            return {}
        frame = pd.DataFrame(self.correlation_, index=list(tickers), columns=list(tickers))
        frame.index.name = f"as of {dates[self.correlation_bar_]}"
        return {"correlation": frame}
