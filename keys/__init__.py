"""Ed25519 keys: generation, key ids, encrypted key files and public JWKs.

``recipes`` (``Signer``, ``PublicKey``) is what the rest of skillpass uses; ``ed25519`` is the
primitive layer beneath it.
"""

from keys.errors import KeyFileError, KeyMaterialError, PublicKeyError
from keys.jwk import from_jwk, to_jwk
from keys.keyfile import read_private_key, write_private_key
from keys.recipes import PublicKey, Signer

__all__ = [
    "KeyFileError",
    "KeyMaterialError",
    "PublicKey",
    "PublicKeyError",
    "Signer",
    "from_jwk",
    "read_private_key",
    "to_jwk",
    "write_private_key",
]
