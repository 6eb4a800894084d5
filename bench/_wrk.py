"""Servers in processes of their own and `wrk` driving them: the HTTP benchmarks' shared parts.

Load comes from `wrk` (Debian's, compiled, its own process) because a Python client measures itself:
its own per-request cost and, in the same process as the server, the fight for the GIL would be
most of the figure. Each server is a process of its own, started as deployed (uvicorn with
httptools + uvloop), and the CPU it spends is read from /proc, so a figure can be given per
CPU-second of the servers as well as per wall second."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

PYTHON_CLI = [sys.executable, "-c", "from skillpass.cli import main; raise SystemExit(main())"]
PASSPHRASE = "bench passphrase"  # noqa: S105  # throwaway keys in a temporary folder
#: The environment of every command these benchmarks run: the key files' passphrase is read from it.
ENV = os.environ | {"SKILLPASS_KEY_PASSPHRASE": PASSPHRASE}
_STARTUP_SECONDS = 60.0


@dataclass
class Round:
    """One wrk run: requests/s, latency percentiles (ms) and the servers' CPU seconds per request."""

    rate: float
    p50: float
    p99: float
    cpu_per_request: float


def spawn(
    argv: list[str], servers: list[subprocess.Popen[bytes]], cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a server process (with ``ENV``) without waiting for it, so that servers start side by side."""
    server = subprocess.Popen(argv, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    servers.append(server)
    return server


def ready(server: subprocess.Popen[bytes], ready_url: str) -> None:
    """Wait until ``ready_url`` answers (a server that exits meanwhile ends the run)."""
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server for {ready_url} exited with {server.returncode}")
        try:
            if httpx.get(ready_url, timeout=1.0).is_success:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{ready_url} did not start")


def stop(servers: list[subprocess.Popen[bytes]]) -> None:
    """Terminate every server started with ``spawn`` and wait for each."""
    for server in servers:
        server.terminate()
    for server in servers:
        server.wait(timeout=15)


def lua_cycle(items: list[str], call: str) -> str:
    """A wrk script sending one request per item, in turn, round and round; any answer but 200 is an
    error (wrk then reports it, and ``run`` ends the benchmark). ``call`` builds the request from
    ``item``, e.g. ``wrk.format("GET", item)``."""
    listed = ",\n".join(json.dumps(item) for item in items)  # JSON strings are valid Lua strings here
    return f"""local items = {{
{listed}
}}
local i = 0
request = function()
  i = i % #items + 1
  local item = items[i]
  return {call}
end
response = function(status, headers, body)
  if status ~= 200 then
    error("HTTP " .. status)
  end
end
"""


_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_NO_SOCKET_ERRORS = "Socket errors: connect 0, read 0, write 0, timeout 0"


def run(url: str, script: Path | None, processes: list[subprocess.Popen[bytes]], seconds: int,
        connections: int) -> Round:  # fmt: skip
    """One wrk run (one thread, ``connections`` connections) against ``url``; ``processes`` are the
    servers whose CPU time the requests cost."""
    argv = [
        "wrk",
        "-t",
        "1",
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        url,
    ]
    if script is not None:
        argv[1:1] = ["-s", str(script)]
    cpu_before = sum(cpu_seconds(p.pid) for p in processes)
    done = subprocess.run(argv, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")
    output = done.stdout
    cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
    if "Non-2xx" in output or "errors:" in output.replace(_NO_SOCKET_ERRORS, ""):
        raise SystemExit(f"wrk saw failed requests against {url}:\n{output}")
    rate_match = _RATE.search(output)
    percentiles = {p: float(v) * _UNITS[u] for p, v, u in _PERCENTILE.findall(output)}
    if rate_match is None or len(percentiles) != 2:
        raise SystemExit(f"cannot read wrk's answer:\n{output}")
    rate = float(rate_match.group(1))
    return Round(rate, percentiles["50"], percentiles["99"], cpu / max(1.0, rate * seconds))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
