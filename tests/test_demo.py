"""`skillpass demo --no-serve` on an empty directory, then every sample verifies with the expected
verdict through `skillpass verify`, through `POST /api/v1/verify` and through the web page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from harness.servers import free_port, serve_app
from PIL import Image
from playwright.sync_api import Page, expect

from common import qrimage
from credential import url_form
from registry.setup import init_registry
from skillpass.demo.run import DEMO_PASSPHRASE
from verifier.service import create_app
from verifier.verifier import Verifier, VerifierConfig

pytestmark = pytest.mark.xdist_group("demo")
SKILLPASS = str(Path(sys.executable).parent / "skillpass")
EXPECTED_EXIT = {"valid": 0, "revoked": 5, "suspended": 6}  # docs/verifier.md: one exit code per outcome
EXPECTED_CODE = {"valid": "valid", "revoked": "revoked", "suspended": "suspended"}


def _demo(data_dir: Path) -> subprocess.CompletedProcess[str]:
    args = ["demo", "--data-dir", str(data_dir), "--no-serve"]
    ports = ["--registry-port", str(free_port()), "--verifier-port", str(free_port())]
    env = {k: v for k, v in os.environ.items() if k != "SKILLPASS_KEY_PASSPHRASE"}
    return subprocess.run([SKILLPASS, *args, *ports], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    result = _demo(data_dir)
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:" in result.stdout
    return data_dir


@pytest.fixture(scope="module")
def samples(demo_dir: Path) -> dict[str, list[str]]:
    seeded = json.loads((demo_dir / "seeded.json").read_text())
    return {verdict: seeded[verdict] for verdict in EXPECTED_CODE}


def _cases(samples: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(expected, number) for expected, numbers in samples.items() for number in numbers]


def test_demo_writes_every_sample_file_and_the_registry_key(
    demo_dir: Path, samples: dict[str, list[str]]
) -> None:
    assert len(samples["valid"]) >= 8 and len(samples["revoked"]) == 1 and len(samples["suspended"]) == 1
    for _, number in _cases(samples):
        for kind in ("txt", "png", "pdf"):
            assert (demo_dir / "samples" / f"{number}.{kind}").stat().st_size > 0
    jwk = json.loads((demo_dir / "registry-public.jwk").read_text())
    assert jwk["kty"] == "OKP" and "d" not in jwk


def test_demo_run_again_reuses_the_data(demo_dir: Path, samples: dict[str, list[str]]) -> None:
    before = sorted(p.name for p in (demo_dir / "samples").iterdir())
    result = _demo(demo_dir)
    assert result.returncode == 0, result.stderr
    assert "reusing" in result.stdout
    assert sorted(p.name for p in (demo_dir / "samples").iterdir()) == before
    seeded = json.loads((demo_dir / "seeded.json").read_text())
    assert {verdict: seeded[verdict] for verdict in EXPECTED_CODE} == samples


def test_every_sample_verifies_through_the_cli(demo_dir: Path, samples: dict[str, list[str]]) -> None:
    cache = str(demo_dir / "verifier-cache")
    for expected, number in _cases(samples):
        for kind in ("txt", "png"):
            path = demo_dir / "samples" / f"{number}.{kind}"
            result = subprocess.run(
                [SKILLPASS, "verify", str(path), "--offline", "--cache-dir", cache, "--json"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode == EXPECTED_EXIT[expected], (number, kind, result.stdout, result.stderr)
            assert json.loads(result.stdout)["code"] == EXPECTED_CODE[expected]


@pytest.fixture(scope="module")
def verifier_url(demo_dir: Path) -> Iterator[str]:
    verifier = Verifier(VerifierConfig(cache_dir=demo_dir / "verifier-cache"))
    with serve_app(create_app(verifier)) as url:
        yield url


def test_every_sample_verifies_over_http(
    demo_dir: Path, samples: dict[str, list[str]], verifier_url: str
) -> None:
    for expected, number in _cases(samples):
        text = (demo_dir / "samples" / f"{number}.txt").read_text().strip()
        verdict = httpx.post(f"{verifier_url}/api/v1/verify", json={"qr": text}).json()
        assert verdict["code"] == EXPECTED_CODE[expected], number
        assert verdict["valid"] is (expected == "valid")
        png = (demo_dir / "samples" / f"{number}.png").read_bytes()
        answer = httpx.post(
            f"{verifier_url}/api/v1/verify/image", files={"file": ("qr.png", png, "image/png")}
        )
        assert answer.json()["code"] == EXPECTED_CODE[expected], number


def test_samples_verify_in_the_web_page(
    demo_dir: Path, samples: dict[str, list[str]], verifier_url: str, page: Page
) -> None:
    page.goto(verifier_url + "/")
    for expected in ("valid", "revoked", "suspended"):
        number = samples[expected][0]
        page.get_by_test_id("file-input").set_input_files(str(demo_dir / "samples" / f"{number}.png"))
        verdict = page.get_by_test_id("verdict")
        expect(verdict).to_have_attribute("data-outcome", expected, timeout=15000)
        expect(verdict).to_contain_text(number)


def test_an_interrupted_seeding_starts_again(tmp_path: Path) -> None:
    """A first run killed after the registry existed but before seeding finished leaves no
    `seeded.json`; the next run starts over instead of tripping on half-filed institutions."""
    data_dir = tmp_path / "data"
    init_registry(data_dir / "registry", None, DEMO_PASSPHRASE)
    (data_dir / "work" / "institutions").mkdir(parents=True)
    result = _demo(data_dir)
    assert result.returncode == 0, result.stderr
    assert "starting again" in result.stdout
    assert json.loads((data_dir / "seeded.json").read_text())["valid"]


def test_every_sample_url_form_opens_its_verdict_in_the_browser(
    demo_dir: Path, samples: dict[str, list[str]], page: Page
) -> None:
    """Each sample's PNG, read by zxing-cpp, is a URL; opened in Chromium as a phone camera would open
    it, the verifier page takes the credential from the address and shows the expected verdict."""
    urls: dict[str, tuple[str, str]] = {}
    for expected, number in _cases(samples):
        [text] = qrimage.read_texts(Image.open(demo_dir / "samples" / f"{number}.png"))
        assert text.startswith("HTTP://127.0.0.1:") and "/#SP2." in text
        assert (demo_dir / "samples" / f"{number}.txt").read_text().strip() == text
        urls[number] = (expected, text)
    port = urlsplit(next(iter(urls.values()))[1]).port
    assert port is not None
    verifier = Verifier(VerifierConfig(cache_dir=demo_dir / "verifier-cache"))
    with serve_app(create_app(verifier), port=port):
        for number, (expected, url) in urls.items():
            page.goto("about:blank")  # a new document each time, not a jump within one
            page.goto(url)
            verdict = page.get_by_test_id("verdict")
            expect(verdict).to_have_attribute("data-code", EXPECTED_CODE[expected], timeout=15000)
            expect(verdict).to_contain_text(number)


def test_a_url_form_naming_another_host_is_flagged_on_the_page_and_in_the_cli(
    demo_dir: Path, samples: dict[str, list[str]], verifier_url: str, page: Page
) -> None:
    number = samples["valid"][0]
    genuine = (demo_dir / "samples" / f"{number}.txt").read_text().strip()
    look_alike = url_form(genuine, "https://verify.examp1e.cn")
    page.goto(verifier_url + "/")
    page.get_by_test_id("paste-input").fill(look_alike)
    page.get_by_test_id("paste-submit").click()
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-code", "valid", timeout=15000)
    warning = page.get_by_test_id("host-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("verify.examp1e.cn")
    cache = str(demo_dir / "verifier-cache")
    result = subprocess.run(
        [SKILLPASS, "verify", look_alike, "--offline", "--cache-dir", cache],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "verifier_host_foreign" in result.stdout and "verify.examp1e.cn" in result.stdout
    as_json = subprocess.run(
        [SKILLPASS, "verify", genuine, "--offline", "--cache-dir", cache, "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert json.loads(as_json.stdout)["verifier_host"]["official"] is True
