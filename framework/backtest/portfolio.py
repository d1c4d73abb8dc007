"""PortfolioStrategy: the strategies and aggregator of every ticker, computed as whole panels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from framework.aggregation.base import Aggregator
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData
from framework.core.progress import Stages
from framework.core.types import SignalFrame
from framework.strategies.base import Strategy


@dataclass
class StrategySlot:
    """One strategy of a sleeve, with the name the portfolio gave it and its weight in the aggregation.

    Attributes:
        label: Name in the portfolio YAML (``ma_crossover``, ``rsi``...).
        strategy: The strategy component.
        weight: Non-negative weight passed to the aggregator.

    Example:
        >>> from framework.strategies import RSI
        >>> slot = StrategySlot("rsi", RSI(), weight=2.0)
        >>> slot.label, slot.weight
        ('rsi', 2.0)
    """

    label: str
    strategy: Strategy
    weight: float = 1.0


@dataclass
class Sleeve:
    """A group of tickers that share the same strategies and aggregator.

    A portfolio whose tickers all use one set of strategies has one sleeve; per-ticker overrides give more.

    Attributes:
        tickers: The tickers of the sleeve.
        strategies: The strategies applied to each of them.
        aggregator: How their signals are combined.

    Example:
        >>> from framework.aggregation import WeightedAverage
        >>> from framework.strategies import BuyAndHold, Momentum
        >>> sleeve = Sleeve(("A", "B"), [StrategySlot("hold", BuyAndHold()), StrategySlot("mom", Momentum())],
        ...                 WeightedAverage())
        >>> [slot.label for slot in sleeve.strategies]
        ['hold', 'mom']
    """

    tickers: tuple[str, ...]
    strategies: list[StrategySlot]
    aggregator: Aggregator


class PortfolioStrategy:
    """Signals of a whole portfolio: each sleeve's strategies on its tickers, combined by its aggregator.

    Strategies run vectorized on the columns of their sleeve. :meth:`fit` sees the train segment only.

    Args:
        sleeves: The sleeves; each ticker belongs to exactly one.
        name: The portfolio's name.
        allocation: Optional fixed fraction of equity per ticker (``{"AAPL": 0.4, ...}``), non-negative,
            summing to at most 1; tickers left out get 0. Used by allocation-aware sizing agents.

    Raises:
        ConfigError: If a ticker is in two sleeves, a sleeve is empty, a weight is negative, or the allocation
            names a ticker outside the portfolio, has a negative weight or sums to more than 1.

    Example:
        >>> from framework.strategies import MACrossover
        >>> from framework.aggregation import WeightedAverage
        >>> close = np.linspace(1.0, 2.0, 8).reshape(4, 2)
        >>> data = MarketData(np.arange(4).astype("datetime64[D]"), ("A", "B"), close)
        >>> slot = StrategySlot("ma", MACrossover(short_window=1, long_window=2))
        >>> sleeve = Sleeve(("A", "B"), [slot], WeightedAverage())
        >>> PortfolioStrategy([sleeve]).fit(data, train_stop=2).generate(data).signal
        array([[nan, nan],
               [ 1.,  1.],
               [ 1.,  1.],
               [ 1.,  1.]])
    """

    def __init__(
        self, sleeves: Sequence[Sleeve], name: str = "portfolio", allocation: Mapping[str, float] | None = None
    ) -> None:
        self.sleeves = list(sleeves)
        self.name = name
        self.allocation = dict(allocation) if allocation is not None else None
        seen: dict[str, int] = {}
        for position, sleeve in enumerate(self.sleeves):
            if not sleeve.tickers or not sleeve.strategies:
                raise ConfigError(f"portfolio '{name}': a group of tickers has no tickers or no strategies")
            for slot in sleeve.strategies:
                if not 0 <= slot.weight < float("inf"):
                    raise ConfigError(
                        f"portfolio.strategies.{slot.label}.weight: must be a finite number >= 0, got {slot.weight!r}"
                    )
            for ticker in sleeve.tickers:
                if ticker in seen:
                    raise ConfigError(f"portfolio '{name}': ticker '{ticker}' is configured twice")
                seen[ticker] = position
        for ticker, weight in (self.allocation or {}).items():
            if ticker not in seen:
                raise ConfigError(f"portfolio.allocation.{ticker}: not a ticker of the portfolio ({', '.join(seen)})")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
                raise ConfigError(f"portfolio.allocation.{ticker}: must be a number >= 0, got {weight!r}")
        if self.allocation is not None and sum(self.allocation.values()) > 1 + 1e-9:
            raise ConfigError(
                f"portfolio.allocation: the weights sum to {sum(self.allocation.values()):.6g}; "
                "they are fractions of equity and must sum to at most 1"
            )

    @property
    def tickers(self) -> tuple[str, ...]:
        """Every ticker of the portfolio, sleeve by sleeve.

        Example:
            >>> from framework.aggregation import WeightedAverage
            >>> from framework.strategies import BuyAndHold
            >>> hold = [StrategySlot("hold", BuyAndHold())]
            >>> PortfolioStrategy([Sleeve(("B", "C"), hold, WeightedAverage()),
            ...                    Sleeve(("A",), hold, WeightedAverage())]).tickers
            ('B', 'C', 'A')
        """
        return tuple(t for sleeve in self.sleeves for t in sleeve.tickers)

    def allocation_weights(self, tickers: Sequence[str]) -> np.ndarray | None:
        """The allocation as an array in the order of ``tickers`` (0 for tickers left out), or None.

        Args:
            tickers: Column names, usually the run's ``data.tickers``.

        Returns:
            Shape (tickers,), or None when the portfolio has no allocation.

        Example:
            >>> from framework.aggregation import WeightedAverage
            >>> from framework.strategies import BuyAndHold
            >>> sleeve = Sleeve(("A", "B", "C"), [StrategySlot("hold", BuyAndHold())], WeightedAverage())
            >>> PortfolioStrategy([sleeve], allocation={"A": 0.5, "C": 0.25}).allocation_weights(("C", "B", "A"))
            array([0.25, 0.  , 0.5 ])
            >>> PortfolioStrategy([sleeve]).allocation_weights(("A", "B", "C")) is None
            True
        """
        if self.allocation is None:
            return None
        return np.array([float(self.allocation.get(t, 0.0)) for t in tickers])

    def fit(self, data: MarketData, train_stop: int, train_start: int = 0) -> PortfolioStrategy:
        """Fit every strategy and aggregator on bars ``train_start:train_stop`` only.

        Args:
            data: The whole panel (only its bars ``train_start:train_stop`` are passed on).
            train_stop: End (exclusive) of the train segment.
            train_start: Its first bar (a rolling walk-forward window starts later than bar 0).

        Returns:
            self.

        Example:
            >>> from framework.aggregation import WeightedAverage
            >>> from framework.strategies import Strategy
            >>> class Seen(Strategy):
            ...     def fit(self, train):
            ...         self.bars_, self.tickers_ = train.n_days, train.tickers
            ...         return self
            >>> seen = Seen()
            >>> data = MarketData(np.arange(5).astype("datetime64[D]"), ("A", "B"), np.ones((5, 2)))
            >>> _ = PortfolioStrategy([Sleeve(("B",), [StrategySlot("seen", seen)], WeightedAverage())]).fit(data, 3)
            >>> seen.bars_, seen.tickers_  # the train bars of its own sleeve's tickers
            (3, ('B',))
        """
        train = data.slice_rows(train_start, train_stop)
        with Stages(sum(len(s.strategies) for s in self.sleeves), "fit") as stages:
            self._fit(train, stages)
        return self

    def _fit(self, train: MarketData, stages: Stages) -> None:
        """The body of :meth:`fit`, reporting each strategy's fit to ``stages``."""
        for sleeve in self.sleeves:
            part = train.select(sleeve.tickers)
            for slot in sleeve.strategies:
                stages.start(f"{slot.label} on {len(sleeve.tickers)} tickers")
                slot.strategy.fit(part)
            # The strategies' train signals are only needed by an aggregator that learns from them.
            if type(sleeve.aggregator).fit is not Aggregator.fit:
                frames = [slot.strategy.generate(part) for slot in sleeve.strategies]
                weights = np.array([slot.weight for slot in sleeve.strategies])
                sleeve.aggregator.fit(frames, weights, part)

    def generate(self, data: MarketData) -> SignalFrame:
        """Combined signal and confidence for every bar and ticker of ``data`` (NaN for tickers outside).

        Args:
            data: The whole panel.

        Returns:
            The portfolio's :class:`SignalFrame`, columns in ``data.tickers`` order. ``silent_`` then lists, per
            strategy label, the tickers for which that strategy's signal is missing on every bar.

        Raises:
            ConfigError: A strategy's configuration error found only with the data, naming its full key.

        Example:
            >>> from framework.aggregation import WeightedAverage
            >>> from framework.strategies import BuyAndHold, MACrossover
            >>> close = np.array([[10.0, 20.0, 5.0], [11.0, 19.0, 5.0], [12.0, np.nan, 5.0]])
            >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B", "C"), close)
            >>> slow = StrategySlot("slow", MACrossover(short_window=2, long_window=5))
            >>> portfolio = PortfolioStrategy([Sleeve(("A", "B"), [StrategySlot("hold", BuyAndHold()), slow],
            ...                                       WeightedAverage())])
            >>> portfolio.generate(data).signal  # C in no sleeve; B has no price on bar 2
            array([[ 1.,  1., nan],
                   [ 1.,  1., nan],
                   [ 1., nan, nan]])
            >>> portfolio.silent_  # 3 bars are too few for a 5-bar average
            {'slow': ('A', 'B')}
        """
        signal = np.full(data.shape, np.nan)
        confidence = np.zeros(data.shape)
        self.silent_: dict[str, tuple[str, ...]] = {}
        with Stages(sum(len(s.strategies) for s in self.sleeves), "signals") as stages:
            self._signals(data, signal, confidence, stages)
        if not data.complete:  # a ticker without a price on a bar has no signal there
            signal[~data.tradable] = np.nan
            confidence[~data.tradable] = 0.0
        return SignalFrame(signal=signal, confidence=confidence)

    def _signals(self, data: MarketData, signal: np.ndarray, confidence: np.ndarray, stages: Stages) -> None:
        """Each sleeve's combined signal written into ``signal`` and ``confidence`` (the body of :meth:`generate`)."""
        for sleeve in self.sleeves:
            columns = data.ticker_index(sleeve.tickers)
            part = data.select(sleeve.tickers)
            frames = []
            for slot in sleeve.strategies:
                stages.start(slot.label)
                frames.append(_generate(slot, part))
            for slot, frame in zip(sleeve.strategies, frames, strict=True):
                silent = _never_speaks(frame.signal)
                if silent.any():
                    names = tuple(t for t, quiet in zip(sleeve.tickers, silent, strict=True) if quiet)
                    self.silent_[slot.label] = self.silent_.get(slot.label, ()) + names
            weights = np.array([slot.weight for slot in sleeve.strategies])
            combined = sleeve.aggregator.combine(frames, weights, part)
            signal[:, columns] = combined.signal
            confidence[:, columns] = combined.confidence


def _never_speaks(signal: np.ndarray) -> np.ndarray:
    """Per column: whether a strategy's signal is missing (NaN or None) on every bar."""
    values = np.asarray(signal)
    if values.dtype.kind == "f":
        return np.isnan(values).all(axis=0)  # type: ignore[no-any-return]
    return np.array([all(v is None or (isinstance(v, float) and v != v) for v in column) for column in values.T])


def _generate(slot: StrategySlot, data: MarketData) -> SignalFrame:
    """A strategy's signals; a configuration error it raises only now (it needed the data) names its full key."""
    try:
        return slot.strategy.generate(data)
    except ConfigError as error:
        message = str(error)
        if message.startswith("portfolio."):
            raise
        keyed = f"portfolio.strategies.{slot.label}.{message}"
        try:
            renamed = type(error)(keyed)
        except TypeError:  # a subclass with another constructor: the plain error carries the message
            renamed = ConfigError(keyed)
        raise renamed from None
