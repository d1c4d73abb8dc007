"""Config loading: the run's schema, components from ``_target_`` entries, portfolios from YAML."""

from framework.config.catalogue import CONFIG_DIR, Catalogue
from framework.config.components import build_component, import_target
from framework.config.portfolio import build_portfolio, resolve_entry
from framework.config.schema import RunConfig, check_keys, validate_run_config

__all__ = [
    "CONFIG_DIR",
    "Catalogue",
    "RunConfig",
    "build_component",
    "build_portfolio",
    "check_keys",
    "import_target",
    "resolve_entry",
    "validate_run_config",
]
