"""Public keys as JWK (RFC 7517) of key type OKP, curve Ed25519 (RFC 8037)."""

from __future__ import annotations

from typing import Any

from keys.errors import PublicKeyError
from keys.recipes import PublicKey, b64url, b64url_decode


def to_jwk(key: PublicKey, **extra: Any) -> dict[str, Any]:
    """The public JWK with ``kid`` = base64url of the 8-byte key id, plus any extra members."""
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(key.raw), "kid": key.kid_b64, **extra}


def from_jwk(jwk: object) -> PublicKey:
    """Parse a public Ed25519 JWK strictly; a private member (``d``) is refused, not ignored."""
    if not isinstance(jwk, dict):
        raise _bad("JWK 必须是 JSON 对象", "a JWK must be a JSON object")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise PublicKeyError(
            "jwk_key_type", "只接受 Ed25519 (OKP) 公钥", "only Ed25519 (OKP) keys are accepted"
        )
    if "d" in jwk:
        raise _bad("JWK 含有私钥，拒绝使用", "the JWK contains a private key; refusing it")
    x = jwk.get("x")
    try:
        raw = b64url_decode(x) if isinstance(x, str) else b""
    except ValueError:
        raw = b""
    key = PublicKey(raw) if len(raw) == 32 else None
    if key is None:
        raise _bad("JWK 的 x 不是 32 字节公钥", "the JWK's x is not a 32-byte public key")
    kid = jwk.get("kid")
    if kid is not None and kid != key.kid_b64:
        raise PublicKeyError(
            "jwk_kid_mismatch", "JWK 的 kid 与公钥不符", "the JWK's kid does not match its public key"
        )
    return key


def _bad(zh: str, en: str) -> PublicKeyError:
    return PublicKeyError("jwk_invalid", zh, en)
