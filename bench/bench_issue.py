"""Issuance end to end: a roster of 10,000 rows (``--rows N`` for fewer), each with its holder's photo (JPEG,
1-inch at ~360 dpi, from a folder), through the real ``skillpass issue`` pipeline against a registry on
loopback (SQLite in a temporary directory, served by its own process).

Reports the time of each stage — validate, submit + review, sign + encode, QR images, PDFs (with the
combined batch PDF), publish — certificates per second end to end, and the issuance rate (validate +
sign + encode, no images; numbering is the registry's) against raw PyNaCl signing measured in the same
run (target >= 25 %).

Also reports the peak memory (resident set) of this process and of the largest rendering worker, with the
machine's load average: memory should stay flat as the roster grows (compare ``--rows 2000`` with 10,000).

Run: .venv/bin/python bench/bench_issue.py [--rows N] [--workers N]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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

from common import qrimage
from common.calendar import registry_day
from credential import decode
from issuer.client import RegistryClient
from issuer.run import Console, IssueRequest, _Run, _submitted_fields
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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(Path(args.serve[0]), int(args.serve[1]))
        return
    with tempfile.TemporaryDirectory(prefix="bench-issue-") as tmp:
        _bench(Path(tmp), args.rows, args.workers)


def _bench(tmp: Path, rows: int, workers: int | None) -> None:
    with _registry(tmp / "registry") as (url, admin):
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
        times: dict[str, float] = {}
        with _journal(run) as journal:
            times["validate"] = _timed(lambda: run._require_valid(run._read_rows(), _scopes(run)))
            times["submit+review"] = _timed(lambda: _submit_and_review(run, journal, url, tokens["reviewer"]))
            times["sign+encode"] = _timed(lambda: run._sign(journal))
            texts = [r.qr or "" for r in journal.rows()]
            times["QR images (PNG+SVG, 1 process)"] = _timed(lambda: _qr_images(texts))
            times["PDFs + QR files (parallel) + batch PDF"] = _timed(lambda: run._render(journal))
            times["publish"] = _timed(lambda: run._publish(journal))
            times["manifest"] = _timed(lambda: run._finish(journal, rewrite=True))
            sign_ratio = _sign_ratio(journal.rows(), signer)
        _report(rows, times, sign_ratio)
    _report_memory()


def _report_memory() -> None:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    load = os.getloadavg()
    print(f"peak RSS: this process {own:,.0f} MiB, largest child {workers:,.0f} MiB; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")  # fmt: skip
    result(
        "issuance peak memory (this process / largest child)", f"{own:,.0f} MiB / {workers:,.0f} MiB", "flat"
    )


def _report(rows: int, times: dict[str, float], sign_ratio: tuple[float, float, float]) -> None:
    print(f"{rows:,} rows, {os.cpu_count()} cores")
    for stage, seconds in times.items():
        print(f"  {stage:<40} {seconds:8.2f} s  {rows / seconds:10,.0f} rows/s")
    pipeline = sum(t for s, t in times.items() if not s.startswith("QR images"))
    print(
        f"  {'end to end (pipeline stages)':<40} {pipeline:8.2f} s  {rows / pipeline:10,.0f} certificates/s"
    )
    r, mine, raw = sign_ratio
    with_validation = 1 / (1 / mine + times["validate"] / rows)
    print(
        f"sign+encode per certificate: {mine:,.0f}/s; raw PyNaCl sign {raw:,.0f}/s; ratio {r:.0%} (target >= 25%)"
    )
    print(
        f"with the roster validation stage added: {with_validation:,.0f}/s, {with_validation / raw:.0%} of raw"
    )
    result(
        f"issuance end to end, {rows:,} rows",
        f"{rows / pipeline:,.0f} certificates/s ({pipeline:.1f} s)",
        "—",
    )
    for stage, seconds in times.items():
        result(f"issuance stage: {stage} ({rows:,} rows)", f"{seconds:.2f} s ({rows / seconds:,.0f}/s)", "—")
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


def _timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


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


def _submit_and_review(run: _Run, journal: Any, url: str, reviewer: str) -> None:
    rows = run._read_rows()
    journal.start(run.batch_id, run.roster_sha256, CODE, [(r.number, r.fields) for r in rows])
    run.client.submit_batch(run.batch_id, CODE, [_submitted_fields(r.fields) for r in journal.rows()])
    journal.set_meta("submitted", "1")
    answer = httpx.post(
        f"{url}/api/v1/batches/{run.batch_id}/review",
        json={"approve_all_valid": True},
        headers={"Authorization": f"Bearer {reviewer}"},
        timeout=600,
    )
    answer.raise_for_status()
    if not run._reviewed(journal):
        raise SystemExit("the batch was not reviewed")


def _qr_images(texts: list[str]) -> None:
    for text in texts:
        qrimage.render_png(text)
        qrimage.render_svg(text)


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
def _registry(data_dir: Path) -> Iterator[tuple[str, str]]:
    """The registry in its own process, so that its work does not share this process's GIL."""
    from registry.setup import ADMIN_TOKEN_FILE, init_registry

    init_registry(data_dir, None, PASSPHRASE)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SKILLPASS_KEY_PASSPHRASE": PASSPHRASE}
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(data_dir), str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url, (data_dir / ADMIN_TOKEN_FILE).read_text().strip()
    finally:
        server.terminate()
        server.wait(timeout=30)


def _serve(data_dir: Path, port: int) -> None:
    import uvicorn

    from registry.app import create_app
    from registry.setup import open_registry

    settings = open_registry(data_dir, os.environ["SKILLPASS_KEY_PASSPHRASE"])
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
