"""Shared helpers for the registry tests (no tests here): a registry on a test database served over
real HTTP, a settable clock, valid institution records and roster rows, and signing helpers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from harness.records import institution_record
from harness.servers import serve_app

from credential import CertificateClaims, encode
from keys import Signer, to_jwk
from registry.app import create_app
from registry.settings import Settings
from registry.setup import init_registry
from schemas import resident_id_check_char

PASSPHRASE = "correct horse battery staple"
START = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)  # 12:00 in Beijing


@dataclass
class SettableClock:
    """A clock tests move by hand."""

    at: datetime = START

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def resident_id(serial: int) -> str:
    """A valid resident ID number, distinct per serial."""
    day = date(1960, 1, 1) + timedelta(days=serial // 1000)
    first17 = f"110105{day:%Y%m%d}{serial % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def roster_row(serial: int, **changes: Any) -> dict[str, Any]:
    """A valid roster row for the institution above."""
    row = {
        "holder_name": "张三丰",
        "id_type": "居民身份证",
        "id_number": resident_id(serial),
        "occupation_code": "6-31-01-03",
        "occupation_name": "电工",
        "work_type": "--",
        "level": 3,
        "assessment_date": "2026-06-01",
    }
    row.update(changes)
    return row


def sign_row(report_row: dict[str, Any], holder_id: str, signer: Signer, /, **changes: Any) -> str:
    """Sign the certificate of an approved row as an issuer would (optionally altered)."""
    certificate = dict(report_row["certificate"])
    certificate.pop("id_number_masked")
    certificate.pop("level_name")
    certificate.pop("institution_name")
    certificate["id_number"] = holder_id
    certificate.update(changes)
    return encode(CertificateClaims.from_certificate(certificate), signer)


@dataclass
class Api:
    """An HTTP client for one registry, with tokens by role."""

    url: str
    clock: SettableClock
    data_dir: Path
    tokens: dict[str, str] = field(default_factory=dict)
    settings: Settings | None = None

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(token, token)}"
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def ok(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        response = self.call(method, path, token, **kwargs)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()

    def new_token(self, role: str, institution_code: str | None = None) -> str:
        body: dict[str, Any] = {"role": role}
        if institution_code:
            body["institution_code"] = institution_code
        token: str = self.ok("POST", "/api/v1/tokens", "admin", json=body)["token"]
        return token

    def add_institution(self, code: str = "Y000011000001", signer: Signer | None = None) -> str:
        """File an institution, give it a token (named by its code) and register a key valid from 2024
        (the administrator registers it: an institution may not backdate its keys)."""
        self.ok("POST", "/api/v1/institutions", "admin", json=institution_record(code))
        self.tokens[code] = self.new_token("institution", code)
        if signer is not None:
            jwk = to_jwk(signer.public_key)
            self.ok(
                "POST",
                f"/api/v1/institutions/{code}/keys",
                "admin",
                json={"jwk": jwk, "valid_from": "2024-01-01"},
            )
        return code

    def approved_batch(self, code: str, batch_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
        body = {"batch_id": batch_id, "institution_code": code, "rows": rows}
        self.ok("POST", "/api/v1/batches", code, json=body)
        report: dict[str, Any] = self.ok(
            "POST", f"/api/v1/batches/{batch_id}/review", "reviewer", json={"approve_all_valid": True}
        )
        return report


@contextlib.contextmanager
def running_registry(database_url: str, tmp_path: Path, **overrides: Any) -> Iterator[Api]:
    """Initialise a registry on ``database_url`` and serve it over HTTP on loopback."""
    clock = SettableClock()
    made = init_registry(tmp_path / "registry", database_url, PASSPHRASE, clock=clock)
    settings = replace(made.settings, **overrides)
    app = create_app(settings)
    try:
        with serve_app(app) as url:
            api = Api(url, clock, tmp_path / "registry", {"admin": made.admin_token}, settings)
            api.tokens["reviewer"] = api.new_token("reviewer")
            yield api
    finally:
        app.state.registry.db.dispose()


def today_in_beijing(at: datetime) -> date:
    return (at + timedelta(hours=8)).date()
