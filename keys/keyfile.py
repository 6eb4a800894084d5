"""Private keys at rest: Argon2id (memory-hard) derives a key from the passphrase, and
XSalsa20-Poly1305 (authenticated) encrypts the seed. The public key and format are bound to the
ciphertext as associated context by checking them after decryption, so a swapped header fails.

File format (JSON, created with mode 0600)::

    {"format": "skillpass-ed25519-private-key", "version": 1, "kid": ..., "public_key": ...,
     "kdf": {"name": "argon2id", "opslimit": N, "memlimit": N, "salt": b64url},
     "nonce": b64url, "ciphertext": b64url}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from nacl import pwhash, secret, utils
from nacl.exceptions import CryptoError

from keys.errors import KeyFileError
from keys.recipes import Signer, b64url, b64url_decode

FORMAT = "skillpass-ed25519-private-key"
VERSION = 1
# Interactive limits (64 MiB, 2 passes): a CLI opens a key in about a tenth of a second while
# a guess still costs an attacker 64 MiB of memory.
OPSLIMIT = pwhash.argon2id.OPSLIMIT_INTERACTIVE
MEMLIMIT = pwhash.argon2id.MEMLIMIT_INTERACTIVE
_MAX_FILE_BYTES = 4096


def encrypt_private_key(signer: Signer, passphrase: str) -> bytes:
    """The encrypted key file's bytes."""
    _require_passphrase(passphrase)
    salt = utils.random(pwhash.argon2id.SALTBYTES)
    box = secret.SecretBox(_derive(passphrase, salt, OPSLIMIT, MEMLIMIT))
    nonce = utils.random(secret.SecretBox.NONCE_SIZE)
    ciphertext = box.encrypt(signer.seed_for_storage(), nonce).ciphertext
    document = {
        "format": FORMAT,
        "version": VERSION,
        "kid": signer.public_key.kid_b64,
        "public_key": b64url(signer.public_key.raw),
        "kdf": {"name": "argon2id", "opslimit": OPSLIMIT, "memlimit": MEMLIMIT, "salt": b64url(salt)},
        "nonce": b64url(nonce),
        "ciphertext": b64url(ciphertext),
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def decrypt_private_key(data: bytes, passphrase: str) -> Signer:
    """Open an encrypted key file's bytes; every failure is a ``KeyFileError`` with its own code."""
    document = _parse(data)
    try:
        kdf = document["kdf"]
        salt = b64url_decode(kdf["salt"])
        nonce = b64url_decode(document["nonce"])
        ciphertext = b64url_decode(document["ciphertext"])
        public_key = b64url_decode(document["public_key"])
        opslimit, memlimit = int(kdf["opslimit"]), int(kdf["memlimit"])
    except (KeyError, TypeError, ValueError) as e:
        raise _corrupt() from e
    if kdf.get("name") != "argon2id" or not (opslimit <= 16 and memlimit <= 1 << 30):
        raise _corrupt()
    try:
        seed = secret.SecretBox(_derive(passphrase, salt, opslimit, memlimit)).decrypt(ciphertext, nonce)
    except CryptoError as e:
        raise KeyFileError(
            "key_passphrase_wrong",
            "口令错误，或密钥文件已被改动",
            "wrong passphrase, or the key file was altered",
        ) from e
    signer = Signer(seed)
    if signer.public_key.raw != public_key:
        raise _corrupt()
    return signer


def write_private_key(path: Path, signer: Signer, passphrase: str) -> None:
    """Write a new key file readable by its owner only; refuses to overwrite an existing file."""
    data = encrypt_private_key(signer, passphrase)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as e:
        raise KeyFileError(
            "key_file_exists", f"密钥文件已存在：{path}", f"a key file already exists at {path}"
        ) from e
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def read_private_key(path: Path, passphrase: str) -> Signer:
    """Read and open a key file."""
    try:
        data = path.read_bytes()[: _MAX_FILE_BYTES + 1]
    except OSError as e:
        raise KeyFileError(
            "key_file_unreadable", f"无法读取密钥文件：{path}", f"cannot read the key file {path}"
        ) from e
    return decrypt_private_key(data, passphrase)


def _parse(data: bytes) -> dict[str, Any]:
    if len(data) > _MAX_FILE_BYTES:
        raise _corrupt()
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _corrupt() from e
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise KeyFileError(
            "key_type_wrong",
            "这不是 skillpass 的 Ed25519 私钥文件",
            "this is not a skillpass Ed25519 private key file",
        )
    if document.get("version") != VERSION:
        raise KeyFileError("key_file_version", "密钥文件版本不受支持", "unsupported key file version")
    return document


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    _require_passphrase(passphrase)
    try:
        return bytes(
            pwhash.argon2id.kdf(secret.SecretBox.KEY_SIZE, passphrase.encode(), salt, opslimit, memlimit)
        )
    except (CryptoError, ValueError, TypeError) as e:
        raise _corrupt() from e


def _require_passphrase(passphrase: str) -> None:
    if len(passphrase) < 8:
        raise KeyFileError(
            "key_passphrase_short", "口令至少 8 个字符", "the passphrase must have at least 8 characters"
        )


def _corrupt() -> KeyFileError:
    return KeyFileError(
        "key_file_corrupt",
        "密钥文件已损坏或被截断",
        "the key file is corrupt or truncated",
    )
