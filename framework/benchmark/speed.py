"""Speed benchmark of the backtest: ``python -m framework.benchmark.speed``.

Times, in-process and after a warm-up, the best of several repeats, against the design targets, on the bundled
S&P 500 data (20 tickers x 8313 days) and on a synthetic panel (500 x 2520):

- ``plain``: the MA(10, 50) crossover with equal-weight sizing, rebalanced every bar (signals and backtest);
- ``full``: the same signals through the full decision pipeline (risk parity rebalanced monthly, top-10
  selection, a correlation limit refreshed weekly, risk limits with VaR on every bar), its cost per bar on
  growing prefixes of the data (the cost must be linear in bars), and the peak memory of a process that loads
  the data and runs it once;
- ``signals``: the signals of the ``multi_strategy`` portfolio (MA crossover, RSI and random forest on every
  ticker, weighted average), with the forest's fit on the train segment timed separately.

Whole jobs, each a ``python -m framework`` process in a temporary folder with its own MLflow SQLite store (the
wall time of the command, imports included):

- ``job``: the main job on sp500 with MLflow (first run on a new store, then the best of ``--repeats``), and the
  disk it takes: its output folder plus what the store grew by;
- ``sweep``: a 10-job basic sweep on sp500 with MLflow, per job;
- ``big``: the whole job on 500 x 2520 synthetic data without tracking;
- ``joblib``: a 100-job sweep with the joblib launcher, every run checked FINISHED (long: not run by default);
- ``walk_forward``: the ``multi_strategy`` portfolio (MA crossover, RSI, random forest) on sp500 in a walk-forward
  of its last 10 folds (5 years of training, 1 year of test), a forest refit per fold, with MLflow (long: not
  run by default).

Speed targets live here, not in timed tests. Measure on an idle machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from framework.agents import (
    CorrelationLimit,
    EqualWeightSizing,
    Orchestrator,
    RiskLimits,
    RiskParitySizing,
    TopKSelection,
)
from framework.aggregation import WeightedAverage
from framework.backtest import PortfolioStrategy, Sleeve, StrategySlot, run_backtest
from framework.core import MarketData, SignalFrame
from framework.execution import SimulatedBroker
from framework.strategies import MACrossover

SP500, SYNTHETIC = "sp500 20x8313", "synthetic 500x2520"
#: Targets for the plain pipeline (signals + backtest), in seconds.
TARGETS = {SP500: 0.10, SYNTHETIC: 0.30}
#: Targets for the full pipeline's backtest (signals excluded), in seconds, and its peak memory in MB.
FULL_TARGETS = {SP500: 0.6, SYNTHETIC: 2.5}
FULL_MEMORY_MB = 600.0
#: Targets for a three-strategy portfolio's signals, forest fit excluded, in seconds.
SIGNAL_TARGETS = {SP500: 0.5, SYNTHETIC: 2.0}
#: Targets of whole jobs, in seconds (per job for the basic sweep), and the disk of one sp500 run in MB.
JOB_TARGETS = {"job": 3.0, "sweep": 0.8, "big": 4.0, "joblib": 60.0, "disk": 3.0, "walk_forward": 60.0}


def _best_of(repeats: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def load_case(name: str) -> MarketData:
    """The panel of a case: ``sp500 20x8313`` or ``synthetic 500x2520``.

    Args:
        name: :data:`SP500` or :data:`SYNTHETIC`; any other name gives the synthetic case.

    Returns:
        The whole bundled S&P 500 panel, or the seeded synthetic panel of 500 tickers x 2520 bars.

    Example:
        >>> load_case(SP500).shape  # read once, then cached
        (8313, 20)
    """
    from framework.data import SP500Loader, SyntheticLoader

    return SP500Loader().load() if name == SP500 else SyntheticLoader(n_tickers=500, n_days=2520, seed=0).load()


def ma_signals(data: MarketData) -> tuple[PortfolioStrategy, SignalFrame]:
    """The MA(10, 50) crossover portfolio of ``data`` and its signals.

    Args:
        data: The panel.

    Returns:
        The portfolio (one sleeve of every ticker, weighted average) and its signals on ``data``.

    Example:
        >>> import numpy as np
        >>> bars = np.arange(120)
        >>> close = 100 + np.stack([10 * np.sin(bars / 7), bars / 10 + 5 * np.cos(bars / 5)], axis=1)
        >>> data = MarketData(bars.astype("datetime64[D]"), ("A", "B"), close)  # a tiny panel, not a case
        >>> portfolio, signals = ma_signals(data)
        >>> portfolio.tickers, np.isnan(signals.signal).sum(axis=0).tolist()  # 49 bars before the 50-bar average
        (('A', 'B'), [49, 49])
    """
    slot = StrategySlot("ma_crossover", MACrossover(short_window=10, long_window=50))
    portfolio = PortfolioStrategy([Sleeve(data.tickers, [slot], WeightedAverage())])
    return portfolio, portfolio.generate(data)


def full_pipeline() -> Orchestrator:
    """Risk parity monthly, top-10 selection, correlation limit weekly, risk limits (VaR) on every bar.

    Returns:
        A fresh orchestrator of the four stages, in that order.

    Example:
        >>> full_pipeline().stage_names
        ('sizing', 'selection', 'correlation', 'risk')
    """
    return Orchestrator(
        {
            "sizing": RiskParitySizing(rebalance="monthly"),
            "selection": TopKSelection(max_positions=10),
            "correlation": CorrelationLimit(update_frequency="weekly"),
            "risk": RiskLimits(),
        }
    )


def time_case(data: MarketData, repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` seconds of the plain pipeline: signals, backtest, and both.

    Args:
        data: The panel.
        repeats: How many times to run each part (after one warm-up run).

    Returns:
        ``{"signals": s, "loop": s, "total": s}``.

    Example:
        >>> import numpy as np
        >>> bars = np.arange(120)
        >>> close = 100 + np.stack([10 * np.sin(bars / 7), bars / 10 + 5 * np.cos(bars / 5)], axis=1)
        >>> data = MarketData(bars.astype("datetime64[D]"), ("A", "B"), close)  # a tiny panel, not a case
        >>> timing = time_case(data, repeats=1)
        >>> sorted(timing), timing["total"] == timing["signals"] + timing["loop"]
        (['loop', 'signals', 'total'], True)
    """
    portfolio, signals = ma_signals(data)

    def loop() -> object:
        return run_backtest(data, signals, Orchestrator({"sizing": EqualWeightSizing()}), SimulatedBroker())

    loop()
    signal_time = _best_of(repeats, lambda: portfolio.generate(data))
    loop_time = _best_of(repeats, loop)
    return {"signals": signal_time, "loop": loop_time, "total": signal_time + loop_time}


def time_full_pipeline(data: MarketData, repeats: int) -> float:
    """Best-of-``repeats`` seconds of the full pipeline's backtest on ``data`` (signals excluded).

    Args:
        data: The panel, with more bars than the pipeline's 63 bars of history.
        repeats: How many times to run the backtest (after one warm-up run).

    Returns:
        The best time, in seconds.

    Example:
        >>> import numpy as np
        >>> bars = np.arange(120)
        >>> close = 100 + np.stack([10 * np.sin(bars / 7), bars / 10 + 5 * np.cos(bars / 5)], axis=1)
        >>> data = MarketData(bars.astype("datetime64[D]"), ("A", "B"), close)  # a tiny panel, not a case
        >>> time_full_pipeline(data, repeats=1) > 0
        True
    """
    _, signals = ma_signals(data)
    run_backtest(data, signals, full_pipeline(), SimulatedBroker())
    return _best_of(repeats, lambda: run_backtest(data, signals, full_pipeline(), SimulatedBroker()))


def _peak_memory_child(name: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    data = load_case(name)
    _, signals = ma_signals(data)
    run_backtest(data, signals, full_pipeline(), SimulatedBroker())
    queue.put(_high_water_mb())


def _high_water_mb() -> float:
    """Peak resident memory (MB) of this process's own address space, ``VmHWM``.

    ``ru_maxrss`` of a spawned process also counts the parent it was forked from before ``exec``.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_mb(name: str) -> float:
    """Peak resident memory (MB) of a fresh process that imports, loads case ``name`` and runs the full pipeline.

    The child reads its own high-water mark (``VmHWM`` of ``/proc/self/status``) after the run.

    Args:
        name: :data:`SP500` or :data:`SYNTHETIC`.

    Returns:
        The child's peak resident memory, in MB; :data:`FULL_MEMORY_MB` is its target.

    Example:
        >>> # The call itself spawns a process that loads a real case and runs it; the child's measurement,
        >>> # read here on this process:
        >>> _high_water_mb() > 0
        True
    """
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_peak_memory_child, args=(name, queue))
    process.start()
    peak = float(queue.get())
    process.join()
    return peak


def time_multi_strategy(data: MarketData, repeats: int, train_fraction: float = 0.6) -> dict[str, float]:
    """Best-of-``repeats`` seconds for the fit and the signals of MA crossover + RSI + random forest.

    Args:
        data: The panel.
        repeats: Repeats of the signal computation (the fit runs once).
        train_fraction: Share of the bars the forest is fitted on.

    Returns:
        ``{"fit": s, "signals": s}``; ``signals`` excludes the fit.

    Example:
        >>> import numpy as np
        >>> bars = np.arange(120)
        >>> close = 100 + np.stack([10 * np.sin(bars / 7), bars / 10 + 5 * np.cos(bars / 5)], axis=1)
        >>> data = MarketData(bars.astype("datetime64[D]"), ("A", "B"), close)  # a tiny panel, not a case
        >>> timing = time_multi_strategy(data, repeats=1, train_fraction=0.8)  # the forest needs 65 bars of warm-up
        >>> sorted(timing)
        ['fit', 'signals']
    """
    from framework.strategies import RSI, RandomForestStrategy

    slots = [
        StrategySlot("ma_crossover", MACrossover(short_window=20, long_window=100), 0.4),
        StrategySlot("rsi", RSI(window=14), 0.3),
        StrategySlot("random_forest", RandomForestStrategy(random_state=0), 0.3),
    ]
    portfolio = PortfolioStrategy([Sleeve(data.tickers, slots, WeightedAverage())])
    start = time.perf_counter()
    portfolio.fit(data, train_stop=int(data.n_days * train_fraction))
    fit = time.perf_counter() - start
    return {"fit": fit, "signals": _best_of(repeats, lambda: portfolio.generate(data))}


def run_command(args: list[str], folder: Path) -> float:
    """Run ``python -m framework <args>`` in ``folder`` (its own MLflow store there); its wall time in seconds.

    Args:
        args: The command's arguments.
        folder: The working folder.

    Returns:
        Seconds from start to exit.

    Raises:
        RuntimeError: The command failed (its last lines of stderr).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     seconds = run_command(["--help"], Path(folder))
        >>> seconds > 0
        True
    """
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_TRACKING_URI": f"sqlite:///{folder}/mlflow.db"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "framework", *args], cwd=folder, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"python -m framework {' '.join(args)} failed: {done.stderr[-2000:]}")
    return seconds


def folder_mb(*paths: Path) -> float:
    """The size of files and folders in MB (10**6 bytes).

    Args:
        *paths: Files or folders (missing ones count 0).

    Returns:
        Their total size.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     _ = (Path(folder) / "a.bin").write_bytes(bytes(500_000))
        ...     folder_mb(Path(folder), Path(folder) / "missing")
        0.5
    """
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            total += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return total / 1e6


def time_jobs(parts: set[str], repeats: int) -> dict[str, float]:
    """Time whole jobs (see the module docstring): the figures of the parts asked for.

    Args:
        parts: Among ``job``, ``sweep``, ``big``, ``joblib``, ``walk_forward``.
        repeats: Runs of the main job and of the big job (the best is kept).

    Returns:
        ``job_first``, ``job``, ``disk`` (MB), ``sweep`` (per job), ``big``, ``joblib`` (whole sweep),
        ``walk_forward``, those measured.

    Example:
        >>> time_jobs(set(), 1)
        {}
    """
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="portfolio-lab-speed-") as name:
        root = Path(name)
        if "job" in parts:
            folder = root / "job"
            folder.mkdir()
            figures["job_first"] = run_command(["hydra.run.dir=first"], folder)
            before = folder_mb(folder / "mlflow.db", folder / "mlruns")
            times = [run_command([f"hydra.run.dir=run{i}"], folder) for i in range(repeats)]
            figures["job"] = min(times)
            grown = (folder_mb(folder / "mlflow.db", folder / "mlruns") - before) / repeats
            figures["disk"] = folder_mb(folder / "run0") + grown
        if "sweep" in parts:
            folder = root / "sweep"
            folder.mkdir()
            run_command(["hydra.run.dir=warm"], folder)  # the store's tables are created once, not in the sweep
            figures["sweep"] = run_command(["-m", "seed=range(0,10)"], folder) / 10
        if "big" in parts:
            folder = root / "big"
            folder.mkdir()
            args = ["data=synthetic", "data.n_tickers=500", "data.n_days=2520", "tracking=none"]
            figures["big"] = min(run_command([*args, f"hydra.run.dir=run{i}"], folder) for i in range(repeats))
        if "joblib" in parts:
            folder = root / "joblib"
            folder.mkdir()
            run_command(["hydra.run.dir=warm"], folder)
            figures["joblib"] = run_command(["-m", "hydra/launcher=joblib", "seed=range(0,100)",
                                             "experiment_name=joblib100"], folder)  # fmt: skip
            figures["joblib_finished"] = float(_finished_children(folder, "joblib100"))
        if "walk_forward" in parts:
            folder = root / "walk_forward"
            folder.mkdir()
            args = ["portfolio=multi_strategy", "benchmark=walk_forward", "benchmark.split.max_folds=10"]
            figures["walk_forward"] = run_command([*args, "hydra.run.dir=run"], folder)
    return figures


def _finished_children(folder: Path, experiment: str) -> int:
    """How many child runs of an experiment in the folder's store ended FINISHED."""
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{folder}/mlflow.db")
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return 0
    runs = client.search_runs([found.experiment_id], max_results=5000)
    return sum(1 for r in runs if "mlflow.parentRunId" in r.data.tags and r.info.status == "FINISHED")


def _verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "OVER"


def main(argv: list[str] | None = None) -> None:
    """Print the timings of the chosen parts against their targets.

    Both cases are loaded first, then each part of ``--only`` runs on each of them.

    Args:
        argv: Command-line arguments (``--repeats N``, ``--only plain,full,signals``); None reads ``sys.argv``.

    Example:
        >>> try:  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
        ...     main(["--help"])
        ... except SystemExit as done:
        ...     print("exit code", done.code)
        usage: ... [-h] [--repeats REPEATS] [--only ONLY]
        ...
        exit code 0
    """
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="plain,full,signals,job,sweep,big",
                        help="comma-separated: plain, full, signals, job, sweep, big, joblib, "
                             "walk_forward")  # fmt: skip
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    unknown = parts - {"plain", "full", "signals", "job", "sweep", "big", "joblib", "walk_forward"}
    if unknown:
        parser.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}; choose among plain, full, signals, "
                     "job, sweep, big, joblib, walk_forward")  # fmt: skip
    needs_cases = parts & {"plain", "full", "signals"}
    cases = {name: load_case(name) for name in (SP500, SYNTHETIC)} if needs_cases else {}
    if "plain" in parts:
        print(f"{'plain pipeline':<22}{'signals (s)':>12}{'loop (s)':>10}{'total (s)':>11}{'target (s)':>12}")
        for name, data in cases.items():
            timing = time_case(data, args.repeats)
            print(f"{name:<22}{timing['signals']:>12.3f}{timing['loop']:>10.3f}{timing['total']:>11.3f}"
                  f"{TARGETS[name]:>12.2f}  {_verdict(timing['total'], TARGETS[name])}")  # fmt: skip
    if "full" in parts:
        print(f"\n{'full pipeline':<22}{'loop (s)':>12}{'target (s)':>12}{'peak MB':>10}{'target MB':>11}")
        for name, data in cases.items():
            seconds = time_full_pipeline(data, max(1, args.repeats // 2))
            memory = peak_memory_mb(name)
            print(f"{name:<22}{seconds:>12.3f}{FULL_TARGETS[name]:>12.2f}  {_verdict(seconds, FULL_TARGETS[name])}"
                  f"{memory:>8.0f}{FULL_MEMORY_MB:>11.0f}  {_verdict(memory, FULL_MEMORY_MB)}")  # fmt: skip
        data = cases[SP500]
        print(f"\n{'full pipeline, sp500':<22}{'bars':>8}{'loop (s)':>10}{'us per bar':>12}")
        for bars in (data.n_days // 4, data.n_days // 2, data.n_days):
            seconds = time_full_pipeline(data.slice_rows(0, bars), max(1, args.repeats // 2))
            print(f"{'':<22}{bars:>8}{seconds:>10.3f}{1e6 * seconds / bars:>12.1f}")
    if "signals" in parts:
        print(f"\n{'multi_strategy signals':<22}{'fit (s)':>12}{'signals (s)':>12}{'target (s)':>12}")
        for name, data in cases.items():
            timing = time_multi_strategy(data, max(1, args.repeats // 2))
            print(f"{name:<22}{timing['fit']:>12.3f}{timing['signals']:>12.3f}{SIGNAL_TARGETS[name]:>12.2f}  "
                  f"{_verdict(timing['signals'], SIGNAL_TARGETS[name])}")  # fmt: skip
    jobs = time_jobs(parts, max(1, args.repeats // 2))
    if jobs:
        print(f"\n{'whole jobs':<40}{'measured':>10}{'target':>9}")
        rows = [("job", "main job, sp500, MLflow (s)"), ("disk", "disk per sp500 run, folder + store (MB)"),
                ("sweep", "10-job basic sweep, per job (s)"), ("big", "500 x 2520 job, no tracking (s)"),
                ("joblib", "100-job joblib sweep (s)"),
                ("walk_forward", "walk-forward, 10 folds, sp500 (s)")]  # fmt: skip
        for key, label in rows:
            if key in jobs:
                print(f"{label:<40}{jobs[key]:>10.2f}{JOB_TARGETS[key]:>9.1f}  {_verdict(jobs[key], JOB_TARGETS[key])}")
        if "job_first" in jobs:
            print(f"{'main job, first run on a new store (s)':<40}{jobs['job_first']:>10.2f}")
        if "joblib_finished" in jobs:
            print(f"{'joblib sweep runs FINISHED':<40}{jobs['joblib_finished']:>10.0f}{100:>9}")
    print(f"\npeak resident memory of this process: {_high_water_mb():.0f} MB")


if __name__ == "__main__":
    main()
