"""IETF Token Status List (draft-ietf-oauth-status-list) in its CBOR form, pure and without I/O.

A status list is a packed array of ``bits``-wide statuses, least significant bits first inside each
byte, compressed with zlib. The registry keeps one ``StatusList`` per 2^20 indices and signs its
claims (``status_list_claims``) as a CWT; verifiers decode the ``status_list`` claim with a hard
limit on the decompressed size, so a hostile list (a zlib bomb) costs nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import cbor2

from common.errors import CataloguedError

__all__ = [
    "ALLOWED_BITS",
    "CLAIM_EXP",
    "CLAIM_IAT",
    "CLAIM_STATUS",
    "CLAIM_STATUS_LIST",
    "CLAIM_SUB",
    "CLAIM_TTL",
    "DEFAULT_MAX_ENTRIES",
    "ZLIB_LEVEL",
    "ZLIB_MEMORY_LEVEL",
    "ZLIB_STRATEGY",
    "ParsedStatusListClaims",
    "Status",
    "StatusList",
    "StatusListError",
    "StatusReference",
    "parse_status_claim",
    "parse_status_list_claims",
    "status_claim",
    "status_list_claims",
]

# --- wire labels (draft-ietf-oauth-status-list, CWT form) -----------------------------------------
CLAIM_SUB = 2
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_STATUS_LIST = 65533  # in a Status List Token: the status list map
CLAIM_TTL = 65534  # in a Status List Token: seconds a relying party may cache it
CLAIM_STATUS = 65535  # in a Referenced Token: {"status_list": {"idx": int, "uri": str}}

KEY_BITS = "bits"
KEY_LST = "lst"
KEY_AGGREGATION_URI = "aggregation_uri"
KEY_STATUS_LIST = "status_list"
KEY_IDX = "idx"
KEY_URI = "uri"

ALLOWED_BITS = (1, 2, 4, 8)
DEFAULT_MAX_ENTRIES = 2**24

# Level 9, the highest, as draft-ietf-oauth-status-list recommends for ``lst`` (§4.1), with zlib's
# run-length strategy (Z_RLE) and its largest hash memory. A status list is long runs of zero bytes
# between scattered entries, which is what Z_RLE matches; the default strategy at level 9 searches
# long hash chains through those runs. On a 2^20-entry, 2-bit list (256 KiB) with entries set at
# random, Z_RLE's output is within 9 % of the default strategy's at 0.1-3 % set and smaller at 10 %
# and 30 %, and it compresses 50 to 100 times faster: a 10 %-set list re-signs in tens of milliseconds
# instead of a second (the re-signing budget is 200 ms; docs/performance.md). Any zlib decodes it.
ZLIB_LEVEL = 9
ZLIB_STRATEGY = zlib.Z_RLE
ZLIB_MEMORY_LEVEL = 9

_MESSAGES: dict[str, tuple[str, str]] = {
    "status_list_bits": ("状态位宽必须是 1、2、4 或 8", "bits must be 1, 2, 4 or 8"),
    "status_list_zlib": ("状态列表的压缩数据已损坏", "the status list's zlib data is broken"),
    "status_list_cbor": ("状态列表不是有效的 CBOR", "the status list is not valid CBOR"),
    "status_list_shape": ("状态列表结构不正确", "the status list has the wrong shape"),
    "status_list_index": ("状态索引超出范围", "the status index is out of range"),
    "status_list_value": ("状态值超出位宽允许的范围", "the status value does not fit in the list's bits"),
    "status_list_too_large": ("状态列表超出大小上限", "the status list is larger than the limit"),
    "status_list_unknown_status": ("未知的状态值", "the status value has no defined meaning"),
    "status_list_claims": ("状态列表令牌的声明不正确", "the status list token's claims are malformed"),
    "status_claim_shape": ("证书的状态引用结构不正确", "the token's status reference is malformed"),
}


class StatusListError(CataloguedError):
    """A status list that cannot be built or trusted; ``code`` is stable, ``detail`` is English."""

    catalogue = _MESSAGES


class Status(IntEnum):
    """Status values the draft registers; 3 and above are application specific."""

    VALID = 0
    INVALID = 1  # revoked, for good
    SUSPENDED = 2

    @classmethod
    def from_value(cls, value: int) -> Status:
        """Map a raw list value to a registered status; unknown values are an error, never VALID."""
        try:
            return cls(value)
        except ValueError as e:
            raise StatusListError("status_list_unknown_status", f"value {value}") from e


def _is_int(value: object) -> bool:
    """True for a real int; bool is an int subclass in Python but never a number on the wire."""
    return isinstance(value, int) and not isinstance(value, bool)


class StatusList:
    """A fixed-size list of ``bits``-wide statuses, stored packed exactly as the wire carries it.

    The packed bytearray is the storage, so encoding never walks the entries in Python.
    """

    __slots__ = ("_bits", "_data", "_mask", "_size", "aggregation_uri")

    def __init__(self, size: int, bits: int, *, aggregation_uri: str | None = None) -> None:
        _check_bits(bits)
        if not _is_int(size) or size < 1:
            raise StatusListError("status_list_shape", f"size must be a positive integer, got {size!r}")
        self._bits = bits
        self._size = size
        self._mask = (1 << bits) - 1
        self._data = bytearray((size * bits + 7) // 8)
        self.aggregation_uri = aggregation_uri

    @classmethod
    def from_bytes(cls, raw: bytes, bits: int, *, aggregation_uri: str | None = None) -> StatusList:
        """Wrap an uncompressed byte array; its size is every entry the bytes hold."""
        _check_bits(bits)
        if not raw:
            raise StatusListError("status_list_shape", "the byte array is empty")
        status_list = cls(len(raw) * 8 // bits, bits, aggregation_uri=aggregation_uri)
        status_list._data[:] = raw
        return status_list

    @property
    def size(self) -> int:
        """Number of entries."""
        return self._size

    @property
    def bits(self) -> int:
        """Bits per entry: 1, 2, 4 or 8."""
        return self._bits

    def get(self, index: int) -> int:
        """The raw value at ``index`` (may exceed the registered ``Status`` values when bits > 1).

        An index in range is read inline (a verifier reads one per credential); anything else goes
        through ``_locate``, which says what is wrong with it.
        """
        if type(index) is int and 0 <= index < self._size:
            position = index * self._bits
            return (self._data[position >> 3] >> (position & 7)) & self._mask
        byte, shift = self._locate(index)
        return (self._data[byte] >> shift) & self._mask

    def get_status(self, index: int) -> Status:
        """The value at ``index`` as a registered ``Status``; see ``Status.from_value``."""
        return Status.from_value(self.get(index))

    def set(self, index: int, value: int) -> None:
        """Store ``value`` at ``index``, leaving every other entry as it was."""
        if not _is_int(value) or not 0 <= value <= self._mask:
            raise StatusListError("status_list_value", f"{value!r} with bits={self._bits}")
        byte, shift = self._locate(index)
        self._data[byte] = (self._data[byte] & ~(self._mask << shift)) | (value << shift)

    def to_bytes(self) -> bytes:
        """The uncompressed, LSB-first packed byte array."""
        return bytes(self._data)

    def compressed(self) -> bytes:
        """The byte array compressed with zlib (RFC 1950) at ``ZLIB_LEVEL`` with ``ZLIB_STRATEGY``."""
        deflater = zlib.compressobj(
            ZLIB_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS, ZLIB_MEMORY_LEVEL, ZLIB_STRATEGY
        )
        return deflater.compress(self._data) + deflater.flush()

    def to_cbor_map(self) -> dict[str, object]:
        """The draft's status list map: ``bits``, ``lst`` and, when set, ``aggregation_uri``."""
        result: dict[str, object] = {KEY_BITS: self._bits, KEY_LST: self.compressed()}
        if self.aggregation_uri is not None:
            result[KEY_AGGREGATION_URI] = self.aggregation_uri
        return result

    def to_cbor(self) -> bytes:
        """The status list map encoded as CBOR."""
        return cbor2.dumps(self.to_cbor_map())

    @classmethod
    def from_cbor_map(cls, obj: object, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> StatusList:
        """Decode a status list map; the zlib stream may not inflate past ``max_entries`` entries."""
        if not isinstance(obj, Mapping):
            raise StatusListError("status_list_shape", "the status list is not a map")
        bits = _check_bits(obj.get(KEY_BITS))
        lst = obj.get(KEY_LST)
        uri = obj.get(KEY_AGGREGATION_URI)
        if not isinstance(lst, bytes):
            raise StatusListError("status_list_shape", "lst is missing or not a byte string")
        if uri is not None and not isinstance(uri, str):
            raise StatusListError("status_list_shape", "aggregation_uri is not text")
        limit = (max_entries * bits + 7) // 8
        return cls.from_bytes(_inflate(lst, limit), bits, aggregation_uri=uri)

    @classmethod
    def from_cbor(cls, data: bytes, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> StatusList:
        """Decode CBOR bytes holding a status list map."""
        try:
            obj = cbor2.loads(data)
        except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as e:
            raise StatusListError("status_list_cbor", str(e)) from e
        return cls.from_cbor_map(obj, max_entries=max_entries)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusList):
            return NotImplemented
        return (self._bits, self._size, self._data, self.aggregation_uri) == (
            other._bits,
            other._size,
            other._data,
            other.aggregation_uri,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"StatusList(size={self._size}, bits={self._bits})"

    def _locate(self, index: int) -> tuple[int, int]:
        """Byte offset and bit shift of an entry, after the bounds check."""
        if not _is_int(index) or not 0 <= index < self._size:
            raise StatusListError("status_list_index", f"{index!r} not in [0, {self._size})")
        position = index * self._bits
        return position >> 3, position & 7


def _check_bits(bits: object) -> int:
    if not isinstance(bits, int) or isinstance(bits, bool) or bits not in ALLOWED_BITS:
        raise StatusListError("status_list_bits", f"got {bits!r}")
    return bits


def _inflate(compressed: bytes, limit: int) -> bytes:
    """Inflate a complete zlib stream, stopping after ``limit`` + 1 bytes of output.

    ``max_length`` caps what ``decompressobj`` ever allocates, so a bomb is rejected after at
    most ``limit`` bytes of work. Trailing bytes after the stream and a cut stream are rejected.
    """
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(compressed, limit + 1)
    except zlib.error as e:
        raise StatusListError("status_list_zlib", str(e)) from e
    if len(raw) > limit:
        raise StatusListError("status_list_too_large", f"more than {limit} bytes")
    if not inflater.eof:
        raise StatusListError("status_list_zlib", "the zlib stream is truncated")
    if inflater.unused_data:
        raise StatusListError("status_list_zlib", "bytes follow the zlib stream")
    return raw


# --- Status List Token claims (CWT) ---------------------------------------------------------------


@dataclass(frozen=True)
class ParsedStatusListClaims:
    """The claims of a Status List Token whose shape has been checked (not its signature or time)."""

    sub: str
    iat: int
    exp: int
    ttl: int
    status_list: StatusList


def status_list_claims(
    *, sub: str, iat: int, exp: int, ttl: int, status_list: StatusList
) -> dict[int, object]:
    """The CWT claims of a Status List Token; ``sub`` is the list's URI, times are epoch seconds."""
    _check_claim_values(sub, iat, exp, ttl)
    return {
        CLAIM_SUB: sub,
        CLAIM_IAT: iat,
        CLAIM_EXP: exp,
        CLAIM_TTL: ttl,
        CLAIM_STATUS_LIST: status_list.to_cbor_map(),
    }


def parse_status_list_claims(
    claims: object, *, max_entries: int = DEFAULT_MAX_ENTRIES
) -> ParsedStatusListClaims:
    """Check a Status List Token's claims and decode its list; other claims (e.g. iss) are ignored."""
    if not isinstance(claims, Mapping):
        raise StatusListError("status_list_claims", "the claims are not a map")
    sub, iat, exp, ttl = _check_claim_values(
        *(claims.get(k) for k in (CLAIM_SUB, CLAIM_IAT, CLAIM_EXP, CLAIM_TTL))
    )
    if CLAIM_STATUS_LIST not in claims:
        raise StatusListError("status_list_claims", "the status_list claim (65533) is missing")
    status_list = StatusList.from_cbor_map(claims[CLAIM_STATUS_LIST], max_entries=max_entries)
    return ParsedStatusListClaims(sub=sub, iat=iat, exp=exp, ttl=ttl, status_list=status_list)


def _check_claim_values(sub: Any, iat: Any, exp: Any, ttl: Any) -> tuple[str, int, int, int]:
    """sub non-empty text; iat, exp, ttl non-negative integers with exp after iat."""
    if not isinstance(sub, str) or not sub:
        raise StatusListError("status_list_claims", "sub (2) must be non-empty text")
    for name, value in (("iat (6)", iat), ("exp (4)", exp), ("ttl (65534)", ttl)):
        if not _is_int(value) or value < 0:
            raise StatusListError("status_list_claims", f"{name} must be a non-negative integer")
    if exp <= iat:
        raise StatusListError("status_list_claims", "exp (4) must be after iat (6)")
    return sub, iat, exp, ttl


# --- Referenced Token side: the status claim (65535) ----------------------------------------------


@dataclass(frozen=True)
class StatusReference:
    """Where a Referenced Token's status lives: entry ``idx`` of the list published at ``uri``."""

    idx: int
    uri: str


def status_claim(reference: StatusReference) -> dict[str, object]:
    """The value of claim 65535: ``{"status_list": {"idx": ..., "uri": ...}}``."""
    _check_reference(reference.idx, reference.uri)
    return {KEY_STATUS_LIST: {KEY_IDX: reference.idx, KEY_URI: reference.uri}}


def parse_status_claim(value: object) -> StatusReference:
    """Check the value of claim 65535 and return the reference it holds."""
    inner = value.get(KEY_STATUS_LIST) if isinstance(value, Mapping) else None
    if not isinstance(inner, Mapping):
        raise StatusListError("status_claim_shape", "status_list is missing or not a map")
    idx, uri = _check_reference(inner.get(KEY_IDX), inner.get(KEY_URI))
    return StatusReference(idx=idx, uri=uri)


def _check_reference(idx: Any, uri: Any) -> tuple[int, str]:
    if not _is_int(idx) or idx < 0:
        raise StatusListError("status_claim_shape", "idx must be a non-negative integer")
    if not isinstance(uri, str) or not uri:
        raise StatusListError("status_claim_shape", "uri must be non-empty text")
    return idx, uri
