"""COSE bytes ⇄ QR text: the ``SP1:`` prefix, base45, and zlib only when it makes the text shorter."""

from __future__ import annotations

import re
import zlib

from credential.base45 import Base45Error, b45decode, b45encode
from credential.constants import QR_PREFIX, ZLIB_FIRST_BYTE, Limits
from credential.errors import CredentialError

_ANY_VERSION_PREFIX = re.compile(r"^SP\d+:")


def to_qr_text(cose: bytes) -> str:
    """Prefix + base45 of the COSE bytes, compressed when that is smaller.

    Below ``_WORTH_COMPRESSING`` bytes compression is not even tried: zlib's 6 bytes of framing
    and a 64-byte random signature outweigh what a few names save (the typical certificate, 157
    bytes, deflates to 162; the longest the schema allows, 266, to 277), and trying cost half a
    signature per certificate.
    """
    if len(cose) < _WORTH_COMPRESSING:
        return QR_PREFIX + b45encode(cose)
    compressed = _deflate(cose)
    return QR_PREFIX + b45encode(compressed if len(compressed) < len(cose) else cose)


_WORTH_COMPRESSING = 512


def _deflate(data: bytes) -> bytes:
    """zlib at level 9 with the smallest hash memory (memLevel 1).

    For a few hundred bytes the output is the same as with the default memory, but setting up
    the default 256 KiB of state cost more than the signature; the 32K window keeps the usual
    0x78 header that decoders of QR credentials look for.
    """
    deflater = zlib.compressobj(9, zlib.DEFLATED, 15, 1)
    return deflater.compress(data) + deflater.flush()


def from_qr_text(text: str, limits: Limits) -> tuple[bytes, bool]:
    """The COSE bytes and whether they were compressed; size limits come before any work."""
    if not text:
        raise CredentialError("qr_empty")
    if len(text) > limits.max_qr_text:
        raise CredentialError("qr_too_long", f"{len(text)} characters")
    if not text.startswith(QR_PREFIX):
        raise CredentialError("prefix_version" if _ANY_VERSION_PREFIX.match(text) else "prefix_missing")
    try:
        data = b45decode(text[len(QR_PREFIX) :])
    except Base45Error as e:
        raise CredentialError("base45_invalid", str(e)) from e
    if data[:1] == bytes([ZLIB_FIRST_BYTE]):
        return _inflate(data, limits.max_decompressed), True
    return data, False


def _inflate(data: bytes, max_size: int) -> bytes:
    """Inflate at most ``max_size`` bytes: a zlib bomb stops after the limit, costing nothing."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, max_size + 1)
    except zlib.error as e:
        raise CredentialError("zlib_invalid", str(e)) from e
    if len(out) > max_size or inflater.unconsumed_tail:
        raise CredentialError("zlib_too_large", f"more than {max_size} bytes")
    if not inflater.eof:
        raise CredentialError("zlib_invalid", "the stream is truncated")
    if inflater.unused_data:
        raise CredentialError("zlib_trailing")
    return out
