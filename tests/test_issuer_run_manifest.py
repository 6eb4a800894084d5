"""The manifest: byte-identical when written again, Excel-friendly CSV, counts per state."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from issuer.manifest import (
    CSV_NAME,
    JSON_NAME,
    Manifest,
    ManifestEntry,
    read_manifest_json,
    write_manifest,
)

ENTRIES = [
    ManifestEntry(
        2,
        "王建国",
        "Y000011000001263000001",
        "published",
        files={
            "pdf": "certificates/Y000011000001263000001.pdf",
            "png": "certificates/Y000011000001263000001.png",
        },
    ),
    ManifestEntry(3, "李秀英", None, "invalid", "id_check_char", "身份证校验位错误 / wrong check character"),
    ManifestEntry(4, "张伟", "Y000011000001263000002", "rejected", "review_rejected", "照片不清晰"),
]
MANIFEST = Manifest("batch-1", "Y000011000001", ENTRIES, "batch.pdf")


def test_counts_every_state() -> None:
    assert MANIFEST.counts() == {"published": 1, "rejected": 1, "invalid": 1, "pending": 0}


def test_writing_again_gives_identical_bytes(tmp_path: Path) -> None:
    csv_path, json_path = write_manifest(MANIFEST, tmp_path)
    first = (csv_path.read_bytes(), json_path.read_bytes())
    write_manifest(Manifest("batch-1", "Y000011000001", list(ENTRIES), "batch.pdf"), tmp_path)
    assert (csv_path.read_bytes(), json_path.read_bytes()) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([CSV_NAME, JSON_NAME])


def test_csv_has_a_bom_and_one_line_per_row(tmp_path: Path) -> None:
    csv_path, _ = write_manifest(MANIFEST, tmp_path)
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [(r["row"], r["holder_name"], r["state"]) for r in lines] == [
        ("2", "王建国", "published"),
        ("3", "李秀英", "invalid"),
        ("4", "张伟", "rejected"),
    ]
    assert lines[0]["pdf"] == "certificates/Y000011000001263000001.pdf"
    assert lines[1]["certificate_number"] == ""
    assert lines[2]["reason"] == "照片不清晰"


def test_json_carries_rows_files_and_counts(tmp_path: Path) -> None:
    write_manifest(MANIFEST, tmp_path)
    document = read_manifest_json(tmp_path)
    assert document == json.loads((tmp_path / JSON_NAME).read_text("utf-8"))
    assert document["batch_id"] == "batch-1"
    assert document["batch_pdf"] == "batch.pdf"
    assert document["counts"]["published"] == 1
    assert document["rows"][0]["files"]["png"].endswith(".png")
    assert document["rows"][1]["certificate_number"] is None


def test_json_is_what_the_standard_library_writes(tmp_path: Path) -> None:
    """orjson writes manifest.json: byte for byte ``json.dumps(..., ensure_ascii=False, indent=2)`` (as a
    manifest from an earlier version was), with quotes, backslashes, control and separator characters."""
    awkward = ManifestEntry(5, '引号"\\反斜杠\t\n\x01\u2028\u2029😀', None, "rejected", "c", "", {})
    manifest = Manifest("batch-2", "Y000011000001", [*ENTRIES, awkward], None)
    _, json_path = write_manifest(manifest, tmp_path)
    expected = json.dumps(manifest.to_json(), ensure_ascii=False, indent=2) + "\n"
    assert json_path.read_bytes() == expected.encode("utf-8")
    assert read_manifest_json(tmp_path)["rows"][-1]["holder_name"] == awkward.holder_name
    assert list(read_manifest_json(tmp_path)["rows"][0]) == [
        "row", "holder_name", "certificate_number", "state", "code", "reason", "files"
    ]  # fmt: skip
