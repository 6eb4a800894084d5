"""The engine's verdicts, byte for byte, as they were before its hot path was reworked.

Every verdict below is judged from credentials signed with fixed seeds (Ed25519 signatures are
deterministic), so its JSON is the same on every run. ``verdict_digests.json`` holds the SHA-256
of each verdict's JSON (key order included) as the engine answered on 2026-11-29 before its
hot path was reworked; any change to what a verdict says, in any field or order, fails here.
The cases cover each outcome: valid ones over many distinct credentials (with and without a work
type, every level, holder confirmation offline and online), tampered bytes, a foreign or unknown
key, every window and status failure, stale trust data, no trust data and malformed text.

Regenerate only for an intended change of the verdict: ``.venv/bin/python
tests/test_verifier_verdict_golden.py --write``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from credential_fixtures import typical_claims

from credential import DEFAULT_LIMITS, MaskedId, encode, url_form
from credential.directory import (
    ACTIVE,
    REMOVED,
    SUSPENDED,
    Directory,
    Institution,
    KeyEntry,
    Scope,
    StatusChange,
)
from credential.qr_text import from_qr_text, to_qr_text
from credential.status_list import Status, StatusList
from keys import Signer
from verifier.engine import TrustData, verify
from verifier.verdict import HolderInput, RegistryRecord, Verdict

DIGESTS = Path(__file__).resolve().parent / "data" / "verdict_digests.json"
CODE = "Y000011000001"
NOW = 1_795_000_000  # 2026-11-18 07:46 UTC
KEY = Signer(bytes(range(32)))
OTHER = Signer(bytes(range(1, 33)))  # a key the directory does not know
LATER = Signer(bytes(range(2, 34)))  # a second key of the institution, with its own window
REVOKED_AT, SUSPENDED_AT, UNKNOWN_AT = 7, 9, 11


def _institution(code: str = CODE, **changes: Any) -> Institution:
    fields: dict[str, Any] = {
        "code": code,
        "name": "中国国家铁路集团有限公司",
        "uscc": "91100000000000000X",
        "category": "Y",
        "statuses": (StatusChange(ACTIVE, date(2020, 1, 1), 1),),
        "scopes": (
            Scope("6-31-01-03", "电工", (1, 2, 3, 4, 5), date(2020, 1, 1), None, ("--", "维修电工")),
            Scope("4-01-02-01", "快递员", (4, 5), date(2025, 1, 1), date(2026, 6, 30)),
        ),
        "keys": (
            KeyEntry(KEY.kid, KEY.public_key.raw, date(2020, 1, 1)),
            KeyEntry(
                LATER.kid, LATER.public_key.raw, date(2026, 1, 1), date(2026, 12, 31), None, date(2026, 10, 1)
            ),
        ),
    }
    return Institution(**(fields | changes))


def _trust(institution: Institution | None = None, *, expires_at: int = NOW + 86400,
           lists_expire_at: int = NOW + 86400, issued: dict[int, int] | None = None) -> TrustData:  # fmt: skip
    status_list = StatusList(2**20, 2)
    status_list.set(REVOKED_AT, Status.INVALID)
    status_list.set(SUSPENDED_AT, Status.SUSPENDED)
    status_list.set(UNKNOWN_AT, 3)
    directory = Directory(7, NOW - 3600, expires_at, (institution or _institution(),))
    return TrustData(directory, {0: status_list, 2: StatusList(16, 1)}, lists_expire_at, issued or {})


def _qr(signer: Signer = KEY, serial: int = 1, **changes: Any) -> str:
    issue = changes.get("issue_date", date(2026, 3, 2))
    level = changes.get("level", 3)
    number = f"{CODE}{issue.year % 100:02d}{level}{serial:06d}"
    fields = {"issue_date": issue, "certificate_number": number, "status_index": 1000 + serial} | changes
    return encode(typical_claims(**fields), signer)


def _tampered(text: str, at: int) -> str:
    data, _ = from_qr_text(text, DEFAULT_LIMITS)
    flipped = bytearray(data)
    flipped[at] ^= 0x01
    return to_qr_text(bytes(flipped))


def _cases() -> Iterator[tuple[str, Verdict]]:
    """Every case's name and verdict, in a fixed order."""
    trust = _trust()
    for serial in range(1, 41):  # distinct valid credentials: levels, work types, names, indices
        level = serial % 5 + 1
        work = "维修电工" if serial % 3 == 0 else "--"
        name = ["张三丰", "欧阳娜娜", "买买提·艾力", "李四"][serial % 4]
        masked = MaskedId.of(["11010519491231002X", "A1234567", "H12345678"][serial % 3])
        text = _qr(serial=serial, level=level, work_type=work, holder_name=name, id_masked=masked)
        yield f"valid-{serial}", verify(text, trust, NOW + serial * 1800)  # across midnight CST
    good = _qr()
    yield "url-form", verify(url_form(good, "https://verify.example.cn"), trust, NOW)
    yield "no-trust", verify(good, None, NOW)
    for at in (20, 40, -1):
        yield f"tampered-{at}", verify(_tampered(good, at), trust, NOW)
    yield "unknown-key", verify(_qr(OTHER), trust, NOW)
    yield "unknown-key-stale", verify(_qr(OTHER), trust, NOW + 2 * 86400)
    yield "bad-signature-stale", verify(_tampered(good, -1), trust, NOW + 2 * 86400)
    yield "directory-expired", verify(good, trust, NOW + 2 * 86400)
    yield "directory-within-skew", verify(good, trust, NOW + 86400 + 200)
    yield "lists-expired", verify(good, _trust(lists_expire_at=NOW - 1000), NOW)
    yield "lists-issued-at", verify(good, _trust(issued={0: NOW - 7200}), NOW)
    yield "future", verify(_qr(issue_date=date(2026, 11, 19)), trust, NOW)
    yield "later-key-not-yet-valid", verify(_qr(LATER, issue_date=date(2025, 6, 1)), trust, NOW)
    yield "later-key-revoked", verify(_qr(LATER, issue_date=date(2026, 10, 2)), trust, NOW)
    yield "later-key-valid-noted", verify(_qr(LATER, issue_date=date(2026, 9, 1)), trust, NOW)
    retired = _institution(
        keys=(KeyEntry(KEY.kid, KEY.public_key.raw, date(2020, 1, 1), None, date(2026, 1, 1)),)
    )
    yield "key-retired", verify(good, _trust(retired), NOW)
    expired = _institution(
        keys=(KeyEntry(KEY.kid, KEY.public_key.raw, date(2020, 1, 1), date(2025, 12, 31)),)
    )
    yield "key-expired", verify(good, _trust(expired), NOW)
    for status in (SUSPENDED, REMOVED):
        changes = (StatusChange(ACTIVE, date(2020, 1, 1), 1), StatusChange(status, date(2026, 1, 1), 2))
        yield f"institution-{status}", verify(good, _trust(_institution(statuses=changes)), NOW)
        later = (StatusChange(ACTIVE, date(2020, 1, 1), 1), StatusChange(status, date(2026, 5, 1), 2))
        yield f"institution-later-{status}", verify(good, _trust(_institution(statuses=later)), NOW)
    never = _institution(statuses=(StatusChange(ACTIVE, date(2027, 1, 1), 1),))
    yield "institution-not-active", verify(good, _trust(never), NOW)
    yield "occupation-out-of-scope", verify(_qr(occupation_code="2-02-10-09"), trust, NOW)
    yield (
        "scope-window-over",
        verify(_qr(occupation_code="4-01-02-01", level=4, issue_date=date(2026, 7, 1)), trust, NOW),
    )
    yield (
        "scope-in-window",
        verify(_qr(occupation_code="4-01-02-01", level=4, issue_date=date(2026, 2, 2)), trust, NOW),
    )
    yield (
        "level-out-of-scope",
        verify(_qr(occupation_code="4-01-02-01", level=2, issue_date=date(2026, 2, 2)), trust, NOW),
    )
    yield "work-type-out-of-scope", verify(_qr(work_type="焊工"), trust, NOW)
    odd = _institution(code="Y00001100000")
    yield "institution-code-malformed", verify(good, _trust(odd), NOW)
    yield "revoked", verify(_qr(status_index=REVOKED_AT), trust, NOW)
    yield "suspended", verify(_qr(status_index=SUSPENDED_AT), trust, NOW)
    yield "status-value-unknown", verify(_qr(status_index=UNKNOWN_AT), trust, NOW)
    yield "status-index-beyond", verify(_qr(status_list=2, status_index=16), trust, NOW)
    yield "status-list-missing", verify(_qr(status_list=5), trust, NOW)
    published = hashlib.sha256(from_qr_text(good, DEFAULT_LIMITS)[0]).hexdigest()
    number = f"{CODE}263000001"
    for status, category in (("valid", None), ("revoked", "fraud"), ("suspended", "no-such-category")):
        record = RegistryRecord(number, status, published, "2026-11-01", category)
        yield f"online-{status}", verify(good, trust, NOW, record=record)
    yield "online-missing", verify(good, trust, NOW, online=True)
    yield "online-mismatch", verify(good, trust, NOW, record=RegistryRecord(number, "valid", "00" * 32))
    yield "online-revoked-by-list", verify(_qr(status_index=REVOKED_AT), trust, NOW, online=True)
    holders = [HolderInput("张三丰", "11010519491231002x"), HolderInput("张三", "11010519491231002X"),
               HolderInput("张三丰", "110105194912310021"), HolderInput("李四", "1")]  # fmt: skip
    for i, holder in enumerate(holders):
        yield f"holder-offline-{i}", verify(good, trust, NOW, holder=holder)
        yield f"holder-online-{i}", verify(good, trust, NOW, holder=holder, holder_match=i == 0)
    for i, text in enumerate(
        ["", "https://example.cn/", "SP9:ABC", "SP2:", "SP2:%%%", "SP2:ABCD", good[:-6]]
    ):
        yield f"format-{i}", verify(text, trust, NOW)


def _digest(verdict: Verdict) -> str:
    return hashlib.sha256(json.dumps(verdict.to_json(), ensure_ascii=False).encode()).hexdigest()


def _answers() -> dict[str, str]:
    return {name: _digest(verdict) for name, verdict in _cases()}


def test_every_verdict_is_the_one_recorded() -> None:
    recorded = json.loads(DIGESTS.read_text(encoding="utf-8"))
    answers = _answers()
    assert list(answers) == list(recorded)
    assert [name for name in answers if answers[name] != recorded[name]] == []


@pytest.mark.parametrize("name", ["valid-1", "revoked", "tampered-20", "format-0"])
def test_the_cases_are_what_their_names_say(name: str) -> None:
    verdict = dict(_cases())[name]
    expected = {
        "valid-1": "valid",
        "revoked": "revoked",
        "tampered-20": "invalid",
        "format-0": "unrecognized",
    }
    assert verdict.outcome == expected[name]


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    DIGESTS.parent.mkdir(exist_ok=True)
    DIGESTS.write_text(json.dumps(_answers(), indent=1) + "\n", encoding="utf-8")
