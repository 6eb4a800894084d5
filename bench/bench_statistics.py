"""Statistics benchmark: ``GET /api/v1/statistics`` latency (p50/p99) with N published certificates in
PostgreSQL, spread over 40 institutions in 31 provinces, 10 occupations, 5 levels, 24 issue months and
three statuses; plus the cold read of the fine cells that a grown audit log triggers (at most once per
``statistics.REFRESH_SECONDS``).

    .venv/bin/python bench/bench_statistics.py                        # N = 1,000,000, own PostgreSQL
    .venv/bin/python bench/bench_statistics.py --certificates 100000  # quicker
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import result
from bench_registry import _database, _percentile
from harness.records import institution_record
from harness.servers import serve_app

from keys import Signer
from registry import institutions, migrate
from registry.app import create_app
from registry.clock import Now
from registry.schema import batches, rows
from registry.service import Registry
from registry.settings import Settings
from registry.statistics import Query
from registry.templates.provinces import PROVINCES

NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)
GROUPINGS = ("year,level", "month,province", "institution,occupation,level", "category")
_STATUSES = ["valid"] * 96 + ["revoked"] * 3 + ["suspended"]


def _create(conn: Any, *, code: str, now: Now) -> str:
    return institutions.create_institution(conn, institution_record(code), now, "bench")


def _institution_codes() -> list[str]:
    provinces = sorted(p for p in PROVINCES if int(p) < 70)
    return [f"{'YS'[i % 2]}0000{provinces[i % len(provinces)]}{i + 1:06d}" for i in range(40)]


def _load(reg: Registry, count: int) -> None:
    now = Now(NOW)
    codes = _institution_codes()
    batch_pks = []
    for code in codes:
        reg.db.write(partial(_create, code=code, now=now))
        with reg.db.engine.begin() as conn:
            batch_pks.append(
                conn.execute(
                    batches.insert()
                    .values(
                        institution_code=code,
                        batch_id="load",
                        body_sha256="0" * 64,
                        state="reviewed",
                        submitted_at=0,
                    )
                    .returning(batches.c.id)
                ).scalar_one()
            )
    chunk = 20_000
    draw = random.Random(7)
    # Each institution certifies three of the ten occupations, as real ones certify a few.
    occupations = [draw.sample(range(10), 3) for _ in codes]
    for start in range(0, count, chunk):
        values = []
        for i in range(start, min(count, start + chunk)):
            which = draw.randrange(len(codes))
            month = draw.randrange(24)
            values.append(
                {
                    "batch_pk": batch_pks[which],
                    "row_no": i + 1,
                    "state": "published",
                    "problems": "[]",
                    "holder_name": "持证人",
                    "id_type": "居民身份证",
                    "id_digest": f"{i:064x}",
                    "id_length": 18,
                    "id_suffix": "0000",
                    "occupation_code": f"6-31-01-{draw.choice(occupations[which]):02d}",
                    "occupation_name": "电工",
                    "work_type": "--",
                    "level": draw.randint(1, 5),
                    "assessment_date": date(2026, 6, 1),
                    "certificate_number": f"B{i:021d}",
                    "issue_date": date(2025 + month // 12, 1 + month % 12, draw.randint(1, 28)),
                    "status_list": 100 + i // 2**19,
                    "status_index": i % 2**19,
                    "status": draw.choice(_STATUSES),
                    "credential": b"\x00" * 16,
                    "credential_sha256": "0" * 64,
                    "published_at": 0,
                }
            )
        with reg.db.engine.begin() as conn:
            conn.execute(rows.insert(), values)
    with reg.db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def _figure(samples: list[float]) -> str:
    return f"p50 {_percentile(samples, 0.5) * 1000:.2f} ms, p99 {_percentile(samples, 0.99) * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--certificates", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=500, help="requests per grouping")
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database (default: start one)")
    args = parser.parse_args()
    signer = Signer.generate()
    with _database(args.database_url) as url:
        settings = Settings(
            database_url=url, signer=signer, hmac_secret=b"k" * 32, clock=lambda: NOW, statistics_refresh=0
        )
        reg = Registry(settings)
        migrate.upgrade(reg.db.engine)
        start = time.perf_counter()
        _load(reg, args.certificates)
        print(f"loaded {args.certificates} certificates in {time.perf_counter() - start:.1f} s")
        cold = []
        for _ in range(3):
            start = time.perf_counter()
            figures = reg.statistics.read(reg.now())
            cold.append(time.perf_counter() - start)
        print(f"cold read of fine cells: best {min(cold):.2f} s ({len(figures.cells)} cells)")
        result(
            f"statistics cold read (fine cells from the database), {args.certificates:,} certificates",
            f"{min(cold) * 1000:.0f} ms ({len(figures.cells):,} cells)",
            "— (at most once per minute, when the log grew)",
        )
        reg.db.dispose()
        app = create_app(settings)
        app.state.registry.statistics.answer(Query(), app.state.registry.now())  # warm, as after one request
        with serve_app(app) as base, httpx.Client(base_url=base) as client:
            for _ in range(50):  # connections and code paths warm, as in a running service
                client.get("/api/v1/statistics", params={"group_by": GROUPINGS[0]})
            for grouping in GROUPINGS:
                samples = []
                for _ in range(args.requests):
                    start = time.perf_counter()
                    answer = client.get("/api/v1/statistics", params={"group_by": grouping})
                    samples.append(time.perf_counter() - start)
                    assert answer.status_code == 200, answer.text
                groups = len(answer.json()["groups"])
                print(f"GET /api/v1/statistics?group_by={grouping} ({groups} groups): {_figure(samples)}")
                result(
                    f"GET /api/v1/statistics?group_by={grouping} ({groups} groups), {args.certificates:,} certificates in PostgreSQL",
                    _figure(samples),
                    "p99 < 200 ms",
                    _percentile(samples, 0.99) < 0.200,
                )
            months = [f"{2025 + m // 12}-{1 + m % 12:02d}" for m in range(24)]
            ranges = [(a, b) for a in months for b in months if a <= b]
            random.Random(11).shuffle(ranges)
            samples = []
            for first, last in ranges[: args.requests]:
                start = time.perf_counter()
                answer = client.get(
                    "/api/v1/statistics", params={"group_by": "month,province", "from": first, "to": last}
                )
                samples.append(time.perf_counter() - start)
                assert answer.status_code == 200, answer.text
            print(
                f"GET /api/v1/statistics?group_by=month,province&from=…&to=… (each range new): {_figure(samples)}"
            )
            result(
                f"GET /api/v1/statistics?group_by=month,province with a new from/to each time (roll-up not cached), {args.certificates:,} certificates",
                _figure(samples),
                "p99 < 200 ms",
                _percentile(samples, 0.99) < 0.200,
            )
        app.state.registry.db.dispose()


if __name__ == "__main__":
    main()
