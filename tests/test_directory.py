"""The directory snapshot's window rules and its signed round trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from credential import CredentialError
from credential.directory import Directory, Institution, KeyEntry, Scope, StatusChange
from credential.signed_document import TYP_DIRECTORY, TYP_STATUS_LIST, open_document, sign_document
from keys import Signer

D = date.fromisoformat
KEY = KeyEntry(kid=b"k" * 8, public_key=b"p" * 32, valid_from=D("2026-01-01"), valid_until=D("2027-12-31"))
SCOPE = Scope("6-31-01-03", "电工", (3, 4, 5), D("2026-01-01"), D("2028-12-31"), ("--", "维修电工"))


def _institution(*statuses: StatusChange) -> Institution:
    return Institution(
        "Y000011000001", "中国国家铁路集团有限公司", "91100000000013477B", "Y", statuses, (SCOPE,), (KEY,)
    )


@pytest.mark.parametrize(
    ("key", "day", "ok"),
    [
        (KEY, D("2025-12-31"), False),
        (KEY, D("2026-01-01"), True),
        (KEY, D("2027-12-31"), True),
        (KEY, D("2028-01-01"), False),
        (replace(KEY, retired=D("2026-06-30")), D("2026-06-30"), True),
        (replace(KEY, retired=D("2026-06-30")), D("2026-07-01"), False),
        (replace(KEY, revoked=D("2026-06-30")), D("2026-06-29"), True),
        (replace(KEY, revoked=D("2026-06-30")), D("2026-06-30"), False),
    ],
)
def test_key_windows(key: KeyEntry, day: date, ok: bool) -> None:
    assert key.vouches_for(day) is ok


def test_status_history_prospective_and_retroactive() -> None:
    active = StatusChange("active", D("2026-01-01"), recorded=1)
    removed_later = StatusChange("removed", D("2026-09-01"), recorded=2)
    institution = _institution(active, removed_later)
    assert institution.status_on(D("2025-12-31")) is None
    assert institution.status_on(D("2026-08-31")) == "active"
    assert institution.status_on(D("2026-09-01")) == "removed"
    retroactive = StatusChange("removed", D("2026-03-01"), recorded=3)
    assert _institution(active, removed_later, retroactive).status_on(D("2026-05-01")) == "removed"


def test_status_in_force_is_the_one_recorded_last_not_the_latest_effective() -> None:
    """Of the entries effective by a day, the one recorded last wins, whatever its effective date and
    wherever it sits in the list: the latest effective date, or the list's order, would answer otherwise."""
    active = StatusChange("active", D("2026-01-01"), recorded=1)
    suspended = StatusChange("suspended", D("2026-06-01"), recorded=2)
    reinstated_back = StatusChange("active", D("2026-05-01"), recorded=3)  # the suspension was an error
    for history in [(active, suspended, reinstated_back), (reinstated_back, suspended, active)]:
        assert _institution(*history).status_on(D("2026-07-01")) == "active"
        assert _institution(*history).status_on(D("2026-04-30")) == "active"
    reopened = StatusChange("active", D("2026-04-01"), recorded=2)
    removed_back = StatusChange("removed", D("2026-03-01"), recorded=3)  # effective before the reopening
    for history in [(active, reopened, removed_back), (removed_back, reopened, active)]:
        assert _institution(*history).status_on(D("2026-05-01")) == "removed"
        assert _institution(*history).status_on(D("2026-02-28")) == "active"


def test_scope_covers_only_filed_occupation_level_work_type_and_window() -> None:
    institution = _institution()
    assert institution.scope_for("6-31-01-03", 3, "--", D("2026-05-01")) == SCOPE
    assert institution.scope_for("6-31-01-03", 3, "维修电工", D("2026-05-01")) == SCOPE
    assert institution.scope_for("6-31-01-03", 2, "--", D("2026-05-01")) is None
    assert institution.scope_for("6-18-02-04", 3, "--", D("2026-05-01")) is None
    assert institution.scope_for("6-31-01-03", 3, "焊工", D("2026-05-01")) is None
    assert institution.scope_for("6-31-01-03", 3, "--", D("2029-01-01")) is None


def test_signed_snapshot_round_trip_and_type_confusion() -> None:
    registry = Signer.generate()
    directory = Directory(
        7, 1000, 2000, (_institution(StatusChange("active", D("2026-01-01"), 1)),), "http://r/"
    )
    signed = sign_document(directory.to_payload(), registry, TYP_DIRECTORY)
    opened = Directory.from_payload(open_document(signed, registry.public_key, TYP_DIRECTORY))
    assert opened == directory
    assert opened.find_key(b"k" * 8) == (directory.institutions[0], KEY)
    with pytest.raises(CredentialError):
        open_document(signed, registry.public_key, TYP_STATUS_LIST)
    with pytest.raises(CredentialError) as caught:
        open_document(signed, Signer.generate().public_key, TYP_DIRECTORY)
    assert caught.value.code == "signature_invalid"


def test_malformed_payload_is_rejected() -> None:
    with pytest.raises(CredentialError):
        Directory.from_payload({"v": 2, "seq": "7"})


def test_official_verifier_hosts_travel_signed_and_compare_case_blind() -> None:
    registry = Signer.generate()
    directory = Directory(7, 1000, 2000, (), "http://r/", ("verify.example.cn", "127.0.0.1:8701"))
    signed = sign_document(directory.to_payload(), registry, TYP_DIRECTORY)
    opened = Directory.from_payload(open_document(signed, registry.public_key, TYP_DIRECTORY))
    assert opened.verifier_hosts == ("verify.example.cn", "127.0.0.1:8701")
    assert opened.is_official_verifier("VERIFY.EXAMPLE.CN")
    assert not opened.is_official_verifier("verify.examp1e.cn")
    for bad in (["Verify.Example.cn"], [""], [7], "verify.example.cn"):
        payload = {**directory.to_payload(), "verifier_hosts": bad}
        with pytest.raises(CredentialError):
            Directory.from_payload(payload)
