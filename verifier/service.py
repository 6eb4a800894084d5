"""The verifier's HTTP service: the JSON API, the image upload endpoint and the web page.

Everything here is transport. Verdicts come from `Verifier` (which owns trust data and the engine);
pictures become QR text in `images`. This module adds what a public HTTP endpoint needs on top:
body limits enforced before any parsing, one error shape for every refusal
(`{"code", "message_zh", "message_en"}`, 4xx for anything a client got wrong, never 500), security
headers, and `serve()` which runs uvicorn around the verifier's background trust refresh.

A verdict is always answered with 200, whether it says valid, invalid or indeterminate: the HTTP
status reports whether the *request* worked, the body reports what we found out about the certificate.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Annotated, Any, Literal

import uvicorn
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.clients import TrustedProxies
from common.errors import SkillpassError
from common.http import UVICORN_SPEED, FastJSONResponse, FrontedFastAPI, json_bytes, replaying, whole_body
from verifier.batch_service import BATCH_PATH, REPORT_PATH, Attestor, add_batch_routes, single_result
from verifier.bulk import DEFAULT_BATCH_LIMITS, BatchError
from verifier.decode_pool import DecodePool, uploader
from verifier.images import DEFAULT_IMAGE_LIMITS, DecodedUpload, ImageError
from verifier.verdict import UNRECOGNIZED_IMAGE_CODES
from verifier.verifier import HolderInput, Verdict, Verifier

__all__ = ["JSON_BODY_LIMIT", "UPLOAD_LIMIT", "ServiceError", "create_app", "serve"]

JSON_BODY_LIMIT = 16 * 1024
UPLOAD_LIMIT = DEFAULT_IMAGE_LIMITS.max_bytes
# A multipart body carries the file plus boundaries, part headers and the holder fields.
_MULTIPART_OVERHEAD = 64 * 1024
# Reading (and discarding) an oversized body before answering lets the client see our 413 instead of
# a connection reset; past this much we stop being polite and just close.
_DRAIN_LIMIT = 64 * 1024 * 1024
_IMAGE_PATH = "/api/v1/verify/image"
# Bodies beyond these are refused before a byte is parsed (a batch: docs/verifier.md's limits).
_BODY_LIMITS: dict[str, tuple[int, str]] = {
    _IMAGE_PATH: (UPLOAD_LIMIT + _MULTIPART_OVERHEAD, "upload_too_large"),
    BATCH_PATH: (DEFAULT_BATCH_LIMITS.max_total_bytes + 16 * _MULTIPART_OVERHEAD, "batch_too_large"),
    REPORT_PATH: (32 * 1024 * 1024, "body_too_large"),
}
_WEB_DIR = Path(__file__).parent / "web"

_ERRORS: dict[str, tuple[int, str, str]] = {
    "invalid_request": (422, "请求格式不正确", "the request is malformed"),
    "body_too_large": (413, "请求内容过大（上限 16 KiB）", "the request body is too large (limit 16 KiB)"),
    "not_found": (404, "没有这个地址", "no such path"),
    "method_not_allowed": (405, "不支持该请求方法", "method not allowed for this path"),
    "http_error": (400, "请求无法处理", "the request cannot be handled"),
    "internal_error": (500, "服务内部错误，请稍后重试", "internal error; please try again later"),
}

_SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
        b"style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; "
        b"base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    ),
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ServiceError(SkillpassError):
    """A request the service refuses; `status` is its HTTP status."""

    def __init__(self, code: str, detail: str = "", *, status: int | None = None) -> None:
        default_status, zh, en = _ERRORS[code]
        super().__init__(code, zh, en, detail)
        self.status = status or default_status


# ---- request and response models (the response models document the API; verdicts are not re-validated)


class HolderBody(BaseModel):
    """What the verifier typed to confirm the holder: the name and the full identity number."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=1, max_length=40)


class VerifyBody(BaseModel):
    """`POST /api/v1/verify`: the QR text, optionally the holder to confirm, optionally online or not."""

    model_config = ConfigDict(extra="forbid")
    qr: str
    holder: HolderBody | None = None
    online: bool | None = None
    receipt: bool = False  # also answer a signed receipt of this check (`receipt`)


class CheckModel(BaseModel):
    code: str
    outcome: Literal["pass", "fail", "not_run"]
    failure_code: str | None = None
    message_zh: str
    message_en: str


class InstitutionModel(BaseModel):
    code: str
    name: str


class OutcomeLabelModel(BaseModel):
    zh: str
    en: str
    symbol: str


class VerdictModel(BaseModel):
    """A verdict. `outcome` is the answer to show (its words in `outcome_label`); `valid` is true
    only for `valid`; `result` is the older three-way answer. `decoded_from` is "image" when the QR
    text was read from an upload."""

    outcome: Literal[
        "valid", "holder_mismatch", "revoked", "suspended", "invalid", "indeterminate", "unrecognized"
    ]
    outcome_label: OutcomeLabelModel
    valid: bool
    result: Literal["valid", "invalid", "indeterminate"]
    code: str
    message_zh: str
    message_en: str
    checks: list[CheckModel]
    credential: dict[str, Any] | None
    institution: InstitutionModel | None
    trust_as_of: Any = None
    trust_age_seconds: float | None = None
    mode: str | None = None
    holder_confirmation: dict[str, Any] | None = None
    notes: list[dict[str, str]]
    status: dict[str, Any] | None = None
    verified_at: int | None = None
    trust_version: int | None = None
    verifier_host: dict[str, Any] | None = None
    decoded_from: Literal["image"] | None = None
    codes: list[dict[str, Any]] | None = None


class ErrorModel(BaseModel):
    code: str
    message_zh: str
    message_en: str
    details: list[dict[str, Any]] | None = None


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON Schema with its `$defs` substituted in place, to stand alone inside OpenAPI."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref", "")
            if reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


_VERIFY_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {"application/json": {"schema": _inlined(VerifyBody.model_json_schema())}},
}

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorModel} for status in (400, 413, 415, 422)
}


# ---- the application


def create_app(
    verifier: Verifier,
    decode_pool: DecodePool | None = None,
    attestor: Attestor | None = None,
    trusted_proxies: TrustedProxies | None = None,
) -> FrontedFastAPI:
    """The verifier service as an ASGI app; the caller starts and stops `verifier` (see `serve`).
    The app closes the verifier's pooled registry connections when its event loop shuts down.

    Uploads are read by `decode_pool` (default: one worker per usable CPU), kept as
    ``app.state.decode_pool``; its workers start and stop with the app. `attestor` holds the key
    receipts are signed with; without one, a key is generated for this process (receipts then
    verify against `GET /api/v1/verifier-key` while it runs). `trusted_proxies` are the proxies
    whose `X-Forwarded-For` names the client an upload counts against (none: the TCP peer).
    """
    pool = decode_pool or DecodePool()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.start()
        try:
            yield
        finally:
            await pool.close()
            await verifier.aclose()

    app = FrontedFastAPI(
        lifespan=lifespan,
        title="skillpass verifier",
        version="1",
        summary="Verify electronic vocational skill level certificates (职业技能等级证书) from QR codes.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.decode_pool = pool
    app.state.trusted_proxies = trusted_proxies or TrustedProxies()
    _add_error_handler(app)
    attestor = attestor or Attestor(verifier)
    _add_api_routes(app, verifier, attestor)
    add_batch_routes(app, verifier, attestor)
    _add_page_routes(app)
    app.add_middleware(_BodyLimit)
    app.add_middleware(_SecurityHeaders)
    app.front = _HotPaths(app.layers, verifier)
    return app


def serve(
    host: str,
    port: int,
    verifier: Verifier,
    attestor: Attestor | None = None,
    *,
    access_log: bool = False,
    trusted_proxies: TrustedProxies | None = None,
) -> int:
    """Run the service until Ctrl-C or SIGTERM, with the verifier's background trust refresh.

    No access log unless asked: the proxy in front keeps one (deploy/), and formatting a log line
    per request cost the service more than answering a ping."""
    app = create_app(verifier, attestor=attestor, trusted_proxies=trusted_proxies)
    # No proxy_headers: uvicorn would believe X-Forwarded-For from its own default list; the service
    # decides who the client is itself, from the proxies named here only (common.clients).
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        server_header=False,
        access_log=access_log,
        proxy_headers=False,
        **UVICORN_SPEED,
    )
    server = uvicorn.Server(config)
    verifier.start()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
    except SystemExit as e:  # uvicorn exits this way when it cannot bind the port
        return e.code if isinstance(e.code, int) else 1
    finally:
        verifier.stop()
    return 0 if server.started else 1


def _add_api_routes(app: FastAPI, verifier: Verifier, attestor: Attestor) -> None:
    @app.post(
        "/api/v1/verify",
        response_model=VerdictModel,
        responses=_ERROR_RESPONSES,
        openapi_extra={"requestBody": _VERIFY_REQUEST_BODY},
    )
    async def verify(request: Request) -> FastJSONResponse:
        """Verify a QR text. 200 with the verdict whatever it says."""
        body = _parse_verify_body(await request.body())
        verdict = await _verify(verifier, body.qr, _holder(body.holder), body.online)
        if not body.receipt:
            return FastJSONResponse(verdict.to_json())
        result = single_result(body.qr, verdict)
        receipt = await run_in_threadpool(attestor.receipt, [result], request.headers.get("host", ""))
        return FastJSONResponse({**result, "receipt": receipt})

    @app.post(_IMAGE_PATH, response_model=VerdictModel, responses=_ERROR_RESPONSES)
    async def verify_image(
        request: Request,
        file: Annotated[UploadFile, File(description="PNG, JPEG, WebP or PDF (every page), ≤ 10 MiB")],
        holder_name: Annotated[str | None, Form(min_length=1, max_length=64)] = None,
        holder_id_number: Annotated[str | None, Form(min_length=1, max_length=40)] = None,
        online: Annotated[bool | None, Form()] = None,
    ) -> FastJSONResponse:
        """Read every QR code in a picture or on every page of a PDF (in the decode pool) and verify
        it. The verdict is the first of our codes'; when the file holds more than one code, or a PDF
        page without one, `codes` lists every code's verdict in reading order with its `page` and
        `position` (a page without a code as `unrecognized`), so a batch PDF is never judged by its
        first page. A file that is not a picture or PDF, or one with no QR code, is answered with the
        `unrecognized` verdict; only uploads over the limits are refused (413)."""
        holder = _holder_from_form(holder_name, holder_id_number)
        data = await file.read(UPLOAD_LIMIT + 1)
        client = uploader(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            request.app.state.trusted_proxies,
        )
        pool: DecodePool = request.app.state.decode_pool
        try:
            async with pool.admitted(client):
                decoded = await pool.read_codes(data)
            qr_text = decoded.preferred_text()
        except ImageError as e:
            if e.code not in UNRECOGNIZED_IMAGE_CODES:
                raise
            verdict = verifier.unrecognized(e.code, (e.message_zh, e.message_en))
            return FastJSONResponse({**verdict.to_json(), "decoded_from": "image"})
        verdict = await _verify(verifier, qr_text, holder, online)
        answer = {**verdict.to_json(), "decoded_from": "image"}
        if len(decoded.codes) > 1 or decoded.pages_without_code:
            answer["codes"] = await _every_code(verifier, decoded, holder, online)
        return FastJSONResponse(answer)

    @app.get("/api/v1/trust")
    async def trust() -> FastJSONResponse:
        """How fresh the trust data (signed directory and status lists) is."""
        return FastJSONResponse(verifier.trust_summary())

    @app.get("/healthz")
    async def healthz() -> FastJSONResponse:
        return FastJSONResponse({"status": "ok"})


async def _every_code(
    verifier: Verifier, decoded: DecodedUpload, holder: HolderInput | None, online: bool | None
) -> list[dict[str, Any]]:
    """Each code's verdict with where it was found, and each page without a code, in page order."""
    found: list[tuple[int, dict[str, Any]]] = []
    for code in decoded.codes:
        verdict = await _verify(verifier, code.text, holder, online)
        found.append(
            (code.page, {**verdict.to_json(), "page": code.page, "position": code.to_json()["position"]})
        )
    for page in decoded.pages_without_code:
        missing = ImageError("qr_not_found")
        verdict = verifier.unrecognized(missing.code, (missing.message_zh, missing.message_en))
        found.append((page, {**verdict.to_json(), "page": page, "position": None}))
    return [entry for _, entry in sorted(found, key=lambda item: item[0])]


def _add_page_routes(app: FastAPI) -> None:
    index = (_WEB_DIR / "index.html").read_bytes()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(index, headers={"cache-control": "no-cache"})

    app.mount("/static", StaticFiles(directory=_WEB_DIR), name="static")


async def _verify(verifier: Verifier, text: str, holder: HolderInput | None, online: bool | None) -> Verdict:
    """Offline verification is pure computation (a fraction of a millisecond), so it runs right
    here: a worker thread would only add a hand-off, and the GIL would not let it run alongside.
    Online verification awaits the registry on the verifier's pooled asynchronous client: no
    thread per request, and many look-ups in flight on one event loop."""
    return await verifier.verify_text_async(text, holder=holder, online=online)


def _parse_verify_body(raw: bytes) -> VerifyBody:
    """Parse and validate in one pass of pydantic's JSON parser.

    This is the hot endpoint: declaring `body: VerifyBody` would have FastAPI decode the JSON,
    then solve dependencies and validate the dict - about a fifth of the request's time in the
    HTTP benchmark. The schema in OpenAPI is the same (`_VERIFY_REQUEST_BODY`).
    """
    try:
        return VerifyBody.model_validate_json(raw)
    except ValidationError as e:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in e.errors(include_input=False)]
        raise RequestValidationError(errors) from e


def _holder(body: HolderBody | None) -> HolderInput | None:
    return None if body is None else HolderInput(name=body.name, id_number=body.id_number)


def _holder_from_form(name: str | None, id_number: str | None) -> HolderInput | None:
    """Both fields or neither: half a holder cannot be confirmed."""
    if name is None and id_number is None:
        return None
    if name is None or id_number is None:
        raise ServiceError("invalid_request", "holder_name and holder_id_number go together")
    return HolderInput(name=name, id_number=id_number)


# ---- errors: one handler, one shape


def _add_error_handler(app: FastAPI) -> None:
    for kind in (
        ServiceError,
        ImageError,
        BatchError,
        RequestValidationError,
        StarletteHTTPException,
        Exception,
    ):
        app.add_exception_handler(kind, _error_response)


async def _error_response(request: Request, exc: Exception) -> Response:
    """Every refusal as `{"code", "message_zh", "message_en"}` (+ `details` for invalid fields)."""
    if isinstance(exc, ServiceError | ImageError | BatchError):
        return _error_json(exc.status, exc.code, exc.message_zh, exc.message_en)
    if isinstance(exc, RequestValidationError):
        return _validation_error(exc)
    if isinstance(exc, StarletteHTTPException):
        return _http_error(exc)
    _, zh, en = _ERRORS["internal_error"]
    return _error_json(500, "internal_error", zh, en)


def _validation_error(exc: RequestValidationError) -> Response:
    """Name the fields that are wrong, never echo their values (they may hold an ID number)."""
    errors = exc.errors()
    details = [
        {
            "pointer": "/" + "/".join(str(part) for part in error.get("loc", ())),
            "message": error.get("msg", ""),
        }
        for error in errors[:20]
    ]
    status = 400 if any(error.get("type") == "json_invalid" for error in errors) else 422
    _, zh, en = _ERRORS["invalid_request"]
    return _error_json(status, "invalid_request", zh, en, details)


def _pointer(location: Any) -> str:
    return "/" + "/".join(str(part) for part in location)


def _http_error(exc: StarletteHTTPException) -> Response:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
    if code is None:
        code = "invalid_request" if exc.status_code in (400, 422) else "http_error"
    _, zh, en = _ERRORS[code]
    status = exc.status_code if 400 <= exc.status_code < 600 else 400
    return _error_json(status, code, zh, en, headers=exc.headers)


def _error_json(
    status: int,
    code: str,
    zh: str,
    en: str,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> FastJSONResponse:
    body: dict[str, Any] = {"code": code, "message_zh": zh, "message_en": en}
    if details:
        body["details"] = details
    return FastJSONResponse(body, status_code=status, headers=headers)


# ---- middleware (plain ASGI: cheaper than BaseHTTPMiddleware, and able to refuse before parsing)


class _BodyLimit:
    """Refuse request bodies over the limit before the app reads a byte of them.

    With a Content-Length we decide from the header; a chunked body is buffered up to the limit and
    replayed, so the app never sees more than the limit either way.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit, code = _BODY_LIMITS.get(scope["path"], (JSON_BODY_LIMIT, "body_too_large"))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _drain(receive)
            await _refuse(send, code)
            return
        if declared is None and _has_body(scope):
            replay = await _buffer(receive, limit)
            if replay is None:
                await _refuse(send, code)
                return
            receive = replay
        await self._app(scope, receive, send)


class _HotPaths:
    """``POST /api/v1/verify`` with a well-formed body of a declared length within the limit, and
    ``GET /api/v1/ping``, answered in front of FastAPI and every middleware (``FrontedFastAPI``),
    whose layers cost more than the ping itself and about as much as a verification's decoding.

    What the middlewares would add is added here: the security headers of ``_SecurityHeaders`` (one
    constant list), and ``_BodyLimit``'s rule, by answering only bodies whose Content-Length is
    within ``JSON_BODY_LIMIT``. Anything else, including a chunked body, a verify body that does
    not parse or one that asks for a receipt, goes through the whole app (with the body replayed
    when it was read), so every refusal keeps its one error shape and every limit its answer; the
    OpenAPI document still describes the verify route.
    """

    def __init__(self, app: ASGIApp, verifier: Verifier) -> None:
        self._app = app
        self._verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/api/v1/ping" and method == "GET":
            await _send_json(send, 200, _PONG)
            return
        if path != "/api/v1/verify" or method != "POST" or not _fits(scope):
            await self._app(scope, receive, send)
            return
        raw = await whole_body(receive)
        try:
            body = VerifyBody.model_validate_json(raw)
        except ValidationError:
            await self._app(scope, replaying(raw, receive), send)  # FastAPI words the refusal
            return
        if body.receipt:  # signing is the route's (in a worker thread), not the hot path's
            await self._app(scope, replaying(raw, receive), send)
            return
        try:
            verdict = await _verify(self._verifier, body.qr, _holder(body.holder), body.online)
        except Exception:  # the same answer as the app's catch-all handler, never a traceback
            _, zh, en = _ERRORS["internal_error"]
            await _send_json(
                send, 500, json_bytes({"code": "internal_error", "message_zh": zh, "message_en": en})
            )
            return
        await _send_json(send, 200, json_bytes(verdict.to_json()))


def _fits(scope: Scope) -> bool:
    """Whether the request declares a body length the JSON limit allows (``_BodyLimit``'s rule)."""
    declared = _content_length(scope)
    return declared is not None and declared <= JSON_BODY_LIMIT


_PONG = b'{"pong":true}'


# What ``_SecurityHeaders`` adds to an API answer, for the hot paths that answer in front of it.
_API_HEADERS = (*_SECURITY_HEADERS, (b"cache-control", b"no-store"))


async def _send_json(send: Send, status: int, body: bytes) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *_API_HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _SecurityHeaders:
    """Headers for every answer: a strict CSP for the page, and `no-store` for API answers (they can
    carry a holder's name)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        is_api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.extend(_API_HEADERS if is_api else _SECURITY_HEADERS)
                message["headers"] = headers
            await send(message)

        await self._app(scope, receive, send_with_headers)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _has_body(scope: Scope) -> bool:
    return any(name == b"transfer-encoding" for name, _ in scope["headers"])


async def _buffer(receive: Receive, limit: int) -> Receive | None:
    """Read a chunked body fully if it fits in `limit`; a `receive` that replays it, else None."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        more_body = bool(message.get("more_body", False))
        if size > limit:
            if more_body:
                await _drain(receive)
            return None
        chunks.append(chunk)
        if not more_body:
            break
    return replaying(b"".join(chunks), receive)


async def _drain(receive: Receive) -> None:
    drained = 0
    while drained < _DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _refuse(send: Send, code: str) -> None:
    """Answer 413 straight from the middleware; the connection closes since its body went unread."""
    error: ServiceError | ImageError | BatchError = (
        ImageError(code)
        if code == "upload_too_large"
        else BatchError(code)
        if code == "batch_too_large"
        else ServiceError(code)
    )
    body = json_bytes({"code": error.code, "message_zh": error.message_zh, "message_en": error.message_en})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
