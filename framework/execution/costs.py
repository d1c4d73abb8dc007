"""Transaction cost models, nested components of the broker (``broker.costs``), composable.

Each model prices the fills of one bar, ticker by ticker, in the portfolio's currency; the broker adds them up
and keeps each model's total per bar, so the run can report costs by model. The estimates a model needs
(volatility, average volume) come from :class:`CostContext`, built from the data before the fill bar only.

======================  ============================================================================
model                   cost of a fill of ``q`` shares at price ``p`` (notional ``|q| p``)
======================  ============================================================================
``ProportionalCost``    ``bps / 1e4 * |q| p`` (what ``broker.cost_bps`` charges)
``PerShareCost``        ``max(per_share * |q|, minimum)`` per order filled
``HalfSpreadCost``      ``spread_bps / 2 / 1e4 * |q| p``: crossing half the bid-ask spread
``SquareRootImpact``    ``k * sigma * sqrt(|q| / adv) * |q| p``: the square-root law of market impact, with
                        ``sigma`` the daily volatility and ``adv`` the average daily volume over the
                        ``window`` bars before the fill bar
``BorrowFee``           no fill cost; every bar, ``annual_bps / 1e4 / periods_per_year`` of the value of
                        each short position
======================  ============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from framework.core.checks import check_int, check_number
from framework.core.component import Component
from framework.core.errors import ConfigError
from framework.core.market_data import MarketData


@dataclass
class CostContext:
    """The causal estimates cost models read on a fill bar: row t uses the bars before t only.

    Attributes:
        volatility: Daily volatility of each ticker's returns over the window before each bar, shape (days,
            tickers); NaN until the window is full.
        volume: Average daily volume over the window before each bar, shape (days, tickers), or None when the
            data has no volume.

    Example:
        >>> data = MarketData(np.arange(4).astype("datetime64[D]"), ("A",), np.array([[10.0], [11.0], [10.0], [11.0]]),
        ...                   volume=np.array([[100.0], [200.0], [300.0], [400.0]]))
        >>> context = CostContext.of(data, window=2)
        >>> context.volume[:, 0].tolist()
        [nan, nan, 150.0, 250.0]
    """

    volatility: np.ndarray
    volume: np.ndarray | None

    @classmethod
    def of(cls, data: MarketData, window: int = 20) -> CostContext:
        """The context of ``data`` for a ``window`` of bars (computed once per run).

        Args:
            data: The panel.
            window: Bars of the estimates, >= 2.

        Returns:
            The context.

        Example:
            >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A",), np.array([[10.0], [11.0], [10.0]]))
            >>> context = CostContext.of(data, window=2)
            >>> context.volume is None, bool(np.isnan(context.volatility[1, 0]))
            (True, True)
        """
        from framework.stats.rolling import rolling_std, sma

        volatility = np.full(data.shape, np.nan)
        volatility[1:] = rolling_std(data.returns(), window)[:-1]
        volume = None
        if data.has("volume"):
            volume = np.full(data.shape, np.nan)
            volume[1:] = sma(data.field("volume"), window)[:-1]
        return cls(volatility, volume)


class CostModel(Component):
    """A transaction cost model: what the fills of one bar cost, ticker by ticker.

    Example:
        >>> class Flat(CostModel):
        ...     def fill_costs(self, bar, quantities, prices, context):
        ...         return np.where(quantities != 0, 1.0, 0.0)
        >>> Flat().fill_costs(0, np.array([5.0, 0.0]), np.array([10.0, 10.0]), None).tolist()
        [1.0, 0.0]
    """

    #: What the model needs from the data (``volume``), checked before the run.
    requires: ClassVar[tuple[str, ...]] = ()
    #: The name of the model's column in the costs by model (``costs_<label>``).
    label: ClassVar[str] = "cost"

    def fill_costs(
        self, bar: int, quantities: np.ndarray, prices: np.ndarray, context: CostContext | None
    ) -> np.ndarray:
        """The cost of each fill of bar ``bar`` (0 where nothing fills).

        Args:
            bar: The fill bar.
            quantities: Signed shares filled per ticker.
            prices: Execution prices per ticker.
            context: The run's causal estimates.

        Returns:
            Shape (tickers,), >= 0.

        Example:
            >>> CostModel().fill_costs(0, np.array([5.0]), np.array([10.0]), None).tolist()
            [0.0]
        """
        return np.zeros(quantities.shape)

    def holding_costs(self, positions: np.ndarray, marks: np.ndarray, periods_per_year: int) -> np.ndarray:
        """What holding ``positions`` costs for one bar (borrow fees); 0 for fill cost models.

        Args:
            positions: Shares held per ticker.
            marks: Their prices.
            periods_per_year: Bars per year.

        Returns:
            Shape (tickers,), >= 0.

        Example:
            >>> CostModel().holding_costs(np.array([-5.0]), np.array([10.0]), 252).tolist()
            [0.0]
        """
        return np.zeros(positions.shape)

    def check(self, data: MarketData, key: str) -> None:
        """Raise a ConfigError naming ``key`` when the data lacks what the model needs.

        Args:
            data: The run's data.
            key: The model's config key (``broker.costs.0``).

        Raises:
            ConfigError: Naming the key and the missing field.

        Example:
            >>> data = MarketData(np.arange(2).astype("datetime64[D]"), ("A",), np.array([[10.0], [11.0]]))
            >>> SquareRootImpact().check(data, "broker.costs.0")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            framework.core.errors.ConfigError: broker.costs.0: SquareRootImpact needs volume data, and this data ...
        """
        for field in self.requires:
            if not data.has(field):
                raise ConfigError(
                    f"{key}: {type(self).__name__} needs {field} data, and this data has none; use data with "
                    f"{field} (a long CSV or Parquet file, or data=synthetic) or remove the model"
                )


class ProportionalCost(CostModel):
    """A commission in basis points of the traded notional.

    Args:
        bps: Basis points of notional, >= 0.

    Raises:
        ConfigError: For a negative or non-numeric value.

    Example:
        >>> ProportionalCost(bps=10).fill_costs(0, np.array([10.0, -5.0]), np.array([100.0, 20.0]), None).tolist()
        [1.0, 0.1]
    """

    label = "proportional"

    def __init__(self, bps: float = 0.0) -> None:
        self.bps = bps
        check_number("bps", bps, minimum=0)

    def fill_costs(
        self, bar: int, quantities: np.ndarray, prices: np.ndarray, context: CostContext | None
    ) -> np.ndarray:
        """``bps / 1e4`` of each fill's notional.

        Args:
            bar: The fill bar.
            quantities: Signed shares filled per ticker.
            prices: Execution prices per ticker.
            context: The run's causal estimates (not used).

        Returns:
            Shape (tickers,).

        Example:
            >>> ProportionalCost().fill_costs(0, np.array([100.0]), np.array([10.0]), None).round(6).tolist()
            [0.0]
        """
        return np.abs(quantities * prices) * (self.bps * 1e-4)  # type: ignore[no-any-return]


class PerShareCost(CostModel):
    """A commission per share, with a minimum per order filled (as many brokers charge).

    Args:
        per_share: Currency per share, >= 0.
        minimum: Least charge per fill, >= 0.

    Raises:
        ConfigError: For a negative or non-numeric value.

    Example:
        >>> PerShareCost(per_share=0.005, minimum=1.0).fill_costs(
        ...     0, np.array([1000.0, -50.0, 0.0]), np.array([10.0, 10.0, 10.0]), None).tolist()
        [5.0, 1.0, 0.0]
    """

    label = "per_share"

    def __init__(self, per_share: float = 0.005, minimum: float = 1.0) -> None:
        self.per_share = per_share
        self.minimum = minimum
        check_number("per_share", per_share, minimum=0)
        check_number("minimum", minimum, minimum=0)

    def fill_costs(
        self, bar: int, quantities: np.ndarray, prices: np.ndarray, context: CostContext | None
    ) -> np.ndarray:
        """``max(per_share * |q|, minimum)`` where something fills.

        Args:
            bar: The fill bar.
            quantities: Signed shares filled per ticker.
            prices: Execution prices per ticker.
            context: The run's causal estimates (not used).

        Returns:
            Shape (tickers,).

        Example:
            >>> PerShareCost().fill_costs(0, np.array([-1000.0]), np.array([10.0]), None).round(6).tolist()
            [5.0]
        """
        shares = np.abs(quantities)
        return np.where(shares > 0, np.maximum(shares * self.per_share, self.minimum), 0.0)


class HalfSpreadCost(CostModel):
    """Half the bid-ask spread, paid on every fill.

    Args:
        spread_bps: The full spread in basis points of the price, >= 0.

    Raises:
        ConfigError: For a negative or non-numeric value.

    Example:
        >>> HalfSpreadCost(spread_bps=10).fill_costs(0, np.array([100.0]), np.array([50.0]), None).tolist()
        [2.5]
    """

    label = "half_spread"

    def __init__(self, spread_bps: float = 5.0) -> None:
        self.spread_bps = spread_bps
        check_number("spread_bps", spread_bps, minimum=0)

    def fill_costs(
        self, bar: int, quantities: np.ndarray, prices: np.ndarray, context: CostContext | None
    ) -> np.ndarray:
        """``spread_bps / 2`` of each fill's notional.

        Args:
            bar: The fill bar.
            quantities: Signed shares filled per ticker.
            prices: Execution prices per ticker.
            context: The run's causal estimates (not used).

        Returns:
            Shape (tickers,).

        Example:
            >>> HalfSpreadCost().fill_costs(0, np.array([100.0]), np.array([10.0]), None).round(6).tolist()
            [0.25]
        """
        return np.abs(quantities * prices) * (self.spread_bps * 0.5e-4)  # type: ignore[no-any-return]


class SquareRootImpact(CostModel):
    """Market impact by the square-root law: ``k * sigma * sqrt(|q| / adv)`` of the notional.

    ``sigma`` (daily volatility) and ``adv`` (average daily volume) are estimated over the ``window`` bars before
    the fill bar. Until the window is full, or where the average volume is 0, the impact is unknown and counts
    as 0.

    Args:
        k: The impact coefficient (about 1 in the literature), >= 0.
        window: Bars of the estimates, >= 2.

    Raises:
        ConfigError: For a parameter out of range; before the run, when the data has no volume.

    Example:
        >>> from types import SimpleNamespace
        >>> context = SimpleNamespace(volatility=np.array([[0.02]]), volume=np.array([[10000.0]]))
        >>> SquareRootImpact(k=1.0).fill_costs(0, np.array([100.0]), np.array([50.0]), context).round(6).tolist()
        [10.0]
    """

    requires = ("volume",)
    label = "impact"

    def __init__(self, k: float = 1.0, window: int = 20) -> None:
        self.k = k
        self.window = window
        check_number("k", k, minimum=0)
        check_int("window", window, minimum=2)

    def impact(self, bar: int, quantities: np.ndarray, context: CostContext) -> np.ndarray:
        """The estimated price impact of each quantity, a fraction of the price (0 where unknown).

        Args:
            bar: The fill bar.
            quantities: Signed shares.
            context: The run's causal estimates.

        Returns:
            Shape (tickers,).

        Example:
            >>> context = CostContext(volatility=np.array([[0.02]]), volume=np.array([[10000.0]]))
            >>> SquareRootImpact(k=0.5).impact(0, np.array([-2500.0]), context).tolist()
            [0.005]
        """
        volume = context.volume[bar] if context.volume is not None else np.full(quantities.shape, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            impact = self.k * context.volatility[bar] * np.sqrt(np.abs(quantities) / volume)
        return np.where(np.isfinite(impact), impact, 0.0)

    def fill_costs(
        self, bar: int, quantities: np.ndarray, prices: np.ndarray, context: CostContext | None
    ) -> np.ndarray:
        """Impact times notional (0 without a context).

        Args:
            bar: The fill bar.
            quantities: Signed shares filled per ticker.
            prices: Execution prices per ticker.
            context: The run's causal estimates.

        Returns:
            Shape (tickers,).

        Example:
            >>> SquareRootImpact().fill_costs(0, np.array([100.0]), np.array([10.0]), None).tolist()
            [0.0]
        """
        if context is None:
            return np.zeros(quantities.shape)
        return self.impact(bar, quantities, context) * np.abs(quantities * prices)  # type: ignore[no-any-return]


class BorrowFee(CostModel):
    """A fee on short positions, charged every bar on their value.

    Args:
        annual_bps: Basis points of the short value per year, >= 0.

    Raises:
        ConfigError: For a negative or non-numeric value.

    Example:
        >>> BorrowFee(annual_bps=252).holding_costs(np.array([-10.0, 5.0]), np.array([100.0, 100.0]), 252).tolist()
        [0.1, 0.0]
    """

    label = "borrow"

    def __init__(self, annual_bps: float = 50.0) -> None:
        self.annual_bps = annual_bps
        check_number("annual_bps", annual_bps, minimum=0)

    def holding_costs(self, positions: np.ndarray, marks: np.ndarray, periods_per_year: int) -> np.ndarray:
        """``annual_bps / 1e4 / periods_per_year`` of each short's value.

        Args:
            positions: Shares held per ticker (< 0 for a short).
            marks: Their prices.
            periods_per_year: Bars per year.

        Returns:
            Shape (tickers,).

        Example:
            >>> BorrowFee(annual_bps=100).holding_costs(np.array([-100.0]), np.array([50.0]), 250).tolist()
            [0.2]
        """
        short_value = np.maximum(-positions, 0.0) * marks
        return short_value * (self.annual_bps * 1e-4 / periods_per_year)  # type: ignore[no-any-return]
