"""The root of every error a person may see, so each package's error model shares one shape:
a stable ``code`` programs act on, a message in Chinese and in English, and an optional English
``detail`` for developers. Each package keeps its own base class beneath it (python-tuf's habit)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class SkillpassError(Exception):
    """A failure with a stable code and bilingual messages."""

    def __init__(self, code: str, message_zh: str, message_en: str, detail: str = "") -> None:
        super().__init__(f"{code}: {message_en}" + (f" ({detail})" if detail else ""))
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.detail = detail


class CataloguedError(SkillpassError):
    """An error whose messages come from its package's catalogue: raising it names only the code."""

    catalogue: ClassVar[Mapping[str, tuple[str, str]]] = {}

    def __init__(self, code: str, detail: str = "") -> None:
        zh, en = self.catalogue[code]
        super().__init__(code, zh, en, detail)
