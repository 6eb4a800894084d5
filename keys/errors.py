"""The one error type of the key layer: every failure a person can cause with a key file."""

from __future__ import annotations

from common.errors import SkillpassError


class KeyMaterialError(SkillpassError):
    """Base for key problems; ``code`` is stable, the messages are for people."""


class KeyFileError(KeyMaterialError):
    """A key file that cannot be read, opened or trusted."""


class PublicKeyError(KeyMaterialError):
    """A public key (raw or JWK) that is malformed or not Ed25519."""
