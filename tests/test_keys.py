"""Key generation, key ids, encrypted key files and public JWKs."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from keys import (
    KeyFileError,
    PublicKey,
    PublicKeyError,
    Signer,
    from_jwk,
    read_private_key,
    to_jwk,
    write_private_key,
)
from keys.keyfile import decrypt_private_key, encrypt_private_key

PASS = "correct horse battery"


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate()


@pytest.fixture(scope="module")
def key_bytes(signer: Signer) -> bytes:
    return encrypt_private_key(signer, PASS)


def test_kid_is_first_8_bytes_of_sha256_of_the_raw_key(signer: Signer) -> None:
    assert signer.kid == hashlib.sha256(signer.public_key.raw).digest()[:8]


def test_key_file_round_trip_is_0600_and_holds_no_plain_seed(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "institution.key"
    write_private_key(path, signer, PASS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signer.seed_for_storage().hex() not in path.read_text()
    assert read_private_key(path, PASS).public_key == signer.public_key


def test_existing_key_file_is_never_overwritten(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "k"
    path.write_text("precious")
    with pytest.raises(KeyFileError) as caught:
        write_private_key(path, signer, PASS)
    assert caught.value.code == "key_file_exists"
    assert path.read_text() == "precious"


def test_wrong_passphrase(key_bytes: bytes) -> None:
    with pytest.raises(KeyFileError) as caught:
        decrypt_private_key(key_bytes, "wrong passphrase")
    assert caught.value.code == "key_passphrase_wrong"


@pytest.mark.parametrize("cut", [2, 20, 200])
def test_truncated_file(key_bytes: bytes, cut: int) -> None:
    with pytest.raises(KeyFileError) as caught:
        decrypt_private_key(key_bytes[:-cut], PASS)
    assert caught.value.code == "key_file_corrupt"


def test_swapped_public_key_is_detected(key_bytes: bytes) -> None:
    document = json.loads(key_bytes)
    document["public_key"] = to_jwk(Signer.generate().public_key)["x"]
    with pytest.raises(KeyFileError) as caught:
        decrypt_private_key(json.dumps(document).encode(), PASS)
    assert caught.value.code == "key_file_corrupt"


def test_altered_ciphertext_fails_authentication(key_bytes: bytes) -> None:
    document = json.loads(key_bytes)
    ciphertext = document["ciphertext"]
    document["ciphertext"] = ("A" if ciphertext[0] != "A" else "B") + ciphertext[1:]
    with pytest.raises(KeyFileError) as caught:
        decrypt_private_key(json.dumps(document).encode(), PASS)
    assert caught.value.code == "key_passphrase_wrong"


@pytest.mark.parametrize(
    "content",
    [
        b'{"kty": "OKP", "crv": "Ed25519", "x": "abc"}',
        b"-----BEGIN " + b"PRIVATE KEY-----\nMC4\n",
        b"\x00\x01",
    ],
)
def test_wrong_key_type(content: bytes) -> None:
    with pytest.raises(KeyFileError) as caught:
        decrypt_private_key(content, PASS)
    assert caught.value.code in {"key_type_wrong", "key_file_corrupt"}


def test_short_passphrase_is_refused(signer: Signer) -> None:
    with pytest.raises(KeyFileError) as caught:
        encrypt_private_key(signer, "short")
    assert caught.value.code == "key_passphrase_short"


def test_jwk_round_trip(signer: Signer) -> None:
    jwk = to_jwk(signer.public_key)
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["kid"] == signer.public_key.kid_b64
    assert len(jwk["kid"]) == 11
    assert from_jwk(jwk) == signer.public_key


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"kty": "EC"}, "jwk_key_type"),
        ({"crv": "Ed448"}, "jwk_key_type"),
        ({"x": "AAAA"}, "jwk_invalid"),
        ({"x": "not base64!"}, "jwk_invalid"),
        ({"kid": "AAAAAAAAAAA"}, "jwk_kid_mismatch"),
        ({"d": "secret"}, "jwk_invalid"),
    ],
)
def test_bad_jwks(signer: Signer, change: dict[str, str], code: str) -> None:
    with pytest.raises(PublicKeyError) as caught:
        from_jwk({**to_jwk(signer.public_key), **change})
    assert caught.value.code == code


def test_signer_repr_hides_the_key(signer: Signer) -> None:
    assert signer.seed_for_storage().hex() not in repr(signer)
    assert "kid=" in repr(signer)


def test_public_key_rejects_wrong_length() -> None:
    with pytest.raises(PublicKeyError):
        PublicKey(b"\x00" * 31)
