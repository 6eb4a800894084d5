"""Property: whatever Unicode a caller puts into any string of a request to the registry's JSON API
(NUL, lone surrogates, combining marks, bidi controls, anything), the answer is never a 5xx, a refusal
is our error JSON, and a refused request leaves the database exactly as it was. On SQLite and on
PostgreSQL, against a registry holding a published certificate."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harness.records import institution_record, uscc
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from test_registry_support import PASSPHRASE, Api, roster_row, running_registry, sign_row

from keys import Signer, to_jwk
from registry.app import create_app
from registry.schema import metadata
from registry.setup import init_registry

CODE, NUMBER_OF = "Y000011000001", "{number}"
TRACKING = "C0123456789AB"  # a complaint tracking number no complaint has
KEY = Signer.generate()
# Characters that have broken parsers and databases before, mixed into arbitrary text.
HOSTILE = ["\x00", "\ud800", "\udfff", "\u0301", "\u202e", "\u2066", "\ufeff", "\uffff", "\U0010ffff", "%00"]
ANY_TEXT = st.one_of(
    st.text(st.characters() | st.characters(categories=["Cs", "Cc", "Cf", "Mn"]), max_size=40),
    st.lists(st.sampled_from(HOSTILE) | st.text(max_size=3), max_size=6).map("".join),
)


def _templates(number: str, kid: str, qr: str) -> list[tuple[str, str, str | None, Any]]:
    """(method, path, token, body) of every JSON endpoint, each valid or nearly so."""
    scope = institution_record()["scopes"][0]
    base = f"/api/v1/institutions/{CODE}"
    return [
        ("POST", "/api/v1/institutions", "admin", institution_record("S000011000002")),
        ("POST", f"{base}/scopes", "admin", scope),
        ("POST", f"{base}/status", "admin", {"status": "active", "reason": "复核"}),
        ("POST", "/api/v1/tokens", "admin", {"role": "institution", "institution_code": CODE}),
        ("POST", "/api/v1/tokens/revoke", "admin", {"id": "0123456789ab", "reason": "lost"}),
        ("POST", f"{base}/keys", CODE, {"jwk": to_jwk(Signer.generate().public_key), "valid_from": "2026-06-15"}),
        ("POST", f"{base}/keys/{kid}/retire", CODE, {"retired": "2026-07-01"}),
        ("POST", f"{base}/keys/{kid}/revoke", CODE, {"revoked": "2026-06-15", "reason": "leaked"}),
        ("POST", "/api/v1/batches", CODE, {"batch_id": "P", "institution_code": CODE, "rows": [roster_row(5)]}),
        ("GET", "/api/v1/batches/B", CODE, None),
        ("POST", "/api/v1/batches/B/review", "reviewer", {"decisions": [{"row": 2, "approve": False, "reason": "缺考"}]}),
        ("POST", "/api/v1/batches/B/publish", CODE, {"credentials": [{"row": 1, "qr": qr}]}),
        ("POST", f"/api/v1/certificates/{number}/status", CODE, {"action": "suspend", "reason": "核查"}),
        ("POST", "/api/v1/certificates/query", None, {"certificate_number": number, "holder_name": "张三丰"}),
        ("POST", "/api/v1/certificates/query", None, {"id_number": roster_row(1)["id_number"], "holder_name": "张三丰"}),
        ("POST", f"/api/v1/certificates/{number}/confirm-holder", None, {"holder_name": "张三丰", "id_number": "1"}),
        ("GET", f"/api/v1/certificates/{number}/record", None, None),
        ("GET", f"/api/v1/institutions/{CODE}", None, None),
        ("GET", f"{base}/certificates", CODE, None),
        ("POST", f"{base}/keys/{kid}/revocation-correction", "admin", {"revoked": None, "reason": "误报"}),
        ("GET", "/api/v1/status-lists/1", None, None),
        ("POST", "/api/v1/complaints", None, {"category": "other", "description": "冒名", "contact": "", "challenge": "c", "nonce": "0"}),
        ("GET", f"/api/v1/complaints/{TRACKING}", None, None),
        ("GET", f"/api/v1/complaints/{TRACKING}/file", "admin", None),
        ("GET", f"/api/v1/complaints/{TRACKING}/evidence/1", "admin", None),
        ("POST", f"/api/v1/complaints/{TRACKING}/steps", "admin", {"state": "accepted", "reason": "受理"}),
        ("GET", f"{base}/credit", None, None),
        ("POST", f"{base}/credit", "admin", {"kind": "warning", "reason": "提醒", "reference": "函"}),
        ("POST", "/api/v1/supervision", "admin", {"institution_code": CODE, "day": "2026-06-15", "site": "考点", "findings": "良好", "rating": "good"}),
        ("GET", f"{base}/supervision", "admin", None),
        ("POST", f"{base}/supervision-rule", "admin", {"batch_needs_record": False}),
        ("POST", "/api/v1/employers", "admin", {"name": "甲公司", "uscc": uscc(7), "daily_quota": 50}),
        ("POST", "/api/v1/employers/1/quota", "admin", {"daily_quota": 50}),
        ("POST", "/api/v1/employers/lookup", "employer", {"queries": [{"certificate_number": number, "holder_name": "张三丰"}]}),
    ]  # fmt: skip


def _string_slots(value: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Where strings sit in a JSON value: ("value", *path) for values, ("key", *path) for names."""
    if isinstance(value, str):
        return [("value", *where)]
    if isinstance(value, dict):
        slots: list[tuple[Any, ...]] = []
        for k, v in value.items():
            slots.append(("key", *where, k))
            slots.extend(_string_slots(v, (*where, k)))
        return slots
    if isinstance(value, list):
        return [slot for i, v in enumerate(value) for slot in _string_slots(v, (*where, i))]
    return []


def _replaced(value: Any, slot: tuple[Any, ...], text: str) -> Any:
    kind, *path = slot
    if not path:
        return text
    head, *rest = path
    if isinstance(value, list):
        return [_replaced(v, (kind, *rest), text) if i == head else v for i, v in enumerate(value)]
    if kind == "key" and not rest:
        return {(text if k == head else k): v for k, v in value.items()}
    return {k: (_replaced(v, (kind, *rest), text) if k == head else v) for k, v in value.items()}


_FIXED = {
    "keys", "retire", "revoke", "revocation-correction", "scopes", "status", "review", "publish", "record",
    "confirm-holder", "certificates", "file", "evidence", "steps", "credit", "supervision", "supervision-rule",
    "quota", "lookup",
}  # fmt: skip


def _path_segments(path: str) -> list[int]:
    """Indices of the path segments after /api/v1/<collection>/ that a caller chooses (ids, codes)."""
    return [i for i, part in enumerate(path.split("/")) if i > 3 and part not in _FIXED]


def _fingerprint(url: str) -> Callable[[], str]:
    """A digest of every row of every registry table (read over a connection of its own)."""
    engine = create_engine(url)

    def digest() -> str:
        h = hashlib.sha256()
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table).order_by(*table.primary_key.columns)):
                    h.update(repr(tuple(row)).encode("utf-8", "backslashreplace"))
        return h.hexdigest()

    return digest


def _published(api: Api) -> tuple[str, str, str]:
    """A registry with one published certificate and one pending row; its number, key id and QR."""
    api.add_institution(CODE)
    body = {"jwk": to_jwk(KEY.public_key), "valid_from": "2024-01-01"}
    kid = str(api.ok("POST", f"/api/v1/institutions/{CODE}/keys", "admin", json=body)["kid"])
    rows = [roster_row(1), roster_row(2)]
    api.ok("POST", "/api/v1/batches", CODE, json={"batch_id": "B", "institution_code": CODE, "rows": rows})
    decisions = {"decisions": [{"row": 1, "approve": True}]}
    approved = api.ok("POST", "/api/v1/batches/B/review", "reviewer", json=decisions)["rows"][0]
    qr = sign_row(approved, rows[0]["id_number"], KEY)
    api.ok("POST", "/api/v1/batches/B/publish", CODE, json={"credentials": [{"row": 1, "qr": qr}]})
    employer = {"name": "乙公司", "uscc": uscc(8), "daily_quota": 1000}
    api.tokens["employer"] = api.ok("POST", "/api/v1/employers", "admin", json=employer)["token"]
    return str(approved["certificate"]["certificate_number"]), kid, qr


def _send(api: Api, method: str, path: str, token: str | None, body: Any) -> Any:
    if body is None:
        return api.call(method, path, token)
    data = json.dumps(body, ensure_ascii=True).encode("ascii")  # lone surrogates travel as \\udXXX
    return api.call(method, path, token, content=data, headers={"Content-Type": "application/json"})


def test_arbitrary_unicode_in_any_string_never_breaks_the_registry(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path, query_burst=10**9) as api:
        templates = _templates(*_published(api))
        fingerprint = _fingerprint(database_url)
        state = {"before": fingerprint()}

        @settings(max_examples=100)
        @given(st.data())
        def request_with_hostile_text(data: st.DataObject) -> None:
            method, path, token, body = data.draw(st.sampled_from(templates), "endpoint")
            text = data.draw(ANY_TEXT, "text")
            slots: list[Any] = [("path", i) for i in _path_segments(path)] + _string_slots(body)
            slot = data.draw(st.sampled_from(slots), "slot")
            if slot[0] == "path":
                parts = path.split("/")
                parts[slot[1]] = quote(text.encode("utf-8", "surrogatepass"), safe="")
                path = "/".join(parts)
            else:
                body = _replaced(body, slot, text)
            response = _send(api, method, path, token, body)
            assert response.status_code < 500, (method, path, body, response.text[:300])
            if response.status_code >= 400:
                assert set(response.json()) == {"code", "message_zh", "message_en", "details"}
                assert fingerprint() == state["before"], ("a refusal changed the database", path, body)
            else:
                state["before"] = fingerprint()

        request_with_hostile_text()


def test_every_route_taking_a_path_parameter_or_a_body_is_in_the_property_test(tmp_path: Path) -> None:
    """The property covers the API as it grows: a route of the OpenAPI document that takes a path
    parameter or a JSON body and has no template above fails here."""
    templates = _templates("A00001120260300001", "k" * 43, "SP1:x")
    made = init_registry(tmp_path / "registry", f"sqlite:///{tmp_path / 'r.sqlite3'}", PASSPHRASE)
    app = create_app(made.settings)
    try:
        paths = app.openapi()["paths"]
    finally:
        app.state.registry.db.dispose()
    routes = [
        (method.upper(), path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if path.startswith("/api/v1/") and ("{" in path or "requestBody" in operation)
    ]
    assert len(routes) > 20, routes  # the document was read
    missing = [
        (method, path)
        for method, path in routes
        if not any(
            m == method and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", path), p) for m, p, _, _ in templates
        )
    ]
    assert missing == []
