"""Parallel rendering: every file of every certificate, atomic and idempotent (a re-run rewrites nothing)."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from credential_fixtures import typical_claims
from PIL import Image

from common.qrimage import read_texts
from credential import encode
from issuer import fonts, render
from issuer.pdf import CertificateView
from issuer.progress import Progress
from issuer.render import RenderError, RenderItem, render_outputs
from keys import Signer

NAMES = ["张伟", "王芳", "李娜", "买买提·艾力", "张𠮷"]
KINDS = ("txt", "png", "svg", "pdf")  # with svg=True
DEFAULT_KINDS = ("txt", "png", "pdf")


@pytest.fixture(scope="module", autouse=True)
def font_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(fonts.CACHE_ENV, str(tmp_path_factory.mktemp("font-cache")))
        yield


@pytest.fixture(scope="module")
def items() -> list[RenderItem]:
    signer = Signer.generate()
    out = []
    for n in range(1, 21):
        number = f"Y000011000001263{n:06d}"
        name = NAMES[n % len(NAMES)]
        qr = encode(typical_claims(certificate_number=number, holder_name=name, status_index=n), signer)
        view = CertificateView(name, "居民身份证", "11010519491231002X", "6-31-01-03", "电工", "--", 3, number,
                               "中国国家铁路集团有限公司", dt.date(2026, 11, 24))  # fmt: skip
        out.append(RenderItem(view, qr))
    return out


def snapshot(out: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.iterdir()}


def test_parallel_render_then_rerun_rewrites_nothing(items: list[RenderItem], tmp_path: Path) -> None:
    out = tmp_path / "out"
    stream = io.StringIO()
    progress = Progress("渲染 render", stream=stream, force=True, unit="certificates", interval=0)
    first = render_outputs(items, out, workers=2, progress=progress, svg=True)
    assert [r.certificate_number for r in first] == [i.view.certificate_number for i in items]
    assert all(r.written == KINDS for r in first)
    assert len(list(out.iterdir())) == 4 * len(items)
    assert "20/20 certificates 100%" in stream.getvalue()
    for item, paths in zip(items, first, strict=True):
        assert paths.txt.read_text("ascii") == item.qr_text + "\n"
        assert read_texts(Image.open(paths.png)) == [item.qr_text]
        assert paths.svg is not None
        assert paths.svg.read_text("utf-8").lstrip().startswith(("<?xml", "<svg"))
        assert paths.pdf.read_bytes().startswith(b"%PDF-") and paths.pdf.stat().st_size < 300_000
    text = subprocess.run(
        ["pdftotext", str(first[4].pdf), "-"], check=True, capture_output=True
    ).stdout.decode()
    assert items[4].view.holder_name in text and items[4].view.certificate_number in text

    before = snapshot(out)
    second = render_outputs(items, out, workers=2, svg=True)
    assert all(r.written == () for r in second)
    assert snapshot(out) == before


def test_changed_or_missing_files_are_rewritten_alone(items: list[RenderItem], tmp_path: Path) -> None:
    out = tmp_path / "out"
    few = items[:3]
    assert all(r.svg is None for r in render_outputs(few, out, workers=1))  # no SVG unless asked for
    (out / f"{few[0].view.certificate_number}.png").write_bytes(b"half a png")
    (out / f"{few[1].view.certificate_number}.pdf").unlink()
    changed = RenderItem(few[2].view, few[1].qr_text)  # new QR text: everything for it changes
    again = render_outputs([few[0], few[1], changed], out, workers=1)
    assert [r.written for r in again] == [("png",), ("pdf",), DEFAULT_KINDS]


def test_stale_temporaries_of_dead_runs_are_removed(items: list[RenderItem], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = out / f".{items[0].view.certificate_number}.pdf.{dead.pid}.tmp"
    stale.write_bytes(b"half")
    render_outputs(items[:1], out, workers=1)
    assert not stale.exists()
    assert sorted(p.suffix for p in out.iterdir()) == [".pdf", ".png", ".txt"]


def test_unsafe_certificate_number_is_refused(items: list[RenderItem], tmp_path: Path) -> None:
    view = items[0].view
    bad = RenderItem(CertificateView(**{**view.__dict__, "certificate_number": "../../etc/passwd"}), "X")
    with pytest.raises(RenderError) as caught:
        render_outputs([bad], tmp_path)
    assert caught.value.code == "certificate_number_unsafe"


def page_texts(pdf: Path) -> list[str]:
    return (
        subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True)
        .stdout.decode()
        .split("\f")
    )


def test_batch_pdf_holds_the_same_pages_in_order_and_is_reproducible(
    items: list[RenderItem], tmp_path: Path
) -> None:
    out, batch = tmp_path / "out", tmp_path / "batch.pdf"
    rendered = render_outputs(items[:6], out, workers=2, batch_pdf=batch)
    info = subprocess.run(["pdfinfo", str(batch)], check=True, capture_output=True).stdout.decode()
    assert "Pages:           6" in info
    pages = page_texts(batch)
    for i, paths in enumerate(rendered):  # each page, in order, is the certificate's own page
        assert pages[i] == page_texts(paths.pdf)[0]
        assert items[i].view.certificate_number in pages[i]
    first = batch.read_bytes()
    render_outputs(items[:6], out, workers=1, batch_pdf=batch)
    assert batch.read_bytes() == first  # the same pages make the same bytes, whichever worker drew them
    assert not list(tmp_path.glob(".*.tmp"))


def test_batch_pdf_of_rows_already_rendered_has_every_page(items: list[RenderItem], tmp_path: Path) -> None:
    """A run that crashed after writing some certificates' files: the print file still gets every page."""
    out, batch = tmp_path / "out", tmp_path / "batch.pdf"
    render_outputs(items[:3], out, workers=1)
    before = snapshot(out)
    rendered = render_outputs(items[:5], out, workers=2, batch_pdf=batch)
    assert [r.written for r in rendered[:3]] == [(), (), ()]
    assert {k: v for k, v in snapshot(out).items() if k in before} == before
    pages = page_texts(batch)
    assert [items[i].view.certificate_number in pages[i] for i in range(5)] == [True] * 5
    render_outputs(items[:4], out, workers=1, batch_pdf=batch)  # other items: written again
    assert (
        "Pages:           4"
        in subprocess.run(["pdfinfo", str(batch)], check=True, capture_output=True).stdout.decode()
    )


@pytest.mark.parametrize("unnamed_files", [True, False])
def test_files_are_created_and_replaced_whole_with_or_without_unnamed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unnamed_files: bool
) -> None:
    """A new file is linked from an unnamed one where the file system allows (here it does); an existing
    one is replaced by a rename; either way no temporary name is left, and a folder that is not there is
    a clear error."""
    if not unnamed_files:
        monkeypatch.setattr(render, "_O_TMPFILE", 0)
    target = tmp_path / "a.txt"
    assert render._link_new(str(tmp_path / "probe"), b"") is unnamed_files
    (tmp_path / "probe").unlink(missing_ok=True)
    render.write_atomic(target, b"first")
    assert target.read_bytes() == b"first"
    assert render._link_new(str(target), b"other") is False  # the name is taken: nothing written
    render.write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    with pytest.raises(RenderError) as refused:
        render.write_atomic(tmp_path / "missing" / "b.txt", b"x")
    assert refused.value.code == "output_write_failed"
