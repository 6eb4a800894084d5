"""Every benchmark in bench/ runs to its end on a tiny input and prints its RESULT lines.

Benchmarks are not run by the suite at full size (they time things, and tests never do), so nothing
else would notice when the code they drive moves on: several of them once crashed at setup for
weeks. This runs each with the smallest options it takes and checks only that it finished and
reported every figure, never the figures themselves (they mean nothing at this size).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# (script and its tiny options, the RESULT lines it must print)
SMOKE_RUNS: list[tuple[list[str], int]] = [
    (["bench_credential.py", "--rounds", "1"], 7),
    (["bench_verify.py", "--rounds", "1"], 3),
    (["bench_print.py", "--pages", "5"], 2),
    (["bench_bulk.py", "--count", "3"], 2),
    (["bench_issue.py", "--rows", "40", "--compare-rows", "20"], 15),  # signing is one stage with rendering
    (["bench_registry.py", "--certificates", "300", "--batch-rows", "100"], 14),
    (["bench_statistics.py", "--certificates", "1000", "--requests", "10"], 6),
    (["soak.py", "--seconds", "3", "--baseline-seconds", "2"], 6),
    (
        [
            "bench_verifier_http.py",
            "--credentials",
            "3",
            "--rounds",
            "1",
            "--seconds",
            "1",
            "--connections",
            "2",
            "--warmup",
            "0",
        ],
        11,
    ),
]


@pytest.mark.parametrize(("argv", "results"), SMOKE_RUNS, ids=[argv[0] for argv, _ in SMOKE_RUNS])
def test_the_benchmark_runs_to_its_end_on_a_tiny_input(argv: list[str], results: int, tmp_path: Path) -> None:
    script, *options = argv
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *options],
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = [
        json.loads(line[len("RESULT ") :]) for line in run.stdout.splitlines() if line.startswith("RESULT ")
    ]
    assert len(lines) == results, run.stdout[-3000:]
    for line in lines:
        assert set(line) == {"what", "figure", "target", "met"} and line["what"] and line["figure"], line
