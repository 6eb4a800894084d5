"""Shared measuring helpers for the benchmarks.

These machines are shared and noisy (2 cores, other tenants): a neighbour's burst slows whatever
runs at that moment. So both sides of a ratio run in many short interleaved rounds, and each side
is represented by its best round, the rate it reaches when nothing interferes (the same reason
``timeit`` reports the minimum time). The median round ratio is printed beside it for context."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def rate(operation: Callable[[], object], seconds: float = 0.3) -> float:
    """Operations per second of ``operation`` over about ``seconds``."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            operation()
        count += 50
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def ratio(
    measured: Callable[[], object], baseline: Callable[[], object], rounds: int = 15
) -> tuple[float, float, float]:
    """Best measured rate / best baseline rate over interleaved rounds, with both best rates."""
    measured_rates, baseline_rates, round_ratios = [], [], []
    for _ in range(rounds):
        m = rate(measured, 0.2)
        b = rate(baseline, 0.2)
        measured_rates.append(m)
        baseline_rates.append(b)
        round_ratios.append(m / b)
    best_measured, best_baseline = max(measured_rates), max(baseline_rates)
    print(f"  (median of round ratios {statistics.median(round_ratios):.0%}, best-rate ratio "
          f"{best_measured / best_baseline:.0%}, {rounds} rounds)")  # fmt: skip
    return best_measured / best_baseline, best_measured, best_baseline


def result(what: str, figure: str, target: str, met: bool | None = None) -> None:
    """Print one machine-readable result line; bench/run_all turns these into docs/performance.md."""
    import json

    print(
        "RESULT "
        + json.dumps({"what": what, "figure": figure, "target": target, "met": met}, ensure_ascii=False)
    )
