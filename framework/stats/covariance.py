"""Covariance estimators of a window of asset returns: sample, Ledoit-Wolf shrinkage and exponentially weighted.

Each takes the returns of one window, shape (observations, assets), oldest row first, and returns the
(assets, assets) covariance of one-period returns. They agree with the reference implementations:

==============  ===========================================================  ===========================================
method          definition                                                   reference
==============  ===========================================================  ===========================================
``sample``      ``Xc' Xc / (n - 1)`` with ``Xc`` the demeaned returns        ``numpy.cov(X, rowvar=False)``, skfolio
                                                                             ``EmpiricalCovariance``
``ledoit_wolf`` ``(1 - d) S + d mu I`` with ``S = Xc' Xc / n`` (biased),     ``sklearn.covariance.ledoit_wolf``, skfolio
                ``mu = trace(S) / N`` and Ledoit and Wolf's (2004)           ``LedoitWolf``
                shrinkage intensity ``d``
``ewma``        ``sum_s a_s x_s x_s'`` (zero mean, RiskMetrics convention)   skfolio ``EWCovariance(half_life=h,
                with ``a_s`` proportional to ``0.5 ** (age_s / h)``,         window_size=n, min_observations=1)``
                normalized over the window (the newest row has age 0)
==============  ===========================================================  ===========================================
"""

from __future__ import annotations

import numpy as np

from framework.core.checks import check_choice, check_number
from framework.core.errors import ConfigError

#: Names of the covariance estimators, as the ``covariance`` key of agents takes them.
COVARIANCE_METHODS: tuple[str, ...] = ("sample", "ledoit_wolf", "ewma")


def check_covariance_method(key: str, method: object, halflife: object) -> None:
    """Check a ``covariance`` choice and its ``halflife``.

    Args:
        key: Config key of the agent (``agent.sizing``), prefixed to the names in messages; empty for none.
        method: One of :data:`COVARIANCE_METHODS`.
        halflife: Bars for a weight to halve, > 0; required by ``ewma`` and ignored otherwise (may be None).

    Raises:
        ConfigError: For an unknown method, or ``ewma`` without a positive half-life.

    Example:
        >>> check_covariance_method("agent.sizing", "ewma", 63)
        >>> check_covariance_method("agent.sizing", "ewma", None)
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: agent.sizing.halflife: covariance 'ewma' needs a half-life in bars > 0, \
got None
    """
    prefix = f"{key}." if key else ""  # an agent checks its own keys without a prefix
    check_choice(f"{prefix}covariance", method, COVARIANCE_METHODS)
    if method == "ewma":
        if halflife is None:
            raise ConfigError(f"{prefix}halflife: covariance 'ewma' needs a half-life in bars > 0, got None")
        check_number(f"{prefix}halflife", halflife, minimum=0, exclusive_minimum=True)
    elif halflife is not None:
        check_number(f"{prefix}halflife", halflife, minimum=0, exclusive_minimum=True)


def ewma_weights(n_observations: int, halflife: float) -> np.ndarray:
    """Weights of the rows of a window for the ``ewma`` estimator, oldest first, summing to 1.

    Args:
        n_observations: Rows in the window, >= 1.
        halflife: Rows for a weight to halve, > 0.

    Returns:
        Shape (n_observations,): ``0.5 ** (age / halflife)`` normalized, the newest row (age 0) last.

    Example:
        >>> ewma_weights(3, 1.0).round(4).tolist()
        [0.1429, 0.2857, 0.5714]
    """
    ages = np.arange(n_observations - 1, -1, -1, dtype=np.float64)
    weights = 0.5 ** (ages / float(halflife))
    return weights / weights.sum()  # type: ignore[no-any-return]


def sample_covariance(returns: np.ndarray) -> np.ndarray:
    """Sample covariance (``ddof = 1``) of the columns of ``returns``.

    Args:
        returns: Shape (observations, assets), at least 2 rows.

    Returns:
        Shape (assets, assets).

    Example:
        >>> sample_covariance(np.array([[0.01, 0.02], [0.03, 0.0], [-0.01, 0.01]])).round(6).tolist()
        [[0.0004, -0.0001], [-0.0001, 0.0001]]
    """
    centred = returns - returns.mean(axis=0)
    return centred.T @ centred / (returns.shape[0] - 1)  # type: ignore[no-any-return]


def ewma_covariance(returns: np.ndarray, halflife: float) -> np.ndarray:
    """Exponentially weighted covariance with zero mean (see the module docstring).

    Args:
        returns: Shape (observations, assets), oldest row first.
        halflife: Rows for a weight to halve, > 0.

    Returns:
        Shape (assets, assets).

    Example:
        >>> ewma_covariance(np.array([[0.02], [-0.01]]), halflife=1.0).round(6)  # weights 1/3 and 2/3
        array([[0.0002]])
    """
    weights = ewma_weights(returns.shape[0], halflife)
    return (returns * weights[:, None]).T @ returns  # type: ignore[no-any-return]


def ledoit_wolf_shrinkage(centred: np.ndarray, biased_covariance: np.ndarray) -> float:
    """Ledoit and Wolf's shrinkage intensity, as scikit-learn computes it.

    Args:
        centred: Demeaned returns, shape (observations, assets).
        biased_covariance: ``centred' centred / observations``, shape (assets, assets).

    Returns:
        The intensity in [0, 1]; 0 for a single asset.

    Example:
        >>> x = np.array([[0.041, -0.051, 0.008], [-0.011, -0.009, -0.004], [-0.04, -0.005, -0.017],
        ...               [0.066, 0.005, -0.007], [-0.006, -0.013, -0.021], [-0.008, 0.01, -0.005]])
        >>> x = x - x.mean(axis=0)
        >>> round(ledoit_wolf_shrinkage(x, x.T @ x / 6), 6)
        0.561439
    """
    n, n_assets = centred.shape
    if n_assets == 1:
        return 0.0
    squared = centred**2
    trace = float(np.trace(biased_covariance))
    mu = trace / n_assets
    beta_sum = float(np.sum(squared.sum(axis=1) ** 2))  # sum over i, j of X2' X2, without the (assets, assets) matrix
    delta_sum = float(np.sum(biased_covariance**2))  # sum((X' X) ** 2) / n ** 2
    beta = (beta_sum / n - delta_sum) / (n_assets * n)
    delta = (delta_sum - 2.0 * mu * trace + n_assets * mu**2) / n_assets
    beta = min(beta, delta)
    return 0.0 if beta == 0 else beta / delta


def ledoit_wolf_covariance(returns: np.ndarray) -> np.ndarray:
    """Ledoit-Wolf shrunk covariance (biased sample covariance shrunk toward ``mu * I``).

    Args:
        returns: Shape (observations, assets).

    Returns:
        Shape (assets, assets), equal to ``sklearn.covariance.ledoit_wolf(returns)[0]``.

    Example:
        >>> x = np.array([[0.041, -0.051, 0.008], [-0.011, -0.009, -0.004], [-0.04, -0.005, -0.017],
        ...               [0.066, 0.005, -0.007], [-0.006, -0.013, -0.021], [-0.008, 0.01, -0.005]])
        >>> ledoit_wolf_covariance(x).round(6).tolist()
        [[0.000878, -7.5e-05, 7.9e-05], [-7.5e-05, 0.000496, -4.3e-05], [7.9e-05, -4.3e-05, 0.000364]]
    """
    centred = returns - returns.mean(axis=0)
    biased = centred.T @ centred / returns.shape[0]
    shrinkage = ledoit_wolf_shrinkage(centred, biased)
    mu = float(np.trace(biased)) / biased.shape[0]
    out = (1.0 - shrinkage) * biased
    out.flat[:: biased.shape[0] + 1] += shrinkage * mu
    return out  # type: ignore[no-any-return]


def covariance(returns: np.ndarray, method: str = "sample", halflife: float | None = None) -> np.ndarray:
    """The covariance of ``returns`` by one of :data:`COVARIANCE_METHODS`.

    Args:
        returns: Shape (observations, assets), oldest row first, at least 2 rows.
        method: ``sample``, ``ledoit_wolf`` or ``ewma``.
        halflife: Half-life in rows, for ``ewma``.

    Returns:
        Shape (assets, assets).

    Raises:
        ConfigError: For an unknown method or a missing half-life.

    Example:
        >>> x = np.array([[0.01, 0.02], [0.03, 0.0], [-0.01, 0.01]])
        >>> bool(np.allclose(covariance(x), np.cov(x, rowvar=False)))
        True
    """
    check_covariance_method("covariance", method, halflife)
    if method == "sample":
        return sample_covariance(returns)
    if method == "ledoit_wolf":
        return ledoit_wolf_covariance(returns)
    return ewma_covariance(returns, float(halflife))  # type: ignore[arg-type]


def correlation_from_covariance(cov: np.ndarray) -> np.ndarray:
    """Correlation matrix of a covariance matrix; assets with zero variance get NaN off the diagonal.

    Args:
        cov: Shape (assets, assets), symmetric positive semi-definite.

    Returns:
        Shape (assets, assets), ones on the diagonal, entries clipped to [-1, 1].

    Example:
        >>> correlation_from_covariance(np.array([[4.0, 1.0], [1.0, 1.0]])).tolist()
        [[1.0, 0.5], [0.5, 1.0]]
    """
    std = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(std, std)
    np.clip(corr, -1.0, 1.0, out=corr)
    corr.flat[:: cov.shape[0] + 1] = 1.0
    return corr  # type: ignore[no-any-return]
