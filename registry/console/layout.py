"""The console's page frame and its shared words (zh-CN first, English beside). No scripts."""

from __future__ import annotations

from typing import Final

from registry.console.accounts import Account
from registry.templates.markup import Safe, fill, href, join
from registry.templates.text import Lang

STYLESHEETS: Final = ("/static/registry.css", "/static/console.css")

WORDS: Final[dict[Lang, dict[str, str]]] = {
    "zh": {
        "html_lang": "zh-CN",
        "site": "职业技能等级证书 评价管理控制台",
        "other_lang": "English",
        "sign_out": "退出登录",
        "back": "返回",
        "role_admin": "管理员",
        "role_reviewer": "审核员",
        "role_supervisor": "监管员",
        "footer": "全程留痕：您在控制台的每一项操作都以您的用户名记入审计日志。",
    },
    "en": {
        "html_lang": "en",
        "site": "Skill certificates · appraisal console",
        "other_lang": "中文",
        "sign_out": "Sign out",
        "back": "Back",
        "role_admin": "administrator",
        "role_reviewer": "reviewer",
        "role_supervisor": "supervisor",
        "footer": "Every action you take in the console is recorded in the audit log under your user name.",
    },
}

_PAGE = """<!doctype html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {site}</title>
{styles}
</head>
<body class="console">
<header class="top">
<a class="brand" href="{home}">{site}</a>
<nav>{nav}</nav>
{who}
<a class="lang" href="{switch}" lang="{switch_lang}">{other_lang}</a>
</header>
<main>
<h1>{title}</h1>
{main}
</main>
<footer><p>{footer}</p></footer>
</body>
</html>
"""


def word(lang: Lang, key: str) -> str:
    """One shared word."""
    return WORDS[lang][key]


def _styles() -> Safe:
    return join(fill('<link rel="stylesheet" href="{u}">', u=u) for u in STYLESHEETS)


def _nav(lang: Lang, items: list[tuple[str, str]], current: str) -> Safe:
    return join(
        fill(
            '<a href="{u}"{cur}>{label}</a>',
            u=href(path, lang),
            cur=Safe(' aria-current="page"') if current == path else "",
            label=label,
        )
        for path, label in items
    )


def console_page(
    lang: Lang,
    title: str,
    main: Safe,
    path: str,
    items: list[tuple[str, str]],
    account: Account | None,
    sign_out: Safe,
) -> str:
    """A whole console page; without an account (the sign-in page) there is no navigation."""
    other: Lang = "en" if lang == "zh" else "zh"
    who = Safe("")
    if account is not None:
        who = fill(
            '<span class="who">{name} · {role}</span>{sign_out}',
            name=account.username,
            role=WORDS[lang].get(f"role_{account.role}", account.role),
            sign_out=sign_out,
        )
    return fill(
        _PAGE,
        html_lang=WORDS[lang]["html_lang"],
        title=title,
        site=WORDS[lang]["site"],
        styles=_styles(),
        home=href("/console/", lang),
        nav=_nav(lang, items, path),
        who=who,
        switch=href(path, other),
        switch_lang=WORDS[other]["html_lang"],
        other_lang=WORDS[lang]["other_lang"],
        main=main,
        footer=WORDS[lang]["footer"],
    )


def notice(kind: str, text: str) -> Safe:
    """A boxed message (kind: ok, error, info)."""
    return fill('<p class="notice {kind}" role="status">{text}</p>', kind=kind, text=text)


def notice_with_back(lang: Lang, message: str, back: str, details: list[str] | None = None) -> Safe:
    """An error message (with its per-field findings) and a link back to where the person came from."""
    found = join(fill("<li>{d}</li>", d=d) for d in details or [])
    listing = fill('<ul class="problems">{items}</ul>', items=found) if details else Safe("")
    back_link = fill('<p><a href="{u}">{w}</a></p>', u=back, w=word(lang, "back"))
    return join([notice("error", message), listing, back_link])


def table(headers: list[str], rows: list[list[Safe | str]], css: str = "") -> Safe:
    """A table that becomes one card per row on a phone (cells labelled by their column)."""
    head = join(fill("<th>{h}</th>", h=h) for h in headers)
    body = join(
        fill(
            "<tr>{cells}</tr>",
            cells=join(
                fill('<td data-label="{h}">{v}</td>', h=h, v=v) for h, v in zip(headers, row, strict=True)
            ),
        )
        for row in rows
    )
    return fill(
        '<div class="scroll"><table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>',
        css=css,
        head=head,
        body=body,
    )
