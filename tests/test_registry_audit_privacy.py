"""The public audit log holds no free text or caller-chosen value in clear (batch ids, reasons), never
a credential's SHA-256 or a certificate's status list position: nothing in it answers ``/record``."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from test_registry_support import roster_row, running_registry, sign_row

from credential.constants import DEFAULT_LIMITS
from credential.qr_text import from_qr_text
from keys import Signer, to_jwk

CODE = "Y000011000001"
KEY = Signer.generate()
SECRETS = [
    "roster-0f3a9c",
    "内部调查甲",
    "token lost on the train",
    "private key leaked by 李四",
    "公开核查乙",
]
_HEX64 = re.compile(r"[0-9a-f]{64}")


def test_the_public_log_holds_no_caller_chosen_text_and_answers_no_record(
    database_url: str, tmp_path: Path
) -> None:
    batch_id, suspend_reason, token_reason, key_reason, revoke_reason = SECRETS
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE, KEY)
        spare = {"jwk": to_jwk(Signer.generate().public_key), "valid_from": "2026-06-15"}
        kid = api.ok("POST", f"/api/v1/institutions/{CODE}/keys", CODE, json=spare)["kid"]
        api.ok("POST", f"/api/v1/institutions/{CODE}/keys/{kid}/revoke", CODE, json={"reason": key_reason})
        made = api.ok("POST", "/api/v1/tokens", "admin", json={"role": "reviewer"})
        api.ok("POST", "/api/v1/tokens/revoke", "admin", json={"id": made["id"], "reason": token_reason})
        rows = [roster_row(1), roster_row(2)]
        report = api.approved_batch(CODE, batch_id, rows)
        qrs = [sign_row(report["rows"][i], rows[i]["id_number"], KEY) for i in range(2)]
        credentials = [{"row": i + 1, "qr": qr} for i, qr in enumerate(qrs)]
        api.ok("POST", f"/api/v1/batches/{batch_id}/publish", CODE, json={"credentials": credentials})
        numbers = [r["certificate"]["certificate_number"] for r in report["rows"]]
        status = f"/api/v1/certificates/{numbers[0]}/status"
        api.ok("POST", status, CODE, json={"action": "suspend", "reason": suspend_reason})
        api.ok("POST", f"/api/v1/certificates/{numbers[1]}/status", CODE, json={"action": "revoke", "reason": revoke_reason})  # fmt: skip

        entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": 10_000})["entries"]
        log = "\n".join(e["data"] for e in entries)
        readable = json.dumps([json.loads(e["data"]) for e in entries], ensure_ascii=False)
        for secret in SECRETS:
            assert secret not in readable and json.dumps(secret)[1:-1] not in log, secret
        hashes = [hashlib.sha256(from_qr_text(qr, DEFAULT_LIMITS)[0]).hexdigest() for qr in qrs]
        assert not any(h in log for h in hashes)
        for number in numbers:  # every 64-hex value the public log holds, tried as proof of holding
            for candidate in set(_HEX64.findall(log)):
                answer = api.call(
                    "GET", f"/api/v1/certificates/{number}/record", params={"sha256": candidate}
                )
                assert answer.status_code == 404
        for event in (json.loads(e["data"]) for e in entries):
            if event["action"].startswith("certificate.") and event["action"] != "certificate.publish":
                assert set(event["data"]) == {"status", "reason", "category"}, event  # the category is public
        holder = api.ok("GET", f"/api/v1/certificates/{numbers[0]}/record", params={"sha256": hashes[0]})
        assert holder["status"] == "suspended"  # the credential's holder still gets the answer
