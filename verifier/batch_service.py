"""The verifier service's bulk endpoints and its receipts.

``POST /api/v1/verify/batch`` takes multipart ``files`` (repeated: pictures, PDFs, ZIPs, CSV/XLSX)
and answers ``{"results": [...], "receipt": "...", "summary": {...}}``; with ``?progress=1`` it
streams NDJSON instead — ``{"progress": {"stage", "done", "total"}}`` lines while it works, then
one ``{"answer": {...}}`` line (or ``{"error": {...}}``) — so the page can show a progress bar.
Pictures and PDF pages are read by the app's decode pool (``app.state.decode_pool``), never in this
process, and a batch holds one of its client's in-flight places while it runs (429 ``client_busy``
when none is free), as a single upload does.
``POST /api/v1/verify/batch/report?format=csv|xlsx`` turns results into the report file, and
``GET /api/v1/verifier-key`` publishes the public key receipts are signed with.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import httpx
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from keys import Signer, to_jwk
from verifier.bulk import (
    DEFAULT_BATCH_LIMITS,
    BatchError,
    BatchLimits,
    FileReader,
    Item,
    Upload,
    find_items,
    item_sha256,
    verify_items,
)
from verifier.decode_pool import DecodePool, uploader
from verifier.images import DecodedUpload, ImageError
from verifier.receipt import RECEIPT_TYPE, sign_receipt
from verifier.report import report_csv, report_xlsx
from verifier.verdict import Verdict
from verifier.verifier import Verifier

__all__ = ["BATCH_PATH", "REPORT_PATH", "Attestor", "add_batch_routes", "single_result"]

BATCH_PATH: Final = "/api/v1/verify/batch"
REPORT_PATH: Final = "/api/v1/verify/batch/report"
_CHECKPOINT_MAX_AGE: Final = 60
_REPORT_TYPES: Final = {
    "csv": ("text/csv; charset=utf-8", report_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", report_xlsx),
}


class Attestor:
    """The service's own Ed25519 key, and what a receipt records besides the results: the time,
    the trust data's version and the registry's latest signed audit checkpoint we could get."""

    def __init__(self, verifier: Verifier, signer: Signer | None = None) -> None:
        self._verifier = verifier
        self.signer = signer or Signer.generate()
        self._clock = verifier.now
        self._checkpoint: tuple[float, dict[str, Any] | None] = (float("-inf"), None)
        self._lock = threading.Lock()

    def public_jwk(self) -> dict[str, Any]:
        """``GET /api/v1/verifier-key``: the public JWK with its key id."""
        return to_jwk(self.signer.public_key, kid=self.signer.public_key.kid_b64, use="sig")

    def receipt(self, results: list[dict[str, Any]], host: str) -> str:
        """Sign what was checked: each certificate's SHA-256 and outcome, and the context."""
        trust = self._verifier.store.current()
        payload = {
            "typ": RECEIPT_TYPE,
            "v": 1,
            "issued_at": int(self._clock()),
            "verifier": host,
            "trust": None
            if trust is None
            else {"version": trust.directory.sequence, "issued_at": trust.issued_at},
            "checkpoint": self.checkpoint(),
            "results": [{"sha256": r["sha256"], "outcome": r["outcome"], "code": r["code"]} for r in results],
            "count": len(results),
        }
        return sign_receipt(payload, self.signer)

    def checkpoint(self) -> dict[str, Any] | None:
        """The registry's latest checkpoint, fetched at most once a minute; None when unreachable
        (a receipt then says so by its absence — it never blocks a verification)."""
        url = self._verifier.config.base_url
        if url is None:
            return None
        with self._lock:
            fetched_at, held = self._checkpoint
            if self._clock() - fetched_at < _CHECKPOINT_MAX_AGE:
                return held
            try:
                answer = httpx.get(f"{url}/api/v1/audit/checkpoint", timeout=3.0)
                body = answer.json() if answer.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                body = None
            held = body if isinstance(body, dict) else held
            self._checkpoint = (self._clock(), held)
            return held


def add_batch_routes(
    app: FastAPI, verifier: Verifier, attestor: Attestor, limits: BatchLimits = DEFAULT_BATCH_LIMITS
) -> None:
    """Register the bulk endpoints and the verifier key."""

    @app.get("/api/v1/verifier-key")
    async def verifier_key() -> JSONResponse:
        """The public key (JWK, Ed25519) this service signs verification receipts with."""
        return JSONResponse(attestor.public_jwk())

    @app.post(BATCH_PATH)
    async def verify_batch(request: Request) -> Response:
        """Verify every certificate in the uploaded files; limits in docs/verifier.md."""
        uploads = await _uploads(request, limits)
        host = request.headers.get("host", "")
        pool: DecodePool = request.app.state.decode_pool
        client = uploader(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            request.app.state.trusted_proxies,
        )
        read = _pool_reader(pool, asyncio.get_running_loop(), limits)
        if request.query_params.get("progress") in ("1", "true"):
            if pool.in_flight(client) >= pool.config.client_limit:
                raise ImageError("client_busy")  # refused before the stream starts, as a plain 429
            work = _Work(uploads, verifier, attestor, limits, host, read)
            return StreamingResponse(_streamed(work, pool, client), media_type="application/x-ndjson")
        async with pool.admitted(client):
            answer = await run_in_threadpool(
                _Work(uploads, verifier, attestor, limits, host, read).answer, None
            )
        return JSONResponse(answer)

    @app.post(REPORT_PATH)
    async def batch_report(request: Request) -> Response:
        """The report of batch results (the `results` of a batch answer) as CSV or XLSX."""
        kind = request.query_params.get("format", "xlsx")
        if kind not in _REPORT_TYPES:
            raise BatchError("table_unreadable", "format must be csv or xlsx")
        try:
            body = json.loads(await request.body())
            results = body["results"]
            if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
                raise TypeError
        except (ValueError, KeyError, TypeError) as e:
            raise BatchError("table_unreadable", 'the body must be {"results": [...]}') from e
        media_type, render = _REPORT_TYPES[kind]
        data = await run_in_threadpool(render, results)
        disposition = f'attachment; filename="skillpass-report.{kind}"'
        return Response(data, media_type=media_type, headers={"content-disposition": disposition})


async def _uploads(request: Request, limits: BatchLimits) -> list[Upload]:
    """The ``files`` parts, read in full (the body limit already bounds them)."""
    form = await request.form(max_files=limits.max_files + 1, max_fields=16)
    files = [part for part in form.getlist("files") if isinstance(part, UploadFile)]
    if len(files) > limits.max_files:
        raise BatchError("batch_too_many_files", f"more than {limits.max_files}")
    uploads = [Upload(part.filename or "", await part.read()) for part in files]
    await form.close()
    return uploads


def _pool_reader(pool: DecodePool, loop: asyncio.AbstractEventLoop, limits: BatchLimits) -> FileReader:
    """Read a file in the decode pool from a worker thread: the pool lives on the event loop.

    Files are read one at a time (``find_items(workers=1)``), so a batch takes its turn in the
    pool's round robin like one upload; each PDF's pages are still spread over the workers.
    """

    def read(data: bytes) -> DecodedUpload:
        reading = pool.read_codes(data, max_bytes=limits.max_file_bytes, partial=True)
        return asyncio.run_coroutine_threadsafe(reading, loop).result()

    return read


class _Work:
    """One batch to answer: find, verify, sign (or a ``BatchError``/``ImageError``, nothing partial)."""

    def __init__(
        self,
        uploads: list[Upload],
        verifier: Verifier,
        attestor: Attestor,
        limits: BatchLimits,
        host: str,
        read: FileReader,
    ) -> None:
        self.uploads, self.verifier, self.attestor = uploads, verifier, attestor
        self.limits, self.host, self.read = limits, host, read

    def answer(self, progress: Callable[[str, int, int], None] | None) -> dict[str, Any]:
        """The whole batch answer; ``progress(stage, done, total)`` while it works."""
        items = find_items(
            self.uploads,
            limits=self.limits,
            read=self.read,
            workers=1,
            progress=None if progress is None else lambda d, t: progress("read", d, t),
        )
        answers = verify_items(
            items, self.verifier, progress=None if progress is None else lambda d, t: progress("verify", d, t)
        )
        results = [_result(item, verdict) for item, verdict in answers]
        return {
            "results": results,
            "receipt": self.attestor.receipt(results, self.host),
            "summary": dict(Counter(result["outcome"] for result in results)),
        }


def single_result(qr_text: str, verdict: Verdict) -> dict[str, Any]:
    """One check's verdict as a batch result, for a receipt of a single verification."""
    return _result(Item({"file": "(text)"}, text=qr_text), verdict)


def _result(item: Item, verdict: Verdict) -> dict[str, Any]:
    """A single verdict's JSON plus where in the upload it was found and its SHA-256."""
    return {**verdict.to_json(), "source": item.source, "sha256": item_sha256(item)}


async def _streamed(work: _Work, pool: DecodePool, client: str) -> AsyncIterator[bytes]:
    """NDJSON: progress lines while the batch runs in a worker thread, then the answer (or the
    refusal, as an ``error`` line: the 200 status is sent by then)."""
    try:
        async with pool.admitted(client):
            async for line in _lines(work):
                yield json.dumps(line, ensure_ascii=False).encode() + b"\n"
    except ImageError as e:  # the client's places were taken between the check and the stream
        yield json.dumps({"error": _error(e)}, ensure_ascii=False).encode() + b"\n"


async def _lines(work: _Work) -> AsyncIterator[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def progress(stage: str, done: int, total: int) -> None:
        loop.call_soon_threadsafe(
            queue.put_nowait, {"progress": {"stage": stage, "done": done, "total": total}}
        )

    def run() -> None:
        try:
            line: dict[str, Any] = {"answer": work.answer(progress)}
        except (BatchError, ImageError) as e:
            line = {"error": _error(e)}
        loop.call_soon_threadsafe(queue.put_nowait, line)

    worker = loop.run_in_executor(None, run)
    while True:
        line = await queue.get()
        yield line
        if "progress" not in line:
            break
    await worker


def _error(e: BatchError | ImageError) -> dict[str, str]:
    return {"code": e.code, "message_zh": e.message_zh, "message_en": e.message_en}
