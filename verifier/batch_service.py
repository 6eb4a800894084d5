"""The verifier service's bulk endpoints and its receipts.

``POST /api/v1/verify/batch`` takes multipart ``files`` (repeated: pictures, PDFs, ZIPs, CSV/XLSX)
and answers ``{"results": [...], "receipt": "...", "summary": {...}}``; with ``?progress=1`` it
streams NDJSON instead — ``{"progress": {"stage", "done", "total"}}`` lines while it works, then
one ``{"answer": {...}}`` line (or ``{"error": {...}}``) — so the page can show a progress bar.
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
    Item,
    Upload,
    find_items,
    item_sha256,
    verify_items,
)
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
        if request.query_params.get("progress") in ("1", "true"):
            return StreamingResponse(
                _streamed(uploads, verifier, attestor, limits, host), media_type="application/x-ndjson"
            )
        answer = await run_in_threadpool(_answer, uploads, verifier, attestor, limits, host, None)
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


def _answer(
    uploads: list[Upload],
    verifier: Verifier,
    attestor: Attestor,
    limits: BatchLimits,
    host: str,
    progress: Callable[[str, int, int], None] | None,
) -> dict[str, Any]:
    """Find, verify, sign: the whole batch answer (or a ``BatchError``, nothing partial)."""
    items = find_items(
        uploads, limits=limits, progress=None if progress is None else lambda d, t: progress("read", d, t)
    )
    answers = verify_items(
        items, verifier, progress=None if progress is None else lambda d, t: progress("verify", d, t)
    )
    results = [_result(item, verdict) for item, verdict in answers]
    return {
        "results": results,
        "receipt": attestor.receipt(results, host),
        "summary": dict(Counter(result["outcome"] for result in results)),
    }


def single_result(qr_text: str, verdict: Verdict) -> dict[str, Any]:
    """One check's verdict as a batch result, for a receipt of a single verification."""
    return _result(Item({"file": "(text)"}, text=qr_text), verdict)


def _result(item: Item, verdict: Verdict) -> dict[str, Any]:
    """A single verdict's JSON plus where in the upload it was found and its SHA-256."""
    return {**verdict.to_json(), "source": item.source, "sha256": item_sha256(item)}


async def _streamed(
    uploads: list[Upload], verifier: Verifier, attestor: Attestor, limits: BatchLimits, host: str
) -> AsyncIterator[bytes]:
    """NDJSON: progress lines while the batch runs in a worker thread, then the answer."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def progress(stage: str, done: int, total: int) -> None:
        loop.call_soon_threadsafe(
            queue.put_nowait, {"progress": {"stage": stage, "done": done, "total": total}}
        )

    def work() -> None:
        try:
            line: dict[str, Any] = {"answer": _answer(uploads, verifier, attestor, limits, host, progress)}
        except BatchError as e:
            line = {"error": {"code": e.code, "message_zh": e.message_zh, "message_en": e.message_en}}
        loop.call_soon_threadsafe(queue.put_nowait, line)

    worker = loop.run_in_executor(None, work)
    while True:
        line = await queue.get()
        yield json.dumps(line, ensure_ascii=False).encode() + b"\n"
        if "progress" not in line:
            break
    await worker
