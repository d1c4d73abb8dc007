"""Statistics shared by strategies, aggregators and agents, imported downward by all three.

Rolling indicators, covariance estimators, the run's shared causal estimates, risk measures and risk budgeting.
Imports nothing of the project but ``core``.
"""

from framework.stats.covariance import COVARIANCE_METHODS, covariance, ewma_weights
from framework.stats.estimates import Estimates, RollingEstimate
from framework.stats.risk import historical_var_cvar, parametric_cvar, parametric_var
from framework.stats.risk_parity import risk_budget_weights, risk_contributions

__all__ = [
    "COVARIANCE_METHODS",
    "Estimates",
    "RollingEstimate",
    "covariance",
    "ewma_weights",
    "historical_var_cvar",
    "parametric_cvar",
    "parametric_var",
    "risk_budget_weights",
    "risk_contributions",
]
