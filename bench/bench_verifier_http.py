"""The HTTP stack under `wrk`: online verification against a real registry, each endpoint against
the floor beneath it, all in one run.

Four servers, each its own process, as deployed (uvicorn, one worker, httptools + uvloop):
  - a bare ASGI app answering a constant JSON (`bench/bare_asgi.py`): the floor of the stack;
  - the registry (`skillpass registry init` + `serve`, SQLite) holding N distinct published
    credentials, filed, reviewed, signed and published here over its public HTTP API (so the setup
    does not depend on the registry's internal functions, which change);
  - the verifier (`skillpass verifier serve --registry URL`), synced from that registry, so that
    `POST /api/v1/verify` verifies online by default, asking the registry for each record.
`wrk` (Debian's, a compiled load generator in its own process) drives each endpoint in turn at a
fixed number of connections, cycling through the N credentials so that no answer repeats within a
cycle. Rounds alternate the endpoints so that a noisy shared machine slows all alike; each side of
a ratio is its best round (bench/_measure.py explains why), the median round ratio is printed too.

Targets (issue 15): online verify ≥ 80 % of the registry's /record; /record ≥ 50 % of the registry's
trivial endpoint; verify ≥ 50 % of the verifier's ping; ping ≥ 80 % of the bare app. Requests per
CPU-second count the CPU time of the serving processes (for online verify: verifier + registry).

    .venv/bin/python bench/bench_verifier_http.py [--credentials N] [--rounds R] [--seconds S] [--connections C] [--warmup W]

A tiny run (a smoke test: 3 credentials, one 1-second round, no warm-up) takes seconds:

    .venv/bin/python bench/bench_verifier_http.py --credentials 3 --rounds 1 --seconds 1 --connections 2 --warmup 0
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import _wrk as wrk
from _measure import result
from _wrk import lua_cycle
from harness.ports import free_port
from harness.records import institution_record

from credential import CertificateClaims, encode
from issuer.client import RegistryClient, credential_sha256
from keys import Signer, to_jwk
from schemas import resident_id_check_char

HOST = "127.0.0.1"
CODE = "Y000011000001"
BATCH_ID = "bench"
_SETUP_TIMEOUT = 300.0  # a 1,000-row batch on a loaded machine at nice 19
_PUBLISH_CHUNK = 500  # credentials per publish request, as `skillpass issue` sends them


def main() -> int:
    args = _arguments()
    if shutil.which("wrk") is None:
        print("wrk is missing: scripts/setup installs it (Debian package wrk)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="skillpass-bench-http-") as tmp:
        servers: list[subprocess.Popen[bytes]] = []
        try:
            return _measure_all(_start_services(Path(tmp), servers, args.credentials), args)
        finally:
            wrk.stop(servers)


@dataclass
class Services:
    """The three servers under load, their addresses, and the credentials the registry publishes."""

    work: Path
    bare: subprocess.Popen[bytes]
    registry: subprocess.Popen[bytes]
    verifier: subprocess.Popen[bytes]
    bare_url: str
    registry_url: str
    verifier_url: str
    numbers: list[tuple[str, str]]  # (certificate number, credential SHA-256)
    texts: list[str]  # QR texts, in the same order


def _start_services(work: Path, servers: list[subprocess.Popen[bytes]], count: int) -> Services:
    """Initialise and start the registry, publish ``count`` credentials on it, then sync and start the
    verifier against it (and the bare app), each a process of its own, as deployed."""
    bare_port, registry_port, verifier_port = free_port(), free_port(), free_port()
    bare_url, registry_url = f"http://{HOST}:{bare_port}", f"http://{HOST}:{registry_port}"
    bare = wrk.spawn([sys.executable, "-m", "uvicorn", "bare_asgi:app", "--host", HOST, "--port", str(bare_port),
                      "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning"],
                     servers, cwd=Path(__file__).resolve().parent)  # fmt: skip
    admin_token = _init_registry(work / "registry")
    registry = wrk.spawn([*wrk.PYTHON_CLI, "registry", "serve", "--data-dir", str(work / "registry"),
                          "--host", HOST, "--port", str(registry_port)], servers)  # fmt: skip
    wrk.ready(bare, f"{bare_url}/")
    wrk.ready(registry, f"{registry_url}/healthz")
    started = time.perf_counter()
    numbers, texts = _publish_over_http(registry_url, admin_token, count)
    print(f"{len(texts)} distinct credentials filed, approved, signed and published over HTTP "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    # The verifier pins the key the registry serves: both are ours, started a moment ago.
    key = _answer(httpx.get(f"{registry_url}/api/v1/registry-key", timeout=_SETUP_TIMEOUT))
    (work / "registry.jwk").write_text(json.dumps(key), encoding="utf-8")
    trust = ["--registry", registry_url, "--registry-key", str(work / "registry.jwk"),
             "--cache-dir", str(work / "verifier-cache")]  # fmt: skip
    subprocess.run([*wrk.PYTHON_CLI, "verifier", "sync", *trust], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    verifier_url = f"http://{HOST}:{verifier_port}"
    verifier = wrk.spawn([*wrk.PYTHON_CLI, "verifier", "serve", "--host", HOST,
                          "--port", str(verifier_port), *trust], servers)  # fmt: skip
    wrk.ready(verifier, f"{verifier_url}/healthz")
    return Services(work, bare, registry, verifier, bare_url, registry_url, verifier_url, numbers, texts)


def _measure_all(s: Services, args: argparse.Namespace) -> int:
    """Warm every endpoint up, then measure each in turn, ``args.rounds`` times; print the report."""
    _check_answers(s.registry_url, s.verifier_url, s.numbers, s.texts)
    scripts = _wrk_scripts(s.work, s.numbers, s.texts)
    targets = {
        "bare ASGI app GET /": (f"{s.bare_url}/", None, [s.bare]),
        "verifier GET /api/v1/ping": (f"{s.verifier_url}/api/v1/ping", None, [s.verifier]),
        "verifier POST /api/v1/verify (online)": (
            s.verifier_url,
            scripts["verify"],
            [s.verifier, s.registry],
        ),
        "verifier POST /api/v1/verify (offline)": (s.verifier_url, scripts["verify_offline"], [s.verifier]),
        "registry GET /healthz": (f"{s.registry_url}/healthz", None, [s.registry]),
        "registry GET /api/v1/certificates/{n}/record": (s.registry_url, scripts["record"], [s.registry]),
    }
    if args.warmup > 0:
        for url, script, _ in targets.values():  # warm every path up once
            wrk.run(url, script, [], args.warmup, args.connections)
    measured: dict[str, list[wrk.Round]] = {name: [] for name in targets}
    for _ in range(args.rounds):
        for name, (url, script, processes) in targets.items():
            measured[name].append(wrk.run(url, script, processes, args.seconds, args.connections))
    _report(measured, args)
    return 0


# ---- the registry, with N distinct published credentials


def _init_registry(data_dir: Path) -> str:
    """`skillpass registry init` into ``data_dir``; the first admin token it wrote there."""
    subprocess.run([*wrk.PYTHON_CLI, "registry", "init", "--data-dir", str(data_dir)],
                   check=True, env=wrk.ENV, stdout=subprocess.DEVNULL)  # fmt: skip
    return (data_dir / "admin.token").read_text(encoding="utf-8").strip()


def _publish_over_http(
    registry_url: str, admin_token: str, count: int
) -> tuple[list[tuple[str, str]], list[str]]:
    """Publish ``count`` distinct certificates through the registry's public HTTP API, as its users
    would: the administrator files an institution and its key, the institution submits a roster
    (issuer.client), a reviewer approves it, the institution signs what was approved and publishes
    it. Only the API's documented shapes are relied on, so a change to the registry's internals
    cannot break this setup. Returns (number, credential SHA-256) pairs and the QR texts."""
    key = Signer.generate()
    institution_token, reviewer_token = _file_institution(registry_url, admin_token, key)
    roster = [_row(i) for i in range(count)]
    with RegistryClient(registry_url, institution_token, timeout=_SETUP_TIMEOUT) as institution:
        institution.submit_batch(BATCH_ID, CODE, roster)
        approved = _approve_all(registry_url, reviewer_token)
        # A report row is numbered from 1 in roster order; its ID number is masked, the roster's is not.
        texts = [_sign(row, roster[row["row"] - 1]["id_number"], key) for row in approved]
        signed = [(row["row"], text) for row, text in zip(approved, texts, strict=True)]
        for start in range(0, len(signed), _PUBLISH_CHUNK):
            outcomes = institution.publish(BATCH_ID, signed[start : start + _PUBLISH_CHUNK])
            refused = [o for o in outcomes if o.get("state") != "published"]
            if refused:
                raise SystemExit(f"publication refused: {refused[:3]}")
    numbers = [row["certificate"]["certificate_number"] for row in approved]
    return [(n, credential_sha256(t)) for n, t in zip(numbers, texts, strict=True)], texts


def _file_institution(registry_url: str, admin_token: str, key: Signer) -> tuple[str, str]:
    """File the institution with its key (valid from 2024: only the administrator may backdate one);
    the institution's token and a reviewer's."""
    with httpx.Client(base_url=registry_url, headers=_bearer(admin_token), timeout=_SETUP_TIMEOUT) as admin:
        _answer(admin.post("/api/v1/institutions", json=institution_record(CODE)))
        institution = _answer(
            admin.post("/api/v1/tokens", json={"role": "institution", "institution_code": CODE})
        )
        reviewer = _answer(admin.post("/api/v1/tokens", json={"role": "reviewer"}))
        key_entry = {"jwk": to_jwk(key.public_key), "valid_from": "2024-01-01"}
        _answer(admin.post(f"/api/v1/institutions/{CODE}/keys", json=key_entry))
    return str(institution["token"]), str(reviewer["token"])


def _approve_all(registry_url: str, reviewer_token: str) -> list[dict[str, Any]]:
    """A reviewer approves every valid row; the batch report's rows, each with its certificate."""
    report = _answer(httpx.post(f"{registry_url}/api/v1/batches/{BATCH_ID}/review", params={"institution_code": CODE},
                                json={"approve_all_valid": True}, headers=_bearer(reviewer_token),
                                timeout=_SETUP_TIMEOUT))  # fmt: skip
    rows: list[dict[str, Any]] = report["rows"]
    not_approved = [row for row in rows if row["state"] != "approved"]
    if not_approved:
        raise SystemExit(f"review did not approve: {not_approved[:3]}")
    return rows


def _sign(report_row: dict[str, Any], id_number: str, key: Signer) -> str:
    """The credential of an approved row, as its institution signs it: the registry's certificate
    (number, issue date, status position) with the holder's full ID number, which only the
    institution holds (the report masks it)."""
    return encode(
        CertificateClaims.from_certificate({**report_row["certificate"], "id_number": id_number}), key
    )


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON answer; a refusal ends the run, since a half-built registry measures nothing."""
    if response.status_code >= 300:
        raise SystemExit(
            f"the registry refused {response.request.url}: {response.status_code} {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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


# ---- servers and wrk


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
    scripts["record"].write_text(lua_cycle(paths, 'wrk.format("GET", item)'), encoding="utf-8")
    for name, items in bodies.items():
        scripts[name] = work / f"{name}.lua"
        call = 'wrk.format("POST", "/api/v1/verify", {["Content-Type"] = "application/json"}, item)'
        scripts[name].write_text(lua_cycle(items, call), encoding="utf-8")
    return scripts


# ---- the report


def _report(measured: dict[str, list[wrk.Round]], args: argparse.Namespace) -> None:
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


def _ratio(measured: dict[str, list[wrk.Round]], top: str, bottom: str, target: float) -> None:
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
    parser.add_argument(
        "--warmup", type=int, default=1, help="wrk seconds per endpoint before measuring (0: none)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
