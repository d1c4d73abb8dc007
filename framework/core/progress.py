"""Progress bars on long work (fits, signals, the bar loop), on a terminal only.

Off by default, so library use and tests print nothing; the app turns them on from ``outputs.progress``
(``auto``: only when stderr is a terminal, so logs of batch jobs and sweeps stay clean). The bars are tqdm's,
written to stderr and removed when done.
"""

from __future__ import annotations

import sys
from types import TracebackType

_enabled = False


class ProgressBar:
    """A bar that shows nothing: what :func:`progress` returns when bars are off.

    When they are on, :func:`progress` returns a tqdm bar, which has the same ``update`` and ``close``.

    Example:
        >>> with ProgressBar() as bar:
        ...     bar.update(3)
    """

    def __init__(self) -> None:
        self.n = 0.0

    def update(self, n: float = 1) -> None:
        """Count ``n`` more steps done.

        Args:
            n: Steps done since the last update.

        Example:
            >>> bar = ProgressBar()
            >>> bar.update(5)
            >>> bar.n
            5.0
        """
        self.n += n

    def close(self) -> None:
        """Remove the bar (nothing to remove here).

        Example:
            >>> ProgressBar().close()
        """

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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

    Returns:
        True when :func:`configure` turned them on.

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
        return ProgressBar()
    from tqdm import tqdm

    # A tqdm bar has the same update and close as ProgressBar.
    bar: ProgressBar = tqdm(total=total, desc=description, unit=unit, file=sys.stderr, leave=False,  # type: ignore[assignment]
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
