"""An independent verifier written from docs/spec.md alone, run over every conformance vector.

It uses cbor2 (parsing only), PyNaCl and the standard library, and none of the project's code:
no ``credential``, ``keys``, ``verifier`` or ``schemas``. Its deterministic CBOR encoder, its
structural walk, its base43 and every check are its own, following the section named beside each.
If it and the project disagree on any vector, the specification is ambiguous or one of them is wrong.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

VECTORS = Path(__file__).resolve().parents[1] / "spec" / "vectors"
B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
B43 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ$*+-./:"
CST = timedelta(hours=8)


class RejectError(Exception):
    """A result code of spec §8.1."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- §2 deterministic CBOR ---------------------------------------------------------------------------


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError("integer too large")


def det(value: Any) -> bytes:
    """RFC 8949 §4.2.1 core deterministic encoding."""
    if value is False or value is True or value is None:
        return {False: b"\xf4", True: b"\xf5", None: b"\xf6"}[value]
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        data = value.encode("utf-8")
        return _head(3, len(data)) + data
    if isinstance(value, list | tuple):
        return _head(4, len(value)) + b"".join(det(v) for v in value)
    if isinstance(value, Mapping):
        items = sorted((det(k), det(v)) for k, v in value.items())
        return _head(5, len(items)) + b"".join(k + v for k, v in items)
    if isinstance(value, cbor2.CBORTag):
        return _head(6, value.tag) + det(value.value)
    raise TypeError(type(value))


def walk(data: bytes, *, top_tag_allowed: bool) -> None:
    """§4 structure: definite lengths, no floats, a tag only at the top, ≤ 256 items, depth ≤ 8,
    nothing after the one item."""
    count = 0

    def item(pos: int, depth: int, tag_ok: bool) -> int:
        nonlocal count
        count += 1
        if count > 256:
            raise RejectError("cbor_too_complex")
        if pos >= len(data):
            raise RejectError("cbor_invalid")
        major, ai = data[pos] >> 5, data[pos] & 31
        pos += 1
        if ai > 27 or (major == 7 and ai >= 24):
            raise RejectError("cbor_invalid")
        arg = ai
        if ai >= 24:
            size = 1 << (ai - 24)
            if pos + size > len(data):
                raise RejectError("cbor_invalid")
            arg, pos = int.from_bytes(data[pos : pos + size], "big"), pos + size
        if major in (2, 3):
            if pos + arg > len(data):
                raise RejectError("cbor_invalid")
            return pos + arg
        if major in (4, 5):
            if depth + 1 > 8:
                raise RejectError("cbor_too_complex")
            for _ in range(arg * (2 if major == 5 else 1)):
                pos = item(pos, depth + 1, False)
            return pos
        if major == 6:
            if not tag_ok:
                raise RejectError("cbor_invalid")
            return item(pos, depth, False)
        if major == 7 and ai not in (20, 21, 22):
            raise RejectError("cbor_invalid")
        return pos

    if item(0, 0, top_tag_allowed) != len(data):
        raise RejectError("cbor_trailing")


# --- §3 the two text forms ------------------------------------------------------------------------


def triplets(text: str, alphabet: str, bad: str) -> bytes:
    radix, out = len(alphabet), bytearray()
    if any(c not in alphabet for c in text) or len(text) % 3 == 1:
        raise RejectError(bad)
    for i in range(0, len(text) - len(text) % 3, 3):
        n = (
            alphabet.index(text[i])
            + radix * alphabet.index(text[i + 1])
            + radix * radix * alphabet.index(text[i + 2])
        )
        if n > 0xFFFF:
            raise RejectError(bad)
        out += n.to_bytes(2, "big")
    if len(text) % 3 == 2:
        n = alphabet.index(text[-2]) + radix * alphabet.index(text[-1])
        if n > 0xFF:
            raise RejectError(bad)
        out.append(n)
    return bytes(out)


HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?")
OTHER_VERSION = re.compile(r"SP[0-9]+[:.]")


def read_text(text: str) -> tuple[bytes, str | None]:
    """§3.3 steps 1–5: the COSE_Sign1 bytes and the host a URL form names."""
    if not text:
        raise RejectError("qr_empty")
    if len(text) > 4296:
        raise RejectError("qr_too_long")
    host = None
    if text.startswith("SP2:"):
        data = triplets(text[4:], B45, "base45_invalid")
    else:
        url = re.fullmatch(r"(https?)://([^/?#]*)(/?[^#]*)#(.*)", text, re.IGNORECASE | re.DOTALL)
        if url is None:
            raise RejectError("prefix_version" if OTHER_VERSION.match(text) else "prefix_missing")
        scheme, host, path, fragment = url.group(1).lower(), url.group(2).lower(), url.group(3), url.group(4)
        if not fragment.startswith("SP2."):
            raise RejectError("prefix_version" if OTHER_VERSION.match(fragment) else "prefix_missing")
        loopback = host.rsplit(":", 1)[0] in ("127.0.0.1", "localhost")
        if path != "/" or not HOST.fullmatch(host) or (scheme == "http" and not loopback):
            raise RejectError("url_invalid")
        data = triplets(fragment[4:], B43, "base43_invalid")
    if data[:1] == b"\x78":
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(data, 4097)
        except zlib.error as e:
            raise RejectError("zlib_invalid") from e
        if len(data) > 4096 or inflater.unconsumed_tail:
            raise RejectError("zlib_too_large")
        if not inflater.eof:
            raise RejectError("zlib_invalid")
        if inflater.unused_data:
            raise RejectError("zlib_trailing")
    return data, host


# --- §4 COSE_Sign1 and §5 claims ------------------------------------------------------------------


def read_cose(data: bytes) -> tuple[bytes, dict[Any, Any], bytes, bytes]:
    walk(data, top_tag_allowed=True)
    item = cbor2.loads(data)
    if not isinstance(item, cbor2.CBORTag) or item.tag != 18:
        raise RejectError("cose_not_sign1")
    if det(item) != data:
        raise RejectError("cbor_not_canonical")
    body = item.value
    if not (isinstance(body, list | tuple) and len(body) == 4):
        raise RejectError("cose_shape")
    protected_bytes, unprotected, payload, signature = body
    if not (isinstance(protected_bytes, bytes) and isinstance(unprotected, Mapping)):
        raise RejectError("cose_shape")
    if not (isinstance(payload, bytes) and isinstance(signature, bytes)):
        raise RejectError("cose_shape")
    try:
        walk(protected_bytes, top_tag_allowed=False)
    except RejectError as e:
        raise RejectError("cose_protected_header") from e
    protected = cbor2.loads(protected_bytes)
    if not isinstance(protected, dict):
        raise RejectError("cose_protected_header")
    if det(protected) != protected_bytes:
        raise RejectError("cbor_not_canonical")
    if any(type(label) is not int for label in protected):
        raise RejectError("cose_protected_header")
    if 2 in protected:
        raise RejectError("cose_unknown_critical")
    if 1 in unprotected or type(protected.get(1)) is not int or protected[1] not in (-8, -19):
        raise RejectError("cose_algorithm")
    kid = protected.get(4)
    if 4 in unprotected or not isinstance(kid, bytes) or len(kid) != 8:
        raise RejectError("cose_kid")
    if unprotected:
        raise RejectError("cose_unprotected_header")
    if len(signature) != 64:
        raise RejectError("cose_signature_length")
    if len(protected) != 2:
        raise RejectError("cose_protected_header")
    return protected_bytes, protected, payload, signature


def _text(value: Any, most: int) -> str:
    if not (
        isinstance(value, str) and 0 < len(value) <= most and value == value.strip() and value.isprintable()
    ):
        raise RejectError("claims_invalid")
    return value


def _int(value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise RejectError("claims_invalid")
    return value


def read_claims(payload: bytes) -> dict[str, Any]:
    """§5: the certificate map, strictly."""
    try:
        walk(payload, top_tag_allowed=False)
    except RejectError as e:
        raise RejectError("cbor_trailing" if e.code == "cbor_trailing" else "claims_invalid") from e
    claims = cbor2.loads(payload)
    if not (isinstance(claims, dict) and list(claims) == [-65537] and isinstance(claims[-65537], dict)):
        raise RejectError("claims_invalid")
    body = claims[-65537]
    if any(type(key) is not int or key not in range(1, 10) for key in body):
        raise RejectError("claims_invalid")
    masked, status = body.get(6), body.get(9)
    if not (isinstance(masked, list) and len(masked) == 2 and isinstance(status, list) and len(status) == 2):
        raise RejectError("claims_invalid")
    length, suffix = _int(masked[0], 1, 30), masked[1]
    if not (isinstance(suffix, str) and re.fullmatch(r"[0-9A-Z()\-]{1,4}", suffix) and len(suffix) <= length):
        raise RejectError("claims_invalid")
    if 7 in body and body[7] == "--":
        raise RejectError("claims_invalid")
    cert = {
        "serial": _int(body.get(1), 1, 999_999),
        "occupation": _int(body.get(2), 1_000_000, 8_999_999),
        "level": _int(body.get(3), 1, 5),
        "name": _text(body.get(4), 24),
        "id_type": _int(body.get(5), 1, 6),
        "work_type": _text(body[7], 14) if 7 in body else "--",
        "issue_date": date(1970, 1, 1) + timedelta(days=_int(body.get(8), 0, 2_932_896)),
        "list": _int(status[0], 0, 2**64),
        "index": _int(status[1], 0, 2**20 - 1),
    }
    if det(claims) != payload:
        raise RejectError("cbor_not_canonical")
    return cert


# --- §6 status lists, §7 directory ----------------------------------------------------------------


def open_signed(data: bytes, registry_key: bytes, typ: str) -> Any:
    item = cbor2.loads(data)
    protected_bytes, _, payload, signature = item.value
    assert cbor2.loads(protected_bytes) == {1: -8, 4: hashlib.sha256(registry_key).digest()[:8], 16: typ}
    VerifyKey(registry_key).verify(det(["Signature1", protected_bytes, b"", payload]), signature)
    return cbor2.loads(payload)


def status_entries(data: bytes, registry_key: bytes) -> tuple[bytes, int]:
    claims = open_signed(data, registry_key, "application/statuslist+cwt")
    status_list = claims[65533]
    assert status_list["bits"] == 2
    raw = zlib.decompress(status_list["lst"])
    return raw, len(raw) * 4


def in_force(statuses: list[dict[str, Any]], day: date) -> str | None:
    effective = [s for s in statuses if date.fromisoformat(s["effective"]) <= day]
    return max(effective, key=lambda s: s["recorded"])["status"] if effective else None


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


class IndependentVerifier:
    """§8.1 offline, from the signed trust data of §6 and §7."""

    def __init__(self, registry_key: bytes, directory: bytes, lists: dict[int, bytes]) -> None:
        self.directory = open_signed(directory, registry_key, "application/skillpass-directory+cbor")
        assert self.directory["v"] == 2
        self.lists = {n: status_entries(data, registry_key) for n, data in lists.items()}
        self.keys = {
            key["kid"]: (institution, key)
            for institution in self.directory["institutions"]
            for key in institution["keys"]
            if hashlib.sha256(key["x"]).digest()[:8] == key["kid"]
        }

    def warning(self, text: str) -> str | None:
        try:
            _, host = read_text(text)
        except RejectError:
            return None
        return None if host is None or host in self.directory["verifier_hosts"] else "verifier_host_foreign"

    def verify(self, text: str, now: int) -> str:
        try:
            self._verify(text, now)
        except RejectError as e:
            return e.code
        return "valid"

    def _verify(self, text: str, now: int) -> None:
        data, _ = read_text(text)
        protected_bytes, protected, payload, signature = read_cose(data)
        cert = read_claims(payload)
        if now > self.directory["exp"] + 300:
            raise RejectError("trust_expired")
        found = self.keys.get(protected[4])
        if found is None:
            raise RejectError("key_unknown")
        institution, key = found
        try:
            VerifyKey(key["x"]).verify(det(["Signature1", protected_bytes, b"", payload]), signature)
        except BadSignatureError as e:
            raise RejectError("signature_invalid") from e
        day = cert["issue_date"]
        if day > (datetime.fromtimestamp(now + 300, UTC) + CST).date():
            raise RejectError("issue_date_future")
        self._key_window(key, day)
        standing = in_force(institution["statuses"], day)
        if standing != "active":
            raise RejectError({"suspended": "institution_suspended", "removed": "institution_removed"}.get(
                str(standing), "institution_not_active"))  # fmt: skip
        self._scope(institution, cert)
        code = institution["code"]
        if not re.fullmatch(r"[YS][0-9]{12}", code, re.ASCII):
            raise RejectError("certno_mismatch")
        self._status(cert)

    @staticmethod
    def _key_window(key: dict[str, Any], day: date) -> None:
        revoked, retired, until = _day(key["revoked"]), _day(key["retired"]), _day(key["valid_until"])
        if day < date.fromisoformat(key["valid_from"]):
            raise RejectError("key_not_yet_valid")
        if revoked is not None and day >= revoked:
            raise RejectError("key_revoked")
        if retired is not None and day > retired:
            raise RejectError("key_retired")
        if until is not None and day > until:
            raise RejectError("key_expired")

    @staticmethod
    def _scope(institution: dict[str, Any], cert: dict[str, Any]) -> None:
        digits, day = str(cert["occupation"]), cert["issue_date"]
        occupation = f"{digits[0]}-{digits[1:3]}-{digits[3:5]}-{digits[5:7]}"
        in_window = [
            s for s in institution["scopes"]
            if s["occupation_code"] == occupation and date.fromisoformat(s["valid_from"]) <= day
            and (s["valid_until"] is None or day <= date.fromisoformat(s["valid_until"]))
        ]  # fmt: skip
        if not in_window:
            raise RejectError("occupation_out_of_scope")
        if not any(cert["level"] in s["levels"] for s in in_window):
            raise RejectError("level_out_of_scope")
        if not any(cert["level"] in s["levels"] and cert["work_type"] in s["work_types"] for s in in_window):
            raise RejectError("work_type_out_of_scope")

    def _status(self, cert: dict[str, Any]) -> None:
        if cert["list"] not in self.lists:
            raise RejectError("trust_missing")
        raw, size = self.lists[cert["list"]]
        if cert["index"] >= size:
            raise RejectError("status_unknown")
        value = raw[cert["index"] // 4] >> (2 * (cert["index"] % 4)) & 0b11
        if value != 0:
            raise RejectError({1: "revoked", 2: "suspended"}.get(value, "status_unknown"))


VECTOR_FILE: dict[str, Any] = json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))
ALL = [(kind, v) for kind in ("valid", "invalid") for v in VECTOR_FILE[kind]]


@pytest.fixture(scope="module")
def verifier() -> IndependentVerifier:
    key = bytes.fromhex(VECTOR_FILE["registry_public_key"])
    lists = {0: (VECTORS / "status-list-0.cwt").read_bytes()}
    return IndependentVerifier(key, (VECTORS / "directory.cose").read_bytes(), lists)


@pytest.mark.parametrize(("kind", "vector"), ALL, ids=[f"{k}-{v['name']}" for k, v in ALL])
def test_an_independent_decoder_reaches_every_expected_result(
    verifier: IndependentVerifier, kind: str, vector: dict[str, Any]
) -> None:
    assert verifier.verify(vector["text"], VECTOR_FILE["now"]) == vector["expect"]["code"]
    assert verifier.warning(vector["text"]) == vector["expect"].get("warning")


def test_the_independent_decoder_imports_nothing_of_the_project() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    imported = set(re.findall(r"^(?:from|import) ([a-z_0-9]+)", source, re.MULTILINE))
    assert imported.isdisjoint({"credential", "keys", "verifier", "schemas", "common", "registry", "issuer"})
