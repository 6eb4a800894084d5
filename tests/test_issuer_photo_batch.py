"""A 1,000-row issuance with photos from a ZIP and the institution's seal, through the real ``skillpass
issue`` against a registry on loopback: every certificate's PDF holds its photo and the seal (``pdfimages
-list``) and its QR reads back from a rendering of the page; the batch print file has one certificate per page,
each with its photo."""

from __future__ import annotations

import io
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader
from test_issuer_run_support import (
    HEADERS,
    PASSPHRASE,
    journal_batch_id,
    registry_world,
    roster_rows,
    write_roster,
)
from test_issuer_seal import seal_png

from common.qrimage import read_texts
from issuer.manifest import read_manifest_json
from skillpass.cli import main

ROWS = 1000


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLPASS_KEY_PASSPHRASE", PASSPHRASE)


def portrait(seed: int) -> bytes:
    image = Image.new("RGB", (330, 460), (246, 246, 246))
    draw = ImageDraw.Draw(image)
    draw.ellipse((90, 60 + seed, 240, 260), fill=(225, 190, 160))
    draw.rectangle((40, 290, 290, 460), fill=(30 + 20 * seed, 60, 120))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def images(pdf: Path) -> list[list[str]]:
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True)
    return [line.split() for line in listing.stdout.splitlines()[2:]]


def qr_of(pdf: Path) -> list[str]:
    """The QR read from the page rendered at 100 dpi, cropped to the QR's area (x 70-140 mm, y 175-232 mm)."""
    crop = ["-x", "275", "-y", "689", "-W", "276", "-H", "224"]
    png = subprocess.run(["pdftoppm", "-r", "100", *crop, "-png", "-singlefile", str(pdf)],
                         check=True, capture_output=True).stdout  # fmt: skip
    return read_texts(Image.open(io.BytesIO(png)))


def test_a_thousand_certificates_with_photos(tmp_path: Path) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        rows = [[*row, f"photos/{n:04d}.jpg"] for n, row in enumerate(roster_rows(ROWS))]
        roster = write_roster(tmp_path / "roster.csv", rows, (*HEADERS, "照片"))
        archive = tmp_path / "photos.zip"
        with zipfile.ZipFile(archive, "w") as z:
            for n in range(ROWS):
                z.writestr(f"photos/{n:04d}.jpg", portrait(n % 8))
        out = tmp_path / "out"
        args = ["issue", str(roster), "--credentials", str(world.credentials), "--key", str(world.key),
                "--out", str(out), "--photos", str(archive), "--seal", str(seal_png(tmp_path / "seal.png"))]  # fmt: skip
        assert main(args) == 4
        assert len(world.batches()) == 1
        world.approve_all(journal_batch_id(out))  # the public log names the batch only by a keyed digest
        assert main(args) == 0
        manifest = read_manifest_json(out)["rows"]
        assert len(manifest) == ROWS and {r["state"] for r in manifest} == {"published"}

        pdfs = [out / r["files"]["pdf"] for r in manifest]
        texts = [(out / r["files"]["txt"]).read_text("ascii").strip() for r in manifest]
        with ThreadPoolExecutor(max_workers=2) as pool:
            listed = list(pool.map(images, pdfs))
            read = list(pool.map(qr_of, pdfs))
        kinds = [[(image[2], image[8]) for image in found] for found in listed]  # the QR is vector
        assert kinds == [[("image", "jpeg"), ("image", "image"), ("smask", "image")]] * ROWS  # photo, seal
        assert read == [[text] for text in texts]

        batch_pdf = out / "batch.pdf"
        assert len(PdfReader(batch_pdf).pages) == ROWS
        batch_images = images(batch_pdf)
        photos = [int(image[0]) for image in batch_images if image[8] == "jpeg"]
        assert photos == list(range(1, ROWS + 1))  # one photo a page
        assert len({image[10] for image in batch_images if image[8] != "jpeg"}) == 1  # one seal, shared
        assert batch_pdf.stat().st_size < ROWS * 60_000  # photos and fonts shared sensibly, not per page


def test_issuance_refuses_rows_without_photos_unless_chosen(tmp_path: Path) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        roster = write_roster(tmp_path / "roster.csv", roster_rows(2))
        out = tmp_path / "out"
        args = ["issue", str(roster), "--credentials", str(world.credentials), "--key", str(world.key),
                "--out", str(out)]  # fmt: skip
        assert main(args) == 2
        assert "photo_required" in (out / "report.csv").read_text("utf-8-sig")
        assert world.batches() == []
        assert main([*args, "--photos", str(tmp_path / "nowhere.zip")]) == 2
        opaque = tmp_path / "seal.png"
        Image.new("RGB", (300, 300), "red").save(opaque)
        assert main([*args, "--without-photos", "--seal", str(opaque)]) == 2  # a seal needs transparency
        assert world.batches() == []
        assert main([*args, "--without-photos"]) == 4
