"""OmegaConf resolvers of the project's configs, registered when :mod:`framework.app` is imported.

``${metric_direction:<metric key>}`` is the direction in which a sweeper should move a metric: ``maximize`` for
a metric where higher is better (Sharpe, CAGR, Calmar, a drawdown in [-1, 0]), ``minimize`` for one where lower
is better (volatility, turnover, costs). The presets of ``conf/hparams_search/`` set::

    hydra:
      sweeper:
        direction: ${metric_direction:${optimized_metric}}

so ``optimized_metric=val/volatility`` turns a sweep that maximized the Sharpe ratio into one that minimizes the
volatility, with nothing else to change. A metric with no better direction (``exposure``, ``avg_positions``) is
an error that asks for the direction to be set explicitly (``hydra.sweeper.direction=maximize``), which replaces
the interpolation.

The direction of each metric name, whatever its segment (``train``, ``val``, ``test``, ``full``) and prefix
(``baseline/``, ``index/``):

=======================================================================  ========
metric                                                                   direction
=======================================================================  ========
total_return, cagr, sharpe, sortino, calmar, hit_rate, max_drawdown      maximize
(a drawdown is in [-1, 0]: -0.1 is better than -0.3), fill_rate, alpha,
information_ratio
volatility, turnover, n_trades, ex_ante_volatility, bars_at_limit,       minimize
recoveries, orders, orders_expired, slippage_bps, impact_bps,
tracking_error, resizes_<stage>, cost_<model>
exposure, avg_positions, beta                                            none
=======================================================================  ========
"""

from __future__ import annotations

from omegaconf import OmegaConf

from framework.benchmark.metrics import METRIC_DIRECTIONS, METRIC_FAMILY_DIRECTIONS, better_direction
from framework.core.errors import ConfigError

#: The name under which :func:`metric_direction` is registered: ``${metric_direction:val/sharpe}``.
METRIC_DIRECTION_RESOLVER = "metric_direction"

#: The two directions of an Optuna study, as ``hydra.sweeper.direction`` takes them.
DIRECTIONS: tuple[str, ...] = ("maximize", "minimize")


# The directions live with the metrics (framework.benchmark.metrics); re-exported here for the resolver.
def metric_direction(metric: str, key: str = "optimized_metric") -> str:
    """The direction in which a sweeper should move ``metric``: ``"maximize"`` or ``"minimize"``.

    Args:
        metric: A metric key as the runner logs it: ``<segment>/<metric>`` (``val/sharpe``), or
            ``baseline/<segment>/<metric>``, ``index/<segment>/<metric>``.
        key: The config key that holds ``metric``, named in errors.

    Returns:
        ``"maximize"`` when higher values are better, ``"minimize"`` when lower ones are.

    Raises:
        ConfigError: If ``metric`` is not a metric of the runner (listing the segments and metrics that are), or
            is one with no better direction (asking for ``hydra.sweeper.direction`` to be set).

    Example:
        >>> metric_direction("val/sharpe"), metric_direction("test/volatility"), metric_direction("val/cost_fixed")
        ('maximize', 'minimize', 'minimize')
        >>> metric_direction("val/max_drawdown")  # -0.1 is better than -0.3
        'maximize'
        >>> metric_direction("val/exposure")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        framework.core.errors.ConfigError: optimized_metric: 'val/exposure' has no better direction, ...
    """
    from framework.benchmark.runner import check_metric_key  # the runner knows which metrics exist

    check_metric_key(metric, key)
    direction = better_direction(str(metric).rsplit("/", 1)[-1])
    if direction is None:
        known = [*METRIC_DIRECTIONS, *METRIC_FAMILY_DIRECTIONS]
        raise ConfigError(
            f"{key}: '{metric}' has no better direction, so a sweep cannot tell whether to maximize or minimize "
            f"it; set hydra.sweeper.direction to one of {', '.join(DIRECTIONS)}, or optimize a metric that has "
            f"a direction: {', '.join(known)}"
        )
    return direction


def register_resolvers() -> None:
    """Register the project's resolvers with OmegaConf (again, if they are already: a reload is harmless).

    Example:
        >>> register_resolvers()
        >>> config = OmegaConf.create({"optimized_metric": "val/turnover",
        ...                            "direction": "${metric_direction:${optimized_metric}}"})
        >>> config.direction
        'minimize'
    """
    OmegaConf.register_new_resolver(METRIC_DIRECTION_RESOLVER, metric_direction, replace=True)


register_resolvers()
