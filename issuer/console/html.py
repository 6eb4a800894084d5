"""The institution console's markup: escaped text, tables, forms and the page frame.

Every value that reaches a page goes through ``esc`` (or ``Html`` pieces built from escaped parts), so a
holder's name or a registry message can never become markup. Pages are plain HTML with one stylesheet:
no script, so the console works the same with JavaScript switched off and the CSP can forbid it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Final

CSS: Final = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC",sans-serif;margin:0;color:#1d2327;background:#f6f7f9}
header{background:#0b4f8a;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:baseline}
header strong{font-size:1.1rem}header a{color:#fff}header small{opacity:.85}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.92rem}
th,td{border:1px solid #d0d5da;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f4}.scroll{overflow-x:auto}
form{margin:.6rem 0}fieldset{border:1px solid #d0d5da;background:#fff;padding:.8rem}
label{display:block;margin:.4rem 0 .2rem}input,select,button{font:inherit;padding:.35rem .5rem}
input[type=text],input[type=password],select{width:100%;max-width:28rem;box-sizing:border-box}
button{background:#0b4f8a;color:#fff;border:0;border-radius:3px;cursor:pointer}
button.danger{background:#a4262c}.note{background:#fff;border-left:4px solid #0b4f8a;padding:.5rem .8rem}
.bad{border-left-color:#a4262c}.good{border-left-color:#2e7d32}
.s-valid,.s-published,.s-approved{color:#2e7d32}.s-revoked,.s-rejected,.s-invalid{color:#a4262c}
.s-suspended,.s-pending{color:#8a5a00}progress{width:100%;max-width:28rem;height:1.2rem}
pre{white-space:pre-wrap;word-break:break-all;font-size:.85rem;background:#fff;padding:.5rem}
""".strip()


class Html(str):
    """Markup that is already safe (built by this module from escaped parts); ``+`` escapes plain text."""

    def __add__(self, other: str) -> Html:
        return Html(str.__add__(self, esc(other)))


def esc(value: object) -> Html:
    """``value`` as text, escaped (``Html`` passes through unchanged)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[Html | str]) -> Html:
    """Pieces one after another, each escaped unless it is ``Html``."""
    return Html("".join(esc(p) for p in parts))


def tag(name: str, content: Html | str = "", **attrs: str) -> Html:
    """``<name attrs>content</name>`` (attribute names: ``class_`` for ``class``)."""
    rendered = "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    return Html(f"<{name}{rendered}>{esc(content)}</{name}>")


def bi(zh: str, en: str) -> Html:
    """Chinese first, English beside."""
    return Html(f"{esc(zh)} <small>{esc(en)}</small>")


def table(headers: Sequence[Html | str], rows: Iterable[Sequence[Html | str]]) -> Html:
    """A table in a horizontally scrolling box (phones)."""
    head = join(tag("th", h) for h in headers)
    body = join(tag("tr", join(tag("td", c) for c in row)) for row in rows)
    return tag(
        "div", tag("table", join([tag("thead", tag("tr", head)), tag("tbody", body)])), class_="scroll"
    )


def hidden(name: str, value: str) -> Html:
    """A hidden form field."""
    return Html(f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">')


def form(
    action: str, csrf: str, body: Html, button: Html | str, *, kind: str = "", multipart: bool = False
) -> Html:
    """A POST form carrying the CSRF token."""
    enctype = ' enctype="multipart/form-data"' if multipart else ""
    return Html(
        f'<form method="post" action="{esc(action)}"{enctype}>{hidden("csrf_token", csrf)}{body}'
        f'<button type="submit" class="{esc(kind)}">{esc(button)}</button></form>'
    )


def state_word(state: str, words: dict[str, tuple[str, str]]) -> Html:
    """A coloured state word (``words`` maps state → (zh, en))."""
    zh, en = words.get(state, (state, state))
    return tag("span", bi(zh, en), class_=f"s-{state}")


def page(title: Html, institution: str, main: Html, *, refresh: int | None = None) -> str:
    """The whole page: header with the institution and the console's two places, then ``main``."""
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    nav = join(
        [
            Html('<a href="/">'),
            bi("名册与批次", "Rosters and batches"),
            Html('</a> <a href="/certificates">'),
            bi("已发证书", "Certificates issued"),
            Html("</a>"),
        ]
    )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{meta}<title>{Html(title.split(' <small>')[0])} · 机构发证台</title>"
        '<link rel="stylesheet" href="/console.css"></head><body>'
        f"<header><strong>{bi('机构发证台', 'Institution console')}</strong>"
        f"<span>{esc(institution)}</span><span>{nav}</span></header>"
        f"<main><h1>{title}</h1>{main}</main></body></html>"
    )
