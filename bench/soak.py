"""Soak: the verifier and the registry under mixed load, with issue 11's attack uploads, for 60 s.

The shipped commands run as separate processes on loopback: `skillpass demo --no-serve` seeds a
registry with real certificates (PNG, PDF, QR text), then `skillpass registry serve` and
`skillpass verifier serve --registry …` serve it; the verifier verifies online, so every JSON
verification also asks the registry. For `--seconds`, client threads send at once:

- genuine (from 127.0.0.2, uploads of PDFs from 127.0.0.4): JSON verification of valid and of revoked certificates, uploads of a
  certificate's PNG and PDF, the registry's trust list, status list and public query;
- hostile (127.0.0.3): malformed and oversized JSON, a tampered credential, NUL characters, bytes
  that are no picture, NUL in registry paths;
- the attack uploads (127.0.0.1, one address as in the review): 8 clients sending a 7 KB PDF of
  nested form drawings, 8 clients sending a 40-megapixel 16-bit PNG, and every 5 s a burst of 45
  parallel uploads. Each attack client pauses 50 ms after each answer: without it the test would be a
  plain request flood, which is the reverse proxy's job, not the decoder's.

It reports, per kind, requests, errors (for genuine requests: anything but the expected answer; for
hostile and attack requests: any 5xx or dropped connection), p50/p99/max latency, and the peak
resident memory of each service with its child processes (decode workers, poppler), sampled every
100 ms. Targets (issue 11): 0 genuine errors, a genuine upload within 2 s, the verifier under 500 MB.

    .venv/bin/python bench/soak.py [--seconds 60] [--data-dir DIR (reused when already seeded)]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _measure import result
from verifier_fixtures import nested_forms_pdf

HOST = "127.0.0.1"
GENUINE, SECOND_USER, HOSTILE, ATTACKER = "127.0.0.2", "127.0.0.4", "127.0.0.3", "127.0.0.1"
SKILLPASS = str(Path(sys.executable).with_name("skillpass"))
PASSPHRASE = "skillpass-demo-only"  # noqa: S105 - the demo's own, see skillpass/demo/run.py


@dataclass
class Tally:
    """One kind of request: latencies in ms, errors and the statuses seen."""

    genuine: bool
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: str, milliseconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.append(milliseconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.errors += 0 if ok else 1


@dataclass(frozen=True)
class Kind:
    """A request kind: who sends it, how to send it, what counts as right, how often."""

    name: str
    genuine: bool
    address: str
    send: Callable[[httpx.Client], httpx.Response]
    right: Callable[[httpx.Response], bool]
    threads: int
    pause: float


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--baseline-seconds", type=float, default=20.0, help="first, the same load without the attack"
    )
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        data = args.data_dir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="skillpass-soak-"))
        )
        registry_port, verifier_port = _free_port(), _free_port()
        _seed(data, registry_port)
        registry = stack.enter_context(_registry(data, registry_port))
        verifier = stack.enter_context(_verifier(data, registry_port, verifier_port))
        kinds = _kinds(data, f"http://{HOST}:{registry_port}", f"http://{HOST}:{verifier_port}")
        services = {"verifier": verifier, "registry": registry}
        calm = [kind for kind in kinds if not kind.name.startswith("attack")]
        baseline = (
            _phase(calm, services, args.baseline_seconds, "without the attack")
            if args.baseline_seconds
            else None
        )
        return _report(_phase(kinds, services, args.seconds, "with the attack"), baseline, args.seconds)
    return 1


# ---- the services ------------------------------------------------------------------------------


def _seed(data: Path, registry_port: int) -> None:
    if (data / "seeded.json").exists():
        return
    started = time.monotonic()
    argv = [SKILLPASS, "demo", "--no-serve", "--data-dir", str(data), "--registry-port", str(registry_port)]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    print(f"seeded the demo registry in {time.monotonic() - started:.0f} s", flush=True)


@contextlib.contextmanager
def _registry(data: Path, port: int) -> Iterator[int]:
    url = f"http://{HOST}:{port}"
    argv = [SKILLPASS, "registry", "serve", "--data-dir", str(data / "registry"), "--host", HOST,
            "--port", str(port), "--public-url", url]  # fmt: skip
    with _process(argv, f"{url}/healthz", {"SKILLPASS_KEY_PASSPHRASE": PASSPHRASE}) as pid:
        yield pid


@contextlib.contextmanager
def _verifier(data: Path, registry_port: int, port: int) -> Iterator[int]:
    argv = [SKILLPASS, "verifier", "serve", "--host", HOST, "--port", str(port),
            "--registry", f"http://{HOST}:{registry_port}", "--registry-key", str(data / "registry-public.jwk"),
            "--cache-dir", str(data / "verifier-cache")]  # fmt: skip
    with _process(argv, f"http://{HOST}:{port}/healthz", {}) as pid:
        yield pid


@contextlib.contextmanager
def _process(argv: list[str], health: str, env: dict[str, str]) -> Iterator[int]:
    process = subprocess.Popen(argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(health, timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{argv[1]} {argv[2]} did not start")
            time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# ---- what is sent ------------------------------------------------------------------------------


def _kinds(data: Path, registry: str, verifier: str) -> list[Kind]:
    seeded = json.loads((data / "seeded.json").read_text(encoding="utf-8"))
    samples = data / "samples"
    valid, revoked = seeded["valid"][0], seeded["revoked"][0]
    valid_qr = (samples / f"{valid}.txt").read_text(encoding="utf-8").strip()
    revoked_qr = (samples / f"{revoked}.txt").read_text(encoding="utf-8").strip()
    png, pdf = (samples / f"{valid}.png").read_bytes(), (samples / f"{valid}.pdf").read_bytes()
    tampered = valid_qr[:-8] + ("A" if valid_qr[-8] != "A" else "B") + valid_qr[-7:]
    nested, deep = nested_forms_pdf(), deep_png()
    print(
        f"attack files: nested-forms PDF {len(nested)} bytes, 40 MP 16-bit PNG {len(deep)} bytes", flush=True
    )

    def post_json(body: object) -> Callable[[httpx.Client], httpx.Response]:
        return lambda c: c.post(f"{verifier}/api/v1/verify", json=body)

    def upload(name: str, content: bytes) -> Callable[[httpx.Client], httpx.Response]:
        return lambda c: c.post(f"{verifier}/api/v1/verify/image", files={"file": (name, content)})

    def raw(body: bytes) -> Callable[[httpx.Client], httpx.Response]:
        headers = {"content-type": "application/json"}
        return lambda c: c.post(f"{verifier}/api/v1/verify", content=body, headers=headers)

    def verdict(valid_expected: bool) -> Callable[[httpx.Response], bool]:
        return lambda r: r.status_code == 200 and r.json().get("valid") is valid_expected

    def ok(r: httpx.Response) -> bool:
        return r.status_code == 200

    def no_5xx(r: httpx.Response) -> bool:
        return r.status_code < 500

    name = seeded["holders"][valid]
    hostile_bodies = [b"{", b'{"qr": ' + b'"x' * 20_000 + b'"}', json.dumps({"qr": "SP2:\u0000"}).encode(),
                      json.dumps({"qr": tampered}).encode(), json.dumps({"qr": 5}).encode()]  # fmt: skip
    rotation = iter(range(1 << 62))

    def hostile_verifier(c: httpx.Client) -> httpx.Response:
        i = next(rotation)
        if i % 6 == 5:
            return c.post(
                f"{verifier}/api/v1/verify/image",
                files={"file": ("x.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 99)},
            )
        return c.post(f"{verifier}/api/v1/verify", content=hostile_bodies[i % 5],
                      headers={"content-type": "application/json"})  # fmt: skip

    registry_paths = ["/api/v1/institutions/a%00b", "/api/v1/certificates/%00/record?sha256=00",
                      "/certificates?number=%00&name=x", "/api/v1/status-lists/99999999999999999999"]  # fmt: skip

    return [
        Kind(
            "verify valid (JSON, online)", True, GENUINE, post_json({"qr": valid_qr}), verdict(True), 2, 0.01
        ),
        Kind(
            "verify revoked (JSON, online)",
            True,
            GENUINE,
            post_json({"qr": revoked_qr}),
            verdict(False),
            1,
            0.1,
        ),
        Kind("upload PNG (genuine)", True, GENUINE, upload("c.png", png), verdict(True), 1, 0.2),
        Kind("upload PDF (genuine)", True, SECOND_USER, upload("c.pdf", pdf), verdict(True), 1, 0.2),
        Kind(
            "registry trust list + status list",
            True,
            GENUINE,
            lambda c: (
                c.get(f"{registry}/api/v1/trust-list")
                if next(rotation) % 2
                else c.get(f"{registry}/api/v1/status-lists/0")
            ),
            ok,
            1,
            0.2,
        ),
        Kind(
            "registry public query",
            True,
            GENUINE,
            lambda c: c.get(f"{registry}/certificates", params={"number": valid, "name": name}),
            ok,
            1,
            1.0,
        ),
        Kind("hostile to the verifier", False, HOSTILE, hostile_verifier, no_5xx, 1, 0.05),
        Kind(
            "hostile to the registry",
            False,
            HOSTILE,
            lambda c: c.get(registry + registry_paths[next(rotation) % 4]),
            no_5xx,
            1,
            0.1,
        ),
        Kind(
            "attack: nested-forms PDF x8", False, ATTACKER, upload("a.pdf", nested), no_5xx_or_busy, 8, 0.05
        ),
        Kind("attack: 40 MP 16-bit PNG x8", False, ATTACKER, upload("a.png", deep), no_5xx_or_busy, 8, 0.05),
        Kind(
            "attack: bursts of 45 parallel uploads",
            False,
            ATTACKER,
            upload("b.png", png),
            no_5xx_or_busy,
            45,
            5.0,
        ),
    ]


def no_5xx_or_busy(r: httpx.Response) -> bool:
    """An attack upload may be refused any way but a crash: 4xx, or 503 `decode_busy`."""
    return r.status_code < 500 or (r.status_code == 503 and r.json().get("code") == "decode_busy")


def deep_png(width: int = 7000, height: int = 5700) -> bytes:
    """A real 40-megapixel 16-bit RGB PNG (about 240 KB): 240 MB of pixels once decoded."""
    row = bytes(1 + width * 6)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# ---- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    tallies: dict[str, Tally]
    peaks: dict[str, int]

    def genuine_upload_p99(self) -> float:
        return _p99(
            [ms for name, t in self.tallies.items() if t.genuine and "upload" in name for ms in t.latencies]
        )


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


def _phase(kinds: list[Kind], services: dict[str, int], seconds: float, what: str) -> Phase:
    tallies = {kind.name: Tally(kind.genuine) for kind in kinds}
    peaks = dict.fromkeys(services, 0)
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(services, peaks, stop), daemon=True)
    sampler.start()
    threads = [threading.Thread(target=_drive, args=(kind, tallies[kind.name], stop), daemon=True)
               for kind in kinds if kind.threads < 45 for _ in range(kind.threads)]  # fmt: skip
    threads += [threading.Thread(target=_bursts, args=(kind, tallies[kind.name], stop), daemon=True)
                for kind in kinds if kind.threads >= 45]  # fmt: skip
    print(f"\nsoaking {what} for {seconds:.0f} s with {len(threads)} client threads …", flush=True)
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    sampler.join()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine load average after the phase (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")
    _table(tallies, peaks)
    return Phase(tallies, peaks)


def _client(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60.0)


def _reported(
    target: Callable[[Kind, Tally, threading.Event], None],
) -> Callable[[Kind, Tally, threading.Event], None]:
    """A client thread that says why it died instead of going quiet."""

    def run(kind: Kind, tally: Tally, stop: threading.Event) -> None:
        try:
            target(kind, tally, stop)
        except Exception as e:
            print(f"client thread for {kind.name!r} failed: {e!r}", file=sys.stderr, flush=True)
            raise

    return run


@_reported
def _drive(kind: Kind, tally: Tally, stop: threading.Event) -> None:
    with _client(kind.address) as client:
        while not stop.is_set():
            _one(kind, tally, client)
            stop.wait(kind.pause)


@_reported
def _bursts(kind: Kind, tally: Tally, stop: threading.Event) -> None:
    """Every `pause` seconds, `threads` uploads at once over as many connections of one client."""
    limits = httpx.Limits(max_connections=kind.threads, max_keepalive_connections=kind.threads)
    transport = httpx.HTTPTransport(local_address=kind.address, limits=limits)
    with httpx.Client(transport=transport, timeout=60.0) as client, ThreadPoolExecutor(kind.threads) as pool:
        while not stop.is_set():
            list(pool.map(lambda _: _one(kind, tally, client), range(kind.threads)))
            stop.wait(kind.pause)


def _one(kind: Kind, tally: Tally, client: httpx.Client) -> None:
    started = time.perf_counter()
    try:
        response = kind.send(client)
        status, right = str(response.status_code), kind.right(response)
        if status[0] in "45" and response.headers.get("content-type", "").startswith("application/json"):
            status += " " + str(response.json().get("code", ""))
    except (httpx.HTTPError, ValueError) as e:
        status, right = type(e).__name__, False
    tally.add(status, (time.perf_counter() - started) * 1000, right)


def _sample(services: dict[str, int], peaks: dict[str, int], stop: threading.Event) -> None:
    """Peak resident memory of each service's process tree, every 100 ms."""
    while not stop.is_set():
        children = _children()
        for name, pid in services.items():
            peaks[name] = max(peaks[name], sum(_rss(p) for p in _tree(pid, children)))
        stop.wait(0.1)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _tree(pid: int, children: dict[int, list[int]]) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _table(tallies: dict[str, Tally], peaks: dict[str, int]) -> None:
    print(f"{'kind':40} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  statuses")
    for name, tally in tallies.items():
        lat = sorted(tally.latencies) or [0.0]
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items()))
        print(f"{name:40} {len(tally.latencies):8} {tally.errors:6} {statistics.median(lat):8.0f} "
              f"{_p99(lat):8.0f} {lat[-1]:8.0f}  {statuses}")  # fmt: skip
    for service, peak in peaks.items():
        print(f"peak resident memory, {service} with its child processes: {peak / 2**20:.0f} MiB")


def _report(phase: Phase, baseline: Phase | None, seconds: float) -> int:
    tallies, peaks = phase.tallies, phase.peaks
    genuine_errors = sum(t.errors for t in tallies.values() if t.genuine)
    other_errors = sum(t.errors for t in tallies.values() if not t.genuine)
    genuine = [ms for t in tallies.values() if t.genuine for ms in t.latencies]
    upload_p99 = phase.genuine_upload_p99()
    calm = (
        ""
        if baseline is None
        else f" (without the attack, same run: p99 {baseline.genuine_upload_p99():.0f} ms)"
    )
    result("soak: genuine requests with errors", f"{genuine_errors} of {len(genuine)} in {seconds:.0f} s", "0",
           genuine_errors == 0)  # fmt: skip
    result(
        "soak: hostile and attack requests answered 5xx or dropped", str(other_errors), "0", other_errors == 0
    )
    result("soak: genuine upload latency under attack", f"p99 {upload_p99:.0f} ms{calm}", "p99 < 2000 ms",
           upload_p99 < 2000)  # fmt: skip
    result("soak: genuine request latency (all kinds)", f"p99 {_p99(genuine):.0f} ms", "reported")
    verifier_mib = peaks["verifier"] / 2**20
    result("soak: verifier peak memory (service + decode workers + poppler)", f"{verifier_mib:.0f} MiB", "< 500 MiB",
           verifier_mib < 500)  # fmt: skip
    result("soak: registry peak memory", f"{peaks['registry'] / 2**20:.0f} MiB", "reported")
    return 0 if genuine_errors == 0 and other_errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
