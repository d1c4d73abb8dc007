"""The run's shared causal estimates of asset volatility, covariance and correlation.

Every agent that needs a risk estimate asks the same :class:`Estimates` object, which belongs to the run's
:class:`MarketData` (``Estimates.of(data)``). It keeps one :class:`RollingEstimate` per distinct
``(lookback, covariance, halflife)``, so two agents with the same settings share one estimate, and each estimate
is computed only on the bars some agent asks for it:

- **Volatility** of every asset on every bar is one vectorized pass over the panel, made the first time it is
  asked (for ``sample``), or a short sum over the window (``ewma``), or the covariance's diagonal
  (``ledoit_wolf``).
- **Covariance** is kept as running sums over the window. Moving from the last bar asked to bar t adds the
  outer products of the returns that entered the window and removes those that left it (two matrix products
  of k rows when k bars passed), instead of recomputing the whole window; every ``4 * lookback`` bars of
  movement the sums are recomputed from the window, so rounding cannot accumulate. A (days, assets, assets)
  panel is never built.
- **Portfolio risk** of a weight vector (what the risk agent measures on every bar) needs no matrix at all for
  ``sample`` and ``ewma``: the portfolio's returns over the window are one product ``X w``, and their variance is
  exactly ``w' S w``.

Causality: the return of bar t is ``close[t] / close[t-1] - 1``, known at the close of t; the window of bar t is
the returns of bars ``max(1, t - lookback + 1) .. t``, so nothing after t is ever read. Bar 0 has no return.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from framework.core.market_data import MarketData
from framework.stats.covariance import (
    check_covariance_method,
    ewma_covariance,
    ewma_weights,
    ledoit_wolf_shrinkage,
    sample_covariance,
)


class RollingEstimate:
    """Causal rolling estimate of the covariance of asset returns over the last ``lookback`` bars.

    Args:
        returns: Shape (days, assets); row t is the return from bar t-1 to t (row 0 is ignored).
        lookback: Returns in a full window, >= 2. Before bar ``lookback`` the window holds every return so far.
        method: ``sample``, ``ledoit_wolf`` or ``ewma`` (see :mod:`framework.stats.covariance`).
        halflife: Half-life in bars, for ``ewma``.
        missing: Shape (days, assets) booleans, true where a return does not exist (counted as 0 in ``returns``),
            or None when every return exists; :meth:`complete` reads it.

    Raises:
        ConfigError: For an unknown method or a missing half-life.

    Example:
        >>> returns = np.array([[0.0, 0.0], [0.01, 0.02], [0.03, 0.0], [-0.01, 0.01]])
        >>> estimate = RollingEstimate(returns, lookback=3)
        >>> estimate.n_observations(3), estimate.covariance(3).round(6).tolist()
        (3, [[0.0004, -0.0001], [-0.0001, 0.0001]])
        >>> round(estimate.portfolio_variance(3, np.array([0.5, 0.5])), 8)
        7.5e-05
    """

    #: Bars of movement after which the running sums are recomputed from the window.
    REFRESH_FACTOR: ClassVar[int] = 4

    def __init__(
        self,
        returns: np.ndarray,
        lookback: int,
        method: str = "sample",
        halflife: float | None = None,
        missing: np.ndarray | None = None,
    ) -> None:
        check_covariance_method("estimate", method, halflife)
        self.returns = returns
        self.missing = missing
        self._missing_count: np.ndarray | None = None
        self.lookback = int(lookback)
        self.method = method
        self.halflife = None if halflife is None else float(halflife)
        self.n_assets = returns.shape[1]
        self._decay = 0.5 ** (1.0 / self.halflife) if self.halflife else 1.0
        self._lo = self._hi = 1  # rows [lo, hi) are in the running sums
        self._sxx = np.zeros((self.n_assets, self.n_assets))
        self._sx = np.zeros(self.n_assets)
        self._moved = 0
        self._cov_bar = -1
        self._cov: np.ndarray = np.empty(0)
        self._vol_panel: np.ndarray | None = None

    # --- windows -----------------------------------------------------------------------------------------

    def n_observations(self, t: int) -> int:
        """Returns in the window of bar ``t``: ``min(lookback, t)``.

        Args:
            t: The bar.

        Returns:
            The number of rows of :meth:`window`.

        Example:
            >>> estimate = RollingEstimate(np.zeros((10, 1)), lookback=3)
            >>> estimate.n_observations(1), estimate.n_observations(2), estimate.n_observations(9)
            (1, 2, 3)
        """
        return min(self.lookback, t)

    def bounds(self, t: int) -> tuple[int, int]:
        """Rows ``[start, stop)`` of the window of bar ``t``.

        Args:
            t: The bar.

        Returns:
            ``(max(1, t - lookback + 1), t + 1)``: row 0 has no return, row t is the last one known at bar t.

        Example:
            >>> estimate = RollingEstimate(np.zeros((10, 1)), lookback=3)
            >>> estimate.bounds(1), estimate.bounds(9)
            ((1, 2), (7, 10))
        """
        return max(1, t - self.lookback + 1), t + 1

    def complete(self, t: int) -> np.ndarray:
        """Which assets have every return of the window of bar ``t``, shape (assets,) booleans.

        An asset listed late, or without a price on some bar of the window, is incomplete: its missing returns
        count as 0 (no move) in every estimate, so agents that size by the estimate leave it out until its
        window is complete.

        Args:
            t: The bar.

        Returns:
            True where the asset has no missing return in the window (every asset when ``missing`` is None).

        Example:
            >>> returns = np.array([[0.0, 0.0], [0.01, 0.0], [0.02, 0.01], [-0.01, 0.02]])
            >>> missing = np.array([[False, True], [False, True], [False, False], [False, False]])
            >>> estimate = RollingEstimate(returns, lookback=2, missing=missing)
            >>> estimate.complete(2).tolist(), estimate.complete(3).tolist()
            ([True, False], [True, True])
        """
        if self.missing is None:
            return np.ones(self.n_assets, dtype=bool)
        if self._missing_count is None:
            self._missing_count = np.vstack([np.zeros((1, self.n_assets)), np.cumsum(self.missing, axis=0)])
        start, stop = self.bounds(t)
        return (self._missing_count[stop] - self._missing_count[start]) == 0  # type: ignore[no-any-return]

    def window(self, t: int) -> np.ndarray:
        """The returns of the window of bar ``t``, shape (n_observations(t), assets); a view, oldest first.

        Args:
            t: The bar.

        Returns:
            Rows :meth:`bounds` of ``returns``.

        Example:
            >>> returns = np.array([[0.0], [0.01], [0.03], [-0.01]])
            >>> RollingEstimate(returns, lookback=2).window(3).ravel().tolist()
            [0.03, -0.01]
        """
        start, stop = self.bounds(t)
        return self.returns[start:stop]

    def observation_weights(self, t: int) -> np.ndarray | None:
        """Weights of the window's rows for ``ewma`` (summing to 1), None for equally weighted methods.

        Args:
            t: The bar.

        Returns:
            Shape (n_observations(t),), oldest row first, or None.

        Example:
            >>> returns = np.zeros((4, 1))
            >>> (RollingEstimate(returns, lookback=3, method="ewma", halflife=1.0).observation_weights(3) * 7).tolist()
            [1.0, 2.0, 4.0]
            >>> RollingEstimate(returns, lookback=3).observation_weights(3) is None
            True
        """
        if self.method != "ewma":
            return None
        return ewma_weights(self.n_observations(t), self.halflife)  # type: ignore[arg-type]

    # --- per-asset volatility ----------------------------------------------------------------------------

    def volatility(self, t: int) -> np.ndarray:
        """One-period volatility of every asset at bar ``t``, shape (assets,); NaN before 2 returns exist.

        Args:
            t: The bar.

        Returns:
            The standard deviation of each asset's returns over the window (exactly 0 for a flat window).

        Example:
            >>> returns = np.array([[0.0], [0.01], [-0.01], [0.03]])
            >>> RollingEstimate(returns, lookback=2).volatility(3).round(6).tolist()
            [0.028284]
        """
        if self.n_observations(t) < 2:
            return np.full(self.n_assets, np.nan)
        if self.method == "sample":
            return self._sample_volatility_panel()[t]  # type: ignore[no-any-return]
        if self.method == "ewma":
            window = self.window(t)
            return np.sqrt(self.observation_weights(t) @ (window * window))  # type: ignore[no-any-return,operator]
        return np.sqrt(np.diag(self.covariance(t)))  # type: ignore[no-any-return]

    def _sample_volatility_panel(self) -> np.ndarray:
        """Sample volatility of every asset on every bar, computed once (a flat window has exactly 0)."""
        if self._vol_panel is None:
            import pandas as pd

            frame = pd.DataFrame(self.returns[1:])
            std = np.array(frame.rolling(self.lookback, min_periods=2).std(ddof=1).to_numpy())
            rows = np.arange(std.shape[0])[:, None]
            same = np.zeros(std.shape, dtype=bool)
            same[1:] = self.returns[2:] == self.returns[1:-1]
            run_start = np.maximum.accumulate(np.where(same, 0, rows), axis=0)
            std[run_start <= np.maximum(rows - self.lookback + 1, 0)] = 0.0  # the whole window is one value
            panel = np.full(self.returns.shape, np.nan)
            panel[1:] = std
            panel[1] = np.nan  # one return: no deviation yet
            panel.setflags(write=False)
            self._vol_panel = panel
        return self._vol_panel

    # --- covariance --------------------------------------------------------------------------------------

    def covariance(self, t: int) -> np.ndarray:
        """The covariance of one-period returns at bar ``t``, shape (assets, assets); cached for that bar.

        Args:
            t: The bar.

        Returns:
            Symmetric and read-only; the rows and columns of an asset flat over the window are exactly 0.

        Raises:
            ValueError: If the window of bar ``t`` has fewer than 2 returns.

        Example:
            >>> returns = np.array([[0.0, 0.0], [0.01, 0.02], [0.03, 0.0], [-0.01, 0.01]])
            >>> RollingEstimate(returns, lookback=2).covariance(3).round(6).tolist()
            [[0.0008, -0.0002], [-0.0002, 5e-05]]
            >>> RollingEstimate(returns, lookback=2).covariance(1)
            Traceback (most recent call last):
            ...
            ValueError: covariance at bar 1: 1 return(s) in the window, at least 2 needed
        """
        if t == self._cov_bar:
            return self._cov
        n = self.n_observations(t)
        if n < 2:
            raise ValueError(f"covariance at bar {t}: {n} return(s) in the window, at least 2 needed")
        self._advance(*self.bounds(t))
        flat = self._flat_assets(t)
        if self.method == "ewma":
            cov = self._sxx / self._ewma_total(n)
            _zero_rows_and_columns(cov, flat)
        else:
            centred_sums = self._sxx - np.outer(self._sx, self._sx) / n
            _zero_rows_and_columns(centred_sums, flat)
            if self.method == "sample":
                cov = centred_sums / (n - 1)
            else:
                biased = centred_sums / n
                window = self.window(t)
                shrinkage = ledoit_wolf_shrinkage(window - self._sx / n, biased)
                cov = (1.0 - shrinkage) * biased
                cov.flat[:: self.n_assets + 1] += shrinkage * float(np.trace(biased)) / self.n_assets
        cov = 0.5 * (cov + cov.T)  # exact symmetry after the running updates
        cov.setflags(write=False)
        self._cov_bar, self._cov = t, cov
        return cov

    def _flat_assets(self, t: int) -> np.ndarray:
        """Assets with no variation over the window of bar ``t`` (for ``ewma``: a constant price), shape (assets,).

        Their rows of the covariance are exactly 0, as the direct estimate's: the running sums would keep a
        rounding residue (about 1e-20, of either sign) of the returns that left the window.
        """
        flat: np.ndarray = self._sample_volatility_panel()[t] == 0.0
        if self.method == "ewma":
            flat &= self.returns[t] == 0.0
        return flat

    def covariance_of(self, t: int, columns: np.ndarray) -> np.ndarray:
        """The covariance of the assets ``columns`` at bar ``t``: the block of :meth:`covariance`.

        When the whole matrix of bar ``t`` is not at hand and the block is small (under a quarter of the assets),
        the block is computed from the window's columns directly (``sample``, ``ewma``), which costs
        ``rows x k^2`` instead of the whole matrix; ``ledoit_wolf`` always takes the block of the whole matrix
        (its shrinkage depends on every asset).

        Args:
            t: The bar, with at least 2 returns in its window.
            columns: Asset columns, shape (k,).

        Returns:
            Shape (k, k).

        Raises:
            ValueError: If the window of bar ``t`` has fewer than 2 returns.

        Example:
            >>> returns = np.array([[0.0, 0.0, 0.0], [0.01, 0.02, 0.0], [0.03, 0.0, 0.01], [-0.01, 0.01, 0.02]])
            >>> estimate = RollingEstimate(returns, lookback=3)
            >>> block = estimate.covariance(3)[[0, 2]][:, [0, 2]]
            >>> bool(np.allclose(estimate.covariance_of(3, np.array([0, 2])), block))
            True
        """
        if t != self._cov_bar and self.method != "ledoit_wolf" and 4 * columns.size < self.n_assets:
            self._check_observations(t)
            window = self.window(t)[:, columns]
            if self.method == "ewma":
                return ewma_covariance(window, self.halflife)  # type: ignore[arg-type]
            cov = sample_covariance(window)
            _zero_rows_and_columns(cov, (window == window[0]).all(axis=0))  # exactly 0 for a flat window
            return cov
        return self.covariance(t)[np.ix_(columns, columns)]  # type: ignore[no-any-return]

    def correlation(self, t: int) -> np.ndarray:
        """The correlation matrix at bar ``t`` (NaN off the diagonal for an asset with zero variance).

        Args:
            t: The bar, with at least 2 returns in its window.

        Returns:
            Shape (assets, assets).

        Example:
            >>> returns = np.array([[0.0, 0.0, 0.0], [0.01, 0.02, 0.0], [0.03, 0.0, 0.0], [-0.01, 0.01, 0.0]])
            >>> RollingEstimate(returns, lookback=3).correlation(3).round(3).tolist()
            [[1.0, -0.5, nan], [-0.5, 1.0, nan], [nan, nan, 1.0]]
        """
        from framework.stats.covariance import correlation_from_covariance

        return correlation_from_covariance(self.covariance(t))

    def _ewma_total(self, n: int) -> float:
        """Sum of the raw ewma row weights ``decay ** age`` over a window of ``n`` rows."""
        decay = self._decay
        return (1.0 - decay**n) / (1.0 - decay)

    def _row_weights(self, start: int, stop: int, newest: int) -> np.ndarray:
        """Raw weights ``decay ** (newest - row)`` of rows ``start..stop-1`` (ones when not ewma)."""
        if self.method != "ewma":
            return np.ones(stop - start)
        return self._decay ** (newest - np.arange(start, stop, dtype=np.float64))  # type: ignore[no-any-return]

    def _advance(self, lo: int, hi: int) -> None:
        """Bring the running sums to the rows ``[lo, hi)``."""
        if (lo, hi) == (self._lo, self._hi):
            return
        step = hi - self._hi
        if (
            step < 0
            or lo < self._lo
            or step >= self.lookback
            or self._moved + step > self.REFRESH_FACTOR * self.lookback
        ):
            self._recompute(lo, hi)
            return
        newest = hi - 1
        if self.method == "ewma":
            self._sxx *= self._decay**step
        added = self.returns[self._hi : hi]
        removed = self.returns[self._lo : lo]
        if added.shape[0]:
            weights = self._row_weights(self._hi, hi, newest)
            self._sxx += (added * weights[:, None]).T @ added
            self._sx += added.sum(axis=0)
        if removed.shape[0]:
            weights = self._row_weights(self._lo, lo, newest)
            self._sxx -= (removed * weights[:, None]).T @ removed
            self._sx -= removed.sum(axis=0)
        self._lo, self._hi = lo, hi
        self._moved += step

    def _recompute(self, lo: int, hi: int) -> None:
        """Recompute the running sums from the rows ``[lo, hi)``."""
        rows = self.returns[lo:hi]
        weights = self._row_weights(lo, hi, hi - 1)
        self._sxx = (rows * weights[:, None]).T @ rows
        self._sx = rows.sum(axis=0)
        self._lo, self._hi = lo, hi
        self._moved = 0

    # --- portfolio risk ----------------------------------------------------------------------------------

    def _check_observations(self, t: int) -> None:
        n = self.n_observations(t)
        if n < 2:
            raise ValueError(f"covariance at bar {t}: {n} return(s) in the window, at least 2 needed")

    def portfolio_returns(self, t: int, weights: np.ndarray, columns: np.ndarray | None = None) -> np.ndarray:
        """The returns the window would have given the portfolio ``weights``: ``X w``, shape (n_observations,).

        Args:
            t: The bar.
            weights: Fractions of equity, one per asset, or one per entry of ``columns``.
            columns: The assets ``weights`` are about (the others are not held), or None for all.

        Returns:
            The portfolio's return on each row of the window.

        Example:
            >>> returns = np.array([[0.0, 0.0], [0.01, 0.02], [0.03, 0.0], [-0.01, 0.01]])
            >>> estimate = RollingEstimate(returns, lookback=3)
            >>> estimate.portfolio_returns(3, np.array([0.5, 0.5])).round(6).tolist()
            [0.015, 0.015, 0.0]
            >>> estimate.portfolio_returns(3, np.array([1.0]), columns=np.array([1])).tolist()
            [0.02, 0.0, 0.01]
        """
        window = self.window(t)
        if columns is not None:
            window = window[:, columns]
        return window @ weights  # type: ignore[no-any-return]

    def portfolio_variance(
        self,
        t: int,
        weights: np.ndarray,
        portfolio_returns: np.ndarray | None = None,
        columns: np.ndarray | None = None,
    ) -> float:
        """``w' S w`` at bar ``t``, the one-period variance of the portfolio ``weights`` by this estimate.

        Args:
            t: The bar.
            weights: Fractions of equity, one per asset, or one per entry of ``columns``.
            portfolio_returns: ``portfolio_returns(t, weights, columns)`` if already computed.
            columns: The assets ``weights`` are about, or None for all.

        Returns:
            The variance (a float >= 0).

        Raises:
            ValueError: If the window of bar ``t`` has fewer than 2 returns.

        Example:
            >>> returns = np.array([[0.0, 0.0], [0.01, 0.02], [0.03, 0.0], [-0.01, 0.01]])
            >>> estimate = RollingEstimate(returns, lookback=3)
            >>> weights = np.array([0.5, 0.5])
            >>> round(estimate.portfolio_variance(3, weights), 8)
            7.5e-05
            >>> round(float(weights @ estimate.covariance(3) @ weights), 8)  # the same, without the matrix
            7.5e-05
        """
        self._check_observations(t)
        if self.method == "ledoit_wolf":
            cov = self.covariance(t)
            if columns is not None:
                cov = cov[np.ix_(columns, columns)]
            return max(float(weights @ cov @ weights), 0.0)
        r = self.portfolio_returns(t, weights, columns) if portfolio_returns is None else portfolio_returns
        if self.method == "ewma":
            return float(self.observation_weights(t) @ (r * r))  # type: ignore[operator]
        centred = r - r.sum() / r.shape[0]
        return float(centred @ centred) / (r.shape[0] - 1)

    def marginal_variance(
        self,
        t: int,
        weights: np.ndarray,
        portfolio_returns: np.ndarray | None = None,
        columns: np.ndarray | None = None,
    ) -> np.ndarray:
        """``S w`` at bar ``t``: each asset's covariance with the portfolio (for ``columns`` only, when given).

        ``w_i (S w)_i / sqrt(w' S w)`` is asset i's contribution to the portfolio's volatility.

        Args:
            t: The bar.
            weights: Fractions of equity, one per asset, or one per entry of ``columns``.
            portfolio_returns: ``portfolio_returns(t, weights, columns)`` if already computed.
            columns: The assets ``weights`` are about, or None for all.

        Returns:
            Shape (assets,), or (k,) for k ``columns``.

        Raises:
            ValueError: If the window of bar ``t`` has fewer than 2 returns.

        Example:
            >>> returns = np.array([[0.0, 0.0], [0.01, 0.02], [0.03, 0.0], [-0.01, 0.01]])
            >>> RollingEstimate(returns, lookback=3).marginal_variance(3, np.array([1.0, 0.0])).round(6).tolist()
            [0.0004, -0.0001]
        """
        self._check_observations(t)
        if self.method == "ledoit_wolf":
            cov = self.covariance(t)
            if columns is not None:
                cov = cov[np.ix_(columns, columns)]
            return cov @ weights  # type: ignore[no-any-return]
        r = self.portfolio_returns(t, weights, columns) if portfolio_returns is None else portfolio_returns
        window = self.window(t) if columns is None else self.window(t)[:, columns]
        if self.method == "ewma":
            return window.T @ (self.observation_weights(t) * r)  # type: ignore[no-any-return,operator]
        centred = r - r.sum() / r.shape[0]
        return (window.T @ centred) / (r.shape[0] - 1)  # type: ignore[no-any-return]


def _zero_rows_and_columns(matrix: np.ndarray, assets: np.ndarray) -> None:
    """Set the rows and columns of ``assets`` (a boolean mask) to 0, in place."""
    if assets.any():
        matrix[assets] = 0.0
        matrix[:, assets] = 0.0


class Estimates:
    """The shared estimates of one run's data: one :class:`RollingEstimate` per distinct setting.

    A return that does not exist (a ticker not listed yet, or without a price on one of the two bars) counts as
    0 in every estimate; :meth:`RollingEstimate.complete` tells which assets have a full window.

    Args:
        returns: Shape (days, assets); row t is the return from bar t-1 to t (row 0 is ignored); NaN where the
            return does not exist.

    Example:
        >>> data = MarketData(np.arange(4).astype("datetime64[D]"), ("A", "B"),
        ...                   np.array([[10.0, 20.0], [10.1, 20.4], [10.4, 20.4], [10.3, 20.6]]))
        >>> estimates = Estimates.of(data)
        >>> estimates is Estimates.of(data), estimates.rolling(3) is estimates.rolling(3, "sample")
        (True, True)
    """

    def __init__(self, returns: np.ndarray) -> None:
        missing = np.isnan(returns)
        missing[0] = False  # bar 0 has no return anyway
        self.missing = missing if missing.any() else None
        self.returns = returns if self.missing is None else np.where(missing, 0.0, returns)
        self._rolling: dict[tuple[int, str, float | None], RollingEstimate] = {}

    @classmethod
    def of(cls, data: MarketData) -> Estimates:
        """The estimates of ``data``, made once and kept with it, so every agent of the run shares them.

        Args:
            data: The run's panel; the estimates read its :meth:`MarketData.returns`.

        Returns:
            The same object for every call with the same ``data``.

        Example:
            >>> data = MarketData(np.arange(3).astype("datetime64[D]"), ("A", "B"),
            ...                   np.array([[np.nan, 20.0], [10.0, 20.0], [12.5, 25.0]]))
            >>> estimates = Estimates.of(data)
            >>> estimates is Estimates.of(data), estimates.missing[:, 0].tolist(), estimates.returns[:, 0].tolist()
            (True, [False, True, False], [0.0, 0.0, 0.25])
        """
        cached = data._cache.get("estimates")
        if not isinstance(cached, Estimates):
            cached = cls(data.returns())
            data._cache["estimates"] = cached
        return cached

    def rolling(self, lookback: int, method: str = "sample", halflife: float | None = None) -> RollingEstimate:
        """The rolling estimate with these settings (made on first use, then shared).

        Args:
            lookback: Returns in a full window.
            method: ``sample``, ``ledoit_wolf`` or ``ewma``.
            halflife: Half-life in bars, for ``ewma`` (ignored by the others).

        Returns:
            The shared :class:`RollingEstimate`.

        Example:
            >>> estimates = Estimates(np.array([[0.0], [0.01], [-0.02], [0.01]]))
            >>> estimates.rolling(3, "ewma", 5) is estimates.rolling(3, "ewma", 5.0)
            True
            >>> estimates.rolling(3, "sample", 5) is estimates.rolling(3), estimates.rolling(3) is estimates.rolling(2)
            (True, False)
        """
        key = (int(lookback), method, float(halflife) if method == "ewma" and halflife is not None else None)
        estimate = self._rolling.get(key)
        if estimate is None:
            estimate = RollingEstimate(self.returns, key[0], method, key[2], self.missing)
            self._rolling[key] = estimate
        return estimate
