"""Recipe layer: a ``Signer`` that holds a private key and a ``PublicKey`` that verifies.

Everything outside ``keys`` signs and verifies through these two classes, so the raw seed never
travels further than this module and every verification failure looks the same to the caller.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from keys import ed25519
from keys.errors import PublicKeyError


def b64url(data: bytes) -> str:
    """Unpadded base64url, as JOSE uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url decoding; raises ``ValueError`` on anything else."""
    if "=" in text or not text.isascii():
        raise ValueError("padded or non-ASCII base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(raw) != text:
        raise ValueError("non-canonical base64url")
    return raw


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key with its key id; verification answers True or False, nothing else."""

    raw: bytes
    _verify_key: VerifyKey = field(init=False, repr=False, compare=False)
    _kid: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes) or len(self.raw) != ed25519.PUBLIC_KEY_LENGTH:
            raise PublicKeyError(
                "public_key_length",
                "公钥必须是 32 字节的 Ed25519 公钥",
                "a public key must be a 32-byte Ed25519 key",
            )
        object.__setattr__(self, "_verify_key", VerifyKey(self.raw))
        object.__setattr__(self, "_kid", ed25519.key_id(self.raw))

    @property
    def kid(self) -> bytes:
        """The 8-byte key id (computed once: verifiers compare it on every credential)."""
        return self._kid

    @property
    def kid_b64(self) -> str:
        """The key id as base64url, the form JWK Sets carry."""
        return b64url(self.kid)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True only for a valid 64-byte signature over ``message``."""
        if len(signature) != ed25519.SIGNATURE_LENGTH:
            return False
        try:
            self._verify_key.verify(message, signature)
        except BadSignatureError:
            return False
        return True


class Signer:
    """Holds one private key in memory and signs with it; its repr never shows the key."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != ed25519.SEED_LENGTH:
            raise PublicKeyError("private_key_length", "私钥长度错误", "a private key seed must be 32 bytes")
        self._signing_key = SigningKey(seed)
        self.public_key = PublicKey(bytes(self._signing_key.verify_key))

    @classmethod
    def generate(cls) -> Signer:
        """A signer with a fresh random key."""
        return cls(ed25519.generate_seed())

    @property
    def kid(self) -> bytes:
        """The 8-byte key id of the public half."""
        return self.public_key.kid

    def sign(self, message: bytes) -> bytes:
        """A detached Ed25519 signature."""
        return self._signing_key.sign(message).signature

    def seed_for_storage(self) -> bytes:
        """The raw seed, only for ``keyfile`` to encrypt it."""
        return bytes(self._signing_key)

    def __repr__(self) -> str:
        return f"Signer(kid={self.public_key.kid_b64})"
