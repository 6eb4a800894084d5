"""Holders' photos: each refusal named with its row number, from a folder and from a ZIP; a name that leaves
the source is not followed; the camera's EXIF rotation is honoured; what the PDF embeds."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from issuer.photos import PRINT_SIZE, PhotoError, PhotoSource, open_source, print_image
from issuer.roster import RosterRow
from issuer.roster_validation import _PROCESSES_FROM, RosterValidator, validate_rows
from schemas import resident_id_check_char

ROW = {
    "holder_name": "张伟",
    "id_type": "居民身份证",
    "id_number": "11010519850312001X",
    "occupation_code": "6-31-01-03",
    "occupation_name": "电工",
    "work_type": "--",
    "level": 3,
    "assessment_date": "2025-06-18",
}


def jpeg(size: tuple[int, int], *, orientation: int = 1, quality: int = 85, noise: bool = False) -> bytes:
    image = Image.effect_noise(size, 80).convert("RGB") if noise else Image.new("RGB", size, (200, 160, 140))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def picture(size: tuple[int, int], kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 160, 140)).save(out, format=kind)
    return out.getvalue()


#: file name -> (bytes, the code its row must get, or None when accepted)
PHOTOS: dict[str, tuple[bytes, str | None]] = {
    "ok.jpg": (jpeg((295, 413)), None),
    "ok.png": (picture((354, 496), "PNG"), None),
    "rotated.jpg": (jpeg((413, 295), orientation=6), None),  # stored landscape, shown upright
    "photo.gif": (picture((300, 420), "GIF"), "photo_type"),
    "photo.webp": (picture((300, 420), "WEBP"), "photo_type"),
    "small.jpg": (jpeg((294, 413)), "photo_too_small"),
    "short.png": (picture((295, 412), "PNG"), "photo_too_small"),
    "huge.jpg": (jpeg((1900, 2600), quality=98, noise=True), "photo_too_large"),
    "wide.jpg": (jpeg((600, 413)), "photo_not_portrait"),
    "square.png": (picture((500, 500), "PNG"), "photo_not_portrait"),
    "sideways.jpg": (jpeg((450, 620), orientation=8), "photo_not_portrait"),
    "junk.jpg": (b"\xff\xd8\xff not really a JPEG", "photo_unreadable"),
    "cut.jpg": (jpeg((400, 560), noise=True)[:5000], "photo_unreadable"),
}
NAMES = [*PHOTOS, "absent.jpg", "../outside.jpg", "/etc/passwd", "sub/../ok.jpg"]
EXPECTED = [code for _, code in PHOTOS.values()] + ["photo_missing"] * 4


def resident_id(n: int) -> str:
    first17 = f"1101051985031{n:04d}"
    return first17 + resident_id_check_char(first17)


def rows() -> list[RosterRow]:
    out = [
        RosterRow(n, {**ROW, "id_number": resident_id(n), "photo": name}, headers={"photo": "照片"})
        for n, name in enumerate(NAMES, start=2)
    ]
    out.append(RosterRow(len(NAMES) + 2, {**ROW, "id_number": resident_id(99)}))
    return out


@pytest.fixture(params=["folder", "zip"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> PhotoSource:
    (tmp_path / "outside.jpg").write_bytes(PHOTOS["ok.jpg"][0])
    if request.param == "folder":
        folder = tmp_path / "photos"
        folder.mkdir()
        for name, (data, _) in PHOTOS.items():
            (folder / name).write_bytes(data)
        return open_source(folder)
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, (data, _) in PHOTOS.items():
            z.writestr(name, data)
        z.writestr("../outside.jpg", PHOTOS["ok.jpg"][0])  # a hostile member name is never followed
    return open_source(archive)


def test_the_fixture_photos_are_what_they_claim() -> None:
    assert len(PHOTOS["huge.jpg"][0]) > 2 * 1024 * 1024
    assert len(PHOTOS["ok.jpg"][0]) < 2 * 1024 * 1024


def test_each_refusal_names_its_row(source: PhotoSource) -> None:
    problems = validate_rows(rows(), photos=source, require_photos=True)
    expected = [(n, code) for n, code in enumerate(EXPECTED, start=2) if code is not None]
    expected.append((len(NAMES) + 2, "photo_required"))
    assert [(p.row, p.code) for p in problems] == expected
    assert all(p.column == "照片" for p in problems[:-1])
    by_code = {p.code: p for p in reversed(problems)}  # the first of each code
    assert (
        "294×413" in by_code["photo_too_small"].message_zh
        and "295×413" in by_code["photo_too_small"].message_en
    )
    assert "GIF" in by_code["photo_type"].message_en and "JPEG" in by_code["photo_type"].message_zh
    assert "2 MiB" in by_code["photo_too_large"].message_en


def test_photos_checked_by_worker_processes_give_each_row_its_own_answer(source: PhotoSource) -> None:
    """Two worker processes check the photos a chunk of rows ahead: over a roster several chunks long,
    with duplicates among the rows, every row gets what checking it alone gives, in row order; and a list
    of rows long enough gets the processes from ``validate_rows`` with the same answer."""
    count = _PROCESSES_FROM + 7
    roster = [
        RosterRow(n, {**ROW, "id_number": resident_id(n % 150), "photo": NAMES[n % len(NAMES)]})
        for n in range(2, count + 2)
    ]
    alone = RosterValidator(photos=source, require_photos=True)
    expected = [p for row in roster for p in alone.check(row)]
    assert {p.code for p in expected} >= {"photo_missing", "photo_type", "photo_unreadable", "duplicate_row"}
    ahead = RosterValidator(photos=source, require_photos=True)
    assert [p for found in ahead.check_each(roster, workers=2) for p in found] == expected
    assert validate_rows(roster, photos=source, require_photos=True, workers=2) == expected


def test_photo_less_rows_pass_when_the_institution_chose_so(source: PhotoSource) -> None:
    problems = validate_rows(rows(), photos=source, require_photos=False)
    assert "photo_required" not in [p.code for p in problems]


def test_a_source_that_is_neither_folder_nor_zip_is_refused(tmp_path: Path) -> None:
    (tmp_path / "photos.txt").write_text("no")
    for path in (tmp_path / "photos.txt", tmp_path / "absent"):
        with pytest.raises(PhotoError) as caught:
            open_source(path)
        assert caught.value.code == "photos_unreadable"


def test_a_small_upright_jpeg_is_embedded_as_it_is() -> None:
    data = PHOTOS["ok.jpg"][0]
    image = print_image(data)
    assert (image.data, image.width, image.height) == (data, 295, 413)


@pytest.mark.parametrize("name", ["ok.png", "rotated.jpg"])
def test_other_photos_are_turned_upright_and_reduced(name: str) -> None:
    image = print_image(PHOTOS[name][0])
    assert image.height > image.width and image.width <= PRINT_SIZE[0] and image.height <= PRINT_SIZE[1]
    with Image.open(io.BytesIO(image.data)) as decoded:
        assert decoded.format == "JPEG" and decoded.size == (image.width, image.height)


def test_a_large_phone_photo_is_reduced() -> None:
    image = print_image(jpeg((1200, 1680), quality=95, noise=True))
    assert (image.width, image.height) == (354, 496) and len(image.data) < 200_000


def test_links_are_followed_only_inside_the_folder(tmp_path: Path) -> None:
    """A plain file in the folder is read after one ``lstat``; a link, or a name with folders in it, is
    resolved first, and whatever ends outside the folder is not there at all."""
    data = PHOTOS["ok.jpg"][0]
    (tmp_path / "outside.jpg").write_bytes(data)
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    (folder / "plain.jpg").write_bytes(data)
    (folder / "sub" / "nested.jpg").write_bytes(data)
    (folder / "inside.jpg").symlink_to(folder / "plain.jpg")
    (folder / "escape.jpg").symlink_to(tmp_path / "outside.jpg")
    (folder / "sub" / "escape.jpg").symlink_to(tmp_path / "outside.jpg")
    (folder / "away").symlink_to(tmp_path)
    (folder / "folder.jpg").mkdir()
    source = open_source(folder)
    for name in ("plain.jpg", "sub/nested.jpg", "inside.jpg"):
        assert (source.read(name), source.size(name)) == (data, len(data)), name
    for name in ("escape.jpg", "sub/escape.jpg", "away/outside.jpg", "folder.jpg", "absent.jpg"):
        assert (source.read(name), source.size(name)) == (None, None), name
