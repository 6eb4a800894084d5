"""The verifier engine: every check's failure produced for real, in DESIGN's order, and the
fail-closed rules for missing or stale trust data.

Trust data is built in-process (keys generated once per module, Directory and StatusList
objects constructed directly), so these tests depend on nothing but credential/ and keys/.
``World`` is reused by the trust-store and CLI tests.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import cbor2
import pytest
from credential_fixtures import typical_claims

from common.calendar import cst_minute
from credential import encode
from credential.constants import DEFAULT_LIMITS, TAG_COSE_SIGN1
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
from verifier.engine import CLOCK_SKEW, TrustData, verify
from verifier.messages import FAILURES
from verifier.verdict import CHECK_CODES, HolderInput, RegistryRecord, Verdict, make_verdict

CODE = "Y000011000001"
NAME = "中国国家铁路集团有限公司"
ISSUE = date(2026, 11, 24)  # the typical claims' issue date
DAY = timedelta(days=1)
NOW = int(datetime(2026, 11, 25, 8, tzinfo=UTC).timestamp())
INDEX = 123456  # the typical claims' status index


class World:
    """An institution with one key, a registry key, and builders for trust data and credentials."""

    def __init__(self) -> None:
        self.registry = Signer.generate()
        self.key = Signer.generate()

    def key_entry(self, **changes: Any) -> KeyEntry:
        fields: dict[str, Any] = {"kid": self.key.kid, "public_key": self.key.public_key.raw,
                                  "valid_from": date(2020, 1, 1)}  # fmt: skip
        return KeyEntry(**(fields | changes))

    def institution(self, **changes: Any) -> Institution:
        fields: dict[str, Any] = {
            "code": CODE,
            "name": NAME,
            "uscc": "91100000000000000X",
            "category": "Y",
            "statuses": (StatusChange(ACTIVE, date(2020, 1, 1), 1),),
            "scopes": (Scope("6-31-01-03", "电工", (3, 4, 5), date(2020, 1, 1), None, ("--", "维修电工")),),
            "keys": (self.key_entry(),),
        }
        return Institution(**(fields | changes))

    def directory(
        self,
        *institutions: Institution,
        sequence: int = 1,
        issued_at: int = NOW - 3600,
        expires_at: int = NOW + 86400,
    ) -> Directory:
        return Directory(sequence, issued_at, expires_at, institutions or (self.institution(),))

    def trust(
        self,
        directory: Directory | None = None,
        statuses: dict[int, int] | None = None,
        lists_expire_at: int = NOW + 86400,
        size: int = 2**20,
    ) -> TrustData:
        status_list = StatusList(size, 2)
        for index, value in (statuses or {}).items():
            status_list.set(index, value)
        return TrustData(directory or self.directory(), {0: status_list}, lists_expire_at)

    def qr(self, signer: Signer | None = None, **changes: Any) -> str:
        return encode(typical_claims(**changes), signer or self.key)


@pytest.fixture(scope="module")
def world() -> World:
    return World()


def _failed(verdict: Verdict) -> tuple[str, str, str]:
    """(outcome, code, the failing check's code) — and the checks around it are in order."""
    assert [c.code for c in verdict.checks] == list(CHECK_CODES[: len(verdict.checks)])
    failed = [i for i, c in enumerate(verdict.checks) if c.outcome == "fail"]
    assert len(failed) == 1, verdict.checks
    at = failed[0]
    assert all(c.outcome == "pass" for c in verdict.checks[:at])
    assert all(c.outcome == "not_run" for c in verdict.checks[at + 1 :])
    check = verdict.checks[at]
    assert check.failure_code == verdict.code and check.message_zh and check.message_en
    assert not verdict.valid and verdict.message_zh and verdict.message_en
    return verdict.outcome, verdict.code, check.code


def test_valid_credential_passes_all_eight_checks(world: World) -> None:
    verdict = verify(world.qr(), world.trust(), NOW)
    assert (verdict.result, verdict.valid, verdict.code, verdict.mode) == ("valid", True, "valid", "offline")
    assert [(c.code, c.outcome) for c in verdict.checks] == [(code, "pass") for code in CHECK_CODES[:8]]
    assert verdict.institution == {"code": CODE, "name": NAME}
    assert verdict.credential is not None
    assert verdict.credential["occupation_name"] == "电工"
    assert verdict.credential["level_name"] == "三级/高级工"
    assert verdict.credential["id_number_masked"] == "**************002X"
    assert "11010519491231002X" not in str(verdict.to_json())
    assert (verdict.trust_as_of, verdict.trust_age_seconds) == (NOW - 3600, 3600)


def test_to_json_has_the_documented_keys(world: World) -> None:
    body = verify(world.qr(), world.trust(), NOW).to_json()
    assert set(body) == {"outcome", "outcome_label", "valid", "result", "code", "message_zh", "message_en",
                         "checks", "credential", "institution", "trust_as_of", "trust_age_seconds", "mode",
                         "holder_confirmation", "notes", "status", "verified_at", "trust_version",
                         "verifier_host"}  # fmt: skip
    assert body["outcome_label"] == {"zh": "有效", "en": "Valid", "symbol": "✓"}
    assert (body["verified_at"], body["trust_version"]) == (NOW, world.trust().directory.sequence)
    assert set(body["checks"][0]) == {"code", "outcome", "failure_code", "message_zh", "message_en"}


def test_fast_verdict_construction_equals_the_dataclass_constructor(world: World) -> None:
    verdict = verify(world.qr(), world.trust(), NOW)
    rebuilt = Verdict(**{f.name: getattr(verdict, f.name) for f in dataclasses.fields(Verdict)})
    assert rebuilt == verdict
    assert make_verdict("revoked", "x", ("a", "b"), (), None, None, None, None, "offline", None) == Verdict(
        "revoked", "invalid", False, "x", "a", "b", (), None, None, None, None, "offline"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.valid = False  # type: ignore[misc]


# --- (1) format -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "outcome"),
    [
        ("", "qr_empty", "unrecognized"),
        ("HC1:NCFOXN", "prefix_missing", "unrecognized"),  # someone else's QR: not a finding of forgery
        ("https://example.org/menu", "prefix_missing", "unrecognized"),
        ("SP9:ABC", "prefix_version", "unrecognized"),
        ("SP2:A", "base45_invalid", "invalid"),  # ours, but damaged or altered
    ],
)
def test_format_failures_without_trust_too(world: World, text: str, code: str, outcome: str) -> None:
    for trust in (world.trust(), None):
        verdict = verify(text, trust, NOW)
        assert _failed(verdict) == (outcome, code, "format")
        assert verdict.credential is None and verdict.institution is None
        assert verdict.result == ("indeterminate" if outcome == "unrecognized" else "invalid")
        if outcome == "unrecognized":
            assert "未识别为证书" in verdict.message_zh and "无效" not in verdict.message_zh
            assert "not mean a forgery" in verdict.message_en


# --- (2) key known, (3) signature -----------------------------------------------------------


def tampered(text: str) -> str:
    """The same signature over a payload with the holder's name changed (a forged edit)."""
    data, _ = from_qr_text(text, DEFAULT_LIMITS)
    protected, unprotected, payload, signature = cbor2.loads(data).value
    claims = cbor2.loads(payload)
    claims[-65537][4] = "李四"
    body = [protected, unprotected, cbor2.dumps(claims), signature]
    return to_qr_text(cbor2.dumps(cbor2.CBORTag(TAG_COSE_SIGN1, body)))


def test_tampered_payload_fails_the_signature(world: World) -> None:
    verdict = verify(tampered(world.qr()), world.trust(), NOW)
    assert _failed(verdict) == ("invalid", "signature_invalid", "signature")
    assert verdict.credential is not None and verdict.credential["holder_name"] == "李四"


def test_unknown_kid(world: World) -> None:
    verdict = verify(world.qr(Signer.generate()), world.trust(), NOW)
    assert _failed(verdict) == ("invalid", "key_unknown", "key_known")
    assert verdict.institution is None


def test_directory_entry_whose_kid_is_not_its_key_vouches_for_nothing(world: World) -> None:
    other = Signer.generate()
    forged = world.key_entry(kid=world.key.kid, public_key=other.public_key.raw)
    trust = world.trust(world.directory(world.institution(keys=(forged,))))
    assert _failed(verify(world.qr(), trust, NOW))[1] == "key_unknown"
    assert _failed(verify(world.qr(other), trust, NOW))[1] == "key_unknown"


# --- (4) key valid at the issue date ---------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"retired": ISSUE - DAY}, "key_retired"),
        ({"revoked": ISSUE - DAY}, "key_revoked"),
        ({"revoked": ISSUE}, "key_revoked"),  # compromise from that day: fail closed
        ({"valid_from": ISSUE + DAY}, "key_not_yet_valid"),
        ({"valid_until": ISSUE - DAY}, "key_expired"),
        ({"retired": ISSUE - DAY, "revoked": ISSUE - 2 * DAY}, "key_revoked"),  # revoked wins over retired
    ],
)
def test_key_outside_its_window(world: World, changes: dict[str, date], code: str) -> None:
    trust = world.trust(world.directory(world.institution(keys=(world.key_entry(**changes),))))
    assert _failed(verify(world.qr(), trust, NOW)) == ("invalid", code, "key_valid")


@pytest.mark.parametrize("changes", [{"retired": ISSUE}, {"retired": ISSUE + DAY}, {"revoked": ISSUE + DAY}])
def test_key_retired_or_revoked_after_the_issue_date_still_vouches(
    world: World, changes: dict[str, date]
) -> None:
    trust = world.trust(world.directory(world.institution(keys=(world.key_entry(**changes),))))
    verdict = verify(world.qr(), trust, NOW)
    assert verdict.valid
    expected = ["key_later_revoked"] if "revoked" in changes else []
    assert [note["code"] for note in verdict.to_json()["notes"]] == expected


def test_a_later_revoked_key_needs_no_caveat_online(world: World) -> None:
    text = world.qr()
    trust = world.trust(world.directory(world.institution(keys=(world.key_entry(revoked=ISSUE + DAY),))))
    verdict = verify(text, trust, NOW, record=_record(text))
    assert verdict.valid and verdict.notes == ()


def test_an_issue_date_in_the_future_is_invalid(world: World) -> None:
    text = world.qr(issue_date=date(2026, 11, 27))
    assert _failed(verify(text, world.trust(), NOW)) == ("invalid", "issue_date_future", "key_valid")


def test_the_issue_date_is_read_on_the_registrys_calendar(world: World) -> None:
    """20:00 UTC on the 24th is already the 25th in Beijing, where the registry dates certificates."""
    evening_utc = int(datetime(2026, 11, 24, 20, tzinfo=UTC).timestamp())
    assert verify(world.qr(issue_date=date(2026, 11, 25)), world.trust(), evening_utc).valid
    late = verify(world.qr(issue_date=date(2026, 11, 26)), world.trust(), evening_utc)
    assert late.code == "issue_date_future"


# --- (5) institution active at the issue date ------------------------------------------------


def _history(*changes: tuple[str, date, int]) -> tuple[StatusChange, ...]:
    return tuple(StatusChange(status, effective, recorded) for status, effective, recorded in changes)


@pytest.mark.parametrize(
    ("history", "code"),
    [
        (_history((ACTIVE, date(2020, 1, 1), 1), (SUSPENDED, ISSUE - DAY, 2)), "institution_suspended"),
        (_history((ACTIVE, date(2020, 1, 1), 1), (REMOVED, ISSUE - DAY, 2)), "institution_removed"),
        # retroactive removal: recorded later, effective before the issue date
        (_history((ACTIVE, date(2020, 1, 1), 1), (REMOVED, ISSUE - 30 * DAY, NOW)), "institution_removed"),
        (_history((ACTIVE, ISSUE + DAY, 1)), "institution_not_active"),
    ],
)
def test_institution_not_active_on_the_issue_date(
    world: World, history: tuple[StatusChange, ...], code: str
) -> None:
    trust = world.trust(world.directory(world.institution(statuses=history)))
    assert _failed(verify(world.qr(), trust, NOW)) == ("invalid", code, "institution_active")


def test_a_key_outside_its_window_is_named_before_the_institutions_standing(world: World) -> None:
    """Both (4) and (5) fail: the verdict names (4), the first failure in DESIGN's order."""
    history = _history((ACTIVE, date(2020, 1, 1), 1), (SUSPENDED, ISSUE - DAY, 2))
    institution = world.institution(statuses=history, keys=(world.key_entry(valid_until=ISSUE - DAY),))
    verdict = verify(world.qr(), world.trust(world.directory(institution)), NOW)
    assert _failed(verdict) == ("invalid", "key_expired", "key_valid")
    assert verdict.checks[4].outcome == "not_run"


@pytest.mark.parametrize(
    ("history", "notes"),
    [
        # removal is prospective: still valid, but offline a forgery with its key cannot be ruled out
        (_history((ACTIVE, date(2020, 1, 1), 1), (REMOVED, ISSUE + DAY, 2)), ["institution_later_removed"]),
        (
            _history(
                (ACTIVE, date(2020, 1, 1), 1), (SUSPENDED, ISSUE - 9 * DAY, 2), (ACTIVE, ISSUE - DAY, 3)
            ),
            [],
        ),
        # a removal announced for a day still to come is not in force yet
        (_history((ACTIVE, date(2020, 1, 1), 1), (REMOVED, ISSUE + 9 * DAY, 2)), []),
    ],
)
def test_institution_removed_after_or_reinstated_before_the_issue_date_is_valid(
    world: World, history: tuple[StatusChange, ...], notes: list[str]
) -> None:
    trust = world.trust(world.directory(world.institution(statuses=history)))
    verdict = verify(world.qr(), trust, NOW)
    assert verdict.valid and [note["code"] for note in verdict.notes] == notes


def test_every_later_withdrawal_is_noted_offline_and_none_online(world: World) -> None:
    text = world.qr()
    removed = _history((ACTIVE, date(2020, 1, 1), 1), (REMOVED, ISSUE + DAY, 2))
    institution = world.institution(statuses=removed, keys=(world.key_entry(revoked=ISSUE + DAY),))
    trust = world.trust(world.directory(institution))
    offline = verify(text, trust, NOW)
    assert [note["code"] for note in offline.notes] == ["key_later_revoked", "institution_later_removed"]
    assert all(note["message_zh"] and note["message_en"] for note in offline.notes)
    online = verify(text, trust, NOW, record=_record(text))
    assert online.valid and online.notes == ()


# --- (6) scope -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "claims", "code"),
    [
        (Scope("4-01-02-01", "其他", (3,), date(2020, 1, 1)), {}, "occupation_out_of_scope"),
        (Scope("6-31-01-03", "电工", (4, 5), date(2020, 1, 1)), {}, "level_out_of_scope"),
        (Scope("6-31-01-03", "电工", (3,), date(2020, 1, 1), ISSUE - DAY), {}, "occupation_out_of_scope"),
        (Scope("6-31-01-03", "电工", (3,), ISSUE + DAY), {}, "occupation_out_of_scope"),
        (
            Scope("6-31-01-03", "电工", (3,), date(2020, 1, 1)),
            {"work_type": "高压电工"},
            "work_type_out_of_scope",
        ),
    ],
)
def test_out_of_scope_on_the_issue_date(
    world: World, scope: Scope, claims: dict[str, Any], code: str
) -> None:
    trust = world.trust(world.directory(world.institution(scopes=(scope,))))
    assert _failed(verify(world.qr(**claims), trust, NOW)) == ("invalid", code, "scope")


def test_work_type_in_scope_is_valid(world: World) -> None:
    verdict = verify(world.qr(work_type="维修电工"), world.trust(), NOW)
    assert verdict.valid and verdict.credential is not None and verdict.credential["work_type"] == "维修电工"


# --- (7) certificate number ------------------------------------------------------------------


def test_certificate_number_is_rebuilt_from_the_signer_and_the_claims(world: World) -> None:
    """Only the serial travels: whatever prefix the issuer had in mind, the number is the signer's."""
    verdict = verify(world.qr(certificate_number="S000065999999263000001"), world.trust(), NOW)
    assert verdict.valid and verdict.credential is not None
    assert verdict.credential["certificate_number"] == f"{CODE}263000001"


@pytest.mark.parametrize(
    "number",
    [
        "Y000011000001264000001",  # level digit 4, claims say 3
        "Y000011000001253000001",  # year 25, issued 2026
        "Y000011000001263000000",  # no serial
    ],
)
def test_a_number_that_disagrees_with_the_claims_cannot_be_signed(world: World, number: str) -> None:
    with pytest.raises(ValueError):
        world.qr(certificate_number=number)


# --- (8) status ------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "code"), [(Status.INVALID, "revoked"), (Status.SUSPENDED, "suspended")])
def test_revoked_and_suspended(world: World, value: int, code: str) -> None:
    trust = world.trust(statuses={INDEX: value})
    verdict = verify(world.qr(), trust, NOW)
    assert _failed(verdict) == (code, code, "status")
    assert verdict.result == "invalid" and not verdict.valid
    assert verdict.message_zh.startswith("证书真实，但已被")  # genuine: the list gives no date
    as_of = cst_minute(trust.status_list_time(0))
    assert (
        f"以 {as_of} 的状态列表为准" in verdict.message_zh
        and f"as of the status list of {as_of}" in verdict.message_en
    )
    assert verdict.status == {"value": code, "source": "status_list", "as_of": trust.status_list_time(0),
                              "date": None, "reason_category": None, "reason_zh": None, "reason_en": None}  # fmt: skip


def test_offline_status_line_says_as_of_the_list(world: World) -> None:
    trust = world.trust()
    verdict = verify(world.qr(), trust, NOW)
    status = next(c for c in verdict.checks if c.code == "status")
    assert status.outcome == "pass"
    assert f"以 {cst_minute(trust.status_list_time(0))} 的状态列表为准" in status.message_zh


def test_other_entries_of_the_list_do_not_matter(world: World) -> None:
    trust = world.trust(statuses={INDEX - 1: Status.INVALID, INDEX + 1: Status.SUSPENDED})
    assert verify(world.qr(), trust, NOW).valid


def test_unknown_status_value_list_or_index_is_indeterminate(world: World) -> None:
    assert _failed(verify(world.qr(), world.trust(statuses={INDEX: 3}), NOW)) == (
        "indeterminate", "status_unknown", "status")  # fmt: skip
    assert _failed(verify(world.qr(status_list=5), world.trust(), NOW)) == (
        "indeterminate",
        "trust_missing",
        "status",
    )
    assert _failed(verify(world.qr(), world.trust(size=1024), NOW)) == (
        "indeterminate",
        "status_unknown",
        "status",
    )


def test_an_index_equal_to_the_list_size_is_indeterminate(world: World) -> None:
    """The first index past the end: no exception, no entry read, an *indeterminate* verdict."""
    verdict = verify(world.qr(), world.trust(size=INDEX), NOW)
    assert _failed(verdict) == ("indeterminate", "status_unknown", "status")
    assert f"index {INDEX}" in verdict.checks[7].message_en
    assert verify(world.qr(), world.trust(size=INDEX + 1), NOW).valid  # the last index of a list


# --- trust data missing or stale -------------------------------------------------------------


def test_no_trust_data_is_indeterminate_never_valid(world: World) -> None:
    verdict = verify(world.qr(), None, NOW)
    assert _failed(verdict) == ("indeterminate", "trust_missing", "key_known")
    assert verdict.trust_as_of is None and verdict.credential is not None


def test_expired_directory_is_indeterminate(world: World) -> None:
    trust = world.trust(world.directory(expires_at=NOW - CLOCK_SKEW - 1))
    verdict = verify(world.qr(), trust, NOW)
    assert _failed(verdict) == ("indeterminate", "trust_expired", "key_valid")
    assert verdict.trust_age_seconds == 3600


def test_expiry_tolerates_the_clock_skew(world: World) -> None:
    trust = world.trust(world.directory(expires_at=NOW - CLOCK_SKEW), lists_expire_at=NOW - CLOCK_SKEW)
    assert verify(world.qr(), trust, NOW).valid


def test_expired_directory_still_convicts_a_bad_signature(world: World) -> None:
    trust = world.trust(world.directory(expires_at=NOW - 86400))
    assert _failed(verify(tampered(world.qr()), trust, NOW)) == ("invalid", "signature_invalid", "signature")
    assert _failed(verify(world.qr(Signer.generate()), trust, NOW)) == (
        "indeterminate", "trust_expired", "key_known")  # fmt: skip


def test_expired_status_lists_make_only_the_status_indeterminate(world: World) -> None:
    stale = NOW - CLOCK_SKEW - 1
    assert _failed(verify(world.qr(), world.trust(lists_expire_at=stale), NOW)) == (
        "indeterminate", "trust_expired", "status")  # fmt: skip
    revoked_key = world.directory(world.institution(keys=(world.key_entry(revoked=ISSUE),)))
    assert _failed(verify(world.qr(), world.trust(revoked_key, lists_expire_at=stale), NOW))[:2] == (
        "invalid", "key_revoked")  # fmt: skip


# --- (9) online: the registry's record -------------------------------------------------------


def _record(
    text: str, status: str = "valid", number: str = "Y000011000001263000001", **detail: str
) -> RegistryRecord:
    digest = hashlib.sha256(from_qr_text(text, DEFAULT_LIMITS)[0]).hexdigest()
    return RegistryRecord(number, status, digest, **detail)


def test_online_record_matches(world: World) -> None:
    text = world.qr()
    verdict = verify(text, world.trust(), NOW, record=_record(text))
    assert (verdict.result, verdict.mode, len(verdict.checks)) == ("valid", "online", 9)
    assert verdict.checks[8].outcome == "pass"


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ("other_bytes", "record_mismatch"),
        ("other_number", "record_mismatch"),
        (None, "record_missing"),
    ],
)
def test_online_record_disagrees(world: World, record: str | None, code: str) -> None:
    text = world.qr()
    registry: RegistryRecord | None = {
        "other_bytes": _record(world.qr(holder_name="王五")),
        "other_number": _record(text, number="Y000011000001263000002"),
        None: None,
    }[record]
    verdict = verify(text, world.trust(), NOW, record=registry, online=True)
    assert _failed(verdict) == ("invalid", code, "registry_record")


@pytest.mark.parametrize("status", ["revoked", "suspended"])
def test_online_the_registry_decides_the_status_line(world: World, status: str) -> None:
    """Just after a revocation the status list still says valid: the registry's answer wins, on the
    status line itself, with the day and the reason category."""
    text = world.qr()
    record = _record(text, status, status_date="2026-09-20", reason_category="fraud_found")
    verdict = verify(text, world.trust(), NOW, record=record, online=True)
    assert _failed(verdict) == (status, status, "status")
    word = "撤销" if status == "revoked" else "暂停使用"
    assert verdict.message_zh.startswith(f"证书真实，但已于 2026-09-20 {word}（原因类别：发现舞弊或造假）")
    assert f"{status} on 2026-09-20 (reason: fraud found)" in verdict.message_en
    assert verdict.status is not None and verdict.status["source"] == "registry"
    assert (verdict.status["date"], verdict.status["reason_zh"]) == ("2026-09-20", "发现舞弊或造假")


def test_online_a_reinstatement_wins_over_a_stale_suspended_list(world: World) -> None:
    text = world.qr()
    trust = world.trust(statuses={INDEX: Status.SUSPENDED})
    verdict = verify(text, trust, NOW, record=_record(text), online=True)
    assert verdict.outcome == "valid" and verdict.valid
    status = next(c for c in verdict.checks if c.code == "status")
    assert "全国联网查询系统实时确认" in status.message_zh


def test_online_an_unknown_reason_category_is_not_shown(world: World) -> None:
    text = world.qr()
    record = _record(text, "revoked", status_date="2026-09-20", reason_category="<script>")
    verdict = verify(text, world.trust(), NOW, record=record, online=True)
    assert verdict.status is not None and verdict.status["reason_category"] is None
    assert "<script>" not in verdict.message_zh and "原因类别" not in verdict.message_zh
    assert verdict.mode == "online"


# --- holder confirmation ---------------------------------------------------------------------


def test_holder_confirmed_offline_against_the_masked_id(world: World) -> None:
    verdict = verify(world.qr(), world.trust(), NOW, holder=HolderInput("张三丰", "11010519491231002x"))
    assert verdict.valid
    assert verdict.holder_confirmation == {"method": "offline_masked", "name_match": True, "id_match": True}
    mismatch = verify(world.qr(), world.trust(), NOW, holder=HolderInput("张三", "110105194912310021"))
    assert mismatch.holder_confirmation == {
        "method": "offline_masked",
        "name_match": False,
        "id_match": False,
    }
    assert (mismatch.outcome, mismatch.valid, mismatch.result, mismatch.code) == (
        "holder_mismatch", False, "invalid", "holder_mismatch")  # fmt: skip
    assert (
        "姓名和证件号码都不一致" in mismatch.message_zh
        and "both the name and the ID number" in mismatch.message_en
    )


@pytest.mark.parametrize(
    ("name", "id_number", "differs_zh", "differs_en"),
    [
        ("张三", "11010519491231002X", "姓名不一致", "the name differs"),
        ("张三丰", "110105194912310021", "证件号码不一致", "the ID number differs"),
    ],
)
def test_holder_mismatch_names_the_field(
    world: World, name: str, id_number: str, differs_zh: str, differs_en: str
) -> None:
    verdict = verify(world.qr(), world.trust(), NOW, holder=HolderInput(name, id_number))
    assert verdict.outcome == "holder_mismatch" and not verdict.valid
    assert verdict.message_zh.endswith(differs_zh) and verdict.message_en.endswith(differs_en)
    assert all(c.outcome == "pass" for c in verdict.checks)  # genuine and in force


def test_holder_confirmed_online_by_the_registry(world: World) -> None:
    text = world.qr()
    verdict = verify(text, world.trust(), NOW, record=_record(text), holder=HolderInput("张三丰", "x"),
                     holder_match=False)  # fmt: skip
    assert verdict.holder_confirmation == {
        "method": "online_registry",
        "name_match": True,  # the QR's name agrees, so the full ID number is what differs
        "id_match": False,
    }
    assert verdict.outcome == "holder_mismatch" and verdict.message_zh.endswith("证件号码不一致")


def test_every_failure_message_is_bilingual() -> None:
    assert all(zh and en and zh != en for zh, en in FAILURES.values())
