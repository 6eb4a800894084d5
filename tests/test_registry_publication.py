"""Publication accepts only a credential signed by the institution's own key valid on the issue
date, carrying exactly the approved claims, for an approved row."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import cbor2
from test_registry_support import Api, roster_row, running_registry, sign_row

from credential import QR_PREFIX, decode, url_form
from credential.base45 import b45encode
from credential.constants import DEFAULT_LIMITS
from credential.cose import sig_structure
from credential.qr_text import from_qr_text
from keys import Signer, to_jwk

OWN, OTHER = "Y000011000001", "S000011000002"
OWN_KEY, OTHER_KEY = Signer.generate(), Signer.generate()
RETIRED_KEY, REVOKED_KEY, UNKNOWN_KEY = Signer.generate(), Signer.generate(), Signer.generate()


def _register(api: Api, signer: Signer) -> str:
    body = {"jwk": to_jwk(signer.public_key), "valid_from": "2024-01-01"}
    return str(api.ok("POST", f"/api/v1/institutions/{OWN}/keys", "admin", json=body)["kid"])


def _publish(api: Api, row: int, qr: str) -> dict[str, Any]:
    result = api.ok("POST", "/api/v1/batches/B/publish", OWN, json={"credentials": [{"row": row, "qr": qr}]})
    [outcome] = result["results"]
    return outcome  # type: ignore[no-any-return]


def test_publication_rejects_each_kind_of_bad_credential(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(OWN, OWN_KEY)
        api.add_institution(OTHER, OTHER_KEY)
        retired, revoked = _register(api, RETIRED_KEY), _register(api, REVOKED_KEY)
        # Past days: the administrator's to set (an institution token changes keys from today on).
        api.ok(
            "POST",
            f"/api/v1/institutions/{OWN}/keys/{retired}/retire",
            "admin",
            json={"retired": "2026-06-10"},
        )
        compromise = {"revoked": "2026-06-01", "reason": "leaked"}
        api.ok("POST", f"/api/v1/institutions/{OWN}/keys/{revoked}/revoke", "admin", json=compromise)
        rows = [roster_row(1), roster_row(2), roster_row(3)]
        api.ok("POST", "/api/v1/batches", OWN, json={"batch_id": "B", "institution_code": OWN, "rows": rows})
        decisions = [
            {"row": 1, "approve": True},
            {"row": 2, "approve": True},
            {"row": 3, "approve": False, "reason": "absent"},
        ]
        report = api.ok("POST", "/api/v1/batches/B/review", "reviewer", json={"decisions": decisions})
        approved, rejected_row = report["rows"][0], report["rows"][2]
        assert rejected_row == {"row": 3, "state": "rejected", "problems": [], "reason": "absent"}
        id1 = rows[0]["id_number"]

        def code_for(qr: str, row: int = 1) -> str:
            outcome = _publish(api, row, qr)
            assert outcome["state"] == "rejected", outcome
            assert outcome["message_zh"] and outcome["message_en"]
            return str(outcome["code"])

        assert code_for(sign_row(approved, id1, OTHER_KEY)) == "key_unknown"
        assert code_for(sign_row(approved, id1, UNKNOWN_KEY)) == "key_unknown"
        assert code_for(sign_row(approved, id1, RETIRED_KEY)) == "key_not_valid"
        assert code_for(sign_row(approved, id1, REVOKED_KEY)) == "key_not_valid"
        status = approved["certificate"]["status"]
        altered: dict[str, Any] = {
            "holder_name": "张三",
            "id_number": rows[1]["id_number"],
            "id_type": "护照",
            "occupation_code": "6-31-01-04",
            "level": 4,
            "work_type": "维修电工",
            "issue_date": "2026-06-14",
            "status": {"list": status["list"], "index": (status["index"] + 1) % 2**20},
            "certificate_number": report["rows"][1]["certificate"]["certificate_number"],
        }
        for field, value in altered.items():
            changes = {field: value}
            if field == "level":  # the number's level digit must agree, or the claims cannot be encoded
                number = approved["certificate"]["certificate_number"]
                changes["certificate_number"] = f"{number[:15]}{value}{number[16:]}"
            assert code_for(sign_row(approved, id1, OWN_KEY, **changes)) == "claims_mismatch", field
        good = sign_row(approved, id1, OWN_KEY)
        tampered = good[:-6] + ("A" if good[-6] != "A" else "B") + good[-5:]
        assert code_for(tampered) in {
            "signature_invalid",
            "base45_invalid",
            "cbor_invalid",
            "zlib_invalid",
            "cose_shape",
        }
        assert code_for("not a credential") == "prefix_missing"
        # Strict parsing (issue 11.9): the same claims in a non-canonical byte form, correctly
        # signed, are refused, so only canonical bytes are ever stored.
        assert code_for(_non_canonical(good)) == "cbor_not_canonical"
        assert code_for(
            sign_row(rejected_row | {"certificate": approved["certificate"]}, id1, OWN_KEY), row=3
        ) == ("row_not_approved")
        assert code_for(good, row=99) == "row_unknown"
        nothing_public = api.call(
            "GET", f"/api/v1/certificates/{approved['certificate']['certificate_number']}/record"
        )
        assert nothing_public.status_code == 404
        assert _publish(api, 1, good) == {"row": 1, "state": "published"}
        assert _publish(api, 1, good) == {"row": 1, "state": "published"}
        # The URL form carries the same bytes: the same publication, not another one.
        assert _publish(api, 1, url_form(good, "https://verify.example.cn")) == {
            "row": 1,
            "state": "published",
        }
        again = sign_row(approved, id1, OWN_KEY)  # Ed25519 is deterministic: re-signing gives the same bytes
        assert again == good
        second_key = Signer.generate()
        _register(api, second_key)
        assert code_for(sign_row(approved, id1, second_key)) == "already_published"
        number = approved["certificate"]["certificate_number"]
        digest = hashlib.sha256(from_qr_text(good, DEFAULT_LIMITS)[0]).hexdigest()
        record = api.ok("GET", f"/api/v1/certificates/{number}/record", params={"sha256": digest})
        assert record["status"] == "valid" and record["credential_sha256"] == digest
        upper = api.ok("GET", f"/api/v1/certificates/{number}/record", params={"sha256": digest.upper()})
        assert upper == record
        # Without the exact digest of the published bytes the record does not exist.
        for params in (
            {},
            {"sha256": "0" * 64},
            {"sha256": digest[:-1]},
            {"sha256": digest + "0"},
            {"sha256": "x"},
        ):
            hidden = api.call("GET", f"/api/v1/certificates/{number}/record", params=params)
            assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found"), params
        missing = api.call("GET", f"/api/v1/certificates/{number[:-1]}9/record", params={"sha256": digest})
        assert missing.json() == hidden.json()


def _non_canonical(qr: str) -> str:
    """The credential re-signed with its level written as a one-byte integer (0x18 0x03 for 3)."""
    parsed = decode(qr)
    payload = parsed.sign1.payload
    assert payload.count(b"\x03\x03") == 1  # key 3 (level), value 3
    bloated = payload.replace(b"\x03\x03", b"\x03\x18\x03")
    signature = OWN_KEY.sign(sig_structure(parsed.sign1.protected_bytes, bloated))
    cose = cbor2.dumps(cbor2.CBORTag(18, [parsed.sign1.protected_bytes, {}, bloated, signature]))
    return QR_PREFIX + b45encode(cose)


def test_one_upload_naming_a_row_twice_publishes_it_once(database_url: str, tmp_path: Path) -> None:
    """Rows are stored together at the end of an upload: a row named again later in the same upload is
    judged against the credential accepted earlier in it, and only that one is stored."""
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(OWN, OWN_KEY)
        second_key = Signer.generate()
        _register(api, second_key)
        rows = [roster_row(1), roster_row(2)]
        api.ok("POST", "/api/v1/batches", OWN, json={"batch_id": "B", "institution_code": OWN, "rows": rows})
        report = api.ok("POST", "/api/v1/batches/B/review", "reviewer", json={"approve_all_valid": True})
        first, second = (
            sign_row(r, roster["id_number"], OWN_KEY) for r, roster in zip(report["rows"], rows, strict=True)
        )
        other = sign_row(report["rows"][1], rows[1]["id_number"], second_key)
        upload = [
            {"row": 2, "qr": second},
            {"row": 2, "qr": other},
            {"row": 1, "qr": first},
            {"row": 2, "qr": second},
        ]
        result = api.ok("POST", "/api/v1/batches/B/publish", OWN, json={"credentials": upload})
        assert [(r["row"], r["state"], r.get("code")) for r in result["results"]] == [
            (2, "published", None),
            (2, "rejected", "already_published"),
            (1, "published", None),
            (2, "published", None),
        ]
        for report_row, qr in zip(report["rows"], (first, second), strict=True):
            number = report_row["certificate"]["certificate_number"]
            digest = hashlib.sha256(from_qr_text(qr, DEFAULT_LIMITS)[0]).hexdigest()
            record = api.ok("GET", f"/api/v1/certificates/{number}/record", params={"sha256": digest})
            assert record["credential_sha256"] == digest
        assert _publish(api, 2, other)["code"] == "already_published"
