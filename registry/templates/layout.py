"""The frame every public page shares: head, navigation, language switch and the footer with the
national query system's addresses. No scripts, no third-party resources."""

from __future__ import annotations

from registry.templates.markup import Safe, fill, href, join
from registry.templates.text import (
    NATIONAL_CERTIFICATE_QUERY,
    NATIONAL_INSTITUTION_QUERY,
    TEXT,
    Lang,
)

STYLESHEET_PATH = "/static/registry.css"

_PAGE = """<!doctype html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {site_name}</title>
<link rel="stylesheet" href="{stylesheet}">
</head>
<body>
<header class="top">
<a class="brand" href="{home}">{site_name}</a>
<nav>{nav}</nav>
<a class="lang" href="{switch}" hreflang="{switch_lang}" lang="{switch_lang}">{other_lang_name}</a>
</header>
<main>
{main}
</main>
<footer>
<p>{national}</p>
<p>{note}</p>
</footer>
</body>
</html>
"""

_NOTICE = '<section class="notice {kind}" role="status"><h2>{title}</h2>{body}</section>'
_PARAGRAPH = "<p>{text}</p>"
_NAV_ITEM = '<a href="{url}"{current}>{label}</a>'
_NAV = (
    ("/certificates", "nav_certificates"),
    ("/holder", "nav_holder"),
    ("/institutions", "nav_institutions"),
    ("/statistics", "nav_statistics"),
    ("/complaints", "nav_complaints"),
    ("/audit", "nav_audit"),
)


def _nav(lang: Lang, current: str) -> Safe:
    words = TEXT[lang]
    return join(
        fill(
            _NAV_ITEM,
            url=href(path, lang),
            current=Safe(' aria-current="page"') if path == current else "",
            label=words[key],
        )
        for path, key in _NAV
    )


def page(lang: Lang, title: str, main: Safe, path: str, **switch_params: str | int) -> str:
    """A whole page; ``path`` and ``switch_params`` give the same page in the other language."""
    words = TEXT[lang]
    other: Lang = "en" if lang == "zh" else "zh"
    national = fill(
        words["footer_national"],
        certificates=NATIONAL_CERTIFICATE_QUERY,
        institutions=NATIONAL_INSTITUTION_QUERY,
    )
    return fill(
        _PAGE,
        html_lang=words["html_lang"],
        title=title,
        site_name=words["site_name"],
        stylesheet=STYLESHEET_PATH,
        home=href("/", lang),
        nav=_nav(lang, path),
        switch=href(path, other, **switch_params),
        switch_lang=TEXT[other]["html_lang"],
        other_lang_name=words["other_lang_name"],
        main=main,
        national=national,
        note=words["footer_note"],
    )


def notice(kind: str, title: str, *paragraphs: str | Safe) -> Safe:
    """A boxed message; ``kind`` is a CSS class (error, info). Plain strings become paragraphs."""
    body = join(p if isinstance(p, Safe) else fill(_PARAGRAPH, text=p) for p in paragraphs)
    return fill(_NOTICE, kind=kind, title=title, body=body)


def error_page(lang: Lang, title: str, message: str, path: str) -> str:
    """A page that only says what went wrong (unknown institution, busy database, ...)."""
    return page(lang, title, notice("error", title, message), path)
