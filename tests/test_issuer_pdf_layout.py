"""The longest values the schema allows lay out inside their frames: checked on the rendered PDF with
``pdftotext -bbox`` — every text box inside the inner frame, none over the photo, none over another, every
value at 9 pt or more and on at most two lines, and the QR still read from a 200 dpi rendering."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from credential_fixtures import typical_claims
from PIL import Image

from common.qrimage import read_texts
from credential import encode
from issuer.pdf import (
    LINE_STEP,
    LINES_Y,
    PHOTO_BOX,
    RIGHT_EDGE,
    VALUE_X,
    CertificateView,
    render_certificate_pdf,
)
from issuer.photos import PhotoRef
from keys import Signer

REPO = Path(__file__).resolve().parents[1]
MM = 72 / 25.4
INNER_FRAME = (13.0, 13.0, 197.0, 284.0)  # left, top, right, bottom (mm)
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


@dataclass(frozen=True)
class Box:
    """A word's box in millimetres from the top left, as poppler reports it."""

    left: float
    top: float
    right: float
    bottom: float
    text: str

    def overlaps(self, other: Box) -> bool:
        return (
            min(self.right, other.right) - max(self.left, other.left) > 0.01
            and min(self.bottom, other.bottom) - max(self.top, other.top) > 0.01
        )


def boxes(pdf: Path) -> list[Box]:
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True
    ).stdout.decode()
    return [_box(m) for m in _WORD.finditer(html)]


def _box(word: re.Match[str]) -> Box:
    left, top, right, bottom = (float(word[i]) / MM for i in range(1, 5))
    return Box(left, top, right, bottom, word[5])


def longest() -> CertificateView:
    doc = json.loads((REPO / "examples" / "certificate-longest.json").read_text("utf-8"))
    return CertificateView(
        holder_name=doc["holder_name"],
        id_type=doc["id_type"],
        id_number_display=doc["id_number"],
        occupation_code=doc["occupation_code"],
        occupation_name=doc["occupation_name"],
        work_type=doc["work_type"],
        level=doc["level"],
        certificate_number=doc["certificate_number"],
        institution_name=doc["institution_name"],
        issue_date=dt.date.fromisoformat(doc["issue_date"]),
    )


def widest() -> CertificateView:
    """Every free-text field at its schema maximum in the widest characters."""
    return CertificateView("鑫" * 24, "外国人永久居留身份证", "W" * 30, "4-02-01-05", "鑫" * 30, "鑫" * 14, 1,
                           "S000065999999261999999", "鑫" * 60, dt.date(2026, 12, 31))  # fmt: skip


def test_the_cases_are_at_the_schema_maximum() -> None:
    view = longest()
    assert (len(view.institution_name), len(view.occupation_name), len(view.holder_name)) == (60, 30, 24)


@pytest.mark.parametrize("make", [longest, widest], ids=["longest-example", "widest"])
def test_every_text_box_stays_in_its_frame(make: Callable[[], CertificateView], tmp_path: Path) -> None:
    view = make()
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (354, 496), (210, 170, 150)).save(photo)
    view = CertificateView(**{**view.__dict__, "photo": PhotoRef.file(photo)})
    qr = encode(typical_claims(), Signer.generate())
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(render_certificate_pdf(view, qr))
    found = boxes(pdf)
    left, top, right, bottom = INNER_FRAME
    for box in found:
        assert left < box.left and box.right < right and top < box.top and box.bottom < bottom, box
    photo_box = Box(PHOTO_BOX[0], PHOTO_BOX[1], PHOTO_BOX[0] + PHOTO_BOX[2], PHOTO_BOX[1] + PHOTO_BOX[3], "")
    assert [b for b in found if b.overlaps(photo_box)] == []
    assert [(a, b) for i, a in enumerate(found) for b in found[i + 1 :] if a.overlaps(b)] == []
    for index, (_, _, value) in enumerate(view.lines()):
        slot_top = LINES_Y + index * LINE_STEP
        words = [b for b in found if b.left >= VALUE_X - 0.01 and slot_top <= b.top < slot_top + LINE_STEP]
        assert "".join(w.text for w in words) == value.replace(" ", "")
        assert len({round(w.top, 1) for w in words}) <= 2  # one or two lines
        assert all(w.bottom - w.top >= 9 / MM - 0.01 for w in words)  # never below 9 pt
        assert all(w.right <= RIGHT_EDGE + 0.01 for w in words)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-singlefile", str(pdf), str(tmp_path / "page")], check=True
    )
    assert read_texts(Image.open(tmp_path / "page.png")) == [qr]
