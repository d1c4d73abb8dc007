"""One-period value at risk and expected shortfall, parametric (normal) and historical.

Losses are positive numbers, fractions of the portfolio's value: a 1-day 95 % VaR of 0.02 means a loss of more
than 2 % is expected on one day in twenty.

- **Parametric (normal, zero mean):** ``VaR = z * sigma`` and ``CVaR = sigma * phi(z) / (1 - c)``, with
  ``z = Phi^-1(c)`` the normal quantile at confidence ``c`` and ``sigma`` the one-period volatility. The mean is
  left out on purpose: over one day it is noise next to sigma, and leaving it out errs on the side of caution.
- **Historical:** with the ``n`` returns of the window sorted from worst to best, the tail holds the
  ``m = ceil((1 - c) * n)`` worst ones; ``VaR`` is the loss of the m-th worst return and ``CVaR`` the mean loss
  of the tail, so ``CVaR >= VaR`` always.

Both scale with the portfolio: holding ``k`` times every position multiplies VaR and CVaR by ``k`` (k > 0).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from framework.core.checks import check_number

_NORMAL = NormalDist()


def check_confidence(key: str, confidence: object) -> float:
    """``confidence`` as a float, if it is a number strictly between 0.5 and 1.

    Args:
        key: Config key, for the message.
        confidence: The value to check; at most 0.9999, so the tail is never empty in theory.

    Returns:
        The confidence as a float.

    Raises:
        ConfigError: For anything but a number in (0.5, 0.9999].

    Example:
        >>> check_confidence("agent.risk.var_confidence", 0.95)
        0.95
        >>> check_confidence("agent.risk.var_confidence", 95)
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: agent.risk.var_confidence: must be a number > 0.5 and <= 0.9999, got 95
    """
    return check_number(key, confidence, minimum=0.5, exclusive_minimum=True, maximum=0.9999)


def normal_quantile(probability: float) -> float:
    """The standard normal quantile ``Phi^-1(probability)``.

    Args:
        probability: In (0, 1).

    Returns:
        The ``z`` with ``P(Z <= z) = probability`` for a standard normal ``Z``.

    Example:
        >>> round(normal_quantile(0.95), 6)
        1.644854
    """
    return _NORMAL.inv_cdf(probability)


def parametric_var(volatility: float | np.ndarray, confidence: float) -> float | np.ndarray:
    """Normal one-period VaR with zero mean: ``Phi^-1(confidence) * volatility``.

    Args:
        volatility: One-period standard deviation of returns (a number or an array).
        confidence: In (0.5, 1).

    Returns:
        The VaR, same shape as ``volatility``.

    Example:
        >>> round(parametric_var(0.01, 0.99), 6)
        0.023263
    """
    return normal_quantile(confidence) * volatility


def parametric_cvar(volatility: float | np.ndarray, confidence: float) -> float | np.ndarray:
    """Normal one-period expected shortfall with zero mean: ``volatility * phi(z) / (1 - confidence)``.

    Args:
        volatility: One-period standard deviation of returns (a number or an array).
        confidence: In (0.5, 1).

    Returns:
        The expected shortfall (CVaR), same shape as ``volatility``; above the VaR at the same confidence.

    Example:
        >>> round(parametric_cvar(0.01, 0.975), 6)
        0.023378
    """
    z = normal_quantile(confidence)
    density = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return volatility * density / (1.0 - confidence)


def tail_size(n_observations: int, confidence: float) -> int:
    """How many of the worst returns make the historical tail: ``ceil((1 - confidence) * n)``, at least 1.

    Args:
        n_observations: Number of returns in the window.
        confidence: In (0.5, 1).

    Returns:
        The number of returns in the tail, between 1 and ``n_observations`` (for ``n_observations >= 1``).

    Example:
        >>> tail_size(252, 0.95), tail_size(10, 0.99)
        (13, 1)
    """
    # Rounding guard: (1 - 0.95) * 100 is 5.000000000000004 in floating point, and the tail is 5 returns.
    return max(1, math.ceil((1.0 - confidence) * n_observations - 1e-9))


def historical_var_cvar(returns: np.ndarray, confidence: float) -> tuple[float, float]:
    """Historical one-period VaR and CVaR of a window of portfolio returns (see the module docstring).

    Args:
        returns: Shape (observations,), the portfolio's returns over the window.
        confidence: In (0.5, 1).

    Returns:
        ``(var, cvar)`` as losses (positive when the tail loses money).

    Example:
        >>> r = np.array([-0.05, 0.01, -0.02, 0.03, -0.01, 0.02, 0.0, -0.03, 0.01, 0.02])
        >>> historical_var_cvar(r, 0.8)  # the two worst: -0.05 and -0.03
        (0.03, 0.04)
    """
    m = tail_size(returns.shape[0], confidence)
    tail = np.partition(returns, m - 1)[:m]
    return -float(tail[m - 1]), -float(tail.mean())  # partition puts the m-th worst at m - 1, the worse before it
