"""Verification receipts: signed by the verifier service's own key, checked offline.

A receipt verifies with the service's key, and fails on any changed byte, a wrong key or a removed
row — through the function and through ``skillpass receipt verify`` as a real process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from keys import Signer, to_jwk
from keys.recipes import b64url, b64url_decode
from verifier.receipt import RECEIPT_TYPE, ReceiptError, canonical_json, open_receipt, sign_receipt

SKILLPASS = str(Path(sys.executable).parent / "skillpass")
KEY = Signer.generate()


def _payload(rows: int = 3) -> dict[str, object]:
    results = [{"sha256": f"{i:064x}", "outcome": "valid" if i else "revoked", "code": "valid" if i else "revoked"}
               for i in range(rows)]  # fmt: skip
    return {"typ": RECEIPT_TYPE, "v": 1, "issued_at": 1_790_000_000, "verifier": "verify.example:8701",
            "trust": {"version": 7, "issued_at": 1_789_998_500}, "checkpoint": {"size": 12, "root": "ab" * 32},
            "results": results, "count": rows}  # fmt: skip


def test_a_receipt_opens_with_the_services_key() -> None:
    opened = open_receipt(sign_receipt(_payload(), KEY), KEY.public_key)
    assert opened.payload == _payload() and opened.kid == KEY.public_key.kid_b64


def test_every_changed_byte_breaks_it() -> None:
    receipt = sign_receipt(_payload(), KEY)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for at in range(0, len(receipt), 7):  # every 7th character: header, payload and signature alike
        if receipt[at] == ".":
            continue
        changed = alphabet[(alphabet.index(receipt[at]) + 1) % 64]
        with pytest.raises(ReceiptError):
            open_receipt(receipt[:at] + changed + receipt[at + 1 :], KEY.public_key)


def test_a_wrong_key_is_refused() -> None:
    other = Signer.generate()
    with pytest.raises(ReceiptError) as caught:
        open_receipt(sign_receipt(_payload(), KEY), other.public_key)
    assert caught.value.code == "receipt_wrong_key"
    # a receipt signed by another key but naming ours in its header
    header, payload, _ = sign_receipt(_payload(), KEY).split(".")
    forged = f"{header}.{payload}.{b64url(other.sign(f'{header}.{payload}'.encode()))}"
    with pytest.raises(ReceiptError) as caught:
        open_receipt(forged, KEY.public_key)
    assert caught.value.code == "receipt_signature"


def test_a_removed_row_is_refused() -> None:
    header, payload, signature = sign_receipt(_payload(), KEY).split(".")
    document = json.loads(b64url_decode(payload))
    del document["results"][0]
    document["count"] -= 1
    with pytest.raises(ReceiptError) as caught:
        open_receipt(f"{header}.{b64url(canonical_json(document))}.{signature}", KEY.public_key)
    assert caught.value.code == "receipt_signature"


@pytest.mark.parametrize("text", ["", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.AAAA"])
def test_malformed_receipts(text: str) -> None:
    with pytest.raises(ReceiptError):
        open_receipt(text, KEY.public_key)


def test_receipt_verify_command(tmp_path: Path) -> None:
    receipt = tmp_path / "receipt.jws"
    receipt.write_text(sign_receipt(_payload(), KEY), encoding="utf-8")
    jwk = tmp_path / "verifier.jwk"
    jwk.write_text(json.dumps(to_jwk(KEY.public_key)), encoding="utf-8")
    wrong = tmp_path / "wrong.jwk"
    wrong.write_text(json.dumps(to_jwk(Signer.generate().public_key)), encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SKILLPASS, "receipt", "verify", *args], capture_output=True, text=True, timeout=60, check=False
        )

    intact = run(str(receipt), "--verifier-key", str(jwk))
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "回执完整 INTACT" in intact.stdout and "verify.example:8701" in intact.stdout
    assert "第 7 版" in intact.stdout and "size 12" in intact.stdout and "valid 2" in intact.stdout
    assert run(str(receipt), "--verifier-key", str(wrong)).returncode == 1
    text = receipt.read_text(encoding="utf-8")
    receipt.write_text(text[:40] + ("A" if text[40] != "A" else "B") + text[41:], encoding="utf-8")
    broken = run(str(receipt), "--verifier-key", str(jwk))
    assert broken.returncode == 1 and "NOT INTACT" in broken.stdout
    missing = run(str(tmp_path / "nope.jws"), "--verifier-key", str(jwk))
    assert missing.returncode == 2 and "input_unreadable" in missing.stderr
