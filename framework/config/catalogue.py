"""The config groups as catalogues: ``strategy: rsi`` in a portfolio means ``conf/strategy/rsi.yaml``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framework.core.errors import ConfigError

#: The config root shipped with the project (``conf/`` beside the package).
CONFIG_DIR: Path = Path(__file__).resolve().parents[2] / "conf"


class Catalogue:
    """The options of a config group, read from ``<config dir>/<group>/*.yaml``.

    Args:
        group: Group name (``strategy``, ``aggregator``, ``agent``...).
        config_dirs: Config roots to look in, first match wins; defaults to the project's ``conf/``.

    Example:
        >>> strategies = Catalogue("strategy")
        >>> "ma_crossover" in strategies.names()
        True
        >>> strategies.get("ma_crossover", "portfolio.strategies.ma_crossover")["_target_"]
        'framework.strategies.MACrossover'
    """

    def __init__(self, group: str, config_dirs: Sequence[Path] | None = None) -> None:
        self.group = group
        self.config_dirs = [Path(d) for d in (config_dirs or [CONFIG_DIR])]
        self._cache: dict[str, dict[str, Any]] = {}

    def names(self) -> list[str]:
        """The option names of the group, sorted: the ``.yaml`` files of every config root, without duplicates.

        Returns:
            The names, without ``.yaml``.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as root:
            ...     (Path(root) / "strategy").mkdir()
            ...     for name in ("trend", "carry"):
            ...         _ = (Path(root) / "strategy" / f"{name}.yaml").write_text(f"_target_: plugins.{name}")
            ...     Catalogue("strategy", [Path(root)]).names()
            ['carry', 'trend']
        """
        found = {p.stem for d in self.config_dirs for p in (d / self.group).glob("*.yaml")}
        return sorted(found)

    def get(self, name: str, key: str) -> dict[str, Any]:
        """The raw (unresolved) content of option ``name``.

        Args:
            name: Option name, the file name without ``.yaml``.
            key: Config key that referenced it, for the error message.

        Returns:
            The option's mapping.

        Raises:
            ConfigError: If there is no such option; the message lists the options there are.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as root:
            ...     (Path(root) / "strategy").mkdir()
            ...     _ = (Path(root) / "strategy" / "trend.yaml").write_text("{_target_: plugins.Trend, window: 20}")
            ...     strategies = Catalogue("strategy", [Path(root)])
            ...     print(strategies.get("trend", "portfolio.strategies.main"))
            ...     try:
            ...         strategies.get("carry", "portfolio.strategies.main")
            ...     except ConfigError as error:
            ...         print(error)
            {'_target_': 'plugins.Trend', 'window': 20}
            portfolio.strategies.main: 'carry' is not in the strategy group; options: trend
        """
        if name not in self._cache:
            from omegaconf import OmegaConf

            for config_dir in self.config_dirs:
                path = config_dir / self.group / f"{name}.yaml"
                if path.is_file():
                    content: Any = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
                    if not isinstance(content, dict):
                        raise ConfigError(f"{path}: expected a mapping")
                    content.pop("defaults", None)
                    self._cache[name] = content
                    break
            else:
                raise ConfigError(
                    f"{key}: '{name}' is not in the {self.group} group; options: {', '.join(self.names())}"
                )
        return dict(self._cache[name])
