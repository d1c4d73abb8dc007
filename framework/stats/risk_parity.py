"""Risk budgeting (equal risk contribution and its weighted form) solved by Newton's method.

The long-only portfolio whose assets contribute to its variance in proportion to budgets ``b`` is the
normalized minimizer of the strictly convex function

    f(x) = x' S x / 2 - sum_i b_i log x_i,   x > 0,

whose optimality condition ``x_i (S x)_i = b_i`` says exactly that asset i's risk contribution is ``b_i``
(Spinu 2013; Roncalli, *Introduction to Risk Parity and Budgeting*). The weights are ``x / sum(x)``.

Newton's method on ``f``, damped while far from the optimum (``step / (1 + decrement)``, which keeps ``x``
positive because ``f`` is self-concordant once the budgets are scaled to ``min(b) = 1``), converges in a handful
of iterations: each costs one (assets, assets) linear solve. The start is the solution for uncorrelated assets,
``x_i = sqrt(b_i / S_ii)``, rescaled so that ``x' S x = sum(b)`` as at the optimum.
"""

from __future__ import annotations

import numpy as np

from framework.core.errors import EstimationError


def risk_contributions(weights: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Each asset's share of the portfolio's variance: ``w_i (S w)_i / (w' S w)``, summing to 1.

    Args:
        weights: Shape (assets,).
        cov: Shape (assets, assets).

    Returns:
        Shape (assets,).

    Example:
        >>> risk_contributions(np.array([0.5, 0.5]), np.array([[0.04, 0.0], [0.0, 0.01]])).round(12).tolist()
        [0.8, 0.2]
    """
    marginal = cov @ weights
    return weights * marginal / float(weights @ marginal)  # type: ignore[no-any-return]


def risk_budget_weights(
    cov: np.ndarray,
    budgets: np.ndarray | None = None,
    *,
    tolerance: float = 1e-12,
    max_iterations: int = 50,
) -> np.ndarray:
    """Long-only weights (summing to 1) whose risk contributions are proportional to ``budgets``.

    Args:
        cov: Covariance of the assets, shape (assets, assets), symmetric positive semi-definite, with positive
            variances.
        budgets: Risk budget per asset, positive, shape (assets,); None for equal risk contributions.
        tolerance: Largest relative error ``|x_i (S x)_i - b_i| / b_i`` accepted at convergence.
        max_iterations: Newton iterations before giving up.

    Returns:
        Shape (assets,): the weights.

    Raises:
        EstimationError: If an asset has no (or a non-finite) variance, a budget is not positive, or Newton's
            method does not converge.

    Example:
        >>> w = risk_budget_weights(np.array([[0.04, 0.0], [0.0, 0.01]]))  # volatilities 0.2 and 0.1
        >>> w.round(6).tolist()
        [0.333333, 0.666667]
    """
    cov = np.asarray(cov, dtype=np.float64)
    n = cov.shape[0]
    variances = np.diag(cov)
    if not np.all(np.isfinite(cov)):
        raise EstimationError("risk budgeting: the covariance has non-finite entries")
    if np.any(variances <= 0.0):
        zero = np.flatnonzero(variances <= 0.0).tolist()
        raise EstimationError(f"risk budgeting: asset(s) at column(s) {zero} have zero variance")
    b = np.ones(n) if budgets is None else np.asarray(budgets, dtype=np.float64)
    if b.shape != (n,) or not np.all(np.isfinite(b)) or np.any(b <= 0.0):
        raise EstimationError(f"risk budgeting: budgets must be {n} positive numbers, got {b.tolist()}")
    if n == 1:
        return np.ones(1)
    b = b / b.min()  # min(b) = 1 makes f self-concordant, so damped Newton steps stay inside x > 0
    scale = float(variances.mean())
    s = cov / scale  # a unit-scale problem; x scales back by 1/sqrt(scale), which the normalization removes
    x = np.sqrt(b / np.diag(s))
    x *= np.sqrt(b.sum() / float(x @ s @ x))  # at the optimum x' S x = sum(b): start on that scale
    error = np.full(n, np.inf)  # not measured yet (max_iterations = 0)
    for _ in range(max_iterations):
        marginal = s @ x
        error = np.abs(x * marginal - b) / b
        if float(error.max()) <= tolerance:
            return x / x.sum()  # type: ignore[no-any-return]
        gradient = marginal - b / x
        hessian = s.copy()
        hessian.flat[:: n + 1] += b / x**2
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError as error_:
            raise EstimationError(f"risk budgeting: singular Newton system ({error_})") from None
        decrement = float(np.sqrt(max(gradient @ step, 0.0)))
        x = x - (step / (1.0 + decrement) if decrement > 0.25 else step)
        if not np.all(x > 0.0):
            raise EstimationError("risk budgeting: Newton's method left the positive orthant")
    raise EstimationError(
        f"risk budgeting: Newton's method did not converge in {max_iterations} iterations "
        f"(largest relative error of a risk contribution {float(error.max()):.2e})"
    )
