"""The console's folder on the institution's machine: uploaded rosters and one issuance folder per batch.

``WORK/rosters/<batch id><suffix>`` keeps each uploaded roster (the batch id is the SHA-256 of its bytes
and the institution code, exactly as ``skillpass issue`` derives it), and ``WORK/batches/<batch id>/`` is
that batch's output folder: the issuance journal, certificates, ``batch.pdf`` and the manifest. So the
console and ``skillpass issue ROSTER --out WORK/batches/<id>`` are the same run, and either can carry on
what the other started. Both folders are owner-only (0700), uploaded files 0600: rosters hold ID numbers.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import secrets
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from credential.directory import Scope
from issuer.fonts import FontError, font_has_glyphs
from issuer.journal import FILENAME as JOURNAL
from issuer.journal import Journal, make_private_dir
from issuer.manifest import JSON_NAME
from issuer.photos import PhotoSource
from issuer.roster import RosterError, read_roster
from issuer.roster_validation import RowProblem, validate_rows
from issuer.run import BATCH_PDF, IssueError

ROSTER_SUFFIXES: Final = (".xlsx", ".csv")
MAX_UPLOAD_BYTES: Final = 20 * 1024 * 1024
_BATCH_ID: Final = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Upload:
    """A roster saved in the workspace, with what validation found."""

    batch_id: str
    filename: str
    rows: int
    problems: list[RowProblem]


@dataclass(frozen=True)
class LocalBatch:
    """One batch as this machine knows it."""

    batch_id: str
    filename: str
    uploaded: dt.datetime
    submitted: bool
    finished: bool


class Workspace:
    """The console's folder (see the module docstring)."""

    def __init__(self, root: Path, institution_code: str) -> None:
        self.root = root
        self.code = institution_code
        make_private_dir(self.root / "rosters")
        make_private_dir(self.root / "batches")

    def save_roster(self, filename: str, data: bytes) -> tuple[str, Path]:
        """Keep an uploaded roster; returns its batch id and path (the same file twice is one batch)."""
        suffix = Path(filename).suffix.lower()
        if suffix not in ROSTER_SUFFIXES:
            raise IssueError(
                "roster_type",
                "请上传 XLSX 或 CSV 格式的名册",
                "upload the roster as an XLSX or CSV file",
            )
        if not data:
            raise IssueError("roster_empty", "上传的文件是空的", "the uploaded file is empty")
        if len(data) > MAX_UPLOAD_BYTES:
            raise IssueError(
                "roster_too_large",
                "名册文件超过 20 MB：请拆分，或用命令行 skillpass issue 签发",
                "the roster is larger than 20 MB: split it, or issue it with skillpass issue",
            )
        # Random, never a hash of the roster (a small roster's hash gives its ID numbers away to a few
        # thousand guesses; see issuer.run.new_batch_id); 64 hex digits, the form the pages' paths take.
        batch_id = secrets.token_hex(32)
        path = self.root / "rosters" / f"{batch_id}{suffix}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        (self.root / "rosters" / f"{batch_id}.name").write_text(Path(filename).name, encoding="utf-8")
        return batch_id, path

    def validate(self, batch_id: str, filename: str, scopes: Sequence[Scope], today: dt.date) -> Upload:
        """Every problem of a saved roster, checked as ``skillpass issue`` checks it before submitting."""
        path = self.roster(batch_id)
        try:
            rows = list(read_roster(path))
            problems = validate_rows(
                rows,
                scopes=scopes,
                font_check=font_has_glyphs,
                photos=PhotoSource(path.parent),
                today=today,
                workers=1,  # like its rendering: the console's server starts no processes
            )
        except (RosterError, FontError) as e:
            raise IssueError(e.code, e.message_zh, e.message_en) from e
        return Upload(batch_id, filename, len(rows), sorted(problems, key=lambda p: p.row))

    def roster(self, batch_id: str) -> Path:
        """The saved roster of a batch (``IssueError`` if there is none)."""
        if _BATCH_ID.match(batch_id):
            for suffix in ROSTER_SUFFIXES:
                path = self.root / "rosters" / f"{batch_id}{suffix}"
                if path.is_file():
                    return path
        raise IssueError("batch_unknown", "本机没有这个批次", "this machine has no such batch")

    def out_dir(self, batch_id: str) -> Path:
        """The batch's issuance folder (what ``skillpass issue --out`` would be)."""
        self.roster(batch_id)
        return self.root / "batches" / batch_id

    def filename(self, batch_id: str) -> str:
        """The name the roster had when it was uploaded."""
        name_file = self.root / "rosters" / f"{batch_id}.name"
        return name_file.read_text(encoding="utf-8") if name_file.is_file() else self.roster(batch_id).name

    def batches(self) -> list[LocalBatch]:
        """Every roster uploaded here, newest first."""
        found = []
        for path in (self.root / "rosters").iterdir():
            if path.suffix not in ROSTER_SUFFIXES or not _BATCH_ID.match(path.stem):
                continue
            out = self.root / "batches" / path.stem
            found.append(
                LocalBatch(
                    batch_id=path.stem,
                    filename=self.filename(path.stem),
                    uploaded=dt.datetime.fromtimestamp(path.stat().st_mtime),
                    submitted=(out / JOURNAL).is_file(),
                    finished=(out / JSON_NAME).is_file(),
                )
            )
        return sorted(found, key=lambda b: b.uploaded, reverse=True)

    def row_names(self, batch_id: str) -> dict[int, tuple[int, str]]:
        """Batch row → (the roster's own row number, holder name), from the journal once submitted."""
        out = self.out_dir(batch_id)
        if not (out / JOURNAL).is_file():
            return {}
        with Journal.open(out) as journal:
            return {r.row: (r.roster_row, str(r.fields.get("holder_name", ""))) for r in journal.rows()}

    def manifest(self, batch_id: str) -> dict[str, Any] | None:
        """The batch's manifest once the run has finished."""
        path = self.out_dir(batch_id) / JSON_NAME
        if not path.is_file():
            return None
        found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return found

    def batch_pdf(self, batch_id: str) -> Path | None:
        """The combined PDF for printing, once rendered."""
        path = self.out_dir(batch_id) / BATCH_PDF
        return path if path.is_file() else None

    def pdf_zip(self, batch_id: str) -> bytes | None:
        """A ZIP of every published certificate's PDF (named by certificate number)."""
        manifest = self.manifest(batch_id)
        if manifest is None:
            return None
        out = self.out_dir(batch_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for entry in manifest.get("rows", []):
                pdf = (entry.get("files") or {}).get("pdf")
                if entry.get("state") == "published" and pdf:
                    archive.write(out / pdf, Path(pdf).name)
        return buffer.getvalue()
