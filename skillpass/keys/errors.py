"""The one error type of the key layer: every failure a person can cause with a key file."""

from __future__ import annotations


class KeyMaterialError(Exception):
    """Base for key problems; ``code`` is stable, the messages are for people."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en


class KeyFileError(KeyMaterialError):
    """A key file that cannot be read, opened or trusted."""


class PublicKeyError(KeyMaterialError):
    """A public key (raw or JWK) that is malformed or not Ed25519."""
