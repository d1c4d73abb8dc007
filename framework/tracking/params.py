"""Flatten a resolved run config into MLflow params: one dotted key per leaf, every value a string."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from framework.tracking.credentials import mask_credentials

# MLflow 3's param value limit (mlflow.utils.validation.MAX_PARAM_VAL_LENGTH). Hard-coded so that flattening a
# config never imports MLflow (about 1 s); the tests check it against MLflow's own constant.
MAX_PARAM_VALUE_LENGTH = 6000

# Characters MLflow accepts in a param, metric or tag key (mlflow.utils.validation.validate_param_and_metric_name).
_INVALID_KEY_CHARACTERS = re.compile(r"[^/\w.\- :]")


def flatten_params(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten a nested config into MLflow params with dotted keys.

    Mappings nest with dots (``portfolio.strategies.main.short_window``). A list of scalars is one param holding
    compact JSON (``["AAPL","MSFT"]``); a list holding any mapping or list is expanded by index
    (``agents.0._target_``, ``agents.1.max_weight``). Keys starting with ``_`` are kept, so ``_target_`` appears
    as ``..._target_``. Values are strings: ``None`` is ``null``, booleans are ``true``/``false`` (as in YAML and
    Hydra overrides), an empty mapping or list is ``{}`` or ``[]``, a password in a URI is masked
    (:func:`~framework.tracking.credentials.mask_credentials`), and each value is then cut to MLflow's limit of
    6000 characters. Characters MLflow refuses in a key (anything but letters, digits, ``_ - . / :`` and spaces,
    e.g. the ``^`` of ``^GSPC``) become ``_``.

    Pass a plain container (``OmegaConf.to_container(cfg, resolve=True)``); a ``DictConfig`` also works but
    resolves interpolations on access and raises on missing (``???``) values.

    Args:
        config: The resolved config, nested mappings and sequences of scalars.
        prefix: Dotted prefix for every key (``""`` for none).

    Returns:
        Dotted key to string value, in the config's order.

    Example:
        >>> flatten_params({"portfolio": {"tickers": ["AAPL", "MSFT"], "strategies": {"main": {
        ...     "_target_": "framework.strategies.MovingAverageCrossover", "short_window": 20, "long": None}}}})
        ... # doctest: +NORMALIZE_WHITESPACE
        {'portfolio.tickers': '["AAPL","MSFT"]',
         'portfolio.strategies.main._target_': 'framework.strategies.MovingAverageCrossover',
         'portfolio.strategies.main.short_window': '20',
         'portfolio.strategies.main.long': 'null'}
        >>> flatten_params({"agents": [{"_target_": "a.Sizing"}, {"max_weight": 0.2}], "enabled": True}, "run")
        {'run.agents.0._target_': 'a.Sizing', 'run.agents.1.max_weight': '0.2', 'run.enabled': 'true'}
        >>> flatten_params({"overrides": {"^GSPC": {}}, "windows": [[5, 10], 20]})
        {'overrides._GSPC': '{}', 'windows.0': '[5,10]', 'windows.1': '20'}
        >>> flatten_params({"tracking": {"tracking_uri": "https://lab:s3cret@mlflow.lab"}})
        {'tracking.tracking_uri': 'https://lab:***@mlflow.lab'}
    """
    params: dict[str, str] = {}
    _flatten_into(params, config, prefix)
    return params


def _flatten_into(params: dict[str, str], value: Any, key: str) -> None:
    """Add the leaves of ``value`` under ``key`` to ``params``."""
    if isinstance(value, Mapping):
        if not value and key:
            params[key] = "{}"
        for child_key, child in value.items():
            name = _INVALID_KEY_CHARACTERS.sub("_", str(child_key))
            _flatten_into(params, child, f"{key}.{name}" if key else name)
    elif _is_list(value) and any(isinstance(item, Mapping) or _is_list(item) for item in value):
        for index, item in enumerate(value):
            _flatten_into(params, item, f"{key}.{index}" if key else str(index))
    elif key:
        params[key] = mask_credentials(_param_value(value))[:MAX_PARAM_VALUE_LENGTH]


def _is_list(value: Any) -> bool:
    """Whether ``value`` is a sequence to flatten (not a string or bytes)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def _param_value(value: Any) -> str:
    """The string MLflow shows for one leaf: JSON-like scalars, compact JSON for a list of scalars."""
    if _is_list(value):
        return json.dumps(list(value), separators=(",", ":"), ensure_ascii=False, default=_json_scalar)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return str(value)


def _json_scalar(value: Any) -> Any:
    """A JSON-ready form of a value ``json`` does not know: numpy scalars and arrays by value, else as text."""
    to_list = getattr(value, "tolist", None)
    return to_list() if callable(to_list) else str(value)
