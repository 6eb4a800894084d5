"""Shared measuring helpers for the benchmarks: interleaved rounds so that a noisy, shared
2-core machine slows both sides of a ratio alike."""

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
    measured: Callable[[], object], baseline: Callable[[], object], rounds: int = 9
) -> tuple[float, float, float]:
    """Median over interleaved rounds of measured-rate / baseline-rate, with both median rates."""
    ratios, measured_rates, baseline_rates = [], [], []
    for _ in range(rounds):
        m = rate(measured)
        b = rate(baseline)
        measured_rates.append(m)
        baseline_rates.append(b)
        ratios.append(m / b)
    return statistics.median(ratios), statistics.median(measured_rates), statistics.median(baseline_rates)


def result(what: str, figure: str, target: str, met: bool | None = None) -> None:
    """Print one machine-readable result line; bench/run_all turns these into docs/performance.md."""
    import json

    print(
        "RESULT "
        + json.dumps({"what": what, "figure": figure, "target": target, "met": met}, ensure_ascii=False)
    )
