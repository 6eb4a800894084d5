"""Primitive layer: raw Ed25519 over PyNaCl, and the key id. Callers outside ``keys`` use the recipes."""

from __future__ import annotations

import hashlib

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

SEED_LENGTH = 32
PUBLIC_KEY_LENGTH = 32
SIGNATURE_LENGTH = 64
KEY_ID_LENGTH = 8


def generate_seed() -> bytes:
    """A fresh 32-byte private seed from the operating system's CSPRNG."""
    return bytes(SigningKey.generate())


def public_key_of(seed: bytes) -> bytes:
    """The raw 32-byte public key of a seed."""
    return bytes(SigningKey(seed).verify_key)


def key_id(public_key: bytes) -> bytes:
    """DESIGN's key id: the first 8 bytes of SHA-256 of the raw public key."""
    return hashlib.sha256(public_key).digest()[:KEY_ID_LENGTH]


def sign(seed: bytes, message: bytes) -> bytes:
    """A detached 64-byte signature."""
    return SigningKey(seed).sign(message).signature


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True only when the signature is valid; never raises for a bad signature."""
    if len(signature) != SIGNATURE_LENGTH or len(public_key) != PUBLIC_KEY_LENGTH:
        return False
    try:
        VerifyKey(public_key).verify(message, signature)
    except BadSignatureError:
        return False
    return True
