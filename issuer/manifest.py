"""The run's manifest: one line per roster row saying what became of it and where its files are.

Written as ``manifest.csv`` (UTF-8 with BOM, so spreadsheet programs show Chinese correctly) and
``manifest.json``. Both are derived only from the journal and carry no timestamps, so a rerun
of a finished (or resumed) run writes byte-identical files. Each is replaced atomically.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import orjson

CSV_NAME = "manifest.csv"
JSON_NAME = "manifest.json"

# What became of a row, as the manifest says it.
PUBLISHED, REJECTED, INVALID, PENDING = "published", "rejected", "invalid", "pending"

FILE_KINDS = ("pdf", "png", "svg", "txt")
_CSV_COLUMNS = ("row", "holder_name", "certificate_number", "state", "code", "reason", *FILE_KINDS)


@dataclass(frozen=True)
class ManifestEntry:
    """One roster row: its number in the roster, holder, certificate number, state and files."""

    row: int
    holder_name: str
    certificate_number: str | None
    state: str
    code: str | None = None
    reason: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Manifest:
    """Everything a run produced for one batch."""

    batch_id: str
    institution_code: str
    entries: Sequence[ManifestEntry]
    batch_pdf: str | None = None

    def counts(self) -> dict[str, int]:
        """How many rows are in each state."""
        counts = dict.fromkeys((PUBLISHED, REJECTED, INVALID, PENDING), 0)
        for entry in self.entries:
            counts[entry.state] = counts.get(entry.state, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        """The ``manifest.json`` document."""
        return {
            "batch_id": self.batch_id,
            "institution_code": self.institution_code,
            "counts": self.counts(),
            "batch_pdf": self.batch_pdf,
            "rows": [_row_json(entry) for entry in self.entries],
        }

    def to_csv(self) -> str:
        """The ``manifest.csv`` text (without the BOM)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(_CSV_COLUMNS)
        for e in self.entries:
            files = [e.files.get(kind, "") for kind in FILE_KINDS]
            writer.writerow(
                [
                    e.row,
                    e.holder_name,
                    e.certificate_number or "",
                    e.state,
                    e.code or "",
                    e.reason or "",
                    *files,
                ]
            )
        return buffer.getvalue()


_ENTRY_FIELDS = tuple(f.name for f in fields(ManifestEntry))


def _row_json(entry: ManifestEntry) -> dict[str, Any]:
    """One row of ``manifest.json`` (``dataclasses.asdict`` deep-copies every value: a tenth of a
    millisecond a row, a second for a 10,000-row batch)."""
    return {name: getattr(entry, name) for name in _ENTRY_FIELDS} | {"files": dict(entry.files)}


def write_manifest(manifest: Manifest, out_dir: Path) -> tuple[Path, Path]:
    """Write ``manifest.csv`` and ``manifest.json`` atomically; returns their paths. The JSON is written by
    orjson: the same bytes as ``json.dumps(..., ensure_ascii=False, indent=2)``, whose indenting encoder is
    pure Python and ten times slower."""
    csv_path, json_path = out_dir / CSV_NAME, out_dir / JSON_NAME
    _write_atomically(csv_path, manifest.to_csv().encode("utf-8-sig"))
    _write_atomically(json_path, orjson.dumps(manifest.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    return csv_path, json_path


def read_manifest_json(out_dir: Path) -> dict[str, Any]:
    """The ``manifest.json`` a run wrote (for tools and tests that inspect a finished run)."""
    loaded: dict[str, Any] = json.loads((out_dir / JSON_NAME).read_text("utf-8"))
    return loaded


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    temporary.replace(path)
