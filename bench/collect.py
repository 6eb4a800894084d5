"""Run each bench/bench_*.py in turn and write docs/performance.md: a table of what was measured,
the figure, the target and the command, followed by each benchmark's full output."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "performance.md"


def main() -> int:
    rows: list[tuple[dict[str, object], str]] = []
    outputs: list[tuple[str, str]] = []
    for script in _in_order(ROOT / "bench"):
        command = f".venv/bin/python bench/{script.name}"
        print(f"== {command}", flush=True)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, check=False, timeout=1800
        )
        text = done.stdout + (f"\n[stderr]\n{done.stderr[-3000:]}" if done.returncode else "")
        print(text, flush=True)
        outputs.append((f"{command}  ({time.monotonic() - started:.0f} s, exit {done.returncode})", text))
        rows += [
            (json.loads(line[7:]), command) for line in done.stdout.splitlines() if line.startswith("RESULT ")
        ]
    OUT.write_text(_render(rows, outputs) + _kept_notes(), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


# In-process ratios first, while the machine is settled; the benchmarks that start PostgreSQL,
# servers and process pools afterwards, each followed by a pause for their processes to wind down.
_FIRST = ("bench_credential.py", "bench_verify.py", "bench_verifier_http.py")
_SETTLE_SECONDS = 10


def _in_order(folder: Path) -> Iterator[Path]:
    scripts = sorted(folder.glob("bench_*.py"), key=lambda p: (p.name not in _FIRST, _FIRST.index(p.name)
                                                                if p.name in _FIRST else 0, p.name))  # fmt: skip
    for script in scripts:
        yield script
        time.sleep(_SETTLE_SECONDS)


# Written by hand below this heading (comparisons with older figures, what a figure means): kept.
_NOTES_HEADING = "## Notes kept across runs"


def _kept_notes() -> str:
    previous = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
    at = previous.find(_NOTES_HEADING)
    return "" if at < 0 else "\n" + previous[at:]


def _render(rows: list[tuple[dict[str, object], str]], outputs: list[tuple[str, str]]) -> str:
    met = {True: "yes", False: "**no**", None: "—"}
    lines = [
        "# Performance",
        "",
        f"Measured by `bench/run_all` on {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Each ratio compares the best rates of "
        "many short interleaved rounds in one run (the rate each side reaches when the shared machine "
        "leaves it alone, as timeit's minimum); the full output shows the median round ratio too.",
        "",
        "| what | figure | target | met | command |",
        "|---|---|---|---|---|",
    ]
    for row, command in rows:
        lines.append(
            f"| {row['what']} | {row['figure']} | {row['target']} | {met[_met(row)]} | `{command}` |"
        )
    lines += [
        "",
        "## Larger runs",
        "",
        "- Registry at 10 million certificates: `.venv/bin/python bench/bench_registry.py --certificates 10000000"
        " --database-url postgresql+psycopg://USER@HOST/EMPTY_DB` (loading takes several minutes and about 6 GB;"
        " the query is one unique-index look-up, so p99 stays flat in N).",
        "- Issuance of any roster size: `.venv/bin/python bench/bench_issue.py --rows N [--workers N]`.",
        "",
        "## Full output",
        "",
    ]
    for title, text in outputs:
        lines += [f"### `{title}`", "", "```", text.strip(), "```", ""]
    return "\n".join(lines)


def _met(row: dict[str, object]) -> bool | None:
    """A RESULT line's verdict: true, false, or none for a figure without a target."""
    value = row.get("met")
    return value if isinstance(value, bool) else None


if __name__ == "__main__":
    sys.exit(main())
