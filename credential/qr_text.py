"""COSE bytes ⇄ QR text, in the two printed forms of one credential (docs/spec.md §3).

* plain: ``SP2:`` + base45, for apps and the CLI;
* URL: ``HTTPS://<VERIFIER HOST>/#SP2.`` + base43, so that a phone camera or WeChat opens the
  verifier page, which reads the credential from the fragment (never sent to any server).

Both carry the same bytes: the COSE_Sign1, or its zlib deflation when that is shorter (a decoder
tells them apart by the first byte, 0x78 for zlib, 0xD2 for the COSE tag).
"""

from __future__ import annotations

import re
import zlib
from typing import Final, NamedTuple

from credential.base45 import Base45Error, base43, base45
from credential.constants import FRAGMENT_PREFIX, QR_PREFIX, ZLIB_FIRST_BYTE, Limits
from credential.errors import CredentialError

PLAIN: Final = "plain"
URL: Final = "url"

_ANY_VERSION_PREFIX = re.compile(r"^SP\d+[:.]")
# scheme://host[:port]/#fragment, scheme and host in either case (a camera may lower them).
_URL_FORM = re.compile(r"^(https?)://([^/?#]*)(/?[^#]*)#(.*)$", re.IGNORECASE | re.DOTALL)
_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?$")
#: Hosts a plain ``http://`` URL form may name: a verifier on this machine (development, demo).
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost"})


class QrPayload(NamedTuple):
    """What a QR text carries: the COSE bytes, whether they travelled compressed, the form, and
    (URL form only) the verifier host it names, lower case with any port. A tuple: built for every
    credential a verifier sees, and a frozen dataclass costs a call per field."""

    data: bytes
    compressed: bool
    form: str
    verifier_host: str | None


def to_qr_text(cose: bytes) -> str:
    """The plain form: prefix + base45 of the COSE bytes, compressed when that is smaller."""
    return QR_PREFIX + base45().encode(_smallest(cose))


def to_url_text(cose: bytes, verifier_url: str) -> str:
    """The URL form for the verifier at ``verifier_url`` (``https://host[:port]``, nothing after
    the host but an optional ``/``)."""
    return verifier_origin(verifier_url) + "#" + FRAGMENT_PREFIX + base43().encode(_smallest(cose))


def verifier_origin(verifier_url: str) -> str:
    """``https://Verify.Example.cn/`` → ``HTTPS://VERIFY.EXAMPLE.CN/``: upper case, so the QR
    writes it in alphanumeric mode (scheme and host are case-insensitive; a path would not be, so
    none is allowed). Plain ``http`` only for a verifier on this machine. ``ValueError`` otherwise."""
    match = re.match(r"^(https?)://([^/?#]+)/?$", verifier_url.strip(), re.IGNORECASE)
    host = "" if match is None else match.group(2).lower()
    if match is None or not _HOST.fullmatch(host):
        raise ValueError(f"the verifier URL must be https://host[:port] without a path: {verifier_url!r}")
    scheme = match.group(1).upper()
    if scheme == "HTTP" and host.rsplit(":", 1)[0] not in LOOPBACK_HOSTS:
        raise ValueError(f"the verifier URL must use https (http only on this machine): {verifier_url!r}")
    return f"{scheme}://{host.upper()}/"


def _smallest(cose: bytes) -> bytes:
    """The COSE bytes, or their deflation when shorter.

    Below ``_WORTH_COMPRESSING`` bytes compression is not even tried: zlib's 6 bytes of framing
    and a 64-byte random signature outweigh what a few names save, and trying cost half a
    signature per certificate.
    """
    if len(cose) < _WORTH_COMPRESSING:
        return cose
    compressed = _deflate(cose)
    return compressed if len(compressed) < len(cose) else cose


_WORTH_COMPRESSING = 512


def _deflate(data: bytes) -> bytes:
    """zlib at level 9 with the smallest hash memory (memLevel 1): for a few hundred bytes the
    output equals the default's, without setting up 256 KiB of state."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 15, 1)
    return deflater.compress(data) + deflater.flush()


def read_qr_text(text: str, limits: Limits) -> QrPayload:
    """The bytes a QR text of either form carries; size limits come before any work."""
    if not text:
        raise CredentialError("qr_empty")
    if len(text) > limits.max_qr_text:
        raise CredentialError("qr_too_long", f"{len(text)} characters")
    if text.startswith(QR_PREFIX):
        data = _decode_digits(text[len(QR_PREFIX) :], PLAIN)
        return _inflated(data, limits, PLAIN, None)
    url = _URL_FORM.match(text)
    if url is None:
        raise CredentialError("prefix_version" if _ANY_VERSION_PREFIX.match(text) else "prefix_missing")
    scheme, host, path, fragment = url.group(1).lower(), url.group(2).lower(), url.group(3), url.group(4)
    if not fragment.startswith(FRAGMENT_PREFIX):
        raise CredentialError("prefix_version" if _ANY_VERSION_PREFIX.match(fragment) else "prefix_missing")
    if (
        path != "/"
        or not _HOST.fullmatch(host)
        or (scheme == "http" and host.rsplit(":", 1)[0] not in LOOPBACK_HOSTS)
    ):
        raise CredentialError("url_invalid", f"{scheme}://{host}{path}")
    data = _decode_digits(fragment[len(FRAGMENT_PREFIX) :], URL)
    return _inflated(data, limits, URL, host)


def from_qr_text(text: str, limits: Limits) -> tuple[bytes, bool]:
    """The COSE bytes and whether they were compressed, from either form."""
    payload = read_qr_text(text, limits)
    return payload.data, payload.compressed


def _decode_digits(digits: str, form: str) -> bytes:
    try:
        return (base45() if form == PLAIN else base43()).decode(digits)
    except Base45Error as e:
        raise CredentialError("base45_invalid" if form == PLAIN else "base43_invalid", str(e)) from e


_ZLIB_HEAD = bytes([ZLIB_FIRST_BYTE])  # built once: every credential a verifier reads is tested


def _inflated(data: bytes, limits: Limits, form: str, host: str | None) -> QrPayload:
    if data.startswith(_ZLIB_HEAD):
        return QrPayload(_inflate(data, limits.max_decompressed), True, form, host)
    return QrPayload(data, False, form, host)


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
