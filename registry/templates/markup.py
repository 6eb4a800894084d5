"""Safe HTML from string templates: every value is escaped unless it is HTML we built ourselves.

``fill(template, **values)`` escapes each value with ``html.escape`` unless it is ``Safe`` (a
fragment that ``fill`` or ``join`` produced), so user and database text can never become markup,
and a template never has to remember which of its values to escape.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from urllib.parse import urlencode

from registry.templates.text import Lang


class Safe(str):
    """HTML that is already escaped (made by ``fill``, ``join`` or ``esc``)."""

    __slots__ = ()


def esc(value: object) -> Safe:
    """``value`` as HTML text (quotes escaped too, so it is also safe inside attributes)."""
    if isinstance(value, Safe):
        return value
    return Safe(html.escape(str(value), quote=True))


def fill(template: str, **values: object) -> Safe:
    """``template`` with each ``{name}`` replaced by its escaped value."""
    return Safe(template.format_map({name: esc(value) for name, value in values.items()}))


def join(parts: Iterable[Safe]) -> Safe:
    """Fragments side by side."""
    return Safe("".join(esc(part) for part in parts))


def href(path: str, lang: Lang, **params: str | int) -> str:
    """A link to one of our pages that keeps the page's language (not yet HTML-escaped)."""
    query = {name: str(value) for name, value in params.items()}
    if lang == "en":
        query["lang"] = "en"
    return path + ("?" + urlencode(query) if query else "")
