"""A small, real world for the verifier service and page tests: a registry key, one institution
with a key and a filed scope, a signed directory snapshot and status list, and credentials it issued.

Keys are generated per test module, never stored. Time is fixed (`NOW`), and the `Verifier` under
test is given a clock that returns it, so every window is exact.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from harness.servers import serve_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from credential import DEFAULT_LIMITS, CertificateClaims, MaskedId, encode
from credential.directory import ACTIVE, Directory, Institution, KeyEntry, Scope, StatusChange
from credential.qr_text import from_qr_text, to_qr_text
from credential.signed_document import TYP_DIRECTORY, sign_document
from credential.status_list import Status, StatusList
from credential.status_token import sign_status_list_token
from keys import Signer
from verifier.verifier import Verifier, VerifierConfig

NOW = 1_790_000_000  # 2026-09-21, a fixed "now" for every verification in these tests
TRUST_ISSUED_AT = NOW - 25 * 60  # the trust data is 25 minutes old
TRUST_EXPIRES_AT = NOW + 24 * 3600
REGISTRY_URL = "http://127.0.0.1:9"  # never contacted: these tests verify offline
STATUS_LIST_ID = 0
STATUS_LIST_SIZE = 1 << 20
INSTITUTION_CODE = "Y000011000001"
INSTITUTION_NAME = "中国国家铁路集团有限公司"
HOLDER_NAME = "张三丰"
HOLDER_ID = "11010519491231002X"
FORGED_NAME = "李四光"
ISSUE_DATE = date(2026, 3, 2)
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
VALID_INDEX, REVOKED_INDEX, SUSPENDED_INDEX = 123456, 654321, 777


@dataclass
class World:
    """Everything a verifier needs to trust, and the means to issue credentials it will judge."""

    registry: Signer = field(default_factory=Signer.generate)
    institution_key: Signer = field(default_factory=Signer.generate)
    status_list: StatusList = field(default_factory=lambda: StatusList(STATUS_LIST_SIZE, 2))

    def __post_init__(self) -> None:
        self.status_list.set(REVOKED_INDEX, Status.INVALID)
        self.status_list.set(SUSPENDED_INDEX, Status.SUSPENDED)

    @property
    def directory(self) -> Directory:
        key = self.institution_key
        institution = Institution(
            code=INSTITUTION_CODE,
            name=INSTITUTION_NAME,
            uscc="91110000717825966F",
            category="Y",
            statuses=(StatusChange(ACTIVE, date(2020, 1, 1), TRUST_ISSUED_AT - 10**7),),
            scopes=(Scope("6-31-01-03", "电工", (3, 4, 5), date(2020, 1, 1)),),
            keys=(KeyEntry(key.kid, bytes(key.public_key.raw), date(2020, 1, 1)),),
        )
        return Directory(
            sequence=7,
            issued_at=TRUST_ISSUED_AT,
            expires_at=TRUST_EXPIRES_AT,
            institutions=(institution,),
            status_list_base=f"{REGISTRY_URL}/api/v1/status-lists",
        )

    def trust_list_bytes(self) -> bytes:
        """The registry-signed directory snapshot, as `GET /api/v1/trust-list` serves it."""
        return sign_document(self.directory.to_payload(), self.registry, TYP_DIRECTORY)

    def status_list_token(self) -> bytes:
        """The registry-signed status list token, as `GET /api/v1/status-lists/0` serves it."""
        return sign_status_list_token(
            self.status_list,
            self.registry,
            uri=f"{REGISTRY_URL}/api/v1/status-lists/{STATUS_LIST_ID}",
            issued_at=TRUST_ISSUED_AT,
            expires_at=TRUST_EXPIRES_AT,
            ttl=3600,
        )

    def claims(self, **changes: Any) -> CertificateClaims:
        fields: dict[str, Any] = {
            "certificate_number": f"{INSTITUTION_CODE}263000001",
            "holder_name": HOLDER_NAME,
            "id_type": "居民身份证",
            "id_masked": MaskedId.of(HOLDER_ID),
            "occupation_code": "6-31-01-03",
            "level": 3,
            "work_type": "--",
            "issue_date": ISSUE_DATE,
            "status_list": STATUS_LIST_ID,
            "status_index": VALID_INDEX,
        }
        fields.update(changes)
        return CertificateClaims(**fields)

    def qr(self, signer: Signer | None = None, **changes: Any) -> str:
        """A credential issued by the institution (or by `signer`), optionally with claims changed."""
        return encode(self.claims(**changes), signer or self.institution_key)


def tampered(qr_text: str) -> str:
    """The same credential with the holder's name changed in the signed payload, signature kept.

    It stays well-formed (same length, valid UTF-8, valid CBOR), so only the signature check can
    catch it - which is the attack: someone edits the name on a genuine credential.
    """
    cose, _ = from_qr_text(qr_text, DEFAULT_LIMITS)
    original, forged = HOLDER_NAME.encode(), FORGED_NAME.encode()
    assert len(original) == len(forged) and cose.count(original) == 1
    return to_qr_text(cose.replace(original, forged))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 0) -> bytes:
    """A PNG whose header declares `width`×`height` (grey by default) but whose pixel data is one byte."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    idat = zlib.compress(b"\0")
    return _PNG_MAGIC + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def decompression_bomb_png(side: int = 30000) -> bytes:
    """`side`² single-colour 1-bit pixels: about 100 KiB on disk, 900 MP (at 30000) once decoded."""
    row = bytes(1 + side // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return _PNG_MAGIC + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def nested_forms_pdf(depth: int = 24, fanout: int = 4) -> bytes:
    """A few kilobytes of PDF whose form drawings each draw the next one `fanout` times, `depth` deep:
    `fanout**depth` drawing operations for a renderer, the attack that held a decode slot for 15 s."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /F 5 0 R >> >> /Contents 4 0 R >>"
    objects += [page, _pdf_stream(b"", b"/F Do")]
    for level in range(depth):
        draw = b" ".join(b"q 0.9 0 0 0.9 %d %d cm /F Do Q" % (i, i) for i in range(fanout))
        last = level == depth - 1
        resources = b"" if last else b"/Resources << /XObject << /F %d 0 R >> >>" % (6 + level)
        body = b"0 0 10 10 re f" if last else draw
        objects.append(_pdf_stream(b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] " + resources, body))
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _pdf_stream(dictionary: bytes, content: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(content), content)


def make_verifier(world: World, cache_dir: Path, *, clock: Callable[[], float]) -> Verifier:
    """An offline `Verifier` whose trust cache was filled the real way: synced over HTTP at `NOW`.

    A throw-away registry stand-in serves the world's signed documents on loopback only for the
    sync; the verifier returned then reads the cache from disk, with no registry configured, and
    judges at `clock` (which may be past the trust data's expiry).
    """
    key = world.registry.public_key
    with serve_app(_registry_app(world)) as registry_url:
        syncing = Verifier(VerifierConfig(cache_dir=cache_dir, registry_url=registry_url, registry_key=key))
        syncing.store.sync(NOW)
    return Verifier(VerifierConfig(cache_dir=cache_dir, registry_key=key), clock=clock)


def _registry_app(world: World) -> Starlette:
    """The registry's public trust endpoints (docs/api.md), serving this world's documents."""
    documents = {
        "trust-list": world.trust_list_bytes(),
        f"status-lists/{STATUS_LIST_ID}": world.status_list_token(),
    }
    # the draft's Status List Aggregation: the URI of every list
    index = {"status_lists": [f"{REGISTRY_URL}/api/v1/status-lists/{STATUS_LIST_ID}"]}

    async def document(request: Request) -> Response:
        return Response(documents[request.path_params["name"]], headers={"cache-control": "max-age=3600"})

    async def status_lists(request: Request) -> Response:
        return JSONResponse(index)

    return Starlette(
        routes=[
            Route("/api/v1/status-lists", status_lists),
            Route("/api/v1/{name:path}", document),
        ]
    )
