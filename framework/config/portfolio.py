"""Portfolios written in YAML, turned into a :class:`~framework.backtest.PortfolioStrategy`.

The shape of a ``portfolio`` config (every key but ``strategies`` optional)::

    name: multi_strategy
    tickers: all                      # or a list: [AAPL, MSFT, ...]
    strategies:                       # applied to every ticker; label -> entry
      ma_crossover: {weight: 0.5, short_window: 20}   # a name in the `strategy` group, params in place
      rsi: 0.5                        # just a weight: the group's defaults
      mine: {_target_: plugins.example_strategy.Breakout, weight: 1.0, lookback: 20}   # any class
    aggregator: weighted_average      # a name in the `aggregator` group, a mapping with params, or null
    allocation: {AAPL: 0.4, MSFT: 0.3, KO: 0.3}   # optional fixed fraction of equity per ticker
    overrides:                        # per ticker: merged onto the defaults by label, null removes one
      AAPL:
        strategies: {rsi: null, ma_crossover: {short_window: 5}}
        aggregator: {name: weighted_average, confidence_weighted: true}

An entry without ``_target_`` takes its class and defaults from ``conf/strategy/<label>.yaml`` (or from
``conf/strategy/<strategy>.yaml`` when it says ``strategy: <name>``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from framework.aggregation.base import Aggregator
from framework.backtest.portfolio import PortfolioStrategy, Sleeve, StrategySlot
from framework.config.catalogue import Catalogue
from framework.config.components import build_component
from framework.core.errors import ConfigError, DataError
from framework.strategies.base import Strategy

log = logging.getLogger(__name__)

PORTFOLIO_KEYS = ("name", "tickers", "strategies", "aggregator", "allocation", "overrides")
OVERRIDE_KEYS = ("strategies", "aggregator")

Resolver = Callable[[dict[str, Any]], dict[str, Any]]


def _identity(content: dict[str, Any]) -> dict[str, Any]:
    return content


def resolve_entry(
    label: str, entry: Any, key: str, catalogue: Catalogue, resolve: Resolver = _identity
) -> tuple[dict[str, Any], float] | None:
    """The component spec and weight of one strategy (or aggregator) entry of a portfolio.

    Args:
        label: The entry's key in the portfolio (a group name unless the entry says otherwise).
        entry: ``None`` (removed), a number (weight, group defaults), a group name, or a mapping with
            ``weight``, optionally ``_target_`` or ``strategy``/``name``, and parameters.
        key: Dotted config key of the entry, for error messages.
        catalogue: The config group the names refer to.
        resolve: Resolves interpolations (``${seed}``) in a group file against the whole config.

    Returns:
        ``(spec, weight)``, or ``None`` for a removed entry.

    Raises:
        ConfigError: For a name not in the group (listing those that are) or a bad weight.

    Example:
        >>> spec, weight = resolve_entry("ma_crossover", {"weight": 2, "short_window": 5}, "p.s.ma",
        ...                              Catalogue("strategy"))
        >>> spec["short_window"], spec["long_window"], weight
        (5, 50, 2.0)
    """
    if entry is None:
        return None
    if isinstance(entry, bool):
        raise ConfigError(
            f"{key}: expected a weight, a name in the {catalogue.group} group or a mapping, got {entry!r}"
        )
    if isinstance(entry, (int, float)):
        entry = {"weight": entry}
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, Mapping):
        raise ConfigError(
            f"{key}: expected a weight, a name in the {catalogue.group} group or a mapping, got {entry!r}"
        )
    params = dict(entry)
    weight = params.pop("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < float("inf"):
        raise ConfigError(f"{key}.weight: must be a finite number >= 0, got {weight!r}")
    if "_target_" in params:
        return params, float(weight)
    name = params.pop(catalogue.group, None) or params.pop("name", None) or label
    base = resolve(catalogue.get(str(name), key))
    base.pop("weight", None)
    return {**base, **params}, float(weight)


def build_portfolio(
    config: Mapping[str, Any],
    available_tickers: Sequence[str],
    *,
    default_aggregator: Mapping[str, Any],
    strategies: Catalogue | None = None,
    aggregators: Catalogue | None = None,
    resolve: Resolver = _identity,
) -> PortfolioStrategy:
    """Build the portfolio's strategies and aggregators, grouping tickers that share them.

    Args:
        config: The resolved ``portfolio`` mapping (see the module docstring for its shape).
        available_tickers: Tickers of the loaded data.
        default_aggregator: The ``aggregator`` group's choice, used where the portfolio names none.
        strategies: Catalogue of the ``strategy`` group.
        aggregators: Catalogue of the ``aggregator`` group.
        resolve: Resolves interpolations in group files.

    Returns:
        The :class:`PortfolioStrategy`, one sleeve per distinct set of strategies and aggregator.

    Raises:
        ConfigError: For an unknown key, a strategy or aggregator name that does not exist, a negative weight,
            two entries of the same strategy class on one ticker, or a ticker with no strategy.
        DataError: For tickers absent from the data (the message lists the available ones).

    Example:
        >>> portfolio = build_portfolio(
        ...     {"name": "demo", "tickers": ["A", "B"], "strategies": {"ma_crossover": {"short_window": 5}},
        ...      "overrides": {"B": {"strategies": {"ma_crossover": {"short_window": 20}}}}},
        ...     ["A", "B", "C"], default_aggregator={"_target_": "framework.aggregation.WeightedAverage"})
        >>> [(s.tickers, s.strategies[0].strategy.short_window) for s in portfolio.sleeves]
        [(('A',), 5), (('B',), 20)]
    """
    strategies = strategies or Catalogue("strategy")
    aggregators = aggregators or Catalogue("aggregator")
    _check_keys(config, PORTFOLIO_KEYS, "portfolio")
    name = str(config.get("name", "portfolio"))
    tickers = _tickers(config.get("tickers", "all"), available_tickers)
    defaults = config.get("strategies")
    if not isinstance(defaults, Mapping) or not defaults:
        raise ConfigError("portfolio.strategies: needs at least one strategy (label: entry)")
    overrides = config.get("overrides") or {}
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"portfolio.overrides: expected a mapping ticker -> overrides, got {overrides!r}")
    unknown = [t for t in overrides if t not in tickers]
    if unknown:
        raise ConfigError(
            f"portfolio.overrides: {', '.join(map(str, unknown))} not among the portfolio's tickers "
            f"({', '.join(tickers)})"
        )

    groups: dict[str, list[str]] = {}
    specs: dict[str, tuple[list[tuple[str, dict[str, Any], float, str]], dict[str, Any], str]] = {}
    for ticker in tickers:
        override = overrides.get(ticker) or {}
        own = f"portfolio.overrides.{ticker}"
        _check_keys(override, OVERRIDE_KEYS, own)
        changed = override.get("strategies") or {}
        merged = _merge_entries(defaults, changed, f"{own}.strategies")
        slots = []
        for label, entry in merged.items():
            # Errors are reported where the entry was written: the ticker's override or the portfolio's default.
            key = f"{own}.strategies.{label}" if label in changed else f"portfolio.strategies.{label}"
            resolved = resolve_entry(label, entry, key, strategies, resolve)
            if resolved is not None:
                slots.append((label, *resolved, key))
        if not slots:
            raise ConfigError(f"{own}.strategies: ticker '{ticker}' is left with no strategy")
        _check_unique_types(slots, ticker, f"{own}.strategies" if changed else "portfolio.strategies")
        aggregator_key = f"{own}.aggregator" if "aggregator" in override else "portfolio.aggregator"
        aggregator = _aggregator_spec(
            override.get("aggregator", config.get("aggregator")),
            default_aggregator,
            aggregator_key,
            aggregators,
            resolve,
        )
        signature = json.dumps([[s[:3] for s in slots], aggregator], sort_keys=True, default=str)
        groups.setdefault(signature, []).append(ticker)
        specs.setdefault(signature, (slots, aggregator, aggregator_key))

    sleeves = []
    for signature, members in groups.items():
        slots, aggregator, aggregator_key = specs[signature]
        built = [
            StrategySlot(label, build_component(spec, key, Strategy), weight) for label, spec, weight, key in slots
        ]
        _note_weights(built, slots[0][3].rpartition(".strategies.")[0])
        sleeves.append(Sleeve(tuple(members), built, build_component(aggregator, aggregator_key, Aggregator)))
    allocation = config.get("allocation")
    if allocation is not None and not isinstance(allocation, Mapping):
        raise ConfigError(f"portfolio.allocation: expected a mapping ticker -> fraction of equity, got {allocation!r}")
    return PortfolioStrategy(sleeves, name=name, allocation=allocation)


def effective_portfolio(
    config: Mapping[str, Any],
    *,
    strategies: Catalogue | None = None,
    aggregators: Catalogue | None = None,
    resolve: Resolver = _identity,
) -> dict[str, Any]:
    """The portfolio as it runs: every strategy entry with its class and all its parameters spelled out.

    A shorthand entry (``rsi: 0.3``, ``{weight: 0.4}``, ``{strategy: rsi}``) becomes ``{_target_, <every
    parameter of the group file with the entry's values on top>, weight}``; an aggregator named by the portfolio
    becomes its full spec. A ticker's override that only changes some parameters of a default entry stays as
    written (it is merged onto the spelled-out default); one that adds or replaces an entry is spelled out. The
    result builds the same portfolio as ``config`` and is what ``config.yaml`` and MLflow record.

    Args:
        config: The resolved ``portfolio`` mapping (see the module docstring), already checked by
            :func:`build_portfolio`.
        strategies: Catalogue of the ``strategy`` group.
        aggregators: Catalogue of the ``aggregator`` group.
        resolve: Resolves interpolations in group files.

    Returns:
        A new mapping; ``config`` is not changed.

    Example:
        >>> spelled = effective_portfolio({"name": "demo", "strategies": {"rsi": 0.5, "ma_crossover": 0.5}})
        >>> spelled["strategies"]["rsi"]  # doctest: +NORMALIZE_WHITESPACE
        {'_target_': 'framework.strategies.RSI', 'window': 14, 'oversold': 30.0, 'overbought': 70.0,
         'labels': False, 'weight': 0.5}
    """
    strategies = strategies or Catalogue("strategy")
    aggregators = aggregators or Catalogue("aggregator")
    spelled = dict(config)
    defaults = config.get("strategies") or {}

    def expand(label: str, entry: Any, key: str) -> Any:
        resolved = resolve_entry(label, entry, key, strategies, resolve)
        return None if resolved is None else {**resolved[0], "weight": resolved[1]}

    spelled["strategies"] = {label: expand(label, entry, f"portfolio.strategies.{label}")
                             for label, entry in defaults.items()}  # fmt: skip
    if config.get("aggregator") is not None:
        spelled["aggregator"] = _aggregator_spec(config["aggregator"], {}, "portfolio.aggregator", aggregators, resolve)
    overrides = {}
    for ticker, override in (config.get("overrides") or {}).items():
        own = dict(override or {})
        changed = {}
        for label, entry in (own.get("strategies") or {}).items():
            update = _as_mapping(entry)
            is_map = isinstance(update, Mapping)
            names_one = isinstance(entry, str) or (is_map and ("name" in update or strategies.group in update))
            merges = label in defaults and is_map and "_target_" not in update and not names_one
            key = f"portfolio.overrides.{ticker}.strategies.{label}"
            changed[label] = entry if merges or entry is None else expand(label, entry, key)
        if "strategies" in own:
            own["strategies"] = changed
        if own.get("aggregator") is not None:
            key = f"portfolio.overrides.{ticker}.aggregator"
            own["aggregator"] = _aggregator_spec(own["aggregator"], {}, key, aggregators, resolve)
        overrides[ticker] = own
    if "overrides" in config:
        spelled["overrides"] = overrides
    return spelled


def uses_aggregator_group(config: Mapping[str, Any]) -> bool:
    """Whether some ticker of the portfolio takes the ``aggregator`` group's choice (an aggregator left null).

    Args:
        config: The ``portfolio`` mapping.

    Returns:
        True when ``portfolio.aggregator`` is null (or absent), or a ticker's override sets it to null.

    Example:
        >>> uses_aggregator_group({"strategies": {"rsi": 1}, "aggregator": "weighted_average"})
        False
        >>> uses_aggregator_group({"strategies": {"rsi": 1}})
        True
    """
    overrides = config.get("overrides") or {}
    if config.get("aggregator") is None:
        return True
    return any(isinstance(o, Mapping) and "aggregator" in o and o["aggregator"] is None for o in overrides.values())


def _check_keys(config: Mapping[str, Any], allowed: Sequence[str], key: str) -> None:
    if not isinstance(config, Mapping):
        raise ConfigError(f"{key}: expected a mapping, got {config!r}")
    for name in config:
        if name not in allowed:
            raise ConfigError(f"{key}.{name}: unknown key; allowed keys: {', '.join(allowed)}")


def _tickers(value: Any, available: Sequence[str]) -> list[str]:
    if value in (None, "all"):
        return list(available)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not value:
        raise ConfigError(f"portfolio.tickers: expected 'all' or a non-empty list of tickers, got {value!r}")
    tickers = [str(t) for t in value]
    duplicates = sorted({t for t in tickers if tickers.count(t) > 1})
    if duplicates:
        raise ConfigError(f"portfolio.tickers: listed more than once: {', '.join(duplicates)}")
    missing = [t for t in tickers if t not in available]
    if missing:
        raise DataError(f"portfolio.tickers: not in the data: {', '.join(missing)}; available: {', '.join(available)}")
    return tickers


def _as_mapping(entry: Any) -> Any:
    """An entry in mapping form: a bare weight or a bare group name become ``{weight: w}`` / ``{name: n}``."""
    if isinstance(entry, (int, float)) and not isinstance(entry, bool):
        return {"weight": entry}
    if isinstance(entry, str):
        return {"name": entry}
    return entry


def _merge_entries(defaults: Mapping[str, Any], override: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The default entries with a ticker's overrides merged in by label (``None`` removes an entry).

    An override mapping (or a bare weight) updates the default's parameters; an override naming another class
    (``_target_``) or another group option (a bare name) replaces the default entry.
    """
    if not isinstance(override, Mapping):
        raise ConfigError(f"{key}: expected a mapping label -> entry, got {override!r}")
    merged = dict(defaults)
    for label, entry in override.items():
        base, update = _as_mapping(merged.get(label)), _as_mapping(entry)
        replaces = not isinstance(update, Mapping) or "_target_" in update or isinstance(entry, str)
        merged[label] = {**base, **update} if isinstance(base, Mapping) and not replaces else entry
    return merged


def _check_unique_types(slots: list[tuple[str, dict[str, Any], float, str]], ticker: str, key: str) -> None:
    seen: dict[str, str] = {}
    for label, spec, _, _ in slots:
        target = str(spec.get("_target_"))
        if target in seen:
            raise ConfigError(
                f"{key}: '{seen[target]}' and '{label}' are both {target.rpartition('.')[2]} on ticker '{ticker}'; "
                "use one instance of each strategy type per ticker"
            )
        seen[target] = label


def _aggregator_spec(
    entry: Any, default: Mapping[str, Any], key: str, catalogue: Catalogue, resolve: Resolver
) -> dict[str, Any]:
    if entry is None:
        return dict(default)
    if isinstance(entry, Mapping) and "name" not in entry and "_target_" not in entry:
        raise ConfigError(f"{key}: name the aggregator ('name: weighted_average') or give its '_target_'")
    resolved = resolve_entry("", entry, key, catalogue, resolve)
    assert resolved is not None
    return resolved[0]


def _note_weights(slots: list[StrategySlot], key: str) -> None:
    total = sum(slot.weight for slot in slots)
    if total == 0:
        raise ConfigError(f"{key}.strategies: the weights sum to 0; give at least one strategy a positive weight")
    if len(slots) > 1 and abs(total - 1.0) > 1e-9:
        log.info("%s.strategies: weights sum to %.4g, normalized to 1", key, total)
