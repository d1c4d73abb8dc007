"""Glue to skfolio, imported only by agents that fit a skfolio optimizer (importing skfolio takes about 1 s)."""

from __future__ import annotations

from typing import Any

import numpy as np
from skfolio.moments.covariance._base import BaseCovariance
from skfolio.prior import EmpiricalPrior


class SharedCovariance(BaseCovariance):
    """A skfolio covariance estimator that returns a covariance computed elsewhere (the run's shared estimate).

    Args:
        covariance: The (assets, assets) matrix ``fit`` reports.
        nearest: Replace it by the nearest positive definite matrix, as skfolio's estimators do by default.

    Example:
        >>> estimator = SharedCovariance(np.array([[0.04, 0.0], [0.0, 0.01]])).fit(np.zeros((5, 2)))
        >>> estimator.covariance_.tolist()
        [[0.04, 0.0], [0.0, 0.01]]
    """

    def __init__(self, covariance: np.ndarray | None = None, nearest: bool = True) -> None:
        super().__init__(nearest=nearest)
        self.covariance = covariance

    def fit(self, X: Any, y: None = None, **fit_params: Any) -> SharedCovariance:  # noqa: N803 - sklearn's name
        """Report the given covariance for the assets of ``X``.

        Args:
            X: Returns, shape (observations, assets); only their number of assets is used.
            y: Ignored.
            **fit_params: Ignored.

        Returns:
            self.

        Example:
            >>> estimator = SharedCovariance(np.array([[4.0, 1.0], [1.0, 9.0]]))
            >>> estimator.fit(np.zeros((3, 2))).covariance_.tolist(), estimator.location_.tolist()
            ([[4.0, 1.0], [1.0, 9.0]], [0.0, 0.0])
        """
        self._set_covariance(np.array(self.covariance, dtype=np.float64))
        self.location_ = np.zeros(np.shape(X)[1])
        return self


def shared_prior(covariance: np.ndarray) -> EmpiricalPrior:
    """An empirical prior whose covariance is ``covariance`` (its mean is estimated from the window as usual).

    Args:
        covariance: The (assets, assets) covariance the prior reports, the run's shared estimate.

    Returns:
        An unfitted skfolio ``EmpiricalPrior``.

    Example:
        >>> prior = shared_prior(np.eye(2) * 0.01)
        >>> type(prior.covariance_estimator).__name__
        'SharedCovariance'
    """
    return EmpiricalPrior(covariance_estimator=SharedCovariance(covariance))
