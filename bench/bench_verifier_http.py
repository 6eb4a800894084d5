"""Verifier over HTTP: `POST /api/v1/verify` throughput against `GET /api/v1/ping` of the same service.

DESIGN's target: verification throughput ≥ 50 % of a trivial endpoint's, measured in the same run,
with p50/p99 latency reported. Trust data is built here (a registry key, one institution, a 2^20
status list), synced into a cache directory from a stand-in registry on loopback, and the shipped
command `skillpass verifier serve` (uvicorn, one worker) serves it offline in a separate process.
This process drives it with a bounded number of requests from a few threads, each with its own
keep-alive connection (a bare socket client, so that the client is not the bottleneck). Rounds of ping and verify alternate so that a noisy shared machine slows
both sides alike; the ratio is the median of the rounds. Loopback only.

    .venv/bin/python bench/bench_verifier_http.py [--requests N] [--rounds R] [--threads T]
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import BinaryIO

import httpx

from credential import encode
from credential.directory import ACTIVE, Directory, Institution, KeyEntry, Scope, StatusChange
from credential.signed_document import TYP_DIRECTORY, sign_document
from credential.status_list import StatusList
from credential.status_token import sign_status_list_token
from keys import Signer
from verifier.verifier import Verifier, VerifierConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _measure import result
from credential_fixtures import typical_claims

HOST = "127.0.0.1"
_STARTUP_SECONDS = 30.0


def main() -> int:
    args = _arguments()
    with tempfile.TemporaryDirectory(prefix="skillpass-bench-") as tmp:
        qr_text = _build_trust(Path(tmp))
        port = _free_port()
        server = _start_server(Path(tmp), port)
        try:
            return _run(f"http://{HOST}:{port}", qr_text, args)
        finally:
            server.terminate()
            server.wait(timeout=10)


def _build_trust(cache_dir: Path) -> str:
    """Fill `cache_dir` with signed trust data the way `skillpass verifier sync` does; one QR text."""
    now = int(time.time())
    registry, institution_key = Signer.generate(), Signer.generate()
    institution = Institution(
        code="Y000011000001",
        name="中国国家铁路集团有限公司",
        uscc="91110000717825966F",
        category="Y",
        statuses=(StatusChange(ACTIVE, date(2020, 1, 1), now - 10**7),),
        scopes=(Scope("6-31-01-03", "电工", (3, 4, 5), date(2020, 1, 1)),),
        keys=(KeyEntry(institution_key.kid, bytes(institution_key.public_key.raw), date(2020, 1, 1)),),
    )
    directory = Directory(sequence=1, issued_at=now - 60, expires_at=now + 86400, institutions=(institution,))
    base = "http://{host}:{port}/api/v1"
    token = sign_status_list_token(StatusList(1 << 20, 2), registry, uri=f"{base}/status-lists/0",
                                   issued_at=now - 60, expires_at=now + 86400, ttl=3600)  # fmt: skip
    documents = {
        "/api/v1/trust-list": sign_document(directory.to_payload(), registry, TYP_DIRECTORY),
        "/api/v1/status-lists": json.dumps(
            {"status_lists": [{"id": 0, "uri": "/api/v1/status-lists/0"}]}
        ).encode(),
        "/api/v1/status-lists/0": token,
    }
    with _stand_in_registry(documents) as url:
        config = VerifierConfig(cache_dir=cache_dir, registry_url=url, registry_key=registry.public_key)
        Verifier(config).store.sync(now)
    today = date.today()
    claims = typical_claims(
        certificate_number=f"Y000011000001{today.year % 100:02d}3000001", issue_date=today
    )
    return encode(claims, institution_key)


@contextlib.contextmanager
def _stand_in_registry(documents: dict[str, bytes]) -> Iterator[str]:
    """The registry's public trust endpoints, served from memory on loopback for the sync only."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("content-length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _run(base: str, qr_text: str, args: argparse.Namespace) -> int:
    body = json.dumps({"qr": qr_text}).encode()
    answer = httpx.post(f"{base}/api/v1/verify", content=body, headers={"content-type": "application/json"})
    if answer.json().get("result") != "valid":
        print(f"the benchmark credential does not verify: {answer.text}", file=sys.stderr)
        return 1
    port = int(base.rsplit(":", 1)[1])
    ping = _request_bytes("GET", "/api/v1/ping", b"")
    verify = _request_bytes("POST", "/api/v1/verify", body)
    _load(port, ping, args.requests // 4, args.threads)  # warm up both paths
    _load(port, verify, args.requests // 4, args.threads)
    ratios: list[float] = []
    ping_rates: list[float] = []
    verify_rates: list[float] = []
    ping_latencies: list[float] = []
    verify_latencies: list[float] = []
    for _ in range(args.rounds):
        p_rate, p_lat = _load(port, ping, args.requests, args.threads)
        v_rate, v_lat = _load(port, verify, args.requests, args.threads)
        ping_rates.append(p_rate)
        verify_rates.append(v_rate)
        ratios.append(v_rate / p_rate)
        ping_latencies += p_lat
        verify_latencies += v_lat
    _report(ratios, ping_rates, verify_rates, ping_latencies, verify_latencies, args)
    return 0


def _request_bytes(method: str, path: str, body: bytes) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {len(body)}\r\n"
    if body:
        head += "Content-Type: application/json\r\n"
    return head.encode() + b"\r\n" + body


def _load(port: int, request: bytes, count: int, threads: int) -> tuple[float, list[float]]:
    """`count` requests split over `threads` keep-alive connections: requests/s and latencies (ms).

    The client is a bare socket writing a prepared request and reading the answer by its
    Content-Length: on a 2-core machine a full HTTP client library in Python would saturate its
    own core before the server, and the ratio would measure the client.
    """
    share = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]

    def worker(n: int) -> list[float]:
        latencies = []
        with socket.create_connection((HOST, port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            reader = sock.makefile("rb")
            for _ in range(n):
                started = time.perf_counter()
                sock.sendall(request)
                _read_response(reader)
                latencies.append((time.perf_counter() - started) * 1000)
        return latencies

    with ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        per_thread = list(pool.map(worker, share))
        elapsed = time.perf_counter() - started
    return count / elapsed, [latency for part in per_thread for latency in part]


def _read_response(reader: BinaryIO) -> None:
    status = reader.readline()
    if not status.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"unexpected answer: {status!r}")
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    reader.read(length)


def _report(
    ratios: list[float],
    ping_rates: list[float],
    verify_rates: list[float],
    ping_latencies: list[float],
    verify_latencies: list[float],
    args: argparse.Namespace,
) -> None:
    ratio = statistics.median(ratios)
    print(f"{args.rounds} rounds × {args.requests} requests per endpoint, {args.threads} client threads")
    print(f"GET  /api/v1/ping:   {statistics.median(ping_rates):8.0f} req/s  {_percentiles(ping_latencies)}")
    print(
        f"POST /api/v1/verify: {statistics.median(verify_rates):8.0f} req/s  {_percentiles(verify_latencies)}"
    )
    print(f"verify / ping throughput: {ratio:.1%} (rounds: {', '.join(f'{r:.0%}' for r in ratios)})")
    result("verifier HTTP: POST /api/v1/verify throughput vs GET /api/v1/ping", f"{ratio:.0%}", "≥ 50 %",
           ratio >= 0.5)  # fmt: skip
    result("verifier HTTP: POST /api/v1/verify latency", _percentiles(verify_latencies), "reported", None)


def _percentiles(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"


def _start_server(cache_dir: Path, port: int) -> subprocess.Popen[bytes]:
    command = "from skillpass.cli import main; raise SystemExit(main())"
    argv = [sys.executable, "-c", command, "verifier", "serve", "--host", HOST, "--port", str(port),
            "--cache-dir", str(cache_dir)]  # fmt: skip
    server = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the verifier service exited with {server.returncode}")
        try:
            if httpx.get(f"http://{HOST}:{port}/healthz", timeout=1.0).is_success:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("the verifier service did not start")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4)
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
