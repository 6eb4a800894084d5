"""Who may use the institution console, and what the registry lets it do: no page without the printed
link's session, no DNS-rebound host, no state change without the CSRF token, loopback only, and an
institution's console cannot touch another institution's certificates (the registry refuses)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from harness.records import institution_record
from issuer_console_support import running_console
from test_issuer_run_support import (
    CODE,
    issue_args,
    journal_batch_id,
    registry_world,
    roster_rows,
    skillpass,
    write_roster,
)

from issuer.client import RegistryAuthError, RegistryClient
from issuer.console import pages
from issuer.console.guard import COOKIE

OTHER = "Y000211000001"
_OPEN = {"/open", "/healthz", "/console.css"}


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, concrete path) of every console route but the open ones."""
    found: list[tuple[str, str]] = []
    for route in [*pages.router.routes, *app.routes]:
        if isinstance(route, APIRoute) and route.path not in _OPEN:
            assert route.methods is not None  # FastAPI gives every APIRoute its methods (GET by default)
            path = re.sub(r"\{[^}]+\}", "x" * 64, route.path)
            found.extend((method, path) for method in sorted(route.methods))
    return found


def test_no_page_answers_without_the_printed_links_session(tmp_path: Path) -> None:
    with (
        registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world,
        running_console(world, tmp_path / "console", CODE, world.tokens["institution"]) as console,
    ):
        routes = _routes(console.app)
        assert ("POST", "/upload") in routes and ("GET", "/certificates") in routes
        anonymous = console.signed_in()
        anonymous.cookies.clear()
        for method, path in routes:
            answer = anonymous.request(method, path)
            assert answer.status_code == 403, (method, path, answer.status_code)
            assert "skillpass issuer console" in answer.text
        assert anonymous.get("/open", params={"key": "not-the-key"}).status_code == 403
        assert anonymous.get("/open").status_code == 403
        anonymous.cookies.set(COOKIE, "0" * 64)
        assert anonymous.get("/").status_code == 403


def test_the_link_sets_a_strict_httponly_cookie_and_a_rebound_host_is_refused(tmp_path: Path) -> None:
    with (
        registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world,
        running_console(world, tmp_path / "console", CODE, world.tokens["institution"]) as console,
    ):
        client = console.signed_in()
        raw = client.get(f"/open?key={console.guard.launch_key}").headers["set-cookie"].lower()
        assert "httponly" in raw and "samesite=strict" in raw
        page = client.get("/")
        assert page.status_code == 200 and "名册与批次" in page.text
        assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no script
        rebound = client.get("/", headers={"Host": f"evil.example:{console.guard.port}"})
        assert rebound.status_code == 421
        assert client.get("/", headers={"Host": "127.0.0.1:1"}).status_code == 421


def test_state_changes_without_the_csrf_token_are_refused_and_change_nothing(tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "roster.csv", roster_rows(1))
    with (
        registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world,
        running_console(world, tmp_path / "console", CODE, world.tokens["institution"]) as console,
    ):
        client = console.signed_in()
        files = {"roster": ("roster.csv", roster.read_bytes(), "text/csv")}
        for token in (None, "", "0" * 64):
            data = {} if token is None else {"csrf_token": token}
            assert client.post("/upload", data=data, files=files).status_code == 403
        assert not any((console.work_dir / "rosters").iterdir())
        number = "Y000011000001263000001"
        for path, data in (
            ("/batches/" + "a" * 64 + "/submit", {}),
            ("/batches/" + "a" * 64 + "/sign", {"passphrase": "x"}),
            (f"/certificates/{number}/confirm", {"action": "revoke", "reason": "r"}),
            (f"/certificates/{number}/status", {"action": "revoke", "reason": "r"}),
        ):
            refused = client.post(path, data=data | {"csrf_token": "wrong"})
            assert refused.status_code == 403 and "csrf_failed" in refused.text, path
        assert client.post("/upload", data={"csrf_token": console.guard.csrf}, files=files).status_code == 200


def test_an_institutions_console_cannot_touch_another_institutions_certificates(tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "roster.csv", roster_rows(1))
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        assert skillpass(*issue_args(world, roster, tmp_path / "out")).returncode == 4
        batch = journal_batch_id(tmp_path / "out")
        world.approve_all(batch)
        assert skillpass(*issue_args(world, roster, tmp_path / "out")).returncode == 0
        with RegistryClient(world.url, world.tokens["institution"]) as ours:
            [issued] = ours.issued(CODE)
        number, name = issued["certificate_number"], issued["holder_name"]
        assert "*" in issued["id_number_masked"]

        world.ok(
            "POST", "/api/v1/institutions", "admin", json=institution_record(OTHER, "中国核工业集团有限公司")
        )
        body = {"role": "institution", "institution_code": OTHER}
        other_token = world.ok("POST", "/api/v1/tokens", "admin", json=body)["token"]
        with RegistryClient(world.url, other_token) as theirs, pytest.raises(RegistryAuthError):
            theirs.issued(CODE)
        with running_console(world, tmp_path / "other", OTHER, other_token) as console:
            client = console.signed_in()
            listed = client.get("/certificates")
            assert listed.status_code == 200 and number not in listed.text
            data = {"action": "revoke", "reason": "not ours", "csrf_token": console.guard.csrf}
            uncategorised = client.post(f"/certificates/{number}/status", data=data)
            assert uncategorised.status_code == 422 and "reason_category_missing" in uncategorised.text
            for step in ("confirm", "status"):
                wordless = client.post(
                    f"/certificates/{number}/{step}", data=data | {"category": "other", "reason": " "}
                )
                assert wordless.status_code == 422 and "reason_missing" in wordless.text, step
            data["category"] = "fraud_found"
            refused = client.post(f"/certificates/{number}/status", data=data)
            assert refused.status_code == 404 and "not_found" in refused.text
        assert world.status(number, name) == "valid"


def test_the_console_listens_on_loopback_only(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text(
        '{"registry": "http://127.0.0.1:9", "institution_code": "Y000011000001", "token": "t"}', "utf-8"
    )
    (tmp_path / "credentials.json").chmod(0o600)
    (tmp_path / "institution.key").write_text("{}", "utf-8")
    ran = skillpass(
        "issuer", "console", "--host", "0.0.0.0",
        "--credentials", tmp_path / "credentials.json", "--key", tmp_path / "institution.key",
    )  # fmt: skip
    assert ran.returncode == 2
    assert "host_not_loopback" in ran.stdout + ran.stderr
