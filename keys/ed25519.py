"""Primitive layer: raw Ed25519 over PyNaCl, and the key id. Callers outside ``keys`` use the recipes."""

from __future__ import annotations

import hashlib

from nacl.signing import SigningKey

SEED_LENGTH = 32
PUBLIC_KEY_LENGTH = 32
SIGNATURE_LENGTH = 64
KEY_ID_LENGTH = 8


def generate_seed() -> bytes:
    """A fresh 32-byte private seed from the operating system's CSPRNG."""
    return bytes(SigningKey.generate())


def key_id(public_key: bytes) -> bytes:
    """DESIGN's key id: the first 8 bytes of SHA-256 of the raw public key."""
    return hashlib.sha256(public_key).digest()[:KEY_ID_LENGTH]
