"""The test harness itself works: real PostgreSQL, loopback servers, Chromium, fake-camera video."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from harness.browser import fake_camera_args
from harness.postgres import fresh_database
from harness.servers import ServerError, free_port, run_process_server, serve_app
from harness.y4m import Y4MError, write_y4m
from PIL import Image
from playwright.sync_api import Browser, Page

_CAMERA_COLOUR = (200, 60, 30)
_CAMERA_PAGE = """<!doctype html><video id=v autoplay muted playsinline></video><canvas id=c></canvas>
<script>
window.pixel = navigator.mediaDevices.getUserMedia({video: true}).then(async stream => {
  const video = document.getElementById("v");
  video.srcObject = stream;
  await new Promise(resolve => video.onplaying = resolve);
  const canvas = document.getElementById("c");
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(video, 0, 0);
  const d = ctx.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data;
  return [canvas.width, canvas.height, d[0], d[1], d[2]];
});
</script>"""


def _scalar(url: str, query: str) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(query)).scalar_one()
    finally:
        engine.dispose()


def _page_app(html: str) -> FastAPI:
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return html

    return app


def _accepts_connections(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_database_url_is_an_empty_database_on_its_backend(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        assert str(_scalar(database_url, "SELECT sqlite_version()")).startswith("3.")
    else:
        assert str(_scalar(database_url, "SELECT version()")).startswith("PostgreSQL ")
        assert str(_scalar(database_url, "SELECT current_database()")).startswith("test_")
    assert sa.inspect(sa.create_engine(database_url)).get_table_names() == []


def test_postgres_database_is_dropped_after_use(postgres_server_url: str) -> None:
    with fresh_database(postgres_server_url) as url:
        name = url.rsplit("/", 1)[1]
        engine = sa.create_engine(url)
        with engine.begin() as conn:  # a connection left open must not block the drop
            conn.execute(sa.text("CREATE TABLE t (x int)"))
    query = f"SELECT count(*) FROM pg_database WHERE datname = '{name}'"  # noqa: S608 - our own name
    assert _scalar(postgres_server_url, query) == 0
    engine.dispose()


def test_serve_app_serves_over_tcp_and_stops() -> None:
    app = FastAPI()

    @app.get("/hello/{name}")
    def hello(name: str) -> dict[str, str]:
        return {"hello": name}

    with serve_app(app) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        assert base_url == f"http://127.0.0.1:{port}"
        response = httpx.get(f"{base_url}/hello/工人")
        assert response.json() == {"hello": "工人"}
    assert not _accepts_connections(port)


def test_run_process_server_waits_for_health_and_kills() -> None:
    port = free_port()
    argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    with run_process_server(argv, f"http://127.0.0.1:{port}/") as process:
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    assert process.returncode is not None
    assert not _accepts_connections(port)


def test_run_process_server_reports_output_of_a_failed_start() -> None:
    argv = [sys.executable, "-c", "import sys; sys.exit('boom: no such config')"]
    with (
        pytest.raises(ServerError, match="boom: no such config"),
        run_process_server(argv, "http://127.0.0.1:9/"),
    ):
        pass


def test_chromium_reads_text_from_a_served_page(page: Page) -> None:
    html = "<!doctype html><p id=out></p><script>out.textContent = '证书 ' + (6 * 7)</script>"
    with serve_app(_page_app(html)) as base_url:
        page.goto(base_url)
        assert page.locator("#out").text_content() == "证书 42"


def test_write_y4m_header_and_frame_sizes(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (6, 4), colour) for colour in ("white", "black", "red")]
    video = tmp_path / "v.y4m"
    write_y4m(video, frames, fps=5)
    data = video.read_bytes()
    header, _, body = data.partition(b"\n")
    assert header == b"YUV4MPEG2 W6 H4 F5:1 Ip A1:1 C420jpeg"
    frame_size = len(b"FRAME\n") + 6 * 4 + 2 * (3 * 2)
    assert len(body) == 3 * frame_size
    white, black = body[6 : 6 + 24], body[frame_size + 6 : frame_size + 6 + 24]
    assert set(white) == {235} and set(black) == {16}
    assert body[frame_size * 2 : frame_size * 2 + 6] == b"FRAME\n"


@pytest.mark.parametrize(
    ("frames", "fps"),
    [
        ([], 10),
        ([Image.new("RGB", (5, 4))], 10),
        ([Image.new("RGB", (4, 4)), Image.new("RGB", (4, 6))], 10),
        ([Image.new("RGB", (4, 4))], 0),
    ],
    ids=["no-frames", "odd-width", "mismatched-sizes", "zero-fps"],
)
def test_write_y4m_rejects_unwritable_video(tmp_path: Path, frames: list[Image.Image], fps: int) -> None:
    with pytest.raises(Y4MError):
        write_y4m(tmp_path / "v.y4m", frames, fps=fps)
    assert not (tmp_path / "v.y4m").exists()


def test_chromium_fake_camera_streams_the_y4m_colour(
    tmp_path: Path, launch_chromium: Callable[[list[str]], Browser]
) -> None:
    video = tmp_path / "camera.y4m"
    write_y4m(video, [Image.new("RGB", (160, 120), _CAMERA_COLOUR)] * 3)
    chromium = launch_chromium(fake_camera_args(video))
    with serve_app(_page_app(_CAMERA_PAGE)) as base_url:
        page = chromium.new_page()
        page.goto(base_url)
        width, height, *rgb = page.evaluate("window.pixel")
    assert (width, height) == (160, 120)
    assert all(abs(got - want) <= 6 for got, want in zip(rgb, _CAMERA_COLOUR, strict=True)), rgb
