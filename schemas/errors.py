"""The typed errors raised by ``schemas``.

Every error carries a stable snake_case ``code`` plus a Chinese and an English message, so that the CLI, the
HTTP services and the issuer's spreadsheet report can show the same words without parsing exception text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from common.errors import SkillpassError

if TYPE_CHECKING:
    from schemas.issues import Issue


class SchemasError(SkillpassError):
    """Base of every error this package raises; callers may catch just this."""


class CertificateNumberError(SchemasError):
    """A certificate number (证书编号) that does not follow the 22-character national coding rule."""


class CheckInputError(SchemasError):
    """A check-character function was given text it cannot compute over (wrong length or alphabet)."""


class SchemaError(SchemasError):
    """A document failed validation; ``issues`` lists every problem found, not just the first."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues: list[Issue] = list(issues)
        first = self.issues[0] if self.issues else None
        super().__init__(
            "schema_invalid",
            f"文档有 {len(self.issues)} 处错误" + (f"，首个：{first.message_zh}" if first else ""),
            f"document has {len(self.issues)} problem(s)" + (f"; first: {first.message_en}" if first else ""),
        )
