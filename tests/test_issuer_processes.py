"""The worker processes' server (``issuer.processes``): started early on request, with its modules named for
preloading, and shared by the pools that follow."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PROGRAM = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from issuer import processes

    def servers():
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and (entry / "stat").read_text().split()[3] == str(os.getpid()):
                    found.append((entry / "cmdline").read_bytes().replace(b"\\0", b" ").decode())
            except OSError:
                pass
        return [c for c in found if "forkserver" in c]

    before = servers()
    if sys.argv[1] == "early":
        processes.start_early()
    after = servers()
    with processes.worker_processes(1) as pool:
        pool.submit(os.getpid).result()
    print(len(before), len(after), len(servers()), "issuer.render" in " ".join(after))
    """
)


def _run(mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip()


def test_the_server_starts_early_with_the_renderer_preloaded_and_the_pool_uses_it() -> None:
    assert _run("early") == "0 1 1 True"  # the pool forked its worker from the server already running


def test_without_an_early_start_the_first_pool_starts_the_server() -> None:
    assert _run("late") == "0 0 1 False"
