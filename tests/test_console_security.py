"""The console's guards, checked over every console route the app has (so pages added later are
covered too): no session → sign-in page; a state-changing request without the session's CSRF
token → refused and nothing changes; a reviewer cannot use admin actions; five failed sign-ins in
fifteen minutes lock the account for fifteen minutes; the idle timeout; passwords never appear in
the audit log or the server's output; cookies are HttpOnly and SameSite=Strict."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import httpx
from console_support import PASSWORDS, Console, add_staff, csrf_of
from fastapi.responses import Response
from harness.servers import free_port, run_process_server
from starlette.requests import Request
from test_registry_support import PASSPHRASE, Api, roster_row, running_registry

from registry.console import PAGE_MODULES, sessions
from registry.console.auth import set_cookie

CODE = "Y000011000001"
_PARAM = re.compile(r"\{([a-z_]+)(:[a-z]+)?\}")
_SAMPLE = {
    "code": CODE,
    "batch_pk": "1",
    "row_no": "1",
    "kid": "AAAAAAAAAAA",
    "number": "Y00001100000126300000",
}
_PUBLIC = {"/console/login"}


def _console_routes() -> list[tuple[str, str]]:
    """(method, path with sample parameters) of every route of every console page module."""
    found: list[tuple[str, str]] = []
    for name in PAGE_MODULES:
        for route in import_module(name).router.routes:
            path = getattr(route, "path", "")
            if path in _PUBLIC:
                continue
            assert path.startswith("/console/"), path
            concrete = _PARAM.sub(lambda m: _SAMPLE.get(m.group(1), "1"), path)
            found.extend(
                (m, concrete) for m in sorted(getattr(route, "methods", set())) if m in ("GET", "POST")
            )
    return found


def _audit_size(api: Api) -> int:
    size: int = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
    return size


def test_the_walk_covers_pages_and_actions() -> None:
    routes = _console_routes()
    assert ("GET", "/console/review") in routes and ("POST", "/console/review/1/approve-all") in routes
    assert ("POST", "/console/logout") in routes and ("POST", "/console/password") in routes


def test_without_a_session_every_console_route_goes_to_sign_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    with (
        running_registry(url, tmp_path) as api,
        httpx.Client(base_url=api.url, follow_redirects=False) as client,
    ):
        for method, path in _console_routes():
            response = client.request(method, path, data={"csrf_token": "x"} if method == "POST" else None)
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/console/login?next="), (method, path)
        client.cookies.set("skillpass_console", "forged-session-token", path="/console")
        assert client.get("/console/review").status_code == 303


def test_every_state_changing_request_needs_the_sessions_csrf_token(tmp_path: Path) -> None:
    with running_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as api:
        api.add_institution(CODE)
        body = {"batch_id": "B-1", "institution_code": CODE, "rows": [roster_row(1)]}
        api.ok("POST", "/api/v1/batches", CODE, json=body)
        add_staff(api, "li.admin", "admin")
        other = Console(api)
        add_staff(api, "other.admin", "admin")
        assert other.sign_in("other.admin", PASSWORDS["admin"]).status_code == 303
        console = Console(api)
        assert console.sign_in("li.admin", PASSWORDS["admin"]).status_code == 303
        before = _audit_size(api)
        for method, path in _console_routes():
            if method != "POST":
                continue
            for token in ("", "wrong-token", other.csrf):
                response = console.post(path, {"decision": "approve", "reason": "x"}, csrf=token)
                assert response.status_code == 403, (path, token, response.status_code)
                assert "表单已过期或来源不明" in response.text
        assert _audit_size(api) == before
        assert api.ok("GET", "/api/v1/batches/B-1", "admin")["rows"][0]["state"] == "pending"
        assert console.get("/console/").status_code == 200  # still signed in: the logout was refused too
        with httpx.Client(base_url=api.url, follow_redirects=False, timeout=30) as fresh:
            form = fresh.get("/console/login")
            data = {"username": "li.admin", "password": PASSWORDS["admin"], "csrf_token": csrf_of(form.text)}
            fresh.cookies.clear()  # the form's token without its cookie: a cross-site login
            assert fresh.post("/console/login", data=data).status_code == 403
        console.close()
        other.close()


def test_a_reviewer_cannot_use_admin_actions(tmp_path: Path) -> None:
    with running_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as api:
        api.add_institution(CODE)
        add_staff(api, "wang.reviewer", "reviewer")
        add_staff(api, "zhou.supervisor", "supervisor")
        reviewer = Console(api)
        assert reviewer.sign_in("wang.reviewer", PASSWORDS["reviewer"]).status_code == 303
        supervisor = Console(api)
        assert supervisor.sign_in("zhou.supervisor", PASSWORDS["supervisor"]).status_code == 303
        before = _audit_size(api)
        for path in ADMIN_ACTIONS:
            refused = reviewer.post(path, ADMIN_FORM)
            assert refused.status_code == 403 and "无权执行此操作" in refused.text, path
        for path in ADMIN_PAGES:
            assert reviewer.get(path).status_code == 403, path
        for method, path in _console_routes():  # a supervisor records visits and their own password only
            if method == "POST" and path not in SUPERVISOR_ACTIONS:
                assert supervisor.post(path, ADMIN_FORM).status_code == 403, path
        assert (
            "接口令牌" not in reviewer.get("/console/").text
        )  # the navigation hides what the role cannot open
        assert supervisor.post("/console/review/1/approve-all").status_code == 403
        assert _audit_size(api) == before
        reviewer.close()
        supervisor.close()


def test_five_failures_in_fifteen_minutes_lock_the_account(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        add_staff(api, "li.admin", "admin")
        console = Console(api)
        for _ in range(4):
            assert console.sign_in("li.admin", "wrong-password-00").status_code == 401
        api.clock.advance(minutes=16)  # the window moved on: these four no longer count
        for _ in range(4):
            assert console.sign_in("li.admin", "wrong-password-00").status_code == 401
        assert console.sign_in("li.admin", PASSWORDS["admin"]).status_code == 303  # and success resets
        console = Console(api)
        for _ in range(5):
            assert console.sign_in("li.admin", "wrong-password-00").status_code == 401
        locked = console.sign_in("li.admin", PASSWORDS["admin"])
        assert locked.status_code == 423 and "账号已锁定" in locked.text
        api.clock.advance(minutes=14)
        assert console.sign_in("li.admin", PASSWORDS["admin"]).status_code == 423
        api.clock.advance(minutes=1)
        assert console.sign_in("li.admin", PASSWORDS["admin"]).status_code == 303
        console.close()


def test_idle_sessions_end_and_cookies_are_strict(tmp_path: Path) -> None:
    with running_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as api:
        add_staff(api, "li.admin", "admin")
        console = Console(api)
        form = console.get("/console/login")
        assert "HttpOnly" in form.headers["set-cookie"] and "SameSite=strict" in form.headers["set-cookie"]
        signed = console.sign_in("li.admin", PASSWORDS["admin"])
        cookie = signed.headers["set-cookie"]
        assert "skillpass_console=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Path=/console" in cookie and "Secure" not in cookie  # plain HTTP on loopback
        api.clock.advance(seconds=sessions.IDLE_TIMEOUT - 60)
        assert console.get("/console/").status_code == 200  # activity keeps the session alive
        api.clock.advance(seconds=sessions.IDLE_TIMEOUT - 60)
        assert console.get("/console/").status_code == 200
        api.clock.advance(seconds=sessions.IDLE_TIMEOUT)
        assert console.get("/console/").status_code == 303
        console.close()


def test_cookies_are_secure_behind_tls() -> None:
    """The scheme comes from the ASGI scope (uvicorn sets it from the proxy's X-Forwarded-Proto)."""
    scope = {"type": "http", "scheme": "https", "path": "/console/login", "headers": [], "query_string": b""}
    response = Response()
    set_cookie(response, Request(scope), "skillpass_console", "t", 60)
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_passwords_never_reach_the_logs(tmp_path: Path) -> None:
    skillpass = str(Path(sys.executable).with_name("skillpass"))
    data_dir = tmp_path / "registry"
    env = {**os.environ, "SKILLPASS_KEY_PASSPHRASE": PASSPHRASE}
    subprocess.run(
        [skillpass, "registry", "init", "--data-dir", str(data_dir)], env=env, check=True, capture_output=True
    )
    secret = "very-secret-password-42"
    made = subprocess.run(
        [
            skillpass,
            "registry",
            "admin",
            "create-user",
            "--data-dir",
            str(data_dir),
            "--username",
            "li.admin",
            "--role",
            "admin",
        ],
        env=env,
        input=secret + "\n",
        text=True,
        capture_output=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    weak = subprocess.run(
        [
            skillpass,
            "registry",
            "admin",
            "create-user",
            "--data-dir",
            str(data_dir),
            "--username",
            "zhang",
            "--role",
            "reviewer",
        ],
        env=env,
        input="short\n",
        text=True,
        capture_output=True,
        check=False,
    )
    assert weak.returncode != 0 and "password_weak" in weak.stderr + weak.stdout
    port = free_port()
    log = tmp_path / "serve.log"
    argv = [
        "sh",
        "-c",
        f'exec "{skillpass}" registry serve --data-dir "{data_dir}" --port {port} --access-log >"{log}" 2>&1',
    ]
    url = f"http://127.0.0.1:{port}"
    with run_process_server(argv, f"{url}/healthz", env={"SKILLPASS_KEY_PASSPHRASE": PASSPHRASE}):
        api = Api(url, None, data_dir)  # type: ignore[arg-type]
        console = Console(api)
        assert console.sign_in("li.admin", "typo-" + secret).status_code == 401
        assert console.sign_in(secret, secret).status_code == 401  # a password typed as the user name
        assert console.sign_in("li.admin", secret).status_code == 303
        new = "another-secret-password-43"
        assert (
            console.post("/console/password", {"current": secret, "new": new, "repeat": new}).status_code
            == 303
        )
        size = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
        entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": size})["entries"]
        console.close()
    logged = log.read_text(encoding="utf-8")
    assert "POST /console/login" in logged  # the access log was written and read
    audit = json.dumps(entries)
    for text in (made.stdout, made.stderr, logged, audit):
        assert secret not in text and new not in text


ADMIN_PAGES = ["/console/tokens", "/console/institutions/new"]
ADMIN_ACTIONS = [
    "/console/institutions",
    f"/console/institutions/{CODE}/scopes",
    f"/console/institutions/{CODE}/status",
    "/console/tokens",
    "/console/tokens/revoke",
    f"/console/supervision/{CODE}/sanctions",
    f"/console/supervision/{CODE}/rule",
]
SUPERVISOR_ACTIONS = ("/console/logout", "/console/password", f"/console/supervision/{CODE}/visits")
ADMIN_FORM = {
    "status": "suspended",
    "reason": "x",
    "role": "admin",
    "name": "x",
    "id": "000000000000",
    "decision": "approve",
}
