"""The project's error hierarchy.

Every error a user can cause (a bad config key, bad data, a bad parameter) is one of these, with a message that
names the key, ticker or date at fault and what would be valid. The application prints the message and exits
non-zero without a traceback.
"""

from __future__ import annotations


class PortfolioLabError(Exception):
    """Base class of every error raised on purpose by portfolio-lab.

    Example:
        >>> try:
        ...     raise ConfigError("strategy.short_window: must be a positive integer, got -3")
        ... except PortfolioLabError as error:
        ...     print(error)
        strategy.short_window: must be a positive integer, got -3
    """


class ConfigError(PortfolioLabError, ValueError):
    """A configuration key or parameter value is invalid; the message names the key and what is allowed.

    Example:
        >>> isinstance(ConfigError("x"), ValueError)
        True
    """


class DataError(PortfolioLabError, ValueError):
    """Market data is invalid; the message names the ticker and date at fault.

    Example:
        >>> str(DataError("ticker 'AAPL' on 2020-01-02: close is not positive (-1.0)"))
        "ticker 'AAPL' on 2020-01-02: close is not positive (-1.0)"
    """


class AgentError(PortfolioLabError, RuntimeError):
    """An agent of the decision pipeline cannot produce a valid proposal.

    Example:
        >>> isinstance(AgentError("sizing: weights do not sum to one"), RuntimeError)
        True
    """


class EstimationError(AgentError):
    """An estimate or an optimization cannot be computed from the data it was given.

    A covariance with an asset of zero variance, a solver that does not converge: an agent that meets one can
    recover through its stage's ``on_error`` policy (a fallback agent, for example).

    Example:
        >>> isinstance(EstimationError("risk parity: KO has zero variance"), AgentError)
        True
    """


class TrackingError(PortfolioLabError, RuntimeError):
    """The experiment tracking store cannot be reached or written.

    Example:
        >>> str(TrackingError("cannot reach http://localhost:5000"))
        'cannot reach http://localhost:5000'
    """
