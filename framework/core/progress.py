"""Progress bars on long work (fits, signals, the bar loop), on a terminal only.

Off by default, so library use and tests print nothing; the app turns them on from ``outputs.progress``
(``auto``: only when stderr is a terminal, so logs of batch jobs and sweeps stay clean). The bars are tqdm's,
written to stderr and removed when done.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, Protocol

_enabled = False


class ProgressBar(Protocol):
    """What the work reports to: ``update(n)`` steps done, ``close()`` at the end."""

    def update(self, n: float = 1) -> Any:
        """Count ``n`` more steps done.

        Args:
            n: Steps done since the last update.

        Returns:
            Whatever the bar returns (ignored).

        Example:
            >>> progress(10, "demo").update(5)
        """

    def close(self) -> None:
        """Remove the bar.

        Example:
            >>> progress(10, "demo").close()
        """


class _Silent:
    """A bar that shows nothing."""

    def update(self, n: float = 1) -> None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def configure(setting: bool | str) -> bool:
    """Turn progress bars on or off for this process.

    Args:
        setting: ``True``, ``False`` or ``"auto"`` (on when stderr is a terminal).

    Returns:
        Whether bars are now shown.

    Raises:
        ValueError: For another value.

    Example:
        >>> configure(False)
        False
        >>> configure("sometimes")
        Traceback (most recent call last):
        ...
        ValueError: outputs.progress: must be auto, true or false, got 'sometimes'
    """
    global _enabled
    if setting == "auto":
        _enabled = bool(getattr(sys.stderr, "isatty", lambda: False)())
    elif isinstance(setting, bool):
        _enabled = setting
    else:
        raise ValueError(f"outputs.progress: must be auto, true or false, got {setting!r}")
    return _enabled


def enabled() -> bool:
    """Whether progress bars are shown.

    Example:
        >>> _ = configure(False)
        >>> enabled()
        False
    """
    return _enabled


def progress(total: int, description: str, unit: str = "it") -> ProgressBar:
    """A progress bar of ``total`` steps, or a silent one when bars are off or the work is tiny.

    Args:
        total: Steps of the work.
        description: What is being done (``"backtest"``, ``"fit"``).
        unit: What a step is (``"bar"``).

    Returns:
        A bar to ``update`` and ``close`` (also a context manager).

    Example:
        >>> _ = configure(False)
        >>> with progress(8313, "backtest", "bar") as bar:
        ...     bar.update(100)
    """
    if not _enabled or total <= 1:
        return _Silent()
    from tqdm import tqdm

    bar: ProgressBar = tqdm(total=total, desc=description, unit=unit, file=sys.stderr, leave=False,
                            mininterval=0.25, dynamic_ncols=True)  # fmt: skip
    return bar


class Stages:
    """A bar over a list of named steps (each strategy's fit, each sleeve's signals): the name shown as it runs.

    Args:
        total: Steps.
        description: The work.

    Example:
        >>> _ = configure(False)
        >>> with Stages(2, "fit") as stages:
        ...     stages.start("ma_crossover")
        ...     stages.start("rsi")
    """

    def __init__(self, total: int, description: str) -> None:
        self._bar = progress(total, description)
        self._started = False

    def start(self, name: str) -> None:
        """Mark the previous step done and show the one starting.

        Args:
            name: The step starting.

        Example:
            >>> Stages(3, "signals").start("rsi")
        """
        if self._started:
            self._bar.update(1)
        self._started = True
        setter = getattr(self._bar, "set_postfix_str", None)
        if setter is not None:
            setter(name)

    def __enter__(self) -> Stages:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._bar.close()
