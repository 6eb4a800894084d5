"""Shared builders for credential tests: keys generated per run, never stored."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from credential import CertificateClaims, MaskedId

REPO = Path(__file__).resolve().parents[1]
VECTORS = REPO / "tests" / "vectors"  # public test vectors, copied in with their sources (README there)
EXAMPLES = REPO / "examples"


def vector(*parts: str) -> Path:
    """A committed public vector file; a missing one fails the test that asked (it never skips)."""
    path = VECTORS.joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"public test vector missing: {path.relative_to(REPO)}")
    return path


def example(name: str) -> dict[str, Any]:
    """One of the committed example certificates."""
    data: dict[str, Any] = json.loads((EXAMPLES / f"certificate-{name}.json").read_text(encoding="utf-8"))
    return data


TYPICAL_INSTITUTION = "Y000011000001"  # the typical example's institution code, first 13 of its number


def typical_claims(**changes: Any) -> CertificateClaims:
    """The typical example's claims, optionally with fields changed."""
    fields: dict[str, Any] = {
        "certificate_number": "Y000011000001263000001",
        "holder_name": "张三丰",
        "id_type": "居民身份证",
        "id_masked": MaskedId.of("11010519491231002X"),
        "occupation_code": "6-31-01-03",
        "level": 3,
        "work_type": "--",
        "issue_date": date(2026, 11, 24),
        "status_list": 0,
        "status_index": 123456,
    }
    fields.update(changes)
    return CertificateClaims(**fields)
