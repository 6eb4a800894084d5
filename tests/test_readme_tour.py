"""The README's tour and its clerk's path ("issue the sample roster in the demo"), executed as written:
`make demo` serves, then every line of the ```sh tour block and then of the ```sh clerk block runs in
order in one shell, and each line's `# expect: TEXT` must appear in what it printed.

The only liberty taken: `make demo` gets ARGS="--data-dir <tmp>/demo-data", and the lines run in <tmp>
(with `.venv` and `examples` linked there), so the test never touches a developer's own demo-data.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.xdist_group("demo")
_EXPECT = re.compile(r"\s+#\s*expect:\s*(.+)$")


def tour_lines(name: str = "tour") -> list[tuple[str, str | None]]:
    """(command, expected text) for each line of the README's ```sh NAME block."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(rf"```sh {name}\n(.*?)```", readme, re.DOTALL)
    assert block, f"README.md has no ```sh {name} block"
    lines = []
    for line in block.group(1).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        expect = _EXPECT.search(line)
        lines.append(
            (line[: expect.start()] if expect else line, expect.group(1).strip() if expect else None)
        )
    return lines


def _wait_for(url: str, seeded: Path, process: subprocess.Popen[str], timeout: float = 600) -> None:
    """Until our own demo serves: its data is seeded and the URL answers (a generous bound, not a
    timing assertion: a loaded machine only makes this slower)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"make demo exited early ({process.returncode}):\n{output}")
        try:
            if seeded.is_file() and httpx.get(url, timeout=10).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} never answered")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _on_ports(lines: list[tuple[str, str | None]], ports: dict[int, int]) -> list[tuple[str, str | None]]:
    """The README's lines with its ports 8700/8701 moved to free ones, so that a demo someone is
    already running on this machine (or another copy of this test) cannot collide with ours."""

    def moved(command: str) -> str:
        for readme_port, port in ports.items():
            command = command.replace(f"127.0.0.1:{readme_port}", f"127.0.0.1:{port}")
        return command

    return [(moved(command), expected) for command, expected in lines]


def _start_demo(tmp_path: Path, ports: dict[int, int]) -> subprocess.Popen[str]:
    args = f"--data-dir {tmp_path / 'demo-data'} --registry-port {ports[8700]} --verifier-port {ports[8701]}"
    return subprocess.Popen(
        ["make", "-C", str(REPO), "demo", f"ARGS={args}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        # Fault handler on: if the demo ever fails to stop, SIGABRT makes it print every thread's stack.
        env={k: v for k, v in os.environ.items() if k != "SKILLPASS_KEY_PASSPHRASE"}
        | {"PYTHONFAULTHANDLER": "1"},
    )


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Start the demo as a script running it in the background would: with SIGINT ignored, which the
    child inherits. Ctrl-C must stop it all the same (it once hung here whenever the suite itself
    had been started in the background)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    ports = {8700: _free_port(), 8701: _free_port()}
    lines = _on_ports(tour_lines() + tour_lines("clerk"), ports)
    assert len(lines) >= 12
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    (tmp_path / "examples").symlink_to(REPO / "examples")
    with _sigint_ignored():
        demo = _start_demo(tmp_path, ports)
    try:
        _wait_for(f"http://127.0.0.1:{ports[8701]}/healthz", tmp_path / "demo-data" / "seeded.json", demo)
        script = "\n".join(f"echo '<<<{i}>>>'\n{command}" for i, (command, _) in enumerate(lines))
        ran = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False
        )
        output = ran.stdout + ran.stderr
        parts = re.split(r"<<<(\d+)>>>\n", ran.stdout)
        printed = {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}
        assert len(printed) == len(lines), output
        for i, (command, expected) in enumerate(lines):
            if expected is not None:
                assert expected in printed[i], f"line {i}: {command}\nexpected {expected!r}\n{output}"
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGINT)
        try:
            out, _ = demo.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the demo did not stop within 300 s after Ctrl-C:\n{_stacks_of_hung(demo)}")
    assert "stopping" in out, out


def _stacks_of_hung(demo: subprocess.Popen[str]) -> str:
    """What each process of the demo's session was doing, and every Python thread's stack."""
    processes = subprocess.run(
        ["ps", "-o", "pid,stat,wchan:24,args", "-s", str(demo.pid)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    os.killpg(demo.pid, signal.SIGABRT)
    try:
        out, _ = demo.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(demo.pid, signal.SIGKILL)
        out, _ = demo.communicate()
    return f"{processes}\n{out}"
