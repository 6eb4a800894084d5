"""The verifier HTTP service over real TCP: verdicts, the image endpoint, limits and the error shape.

The service runs with the real `Verifier` on offline trust data built in `verifier_fixtures`, served
by uvicorn on loopback; every request goes over HTTP as a client's would.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.servers import free_port, run_process_server, serve_app
from PIL import Image, ImageFilter
from verifier_fixtures import (
    HOLDER_ID,
    HOLDER_NAME,
    INSTITUTION_NAME,
    NOW,
    REVOKED_INDEX,
    SUSPENDED_INDEX,
    TRUST_EXPIRES_AT,
    World,
    decompression_bomb_png,
    make_verifier,
    png_declaring,
    tampered,
)

from common.qrimage import render_image
from keys import Signer
from verifier.service import create_app

OFFLINE_CHECKS = [
    "format",
    "key_known",
    "signature",
    "key_valid",
    "institution_active",
    "scope",
    "certificate_number",
    "status",
]


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def client(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    verifier = make_verifier(world, tmp_path_factory.mktemp("trust"), clock=lambda: NOW)
    with serve_app(create_app(verifier)) as base, httpx.Client(base_url=base, timeout=30.0) as http:
        yield http


def _verify(client: httpx.Client, qr: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/api/v1/verify", json={"qr": qr, **extra})
    assert response.status_code == 200, response.text
    verdict: dict[str, Any] = response.json()
    return verdict


def _failed(verdict: dict[str, Any]) -> tuple[str, str]:
    failed = [check for check in verdict["checks"] if check["outcome"] == "fail"]
    assert len(failed) == 1, verdict["checks"]
    return failed[0]["code"], failed[0]["failure_code"]


# ---- verdicts over JSON


def test_valid_credential(client: httpx.Client, world: World) -> None:
    verdict = _verify(client, world.qr())
    assert verdict["valid"] is True
    assert verdict["result"] == "valid"
    assert verdict["code"] == "valid"
    assert [check["code"] for check in verdict["checks"]][: len(OFFLINE_CHECKS)] == OFFLINE_CHECKS
    assert all(check["outcome"] == "pass" for check in verdict["checks"][: len(OFFLINE_CHECKS)])
    assert verdict["institution"]["name"] == INSTITUTION_NAME
    assert verdict["credential"]["holder_name"] == HOLDER_NAME
    assert verdict["credential"]["id_number_masked"] == "**************002X"
    assert HOLDER_ID not in str(verdict)
    assert verdict["mode"] == "offline"
    assert verdict["trust_age_seconds"] == 25 * 60
    assert "decoded_from" not in verdict


def test_tampered_credential_fails_the_signature(client: httpx.Client, world: World) -> None:
    verdict = _verify(client, tampered(world.qr()))
    assert (verdict["result"], verdict["valid"]) == ("invalid", False)
    assert _failed(verdict) == ("signature", "signature_invalid")
    later = verdict["checks"][OFFLINE_CHECKS.index("signature") + 1 :]
    assert all(check["outcome"] == "not_run" for check in later)


@pytest.mark.parametrize(
    ("qr", "failure_code", "outcome"),
    [
        ("hello world", "prefix_missing", "unrecognized"),
        ("SP2:%%%%", "base45_invalid", "invalid"),
        ("SP1:ABC", "prefix_version", "unrecognized"),
        ("", "qr_empty", "unrecognized"),
    ],
)
def test_garbage_fails_the_format_check(
    client: httpx.Client, qr: str, failure_code: str, outcome: str
) -> None:
    verdict = _verify(client, qr)
    assert (verdict["outcome"], verdict["valid"]) == (outcome, False)
    assert _failed(verdict) == ("format", failure_code)
    assert verdict["credential"] is None


def test_key_not_in_directory(client: httpx.Client, world: World) -> None:
    verdict = _verify(client, world.qr(signer=Signer.generate()))
    assert _failed(verdict) == ("key_known", "key_unknown")


@pytest.mark.parametrize(
    ("index", "failure_code"), [(REVOKED_INDEX, "revoked"), (SUSPENDED_INDEX, "suspended")]
)
def test_status_list_entries(client: httpx.Client, world: World, index: int, failure_code: str) -> None:
    verdict = _verify(client, world.qr(status_index=index))
    assert verdict["result"] == "invalid"
    assert _failed(verdict) == ("status", failure_code)


def test_holder_confirmation_offline(client: httpx.Client, world: World) -> None:
    right = _verify(client, world.qr(), holder={"name": HOLDER_NAME, "id_number": HOLDER_ID})
    assert right["holder_confirmation"]["name_match"] is True
    assert right["holder_confirmation"]["id_match"] is True
    wrong = _verify(client, world.qr(), holder={"name": "王五", "id_number": "110105194912310011"})
    assert wrong["holder_confirmation"]["name_match"] is False
    assert wrong["holder_confirmation"]["id_match"] is False


def test_expired_trust_data_is_indeterminate_never_valid(world: World, tmp_path: Path) -> None:
    verifier = make_verifier(world, tmp_path, clock=lambda: TRUST_EXPIRES_AT + 86400)
    with serve_app(create_app(verifier)) as base:
        response = httpx.post(f"{base}/api/v1/verify", json={"qr": world.qr()})
    assert response.status_code == 200
    verdict = response.json()
    assert (verdict["result"], verdict["valid"], verdict["code"]) == ("indeterminate", False, "trust_expired")


# ---- trust, health, ping, page, OpenAPI


def test_trust_summary(client: httpx.Client) -> None:
    summary = client.get("/api/v1/trust").json()
    assert summary["available"] is True
    assert summary["sequence"] == 7
    assert summary["age_seconds"] == 25 * 60
    assert summary["expires_at"] == TRUST_EXPIRES_AT


def test_health_and_ping(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/api/v1/ping").json() == {"pong": True}


def test_page_and_static_files(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-testid="verdict"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for path, kind in [("/static/app.js", "javascript"), ("/static/style.css", "text/css")]:
        response = client.get(path)
        assert response.status_code == 200 and kind in response.headers["content-type"]
    assert "https://" not in page.text + client.get("/static/app.js").text  # no CDN, nothing third-party


def test_api_answers_are_not_cached(client: httpx.Client, world: World) -> None:
    response = client.post("/api/v1/verify", json={"qr": world.qr()})
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_openapi_documents_both_verify_endpoints(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    body = paths["/api/v1/verify"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["qr"] and {"qr", "holder", "online", "receipt"} == set(body["properties"])
    for reference in re.findall(r'"\$ref": "#/([^"]+)"', json.dumps(document)):
        node = document
        for part in reference.split("/"):
            node = node[part]  # every reference resolves inside the document
    assert "multipart/form-data" in paths["/api/v1/verify/image"]["post"]["requestBody"]["content"]
    assert "/api/v1/trust" in paths


# ---- the error shape: 4xx with a code, never 500


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["message_zh"] and body["message_en"]
    return body


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/body/qr"),
        ({"qr": 5}, "/body/qr"),
        ({"qr": "SP2:", "extra": 1}, "/body/extra"),
        ({"qr": "SP2:", "holder": {"name": "张三"}}, "/body/holder/id_number"),
        ({"qr": "SP2:", "online": "maybe"}, "/body/online"),
        ([1, 2], "/body"),
    ],
)
def test_invalid_requests_name_the_field(client: httpx.Client, body: object, pointer: str) -> None:
    answer = _error(client.post("/api/v1/verify", json=body), 422, "invalid_request")
    assert pointer in [detail["pointer"] for detail in answer["details"]]


def test_invalid_request_never_echoes_the_id_number(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/verify", json={"qr": 1, "holder": {"name": "x", "id_number": HOLDER_ID * 3}}
    )
    _error(response, 422, "invalid_request")
    assert HOLDER_ID not in response.text


def test_malformed_json(client: httpx.Client) -> None:
    response = client.post("/api/v1/verify", content=b'{"qr": ', headers={"content-type": "application/json"})
    _error(response, 400, "invalid_request")


def test_json_body_over_16_kib(client: httpx.Client) -> None:
    _error(client.post("/api/v1/verify", json={"qr": "A" * 17_000}), 413, "body_too_large")


def test_chunked_json_body_over_16_kib(client: httpx.Client) -> None:
    chunks = (b"x" * 1024 for _ in range(40))  # a generator body goes out chunked, with no length
    response = client.post("/api/v1/verify", content=chunks, headers={"content-type": "application/json"})
    _error(response, 413, "body_too_large")


def test_chunked_json_body_under_the_limit_is_read(client: httpx.Client, world: World) -> None:
    body = ('{"qr": "' + world.qr() + '"}').encode()
    chunks = (body[i : i + 50] for i in range(0, len(body), 50))
    response = client.post("/api/v1/verify", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 200 and response.json()["result"] == "valid"


def test_unknown_path_and_method(client: httpx.Client) -> None:
    _error(client.get("/api/v1/nothing"), 404, "not_found")
    _error(client.get("/api/v1/verify"), 405, "method_not_allowed")
    _error(client.get("/static/../service.py"), 404, "not_found")


# ---- the image endpoint


def _png(image: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _a4_page(qr_text: str) -> Image.Image:
    """An A4 page at 150 dpi with the QR code about 2.5 cm wide near a corner."""
    page = Image.new("RGB", (1240, 1754), "white")
    qr = render_image(qr_text, scale=3).convert("RGB")
    page.paste(qr, (page.width - qr.width - 80, page.height - qr.height - 80))
    return page


PHOTOS: dict[str, Callable[[str], tuple[bytes, str]]] = {
    "scaled_half": lambda t: (_png(render_image(t, scale=3)), "image/png"),
    "rotated_10": lambda t: (
        _png(render_image(t, scale=6).rotate(10, expand=True, fillcolor=255)),
        "image/png",
    ),
    "rotated_90": lambda t: (_png(render_image(t, scale=6).rotate(90, expand=True)), "image/png"),
    "blurred": lambda t: (_png(render_image(t, scale=6).filter(ImageFilter.GaussianBlur(1))), "image/png"),
    "jpeg_quality_30": lambda t: (_png(render_image(t, scale=6), "JPEG", quality=30), "image/jpeg"),
    "webp": lambda t: (_png(render_image(t, scale=6), "WEBP", quality=60), "image/webp"),
    "small_on_a4_page": lambda t: (_png(_a4_page(t)), "image/png"),
    "pdf_a4_page": lambda t: (_png(_a4_page(t), "PDF", resolution=150.0), "application/pdf"),
    "named_wrongly": lambda t: (_png(render_image(t, scale=6), "JPEG"), "application/octet-stream"),
}


@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_image_endpoint_reads_photos(client: httpx.Client, world: World, photo: str) -> None:
    data, content_type = PHOTOS[photo](world.qr())
    response = client.post("/api/v1/verify/image", files={"file": ("certificate.bin", data, content_type)})
    assert response.status_code == 200, response.text
    verdict = response.json()
    assert (verdict["result"], verdict["decoded_from"]) == ("valid", "image")


def test_image_endpoint_tampered_and_holder(client: httpx.Client, world: World) -> None:
    data = _png(render_image(tampered(world.qr()), scale=4))
    form = {"holder_name": HOLDER_NAME, "holder_id_number": HOLDER_ID}
    response = client.post("/api/v1/verify/image", files={"file": ("q.png", data, "image/png")}, data=form)
    verdict = response.json()
    assert verdict["result"] == "invalid" and _failed(verdict) == ("signature", "signature_invalid")
    assert verdict["holder_confirmation"]["id_match"] is True


HOSTILE: dict[str, tuple[Callable[[], bytes], int, str]] = {
    "decompression_bomb": (decompression_bomb_png, 413, "image_too_large"),
    "huge_declared_dimensions": (lambda: png_declaring(2_000_000, 2_000_000), 413, "image_too_large"),
    "body_of_20_mb": (lambda: b"\xff\xd8\xff" + b"\0" * (20 * 1024 * 1024), 413, "upload_too_large"),
}
# Files with no certificate of ours in them: an answer (unrecognized, never invalid), not a refusal.
NOT_OURS: dict[str, tuple[Callable[[], bytes], str]] = {
    "not_an_image": (lambda: b"#!/bin/sh\nrm -rf /\n" * 20, "image_unsupported"),
    "empty_file": (lambda: b"", "image_empty"),
    "garbage_pdf": (lambda: b"%PDF-1.4\n" + bytes(range(256)) * 40, "pdf_unreadable"),
    "truncated_jpeg": (lambda: b"\xff\xd8\xff\xe0" + b"\x00" * 30, "image_corrupt"),
    "picture_without_qr": (lambda: _png(Image.new("RGB", (400, 300), "white")), "qr_not_found"),
}


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_hostile_uploads_get_a_4xx_code(client: httpx.Client, attack: str) -> None:
    make, status, code = HOSTILE[attack]
    response = client.post("/api/v1/verify/image", files={"file": ("certificate.png", make(), "image/png")})
    _error(response, status, code)


@pytest.mark.parametrize("kind", sorted(NOT_OURS))
def test_files_without_our_qr_are_unrecognized(client: httpx.Client, kind: str) -> None:
    make, code = NOT_OURS[kind]
    response = client.post("/api/v1/verify/image", files={"file": ("certificate.png", make(), "image/png")})
    assert response.status_code == 200, response.text
    verdict = response.json()
    assert (verdict["outcome"], verdict["valid"], verdict["code"]) == ("unrecognized", False, code)
    assert verdict["outcome_label"] == {
        "zh": "未识别为证书",
        "en": "Not a recognised certificate",
        "symbol": "○",
    }
    assert _failed(verdict) == ("format", code) and "无效" not in verdict["message_zh"]


def test_upload_without_file_or_with_half_a_holder(client: httpx.Client, world: World) -> None:
    _error(client.post("/api/v1/verify/image", data={"holder_name": "x"}), 422, "invalid_request")
    files = {"file": ("q.png", _png(render_image(world.qr(), scale=4)), "image/png")}
    answer = client.post("/api/v1/verify/image", files=files, data={"holder_name": HOLDER_NAME})
    _error(answer, 422, "invalid_request")


def test_image_endpoint_with_json_body(client: httpx.Client) -> None:
    _error(client.post("/api/v1/verify/image", json={"qr": "x"}), 422, "invalid_request")


# ---- serve(): the process the CLI runs


def test_serve_runs_until_ctrl_c(world: World, tmp_path: Path) -> None:
    make_verifier(world, tmp_path, clock=lambda: NOW)  # fills the cache and pins the registry key
    port = free_port()
    command = "from skillpass.cli import main; raise SystemExit(main())"
    argv = [sys.executable, "-c", command, "verifier", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--cache-dir", str(tmp_path)]  # fmt: skip
    with run_process_server(argv, f"http://127.0.0.1:{port}/healthz") as process:
        page = httpx.get(f"http://127.0.0.1:{port}/")
        assert page.status_code == 200 and 'data-testid="camera-start"' in page.text
        summary = httpx.get(f"http://127.0.0.1:{port}/api/v1/trust").json()
        assert (summary["available"], summary["sequence"]) == (True, 7)
        os.kill(process.pid, signal.SIGINT)
        try:
            assert process.wait(timeout=15) == 0
        except subprocess.TimeoutExpired:
            pytest.fail("serve() did not stop on Ctrl-C")
