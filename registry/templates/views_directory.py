"""The institution directory (机构查询): the list with each institution's status today, and one
institution's record — its scope with validity windows, its append-only status history and keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from credential.directory import Institution, KeyEntry, Scope, StatusChange
from keys.recipes import b64url
from registry.templates.layout import page
from registry.templates.markup import Safe, fill, href, join
from registry.templates.text import TEXT, Lang, level_name
from registry.templates.when import beijing_time

_FILTER = """<form class="filter" method="get" action="/institutions">
<label for="q">{label}</label>
<input id="q" name="q" value="{q}" maxlength="60">
{lang_field}<button type="submit">{submit}</button>
</form>"""
_LANG_FIELD = '<input type="hidden" name="lang" value="en">'
_TABLE = '<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
_TH = "<th scope=col>{text}</th>"
_TD = '<td data-label="{label}">{text}</td>'
_TR = "<tr>{cells}</tr>"
_LINK = '<a href="{url}">{text}</a>'
_STATUS = '<span class="status inst-{status}">{word}</span>'
_DETAIL = """<h1>{name}</h1>
<table class="fields">
<tr><th scope=row>{code_label}</th><td>{code}</td></tr>
<tr><th scope=row>{uscc_label}</th><td>{uscc}</td></tr>
<tr><th scope=row>{category_label}</th><td>{category}</td></tr>
<tr><th scope=row>{status_label}</th><td>{status}</td></tr>
</table>
<h2>{scopes_title}</h2>{scopes}
<h2>{history_title}</h2>{history}
<h2>{keys_title}</h2>{keys}
<h2>{credit_title}</h2>{credit}
<p><a href="{back}">{back_label}</a></p>"""


def _table(lang: Lang, head: Sequence[str], rows: Sequence[Sequence[object]]) -> Safe:
    words = TEXT[lang]
    if not rows:
        return fill("<p>{text}</p>", text=words["none_yet"])
    return fill(
        _TABLE,
        head=join(fill(_TH, text=words[key]) for key in head),
        body=join(
            fill(
                _TR,
                cells=join(
                    fill(_TD, label=words[key], text=cell) for key, cell in zip(head, row, strict=True)
                ),
            )
            for row in rows
        ),
    )


def _status(lang: Lang, status: str | None) -> Safe:
    key = status or "none"
    return fill(_STATUS, status=key, word=TEXT[lang][f"inst_{key}"])


def institutions_page(lang: Lang, institutions: Sequence[Institution], today: date, q: str) -> str:
    """The directory, optionally filtered by ``q`` (already applied by the caller)."""
    words = TEXT[lang]
    rows = [
        (
            fill(_LINK, url=href(f"/institutions/{i.code}", lang), text=i.code),
            i.name,
            words[f"category_{i.category}"],
            _status(lang, i.status_on(today)),
            len({s.occupation_code for s in i.scopes}),
        )
        for i in institutions
    ]
    head = ("col_code", "col_name", "col_category", "col_status", "col_scopes")
    listing = _table(lang, head, rows) if rows else fill("<p>{text}</p>", text=words["institutions_none"])
    search = fill(
        _FILTER,
        label=words["institutions_filter"],
        q=q,
        lang_field=Safe(_LANG_FIELD) if lang == "en" else "",
        submit=words["submit_filter"],
    )
    main = join([fill("<h1>{title}</h1>", title=words["institutions_title"]), search, listing])
    return page(lang, words["institutions_title"], main, "/institutions")


def _scope_row(lang: Lang, scope: Scope) -> tuple[object, ...]:
    words = TEXT[lang]
    until = scope.valid_until.isoformat() if scope.valid_until else words["open_ended"]
    return (
        scope.occupation_code,
        scope.occupation_name,
        words["list_sep"].join(level_name(level, lang) for level in scope.levels),
        words["list_sep"].join(scope.work_types),
        f"{scope.valid_from.isoformat()} – {until}",
    )


def _history_row(lang: Lang, change: StatusChange) -> tuple[object, ...]:
    # The registry records a new institution's first status with the reason "filed".
    reason = TEXT[lang]["reason_filed"] if change.reason == "filed" else change.reason
    return (_status(lang, change.status), change.effective.isoformat(), beijing_time(change.recorded), reason)


def _key_row(lang: Lang, key: KeyEntry) -> tuple[object, ...]:
    words = TEXT[lang]
    until = key.valid_until.isoformat() if key.valid_until else words["open_ended"]
    if key.revoked is not None:
        state = fill(words["key_revoked"], day=key.revoked.isoformat())
    elif key.retired is not None:
        state = fill(words["key_retired"], day=key.retired.isoformat())
    else:
        state = fill("{text}", text=words["key_in_use"])
    return (b64url(key.kid), f"{key.valid_from.isoformat()} – {until}", state)


def _credit_row(lang: Lang, event: Mapping[str, Any]) -> tuple[object, ...]:
    words = TEXT[lang]
    links = words["list_sep"].join(f"#{i}" for i in event["links"])
    return (
        f"#{event['id']}",
        words[f"credit_{event['kind']}"],
        event["day"],
        event["reason"],
        event["reference"],
        links,
    )


def institution_page(
    lang: Lang, institution: Institution, today: date, credit_events: Sequence[Mapping[str, Any]] = ()
) -> str:
    """One institution's public record, with its credit file (sanctions and upheld findings)."""
    words = TEXT[lang]
    history = sorted(institution.statuses, key=lambda change: change.recorded)
    main = fill(
        _DETAIL,
        name=institution.name,
        code_label=words["col_code"],
        code=institution.code,
        uscc_label=words["label_uscc"],
        uscc=institution.uscc,
        category_label=words["col_category"],
        category=words[f"category_{institution.category}"],
        status_label=words["col_status"],
        status=_status(lang, institution.status_on(today)),
        scopes_title=words["scopes_title"],
        scopes=_table(
            lang,
            ("col_occupation_code", "col_occupation_name", "col_levels", "col_work_types", "col_valid"),
            [_scope_row(lang, s) for s in institution.scopes],
        ),
        history_title=words["history_title"],
        history=_table(
            lang,
            ("col_change", "col_effective", "col_recorded", "col_reason"),
            [_history_row(lang, c) for c in history],
        ),
        keys_title=words["keys_title"],
        keys=_table(
            lang, ("col_kid", "col_valid", "col_key_state"), [_key_row(lang, k) for k in institution.keys]
        ),
        credit_title=words["credit_title"],
        credit=_table(
            lang,
            ("col_credit_id", "col_credit_kind", "col_effective", "col_reason", "col_reference", "col_links"),
            [_credit_row(lang, e) for e in credit_events],
        ),
        back=href("/institutions", lang),
        back_label=words["back_to_list"],
    )
    return page(lang, institution.name, main, f"/institutions/{institution.code}")
