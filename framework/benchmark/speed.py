"""Speed benchmark of the backtest: ``python -m framework.benchmark.speed``.

Times, in-process and after a warm-up, the best of several repeats, against the design targets:

- the backtest (signals and per-bar loop) of the MA(10, 50) crossover with equal-weight sizing, rebalanced
  every bar, on the bundled S&P 500 data (20 tickers × 8313 days) and on a synthetic panel (500 × 2520);
- the signals of the ``multi_strategy`` portfolio (MA crossover, RSI and random forest on every ticker,
  weighted average) on the same two panels, with the forest's fit on the train segment timed separately.

Speed targets live here, not in timed tests.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable

from framework.agents import EqualWeightSizing, Orchestrator
from framework.aggregation import WeightedAverage
from framework.backtest import PortfolioStrategy, Sleeve, StrategySlot, run_backtest
from framework.core import MarketData
from framework.execution import SimulatedBroker
from framework.strategies import MACrossover

#: Design targets for the whole backtest (signals + loop), in seconds.
TARGETS = {"sp500 20x8313": 0.2, "synthetic 500x2520": 1.0}
#: Design targets for a three-strategy portfolio's signals, forest fit excluded, in seconds.
SIGNAL_TARGETS = {"sp500 20x8313": 0.5, "synthetic 500x2520": 2.0}


def _best_of(repeats: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def time_case(data: MarketData, repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` seconds for the signals, the loop and both, on ``data``.

    Args:
        data: The panel.
        repeats: How many times to run each part (after one warm-up run).

    Returns:
        ``{"signals": s, "loop": s, "total": s}``.
    """
    slot = StrategySlot("ma_crossover", MACrossover(short_window=10, long_window=50))
    portfolio = PortfolioStrategy([Sleeve(data.tickers, [slot], WeightedAverage())])
    signals = portfolio.generate(data)

    def loop() -> object:
        return run_backtest(data, signals, Orchestrator({"sizing": EqualWeightSizing()}), SimulatedBroker())

    loop()
    signal_time = _best_of(repeats, lambda: portfolio.generate(data))
    loop_time = _best_of(repeats, loop)
    return {"signals": signal_time, "loop": loop_time, "total": signal_time + loop_time}


def time_multi_strategy(data: MarketData, repeats: int, train_fraction: float = 0.6) -> dict[str, float]:
    """Best-of-``repeats`` seconds for the fit and the signals of MA crossover + RSI + random forest.

    Args:
        data: The panel.
        repeats: Repeats of the signal computation (the fit runs once).
        train_fraction: Share of the bars the forest is fitted on.

    Returns:
        ``{"fit": s, "signals": s}``; ``signals`` excludes the fit.
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


def main(argv: list[str] | None = None) -> None:
    """Print the timings of both cases against their targets."""
    from framework.data import SP500Loader, SyntheticLoader

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    cases = {
        "sp500 20x8313": SP500Loader().load(),
        "synthetic 500x2520": SyntheticLoader(n_tickers=500, n_days=2520, seed=0).load(),
    }
    print(f"{'case':<22}{'signals (s)':>12}{'loop (s)':>10}{'total (s)':>11}{'target (s)':>12}")
    for name, data in cases.items():
        timing = time_case(data, args.repeats)
        verdict = "ok" if timing["total"] <= TARGETS[name] else "OVER"
        print(
            f"{name:<22}{timing['signals']:>12.3f}{timing['loop']:>10.3f}{timing['total']:>11.3f}"
            f"{TARGETS[name]:>12.2f}  {verdict}"
        )
    print(f"\n{'multi_strategy signals':<22}{'fit (s)':>12}{'signals (s)':>12}{'target (s)':>12}")
    for name, data in cases.items():
        timing = time_multi_strategy(data, max(1, args.repeats // 2))
        verdict = "ok" if timing["signals"] <= SIGNAL_TARGETS[name] else "OVER"
        print(f"{name:<22}{timing['fit']:>12.3f}{timing['signals']:>12.3f}{SIGNAL_TARGETS[name]:>12.2f}  {verdict}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
