"""Issuance end to end: a roster of 10,000 rows (``--rows N``), each with its holder's photo (JPEG, 1-inch at
~360 dpi, from a folder), through the real ``skillpass issue`` pipeline against a registry on loopback (SQLite
in a temporary directory, served by its own process).

Reports the time of each stage — validate, submit + review, signing with PDFs and QR files (with the
combined batch PDF: each page of rows is signed while the pages before it are drawn, and rendered rows are
published as they come), the rest of publication, manifest —
certificates per second end to end (issue 15: >= 300/s for 10,000 rows on 2 cores), and the issuance rate (validate + sign + encode, no images; numbering is the registry's)
against raw PyNaCl signing measured in the same run (target >= 25 %). Beside the wall clock, each stage's CPU
time per certificate (issuing processes and registry; sampled from /proc), which a loaded, shared machine
does not inflate the way it inflates the wall clock: it bounds the rate the run would reach on idle cores.

Memory must stay flat as the roster grows, so the same run is made again with a smaller roster
(``--compare-rows``, 2,000 by default) and the peaks of the two are compared. Each size runs in a fresh
process, so that neither inherits the other's high-water mark; its peak resident memory is that of the
issuing process (``getrusage``) and of each process it starts but the registry (the forkserver and its
rendering workers: their ``VmHWM``, sampled from /proc every 100 ms), with the largest sum of all of them
resident at once.

Run: .venv/bin/python bench/bench_issue.py [--rows N] [--compare-rows N | 0] [--workers N]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import itertools
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _measure import ratio, result
from harness.records import institution_record
from soak import _children, _tree

from common import qrimage
from common.calendar import registry_day
from credential import decode
from issuer.client import RegistryClient
from issuer.journal import PUBLISHED
from issuer.run import Console, IssueRequest, _Run, new_batch_id
from keys import Signer, to_jwk, write_private_key
from schemas import resident_id_check_char

PASSPHRASE = "bench passphrase"  # noqa: S105 (a throwaway key in a temp dir)
CODE = "Y000011000001"
NAMES = (
    "王建国",
    "李秀英",
    "张志强",
    "刘丽娟",
    "陈海涛",
    "杨晓明",
    "黄春燕",
    "赵伟",
    "吴静",
    "周磊",
    "欧阳明月",
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the roster (default 10,000)")
    parser.add_argument(
        "--compare-rows",
        type=int,
        default=2_000,
        help="rows of the smaller roster whose peak memory is compared (default 2,000; 0: no comparison)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="rendering processes (default: one per core)"
    )
    parser.add_argument("--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--one", type=Path, metavar="PEAKS_JSON", help=argparse.SUPPRESS)
    parser.add_argument("--brief", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(Path(args.serve[0]), int(args.serve[1]))
    elif args.one:
        with tempfile.TemporaryDirectory(prefix="bench-issue-") as tmp:
            peaks = _bench(Path(tmp), args.rows, args.workers, brief=args.brief)
        args.one.write_text(json.dumps(dataclasses.asdict(peaks)), encoding="utf-8")
    else:
        large = _one_size(args.rows, args.workers, brief=False)
        if args.compare_rows:
            small = _one_size(args.compare_rows, args.workers, brief=True)
            _report_flatness(args.compare_rows, small, args.rows, large)


@dataclasses.dataclass(frozen=True)
class Peaks:
    """Peak resident memory (MiB) of one issuance: the issuing process, the largest process it started
    (a rendering worker, or the forkserver), and the largest sum of them all resident at once."""

    issuing: float
    largest_child: float
    together: float

    def figure(self) -> str:
        return f"{self.issuing:,.0f} / {self.largest_child:,.0f} / {self.together:,.0f} MiB"


def _one_size(rows: int, workers: int | None, *, brief: bool) -> Peaks:
    """One roster size in a fresh process (its own high-water marks); its output goes straight to ours."""
    with tempfile.TemporaryDirectory(prefix="bench-issue-peaks-") as tmp:
        out = Path(tmp) / "peaks.json"
        argv = [sys.executable, __file__, "--rows", str(rows), "--one", str(out)]
        argv += (["--workers", str(workers)] if workers else []) + (["--brief"] if brief else [])
        print(f"== {rows:,} rows", flush=True)
        subprocess.run(argv, check=True)
        return Peaks(**json.loads(out.read_text(encoding="utf-8")))


def _bench(tmp: Path, rows: int, workers: int | None, *, brief: bool) -> Peaks:
    with _registry(tmp / "registry") as (url, admin, server_pid), _Sampler(server_pid) as processes:
        tokens, key_path, signer = _setup(url, admin, tmp)
        roster = _write_roster(tmp / "roster.csv", rows)
        photos = _write_photos(tmp / "photos", rows)
        credentials_client = RegistryClient(url, tokens["institution"], timeout=300)
        os.environ["SKILLPASS_KEY_PASSPHRASE"] = PASSPHRASE
        request = IssueRequest(
            roster=roster,
            out_dir=tmp / "out",
            institution_code=CODE,
            key_path=key_path,
            workers=workers,
            today=registry_day(time.time()),
            photos=photos,
            require_photos=True,
        )
        run = _Run(request, credentials_client, lambda: PASSPHRASE, Console())
        run.batch_id = new_batch_id()  # what run() does for a new output directory (never from the roster)
        stages: dict[str, Stage] = {}

        def stage(name: str, step: Callable[[], object]) -> None:
            stages[name] = _measured(step, processes)

        cpu_before = processes.cpu()
        with _journal(run) as journal:
            rows_read: list[
                Any
            ] = []  # read once, as ``_validate_and_submit`` does, and let go after submission
            stage("validate", lambda: _read_and_validate(run, rows_read))
            stage(
                "submit+review", lambda: _submit_and_review(run, journal, url, tokens["reviewer"], rows_read)
            )
            stage(_SIGN_AND_RENDER, lambda: run._sign_and_render(journal))
            stage("publish what rendering left", lambda: run._publish(journal))
            stage("manifest", lambda: run._finish(journal, rewrite=True))
            cpu = tuple(after - before for after, before in zip(processes.cpu(), cpu_before, strict=True))
            peaks = processes.peaks()  # the pipeline's, before this bench reads the whole journal below
            _require_all_published(journal.each_row(), rows)
            texts = [r.qr or "" for r in journal.each_row()]
            stage(_QR_ALONE, lambda: _qr_images(texts))
            sign_ratio = None if brief else _sign_ratio(journal.rows(), signer)
    _report(rows, stages, (cpu[0], cpu[1]), sign_ratio)
    return _report_memory(rows, peaks)


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage: its wall-clock time, the CPU time it took (issuing processes and registry together),
    and the issuing process's peak memory when it ended (the stage that raises it is the one that holds
    more)."""

    seconds: float
    cpu_seconds: float
    peak_mib: float


def _measured(step: Callable[[], object], processes: _Sampler) -> Stage:
    cpu = sum(processes.cpu())
    start = time.perf_counter()
    step()
    seconds = time.perf_counter() - start
    return Stage(seconds, sum(processes.cpu()) - cpu, _kib(os.getpid(), "VmHWM") / 1024)


# Not a stage of the pipeline (the render stage writes the QR image too): what it costs alone, one process.
_QR_ALONE = "QR image alone (PNG, 1 process)"
_SIGN_AND_RENDER = "sign; PDFs, QR files, batch PDF; publishing"


def _require_all_published(rows: Iterable[Any], expected: int) -> None:
    """A figure is only worth something if every certificate went all the way."""
    published = sum(1 for r in rows if r.state == PUBLISHED)
    if published != expected:
        raise SystemExit(f"only {published} of {expected} certificates were published")


class _Sampler:
    """Every 100 ms, the processes this one started. Of the issuing ones (all but the registry), their peak
    resident set (``VmHWM``: kept by the kernel, so a peak between two samples is not missed while the
    process lives) and their current one summed with this process's. Of all of them, the CPU time used (a
    process's last 100 ms before it exits are missed: a rendering worker's, at the end of the render stage).
    CPU time is what a shared, loaded machine cannot inflate the way it inflates the wall clock."""

    def __init__(self, registry: int) -> None:
        self._registry = registry
        self._hwm: dict[int, int] = {}
        self._cpu: dict[int, float] = {}
        self._together = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()

    def _sample(self) -> None:
        me = os.getpid()
        children = _children()
        issuing = [p for c in children.get(me, []) if c != self._registry for p in _tree(c, children)]
        with self._lock:
            together = _kib(me, "VmRSS")
            for pid in issuing:
                together += _kib(pid, "VmRSS")
                self._hwm[pid] = max(self._hwm.get(pid, 0), _kib(pid, "VmHWM"))
            self._together = max(self._together, together)
            for pid in [*issuing, self._registry]:
                self._cpu[pid] = max(self._cpu.get(pid, 0.0), _cpu_seconds(pid))

    def cpu(self) -> tuple[float, float]:
        """CPU seconds used so far by the issuing processes (this one included) and by the registry."""
        self._sample()
        own = os.times()
        with self._lock:
            started = sum(seconds for pid, seconds in self._cpu.items() if pid != self._registry)
            return own.user + own.system + started, self._cpu.get(self._registry, 0.0)

    def peaks(self) -> Peaks:
        self._sample()
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        with self._lock:
            return Peaks(own / 1024, max(self._hwm.values(), default=0) / 1024, self._together / 1024)


def _kib(pid: int, field: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/PID/status in KiB; 0 once the process is gone."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat); 0 once it is gone."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _report_memory(rows: int, peaks: Peaks) -> Peaks:
    load = os.getloadavg()
    print(f"peak RSS: issuing process {peaks.issuing:,.0f} MiB, largest process it started "
          f"{peaks.largest_child:,.0f} MiB, all at once {peaks.together:,.0f} MiB; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")  # fmt: skip
    result(
        f"issuance peak memory, {rows:,} rows (issuing process / largest process it started / all at once)",
        peaks.figure(),
        "flat in roster size",
    )
    return peaks


def _report_flatness(small_rows: int, small: Peaks, large_rows: int, large: Peaks) -> None:
    """Flat: each peak of the larger roster within a quarter of the smaller one's (per-row data held
    for the whole run, such as PDFs or photos, would grow it with the row count). The growth per row of
    the issuing process says what a larger roster would cost."""
    growth = max(large.issuing / small.issuing, large.largest_child / small.largest_child,
                 large.together / small.together)  # fmt: skip
    per_row = (large.issuing - small.issuing) * 1024 / max(1, large_rows - small_rows)
    print(f"peak memory {small_rows:,} → {large_rows:,} rows: {small.figure()} → {large.figure()} "
          f"(largest growth {growth - 1:+.0%}; issuing process {per_row:+.1f} KiB per row)")  # fmt: skip
    result(
        f"issuance peak memory, {small_rows:,} vs {large_rows:,} rows "
        "(issuing process / largest process it started / all at once)",
        f"{small.figure()} vs {large.figure()} (largest growth {growth - 1:+.0%}; "
        f"issuing process {per_row:+.1f} KiB per row)",
        "flat: each peak at most +25 %",
        growth <= 1.25,
    )


# Issue 15's target is set for a 10,000-row roster on 2 cores; a smaller roster spends a larger share on
# starting the rendering processes, so its rate is reported but not judged.
_TARGET_RATE, _TARGET_ROWS = 300, 10_000


def _report(
    rows: int,
    stages: dict[str, Stage],
    cpu: tuple[float, float],
    sign_ratio: tuple[float, float, float] | None,
) -> None:
    cores = os.cpu_count() or 1
    heading = f"{rows:,} rows, {cores} cores"
    print(f"  {heading:<40} {'wall':>10} {'rate':>10} {'CPU per row':>12} {'issuing peak':>14}")
    for name, stage in stages.items():
        print(f"  {name:<40} {stage.seconds:8.2f} s {rows / stage.seconds:8,.0f}/s "
              f"{stage.cpu_seconds / rows * 1000:9.2f} ms {stage.peak_mib:10,.0f} MiB")  # fmt: skip
    pipeline = sum(stage.seconds for name, stage in stages.items() if name != _QR_ALONE)
    print(f"  {'end to end (pipeline stages)':<40} {pipeline:8.2f} s {rows / pipeline:8,.0f} certificates/s")
    result(
        f"issuance end to end with photos, {rows:,} rows, {cores} cores",
        f"{rows / pipeline:,.0f} certificates/s ({pipeline:.1f} s)",
        f">= {_TARGET_RATE} certificates/s for {_TARGET_ROWS:,} rows on 2 cores",
        rows / pipeline >= _TARGET_RATE if rows >= _TARGET_ROWS else None,
    )
    _report_cpu(rows, cpu, cores)
    if sign_ratio is None:  # the comparison run: its end-to-end rate and memory only
        return
    r, mine, raw = sign_ratio
    with_validation = 1 / (1 / mine + stages["validate"].seconds / rows)
    print(
        f"sign+encode per certificate: {mine:,.0f}/s; raw PyNaCl sign {raw:,.0f}/s; ratio {r:.0%} (target >= 25%)"
    )
    print(
        f"with the roster validation stage added: {with_validation:,.0f}/s, {with_validation / raw:.0%} of raw"
    )
    for name, stage in stages.items():
        result(f"issuance stage: {name} ({rows:,} rows)",
               f"{stage.seconds:.2f} s ({rows / stage.seconds:,.0f}/s; CPU {stage.cpu_seconds / rows * 1000:.2f} ms "
               "per certificate)", "—")  # fmt: skip
    result(
        "issuance sign+encode (certificate, rules, sign, encode) vs raw PyNaCl sign",
        f"{r:.0%} ({mine:,.0f}/s vs {raw:,.0f}/s)",
        ">= 25 %",
        r >= 0.25,
    )
    result(
        "issuance validate+sign+encode vs raw PyNaCl sign",
        f"{with_validation / raw:.0%} ({with_validation:,.0f}/s)",
        "—",
    )


def _report_cpu(rows: int, cpu: tuple[float, float], cores: int) -> None:
    """The pipeline's CPU time per certificate, and the rate it allows when every core is the run's and
    none waits (an upper bound: a stage that runs on one core leaves the other idle)."""
    issuing, registry = cpu
    per_certificate = (issuing + registry) / rows
    print(f"  CPU: issuing processes {issuing:.1f} s + registry {registry:.1f} s = {per_certificate * 1000:.1f} ms "
          f"per certificate: at most {cores / per_certificate:,.0f} certificates/s on {cores} idle cores")  # fmt: skip
    result(
        f"issuance CPU time per certificate (issuing processes + registry), {rows:,} rows",
        f"{per_certificate * 1000:.1f} ms (at most {cores / per_certificate:,.0f} certificates/s on {cores} "
        "idle cores)",
        "—",
    )


def _sign_ratio(rows: list[Any], signer: Signer) -> tuple[float, float, float]:
    """Per certificate, interleaved with raw PyNaCl signing of a message of the same size: build the
    certificate, check its rules, sign and encode (what the sign stage does for each row)."""
    from issuer.run import sign_row

    approved = itertools.cycle(rows)
    message = bytes(len(decode(rows[0].qr).sign1.to_be_signed()))
    return ratio(lambda: sign_row(next(approved), CODE, signer), lambda: signer.sign(message))


def _scopes(run: _Run) -> Any:
    from issuer.client import parse_scopes

    return parse_scopes(run.client.institution(CODE))


def _read_and_validate(run: _Run, roster: list[Any]) -> None:
    roster.extend(run._read_rows())
    run._require_valid(roster, _scopes(run))


def _submit_and_review(run: _Run, journal: Any, url: str, reviewer: str, roster: list[Any]) -> None:
    """Submission of the rows validated, as ``_validate_and_submit`` does it, the reviewer's approval, then
    the run taking the decisions; as in the real run, the rows are let go once submitted."""
    run._submit(journal, roster)
    roster.clear()
    _approve_all(url, run.batch_id, reviewer)
    if not run._reviewed(journal):
        raise SystemExit("the batch was not reviewed")


def _approve_all(url: str, batch_id: str, reviewer: str) -> None:
    """The reviewer, at the registry (its answer, the whole batch report, is the reviewer's: let go at once)."""
    httpx.post(
        f"{url}/api/v1/batches/{batch_id}/review",
        json={"approve_all_valid": True},
        headers={"Authorization": f"Bearer {reviewer}"},
        timeout=600,
    ).raise_for_status()


def _qr_images(texts: list[str]) -> None:
    """The PNG each certificate gets (the SVG is written only on request: ``skillpass issue --svg``)."""
    for text in texts:
        qrimage.render_png(text)


@contextmanager
def _journal(run: _Run) -> Iterator[Any]:
    from issuer.journal import Journal

    with Journal.open(run.request.out_dir) as journal:
        yield journal


def _write_roster(path: Path, rows: int) -> Path:
    assessed = (datetime.now(UTC).date() - timedelta(days=10)).isoformat()
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "姓名",
                "证件类型",
                "证件号码",
                "职业编码",
                "职业名称",
                "工种/职业方向",
                "职业技能等级",
                "评价日期",
                "照片",
            ]
        )
        for i in range(rows):
            first17 = f"110105{date(1970, 1, 1) + timedelta(days=i // 1000):%Y%m%d}{i % 1000:03d}"
            writer.writerow(
                [
                    NAMES[i % len(NAMES)],
                    "居民身份证",
                    first17 + resident_id_check_char(first17),
                    "6-31-01-03",
                    "电工",
                    "--",
                    3 + i % 3,
                    assessed,
                    f"{i:06d}.jpg",
                ]
            )
    return path


def _write_photos(folder: Path, rows: int) -> Path:
    """One photo file per row (hard links to eight distinct portraits: the files are distinct, the disk is not
    filled)."""
    folder.mkdir()
    sources = []
    for seed in range(8):
        image = Image.new("RGB", (354, 496), (246, 246, 246))
        draw = ImageDraw.Draw(image)
        draw.ellipse((100, 70 + seed, 254, 280), fill=(225, 190, 160))
        draw.rectangle((50, 300, 304, 496), fill=(30 + 20 * seed, 60, 120))
        source = folder / f"source-{seed}.jpg"
        image.save(source, format="JPEG", quality=88)
        sources.append(source)
    for i in range(rows):
        os.link(sources[i % len(sources)], folder / f"{i:06d}.jpg")
    return folder


def _setup(url: str, admin: str, tmp: Path) -> tuple[dict[str, str], Path, Signer]:
    http = httpx.Client(base_url=url, timeout=60)

    def ok(path: str, token: str, body: dict[str, Any]) -> Any:
        answer = http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        answer.raise_for_status()
        return answer.json()

    ok("/api/v1/institutions", admin, institution_record(CODE, valid_from="2020-01-01"))
    tokens = {
        "institution": ok("/api/v1/tokens", admin, {"role": "institution", "institution_code": CODE})[
            "token"
        ],
        "reviewer": ok("/api/v1/tokens", admin, {"role": "reviewer"})["token"],
    }
    signer = Signer.generate()
    key_path = tmp / "institution.key"
    write_private_key(key_path, signer, PASSPHRASE)
    today = registry_day(time.time()).isoformat()
    ok(
        f"/api/v1/institutions/{CODE}/keys",
        tokens["institution"],
        {"jwk": to_jwk(signer.public_key), "valid_from": today},
    )
    return tokens, key_path, signer


@contextmanager
def _registry(data_dir: Path) -> Iterator[tuple[str, str, int]]:
    """The registry, set up and served by its own process: its work does not share this process's GIL, and
    its memory (setting a registry up alone takes some 90 MiB) is not counted as the issuing process's. It
    prints its first admin token on its first line."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SKILLPASS_KEY_PASSPHRASE": PASSPHRASE}
    argv = [sys.executable, __file__, "--serve", str(data_dir), str(port)]
    server = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        admin = server.stdout.readline().strip() if server.stdout else ""
        _wait_healthy(url, server)
        yield url, admin, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_healthy(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while server.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).is_success:
                return
        time.sleep(0.1)
    raise SystemExit("the registry did not start")


def _serve(data_dir: Path, port: int) -> None:
    import uvicorn

    from registry.app import create_app
    from registry.setup import init_registry, open_registry

    passphrase = os.environ["SKILLPASS_KEY_PASSPHRASE"]
    print(init_registry(data_dir, None, passphrase).admin_token, flush=True)
    settings = open_registry(data_dir, passphrase)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
