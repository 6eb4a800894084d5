"""Seeding the demo through the real interfaces: the admin files the pilot institutions over the
registry's HTTP API, each institution registers its key, and three of them run the real issuance
(`issuer.run_issue`: roster → review → sign → render → publish) with a reviewer approving in
between. One certificate is then revoked and another suspended."""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from issuer.client import RegistryClient
from issuer.run import Console, Exit, IssueRequest, run_issue
from keys import Signer, to_jwk, write_private_key
from skillpass.demo.pilots import Pilot, pilots, sample_roster
from skillpass.demo.servers import DemoError

ISSUING_PILOTS = 3
# Scopes are filed from a fixed day, the one examples/make_samples.py names, so the sample rosters'
# assessment dates (June 2025) fall inside them whatever year the demo runs in.
SCOPES_FROM = date(2024, 1, 1)
ROWS_PER_ROSTER = 4


@dataclass(frozen=True)
class SeedResult:
    """What the demo made: every sample certificate number, by expected verdict."""

    valid: list[str]
    revoked: list[str]
    suspended: list[str]
    holders: dict[str, str]  # certificate number -> holder name, for the README's tour
    # The verifier host the samples' URL-form QR codes name (None: they carry the plain form). A demo
    # run again on other ports keeps listing it as official, so those printed samples stay trusted.
    verifier_host: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "revoked": self.revoked,
            "suspended": self.suspended,
            "holders": self.holders,
            "verifier_host": self.verifier_host,
        }


def seed(
    registry_url: str,
    admin_token: str,
    work_dir: Path,
    passphrase: str,
    today: date,
    say: Callable[[str], None],
    verifier_url: str | None = None,
) -> SeedResult:
    """File the directory, issue the sample batches and return the certificate numbers."""
    with httpx.Client(base_url=registry_url, headers=_bearer(admin_token), timeout=30) as admin:
        reviewer = _token(admin, {"role": "reviewer"})
        issued: dict[str, str] = {}
        for pilot in pilots():
            credentials = _file_institution(admin, pilot, work_dir, passphrase, today)
            if pilot.index <= ISSUING_PILOTS:
                issued |= _issue(
                    registry_url, reviewer, pilot, credentials, work_dir, passphrase, today, say, verifier_url
                )
        say(f"已登记 {len(pilots())} 家评价机构 / {len(pilots())} institutions filed")
    numbers = list(issued)
    revoked, suspended = numbers[0], numbers[ROWS_PER_ROSTER + 1]
    _set_status(
        registry_url, work_dir, revoked, "revoke", "演示：证书被撤销 / demo: revoked", "issued_in_error"
    )
    _set_status(
        registry_url,
        work_dir,
        suspended,
        "suspend",
        "演示：证书暂停使用 / demo: suspended",
        "under_investigation",
    )
    valid = [n for n in numbers if n not in (revoked, suspended)]
    host = None if verifier_url is None else verifier_url.split("://", 1)[1]
    return SeedResult(
        valid=valid, revoked=[revoked], suspended=[suspended], holders=issued, verifier_host=host
    )


def institution_dir(work_dir: Path, code: str) -> Path:
    """Where one institution keeps its key, credentials, roster and issued files."""
    return work_dir / "institutions" / code


def _file_institution(
    admin: httpx.Client, pilot: Pilot, work_dir: Path, passphrase: str, today: date
) -> Path:
    home = institution_dir(work_dir, pilot.code)
    home.mkdir(parents=True, exist_ok=True)
    _post(admin, "/api/v1/institutions", pilot.record(SCOPES_FROM))
    token = _token(admin, {"role": "institution", "institution_code": pilot.code})
    credentials = home / "credentials.json"
    if credentials.exists():
        credentials.unlink()
    _write_private(credentials, json.dumps({"registry": str(admin.base_url).rstrip("/"),
                                            "institution_code": pilot.code, "token": token}))  # fmt: skip
    signer = Signer.generate()
    key_file = home / "institution.key"
    if key_file.exists():
        key_file.unlink()
    write_private_key(key_file, signer, passphrase)
    with RegistryClient(str(admin.base_url), token) as client:
        client.register_key(pilot.code, to_jwk(signer.public_key), today)
    return credentials


def _issue(
    registry_url: str,
    reviewer_token: str,
    pilot: Pilot,
    credentials: Path,
    work_dir: Path,
    passphrase: str,
    today: date,
    say: Callable[[str], None],
    verifier_url: str | None = None,
) -> dict[str, str]:
    home = institution_dir(work_dir, pilot.code)
    roster = home / "roster.json"  # the schema's field names, so no column headers to repeat here
    roster.write_text(json.dumps({"rows": sample_roster(pilot, ROWS_PER_ROSTER, today)}, ensure_ascii=False))
    token = json.loads(credentials.read_text(encoding="utf-8"))["token"]
    request = IssueRequest(
        roster=roster, out_dir=home / "issued", institution_code=pilot.code, key_path=home / "institution.key",
        batch_id=f"demo-{pilot.code}", workers=1, verifier_url=verifier_url,
    )  # fmt: skip
    quiet = Console(out=io.StringIO(), err=io.StringIO())
    with RegistryClient(registry_url, token) as client:
        if run_issue(request, client, lambda: passphrase, quiet) not in (Exit.WAITING, Exit.OK):
            raise _issue_failed(pilot, quiet)
        with httpx.Client(base_url=registry_url, headers=_bearer(reviewer_token), timeout=30) as reviewer:
            _post(reviewer, f"/api/v1/batches/{request.batch_id}/review", {"approve_all_valid": True})
        if run_issue(request, client, lambda: passphrase, quiet) != Exit.OK:
            raise _issue_failed(pilot, quiet)
    manifest = json.loads((request.out_dir / "manifest.json").read_text(encoding="utf-8"))
    numbers = {
        e["certificate_number"]: e["holder_name"] for e in manifest["rows"] if e["state"] == "published"
    }
    say(
        f"{pilot.name}: 已签发并公示 {len(numbers)} 张证书 / {len(numbers)} certificates issued and published"
    )
    return numbers


def _issue_failed(pilot: Pilot, console: Console) -> DemoError:
    said = console.err.getvalue() if isinstance(console.err, io.StringIO) else ""
    return DemoError(
        "issue_failed", f"{pilot.name} 签发失败：{said}", f"issuing for {pilot.code} failed: {said}"
    )


def copy_samples(work_dir: Path, samples: Path) -> None:
    """Every issued certificate's .txt, .png and .pdf into one folder."""
    samples.mkdir(parents=True, exist_ok=True)
    for manifest_path in sorted((work_dir / "institutions").glob("*/issued/manifest.json")):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        for entry in manifest["rows"]:
            for kind in ("txt", "png", "pdf"):
                source = manifest_path.parent / entry["files"][kind]
                shutil.copyfile(source, samples / f"{entry['certificate_number']}.{kind}")


def _set_status(
    registry_url: str, work_dir: Path, number: str, action: str, reason: str, category: str
) -> None:
    credentials = json.loads(
        (institution_dir(work_dir, number[:13]) / "credentials.json").read_text(encoding="utf-8")
    )
    with RegistryClient(registry_url, credentials["token"]) as client:
        client.change_status(number, action, reason, category)


def _token(admin: httpx.Client, body: dict[str, Any]) -> str:
    token: str = _post(admin, "/api/v1/tokens", body)["token"]
    return token


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    if response.status_code >= 400:
        raise DemoError(
            "registry_refused",
            f"登记中心拒绝了 {path}：{response.text}",
            f"the registry refused {path}: {response.text}",
        )
    answer: dict[str, Any] = response.json()
    return answer


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
