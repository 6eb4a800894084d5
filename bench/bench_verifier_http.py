"""The HTTP stack under `wrk`: online verification against a real registry, each endpoint against
the floor beneath it, all in one run.

Four servers, each its own process, as deployed (uvicorn, one worker, httptools + uvloop):
  - a bare ASGI app answering a constant JSON (`bench/bare_asgi.py`): the floor of the stack;
  - the registry (`skillpass registry serve`, SQLite) holding N distinct published credentials,
    filed, reviewed, signed and published here through the registry's own functions;
  - the verifier (`skillpass verifier serve --registry URL`), synced from that registry, so that
    `POST /api/v1/verify` verifies online by default, asking the registry for each record.
`wrk` (Debian's, a compiled load generator in its own process) drives each endpoint in turn at a
fixed number of connections, cycling through the N credentials so that no answer repeats within a
cycle. Rounds alternate the endpoints so that a noisy shared machine slows all alike; each side of
a ratio is its best round (bench/_measure.py explains why), the median round ratio is printed too.

Targets (issue 15): online verify ≥ 80 % of the registry's /record; /record ≥ 50 % of the registry's
trivial endpoint; verify ≥ 50 % of the verifier's ping; ping ≥ 80 % of the bare app. Requests per
CPU-second count the CPU time of the serving processes (for online verify: verifier + registry).

    .venv/bin/python bench/bench_verifier_http.py [--credentials N] [--rounds R] [--seconds S] [--connections C]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _measure import result
from harness.ports import free_port
from harness.records import institution_record

from credential import encode
from keys import Signer, to_jwk
from registry import approval, batches, institutions, publication
from registry.batches import expected_claims
from registry.clock import Now
from registry.schema import rows
from registry.service import Registry
from registry.setup import init_registry
from registry.tokens import Principal
from schemas import resident_id_check_char

HOST = "127.0.0.1"
CODE = "Y000011000001"
PASSPHRASE = "bench passphrase"  # noqa: S105  # a throwaway registry in a temporary folder
ADMIN = Principal("admin", None, "bench")
_STARTUP_SECONDS = 60.0
_PYTHON_CLI = "from skillpass.cli import main; raise SystemExit(main())"


@dataclass
class Round:
    """One wrk run: requests/s, latency percentiles (ms) and the servers' CPU seconds per request."""

    rate: float
    p50: float
    p99: float
    cpu_per_request: float


def main() -> int:
    args = _arguments()
    if shutil.which("wrk") is None:
        print("wrk is missing: scripts/setup installs it (Debian package wrk)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="skillpass-bench-http-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        numbers, texts, registry_key = _published_registry(work / "registry", args.credentials)
        print(f"{len(texts)} distinct credentials filed, approved, signed and published "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        (work / "registry.jwk").write_text(json.dumps(to_jwk(registry_key)), encoding="utf-8")
        servers: list[subprocess.Popen[bytes]] = []
        try:
            return _measure_all(work, numbers, texts, servers, args)
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=15)


def _measure_all(
    work: Path,
    numbers: list[tuple[str, str]],
    texts: list[str],
    servers: list[subprocess.Popen[bytes]],
    args: argparse.Namespace,
) -> int:
    bare_port, registry_port, verifier_port = free_port(), free_port(), free_port()
    registry_url = f"http://{HOST}:{registry_port}"
    bench_dir = Path(__file__).resolve().parent
    bare = _start([sys.executable, "-m", "uvicorn", "bare_asgi:app", "--host", HOST, "--port", str(bare_port),
                   "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning"],
                  f"http://{HOST}:{bare_port}/", servers, cwd=bench_dir)  # fmt: skip
    registry = _start([sys.executable, "-c", _PYTHON_CLI, "registry", "serve", "--data-dir", str(work / "registry"),
                       "--host", HOST, "--port", str(registry_port)], f"{registry_url}/healthz", servers)  # fmt: skip
    trust = ["--registry", registry_url, "--registry-key", str(work / "registry.jwk"),
             "--cache-dir", str(work / "verifier-cache")]  # fmt: skip
    subprocess.run([sys.executable, "-c", _PYTHON_CLI, "verifier", "sync", *trust], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    verifier = _start([sys.executable, "-c", _PYTHON_CLI, "verifier", "serve", "--host", HOST,
                       "--port", str(verifier_port), *trust], f"http://{HOST}:{verifier_port}/healthz",
                      servers)  # fmt: skip
    verifier_url = f"http://{HOST}:{verifier_port}"
    _check_answers(registry_url, verifier_url, numbers, texts)
    scripts = _wrk_scripts(work, numbers, texts)
    targets = {
        "bare ASGI app GET /": (f"http://{HOST}:{bare_port}/", None, [bare]),
        "verifier GET /api/v1/ping": (f"{verifier_url}/api/v1/ping", None, [verifier]),
        "verifier POST /api/v1/verify (online)": (verifier_url, scripts["verify"], [verifier, registry]),
        "verifier POST /api/v1/verify (offline)": (verifier_url, scripts["verify_offline"], [verifier]),
        "registry GET /healthz": (f"{registry_url}/healthz", None, [registry]),
        "registry GET /api/v1/certificates/{n}/record": (registry_url, scripts["record"], [registry]),
    }
    for url, script, _ in targets.values():  # warm every path up once
        _wrk(url, script, [], 1, args.connections)
    measured: dict[str, list[Round]] = {name: [] for name in targets}
    for _ in range(args.rounds):
        for name, (url, script, processes) in targets.items():
            measured[name].append(_wrk(url, script, processes, args.seconds, args.connections))
    _report(measured, args)
    return 0


# ---- the registry, with N distinct published credentials


def _published_registry(data_dir: Path, count: int) -> tuple[list[tuple[str, str]], list[str], Any]:
    """Initialise a registry, file one institution with a key, and publish ``count`` certificates
    through the same functions its HTTP endpoints call. Returns (number, sha256) pairs, QR texts
    and the registry's public key."""
    made = init_registry(data_dir, None, PASSPHRASE)
    reg = Registry(made.settings)
    key = Signer.generate()
    now = reg.now()
    try:
        reg.db.write(lambda conn: _file_institution(conn, key, now))
        body = {"batch_id": "bench", "institution_code": CODE, "rows": [_row(i) for i in range(count)]}
        reg.db.write(lambda conn: batches.submit_batch(conn, body, ADMIN, reg.digests, now, count))

        def approve(conn: Any) -> None:
            batch = batches.find_batch(conn, "bench", ADMIN, CODE)
            approval.review_batch(conn, batch, {"approve_all_valid": True}, ADMIN, reg.settings, now)

        reg.db.write(approve)
        texts = reg.db.write(lambda conn: _sign_and_publish(conn, key, now))
        with reg.db.read() as conn:
            published = [(r.certificate_number, r.credential_sha256) for r in conn.execute(
                rows.select().where(rows.c.state == "published").order_by(rows.c.row_no))]  # fmt: skip
    finally:
        reg.db.dispose()
    return published, texts, made.settings.signer.public_key


def _file_institution(conn: Any, key: Signer, now: Now) -> None:
    institutions.create_institution(conn, institution_record(CODE), now, "bench")
    institutions.register_key(conn, CODE, to_jwk(key.public_key), date(2024, 1, 1), None, now, "bench",
                              by_admin=True)  # fmt: skip


def _row(serial: int) -> dict[str, Any]:
    first17 = f"110105{19500101 + serial // 1000 % 28:08d}{serial % 1000:03d}"
    return {
        "holder_name": f"张{'三四五六七八九'[serial % 7]}{'丰明华'[serial // 7 % 3]}",
        "id_type": "居民身份证",
        "id_number": first17 + resident_id_check_char(first17),
        "occupation_code": "6-31-01-03",
        "occupation_name": "电工",
        "work_type": "--",
        "level": 3 + serial % 3,
        "assessment_date": "2026-06-01",
    }


def _sign_and_publish(conn: Any, key: Signer, now: Now) -> list[str]:
    batch = batches.find_batch(conn, "bench", ADMIN, CODE)
    approved = list(conn.execute(rows.select().where(rows.c.batch_pk == batch.id).order_by(rows.c.row_no)))
    texts = [encode(expected_claims(row), key) for row in approved]
    uploads = [{"row": row.row_no, "qr": text} for row, text in zip(approved, texts, strict=True)]
    outcomes = publication.publish(conn, batch, uploads, ADMIN, now)
    refused = [o.to_json() for o in outcomes if o.to_json().get("state") != "published"]
    if refused:
        raise SystemExit(f"publication refused: {refused[:3]}")
    return texts


# ---- servers and wrk


def _start(argv: list[str], ready_url: str, servers: list[subprocess.Popen[bytes]],
           cwd: Path | None = None) -> subprocess.Popen[bytes]:  # fmt: skip
    env = os.environ | {"SKILLPASS_KEY_PASSPHRASE": PASSPHRASE}
    server = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    servers.append(server)
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"{argv[2:5]} exited with {server.returncode}")
        try:
            if httpx.get(ready_url, timeout=1.0).is_success:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{ready_url} did not start")


def _check_answers(
    registry_url: str, verifier_url: str, numbers: list[tuple[str, str]], texts: list[str]
) -> None:
    """The load is only meaningful if every request is answered as it should be."""
    number, digest = numbers[-1]
    record = httpx.get(f"{registry_url}/api/v1/certificates/{number}/record", params={"sha256": digest})
    if record.status_code != 200 or record.json()["status"] != "valid":
        raise SystemExit(f"the registry does not answer the record: {record.text}")
    verdict = httpx.post(f"{verifier_url}/api/v1/verify", json={"qr": texts[-1]}).json()
    if (verdict["result"], verdict["mode"]) != ("valid", "online"):
        raise SystemExit(f"the verifier does not verify online: {verdict}")


def _wrk_scripts(work: Path, numbers: list[tuple[str, str]], texts: list[str]) -> dict[str, Path]:
    """Lua scripts cycling through every distinct credential (a request each, in turn)."""
    paths = [f"/api/v1/certificates/{n}/record?sha256={d}" for n, d in numbers]
    bodies = {
        "verify": [json.dumps({"qr": t}) for t in texts],
        "verify_offline": [json.dumps({"qr": t, "online": False}) for t in texts],
    }
    scripts = {"record": work / "record.lua"}
    scripts["record"].write_text(_lua_cycle(paths, 'wrk.format("GET", item)'), encoding="utf-8")
    for name, items in bodies.items():
        scripts[name] = work / f"{name}.lua"
        call = 'wrk.format("POST", "/api/v1/verify", {["Content-Type"] = "application/json"}, item)'
        scripts[name].write_text(_lua_cycle(items, call), encoding="utf-8")
    return scripts


def _lua_cycle(items: list[str], call: str) -> str:
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


def _wrk(url: str, script: Path | None, processes: list[subprocess.Popen[bytes]], seconds: int,
         connections: int) -> Round:  # fmt: skip
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
    cpu_before = sum(_cpu_seconds(p.pid) for p in processes)
    run = subprocess.run(argv, check=False, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{run.stdout}{run.stderr}")
    output = run.stdout
    cpu = sum(_cpu_seconds(p.pid) for p in processes) - cpu_before
    if "Non-2xx" in output or "errors:" in output.replace(
        "Socket errors: connect 0, read 0, write 0, timeout 0", ""
    ):
        raise SystemExit(f"wrk saw failed requests against {url}:\n{output}")
    rate_match = _RATE.search(output)
    percentiles = {p: float(v) * _UNITS[u] for p, v, u in _PERCENTILE.findall(output)}
    if rate_match is None or len(percentiles) != 2:
        raise SystemExit(f"cannot read wrk's answer:\n{output}")
    rate = float(rate_match.group(1))
    return Round(rate, percentiles["50"], percentiles["99"], cpu / max(1.0, rate * seconds))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- the report


def _report(measured: dict[str, list[Round]], args: argparse.Namespace) -> None:
    print(f"{args.rounds} rounds × {args.seconds} s per endpoint, wrk 1 thread, {args.connections} connections, "
          f"{args.credentials} distinct credentials; os.cpu_count() = {os.cpu_count()}")  # fmt: skip
    best = {name: max(rounds, key=lambda r: r.rate) for name, rounds in measured.items()}
    for name, rounds in measured.items():
        top = best[name]
        per_cpu = statistics.median(1 / r.cpu_per_request for r in rounds if r.cpu_per_request > 0)
        print(f"{name:48s} {top.rate:8.0f} req/s  p50 {top.p50:6.2f} ms  p99 {top.p99:6.2f} ms  "
              f"{per_cpu:7.0f} req per CPU-second of the servers")  # fmt: skip
        result(f"HTTP {name}", f"{top.rate:,.0f} req/s ({per_cpu:,.0f} per CPU-second), p50 {top.p50:.2f} ms, "
               f"p99 {top.p99:.2f} ms", "reported")  # fmt: skip
    _ratio(
        measured, "verifier POST /api/v1/verify (online)", "registry GET /api/v1/certificates/{n}/record", 0.8
    )
    _ratio(measured, "registry GET /api/v1/certificates/{n}/record", "registry GET /healthz", 0.5)
    _ratio(measured, "verifier POST /api/v1/verify (online)", "verifier GET /api/v1/ping", 0.5)
    _ratio(measured, "verifier POST /api/v1/verify (offline)", "verifier GET /api/v1/ping", 0.5)
    _ratio(measured, "verifier GET /api/v1/ping", "bare ASGI app GET /", 0.8)


def _ratio(measured: dict[str, list[Round]], top: str, bottom: str, target: float) -> None:
    best = max(r.rate for r in measured[top]) / max(r.rate for r in measured[bottom])
    rounds = [a.rate / b.rate for a, b in zip(measured[top], measured[bottom], strict=True)]
    print(f"{top} / {bottom}: {best:.0%} (median of rounds {statistics.median(rounds):.0%})")
    result(f"{top} vs {bottom}", f"{best:.0%}", f"≥ {target:.0%}", best >= target)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--credentials", type=int, default=1000, help="distinct published credentials")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4, help="wrk duration per endpoint per round")
    parser.add_argument("--connections", type=int, default=32)
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
