"""The component convention shared by strategies, aggregators, agents and the broker."""

from __future__ import annotations

import inspect
from typing import Any


class Component:
    """A configurable object whose constructor parameters are stored unchanged under the same names.

    That maps one-to-one onto a Hydra ``_target_`` entry, so every parameter can be set from YAML and swept
    from the command line; :meth:`get_params` reads them back (the scikit-learn / skfolio convention).

    Example:
        >>> class Threshold(Component):
        ...     def __init__(self, level: float = 0.5) -> None:
        ...         self.level = level
        >>> Threshold(level=0.2)
        Threshold(level=0.2)
        >>> Threshold.param_names()
        ('level',)
    """

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        """Names of the constructor's parameters, in order.

        Returns:
            The names of the positional-or-keyword and keyword-only parameters (not ``*args``, ``**kwargs``).

        Example:
            >>> class Band(Component):
            ...     def __init__(self, lower: float = -1.0, *, upper: float = 1.0) -> None:
            ...         self.lower, self.upper = lower, upper
            >>> Band.param_names()
            ('lower', 'upper')
        """
        kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        parameters = inspect.signature(cls.__init__).parameters.values()
        return tuple(p.name for p in parameters if p.name != "self" and p.kind in kinds)

    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters and their current values.

        Returns:
            Each parameter name mapped to the attribute of the same name.

        Example:
            >>> class Band(Component):
            ...     def __init__(self, lower: float = -1.0, *, upper: float = 1.0) -> None:
            ...         self.lower, self.upper = lower, upper
            >>> Band(upper=2.0).get_params()
            {'lower': -1.0, 'upper': 2.0}
        """
        return {name: getattr(self, name) for name in self.param_names()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
