"""The audit log: every change is an event, proofs verify, and `skillpass registry audit verify`
finds tampering with any stored event (in a downloaded copy and in the database itself)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, update
from test_registry_support import Api, roster_row, running_registry, sign_row

from keys import PublicKey, Signer, from_jwk
from keys.recipes import b64url_decode
from registry import merkle
from registry.audit_verify import verify_log
from registry.cli import add_commands
from registry.db import Database
from registry.schema import audit_events

CODE = "Y000011000001"
KEY = Signer.generate()


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def _activity(api: Api) -> None:
    api.add_institution(CODE, KEY)
    rows = [roster_row(1), roster_row(2)]
    report = api.approved_batch(CODE, "B", rows)
    qr = sign_row(report["rows"][0], rows[0]["id_number"], KEY)
    api.ok("POST", "/api/v1/batches/B/publish", CODE, json={"credentials": [{"row": 1, "qr": qr}]})
    number = report["rows"][0]["certificate"]["certificate_number"]
    api.ok(
        "POST",
        f"/api/v1/certificates/{number}/status",
        CODE,
        json={"action": "suspend", "reason": "x", "category": "other"},
    )


def test_events_proofs_and_no_personal_data(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        early = api.ok("GET", "/api/v1/audit/checkpoint")
        _activity(api)
        late = api.ok("GET", "/api/v1/audit/checkpoint")
        entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": late["size"]})["entries"]
        actions = [json.loads(e["data"])["action"] for e in entries]
        assert actions[0] == "registry.init"
        for action in (
            "institution.create",
            "key.register",
            "batch.submit",
            "batch.review",
            "certificate.publish",
            "certificate.suspend",
        ):
            assert action in actions
        text = json.dumps(entries, ensure_ascii=False)
        assert roster_row(1)["id_number"] not in text and "张三丰" not in text
        root = bytes.fromhex(late["root"])
        hashes = [merkle.leaf_hash(e["data"].encode()) for e in entries]
        assert merkle.root_from_leaf_hashes(hashes) == root
        for index in range(late["size"]):
            proof = api.ok(
                "GET", "/api/v1/audit/proof/inclusion", params={"index": index, "size": late["size"]}
            )
            merkle.verify_inclusion(
                hashes[index], index, late["size"], [bytes.fromhex(h) for h in proof["proof"]], root
            )
        consistency = api.ok(
            "GET", "/api/v1/audit/proof/consistency", params={"old": early["size"], "new": late["size"]}
        )
        merkle.verify_consistency(
            early["size"],
            late["size"],
            bytes.fromhex(early["root"]),
            root,
            [bytes.fromhex(h) for h in consistency["proof"]],
        )
        with pytest.raises(merkle.MerkleProofError):
            merkle.verify_consistency(
                early["size"],
                late["size"],
                bytes.fromhex(early["root"]),
                hashes[0],
                [bytes.fromhex(h) for h in consistency["proof"]],
            )


def _each_tampered_event_is_found_at_its_index(copy: dict[str, Any], key: PublicKey, indices: range) -> None:
    """Change one event at a time (its time, a second later): the finding names exactly that event."""
    assert indices
    for index in indices:
        event = json.loads(copy["entries"][index]["data"])
        event["time"] += 1
        tampered = json.loads(json.dumps(copy))
        tampered["entries"][index]["data"] = json.dumps(event, sort_keys=True, separators=(",", ":"))
        finding = verify_log(tampered, key)
        assert not finding.ok and finding.index == index, (index, finding)


def test_audit_verify_finds_any_tampered_event(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_registry(database_url, tmp_path) as api:
        _activity(api)
        key_file = tmp_path / "registry.jwk"
        key_file.write_text(json.dumps(api.ok("GET", "/api/v1/registry-key")))
        copy_file = tmp_path / "log.json"
        assert (
            _run_cli(
                [
                    "registry",
                    "audit",
                    "verify",
                    "--registry",
                    api.url,
                    "--registry-key",
                    str(key_file),
                    "--save",
                    str(copy_file),
                ]
            )
            == 0
        )
        copy = json.loads(copy_file.read_text())
        key = from_jwk(json.loads(key_file.read_text()))
        assert verify_log(copy, key).ok
        assert copy["checkpoints"][-1]["size"] == len(copy["entries"])  # the last event is signed
        _each_tampered_event_is_found_at_its_index(copy, key, range(len(copy["entries"])))
        forged = json.loads(json.dumps(copy))
        signature = bytearray(b64url_decode(forged["checkpoints"][0]["signature"]))
        signature[-1] ^= 1
        from keys.recipes import b64url

        forged["checkpoints"][0]["signature"] = b64url(bytes(signature))
        assert not verify_log(forged, key).ok
        assert not verify_log({"entries": copy["entries"][:-1], "checkpoints": copy["checkpoints"]}, key).ok
        # Tamper inside the database: the served log no longer matches what was signed.
        engine = create_engine(Database(database_url).url)
        with engine.begin() as conn:
            conn.execute(
                update(audit_events)
                .where(audit_events.c.idx == 2)
                .values(data=copy["entries"][2]["data"].replace('"time":', '"time":1').encode())
            )
        engine.dispose()
        capsys.readouterr()
        assert (
            _run_cli(["registry", "audit", "verify", "--registry", api.url, "--registry-key", str(key_file)])
            == 1
        )
        assert "INCONSISTENT at event 2:" in capsys.readouterr().out
        assert (
            _run_cli(
                ["registry", "audit", "verify", "--log", str(copy_file), "--registry-key", str(key_file)]
            )
            == 0
        )


def test_an_event_after_the_last_checkpoint_is_found_at_its_index(database_url: str, tmp_path: Path) -> None:
    """Events appended since the last signed checkpoint are held only by the links between them: a changed
    one breaks its successor's link, and the finding names the changed event, not the start of the log."""
    with running_registry(database_url, tmp_path) as api:
        _activity(api)
        signed = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
        number = api.ok("GET", "/api/v1/batches/B", CODE)["rows"][0]["certificate"]["certificate_number"]
        for action in ("reinstate", "suspend", "reinstate", "revoke"):
            body = {"action": action, "reason": "x"} | (
                {} if action == "reinstate" else {"category": "other"}
            )
            api.ok("POST", f"/api/v1/certificates/{number}/status", CODE, json=body)
        entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": 10_000})["entries"]
        copy = {"entries": entries, "checkpoints": api.ok("GET", "/api/v1/audit/checkpoints")["checkpoints"]}
        assert [c["size"] for c in copy["checkpoints"]] == [signed] and len(entries) == signed + 4
        key = from_jwk(api.ok("GET", "/api/v1/registry-key"))
        assert verify_log(copy, key).ok
        # Every event but the newest, which nothing signs or links to yet.
        _each_tampered_event_is_found_at_its_index(copy, key, range(signed - 1, len(entries) - 1))
