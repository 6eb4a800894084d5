"""Shared helpers for the issuer's end-to-end tests (no tests here): a real registry on a test database
served over loopback HTTP with one institution, its tokens and registered key; roster files; running
``skillpass`` as a real process; reading the registry's audit log."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from harness.records import institution_record
from harness.servers import serve_app

from common.calendar import registry_day
from issuer.journal import Journal
from keys import Signer, to_jwk, write_private_key
from registry.app import create_app
from registry.audit import Digests
from registry.setup import init_registry
from schemas import resident_id_check_char

PASSPHRASE = "correct horse battery staple"
CODE = "Y000011000001"
INSTITUTION_NAME = "中国国家铁路集团有限公司"
NAMES = ("王建国", "李秀英", "张志强", "刘丽娟", "陈海涛", "杨晓明", "黄春燕", "赵伟", "吴静", "周磊")
HEADERS = (
    "姓名",
    "证件类型",
    "证件号码",
    "职业编码",
    "职业名称",
    "工种/职业方向",
    "职业技能等级",
    "评价日期",
)


def today() -> date:
    """The registry's day (China Standard Time)."""
    return registry_day(time.time())


def resident_id(serial: int) -> str:
    """A valid resident ID number, distinct per serial."""
    first17 = f"110105{date(1980, 1, 1) + timedelta(days=serial // 1000):%Y%m%d}{serial % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def journal_batch_id(out: Path) -> str:
    """The batch id a run chose (random by default) and recorded in its output directory's journal."""
    with Journal.open(out) as journal:
        found = journal.meta("batch_id")
    assert found is not None, out
    return found


def roster_rows(count: int, *, level: int = 3, start: int = 0) -> list[list[str]]:
    """``count`` valid roster rows (CSV cells, headers as ``HEADERS``)."""
    assessed = (today() - timedelta(days=10)).isoformat()
    return [
        [
            NAMES[i % len(NAMES)],
            "居民身份证",
            resident_id(start + i),
            "6-31-01-03",
            "电工",
            "--",
            str(level),
            assessed,
        ]
        for i in range(count)
    ]


def write_roster(path: Path, rows: Sequence[Sequence[str]], headers: Sequence[str] = HEADERS) -> Path:
    """A UTF-8 CSV roster with Chinese headers."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


@dataclass
class World:
    """A running registry with one institution that has a registered key and an institution token."""

    url: str
    http: httpx.Client
    tokens: dict[str, str]
    credentials: Path
    key: Path
    signer: Signer
    digests: Digests  # the registry's keyed digests, to find a batch id in the public audit log

    def call(self, method: str, path: str, role: str | None = None, **kwargs: Any) -> httpx.Response:
        """One request, authenticated as ``role`` (admin, reviewer, institution) when given."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return self.http.request(method, path, headers=headers, **kwargs)

    def ok(self, method: str, path: str, role: str | None = None, **kwargs: Any) -> Any:
        """The JSON answer of a request that must succeed."""
        response = self.call(method, path, role, **kwargs)
        assert response.is_success, response.text
        return response.json()

    def approve_all(self, batch_id: str) -> dict[str, Any]:
        """The reviewer approves every valid row, over HTTP."""
        answer: dict[str, Any] = self.ok(
            "POST", f"/api/v1/batches/{batch_id}/review", "reviewer", json={"approve_all_valid": True}
        )
        return answer

    def batch_digest(self, batch_id: str) -> str:
        """How the audit log names one of our batches."""
        return self.digests.batch_id(CODE, batch_id)

    def batches(self) -> list[dict[str, Any]]:
        """Every ``batch.submit`` event in the audit log (what the registry received)."""
        return [e["data"] for e in self.events() if e["action"] == "batch.submit"]

    def events(self) -> list[dict[str, Any]]:
        """The registry's audit log, decoded."""
        entries = self.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": 10_000})["entries"]
        return [json.loads(e["data"]) for e in entries]

    def publications(self) -> Counter[str]:
        """How many times each certificate number was published (must be at most once)."""
        counts: Counter[str] = Counter()
        for event in self.events():
            if event["action"] == "certificate.publish":
                counts.update(item[1] for item in event["data"]["published"])
        return counts

    def status(self, number: str, holder_name: str) -> str:
        """The public query's status for a certificate."""
        found = self.ok(
            "POST",
            "/api/v1/certificates/query",
            json={"certificate_number": number, "holder_name": holder_name},
        )
        [answer] = found["certificates"]
        return str(answer["status"])


@contextlib.contextmanager
def registry_world(
    database_url: str, tmp_path: Path, verifier_hosts: tuple[str, ...] = ()
) -> Iterator[World]:
    """Initialise a registry on ``database_url`` (its directory listing ``verifier_hosts`` as the
    official verifiers), serve it on loopback and file the test institution."""
    initialised = init_registry(tmp_path / "registry", database_url, PASSPHRASE)
    settings = replace(initialised.settings, verifier_hosts=verifier_hosts)
    with serve_app(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as http:
        world = World(
            url,
            http,
            {"admin": initialised.admin_token},
            tmp_path / "credentials.json",
            tmp_path / "inst.key",
            Signer.generate(),
            Digests(initialised.settings.hmac_secret),
        )
        world.ok(
            "POST",
            "/api/v1/institutions",
            "admin",
            json=institution_record(CODE, INSTITUTION_NAME, valid_from="2020-01-01"),
        )
        for role in ("institution", "reviewer"):
            body = {"role": role, "institution_code": CODE} if role == "institution" else {"role": role}
            world.tokens[role] = world.ok("POST", "/api/v1/tokens", "admin", json=body)["token"]
        write_private_key(world.key, world.signer, PASSPHRASE)
        world.ok(
            "POST",
            f"/api/v1/institutions/{CODE}/keys",
            "institution",
            json={"jwk": to_jwk(world.signer.public_key), "valid_from": today().isoformat()},
        )
        fd = os.open(world.credentials, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"registry": url, "institution_code": CODE, "token": world.tokens["institution"]}, f)
        yield world


def skillpass(*args: str | Path, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``skillpass ARGS`` as a real process (passphrase from the environment)."""
    env = {**os.environ, "SKILLPASS_KEY_PASSPHRASE": PASSPHRASE}
    env.pop("SKILLPASS_TEST_CRASH_AT", None)
    if crash_at is not None:
        env["SKILLPASS_TEST_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "skillpass.cli", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def issue_args(world: World, roster: Path, out: Path, *extra: str | Path) -> list[str | Path]:
    """The arguments of ``skillpass issue`` for this world."""
    return [
        "issue",
        roster,
        "--credentials",
        world.credentials,
        "--key",
        world.key,
        "--out",
        out,
        "--workers",
        "1",
        "--without-photos",  # the support rosters have no photo column (tests/test_issuer_photos.py has)
        *extra,
    ]
