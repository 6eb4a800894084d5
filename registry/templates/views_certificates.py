"""The landing page and the certificate query (证书查询): the form, the answer, and the notices
(form errors, not found, rate limited). A wrong name and a wrong number render the very same
not-found page, which does not echo what was typed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from registry.templates.layout import notice, page
from registry.templates.markup import Safe, fill, href, join
from registry.templates.text import TEXT, Lang, id_type_name, level_name


@dataclass(frozen=True)
class QueryForm:
    """What the person typed (shown back only when there is something to correct)."""

    number: str = ""
    name: str = ""
    errors: tuple[str, ...] = ()  # keys of TEXT


_FORM = """<form class="query" method="post" action="{action}">
<label for="number">{number_label}</label>
<input id="number" name="number" value="{number}" maxlength="22" autocomplete="off" spellcheck="false" required>
<small>{number_hint}</small>
<label for="name">{name_label}</label>
<input id="name" name="name" value="{name}" maxlength="64" autocomplete="off" required>
<button type="submit">{submit}</button>
</form>"""

_LIST_ITEM = "<li>{text}</li>"
_ROW = "<tr><th scope=row>{label}</th><td>{value}</td></tr>"
_RESULT = """<section class="result" aria-labelledby="result-{number}">
<h2 id="result-{number}">{title}: {number}</h2>
<p class="verdict"><span class="status status-{status}">{status_word}</span> {note}</p>
<table class="fields">{rows}</table>
</section>"""
_INSTITUTION_LINK = '<a href="{url}">{name}</a> ({code})'
_LANDING = """<h1>{title}</h1>
<p>{intro}</p>
{form}
<p>{more} <a href="{institutions}">{institutions_label}</a> · <a href="{audit}">{audit_label}</a></p>"""


def _form(lang: Lang, form: QueryForm) -> Safe:
    words = TEXT[lang]
    return fill(
        _FORM,
        action=href("/certificates", lang),
        number_label=words["field_number"],
        number=form.number,
        number_hint=words["field_number_hint"],
        name_label=words["field_name"],
        name=form.name,
        submit=words["submit_query"],
    )


def landing_page(lang: Lang) -> str:
    """The home page: what this is, and the query form."""
    words = TEXT[lang]
    main = fill(
        _LANDING,
        title=words["landing_title"],
        intro=words["landing_intro"],
        form=_form(lang, QueryForm()),
        more=words["landing_more"],
        institutions=href("/institutions", lang),
        institutions_label=words["nav_institutions"],
        audit=href("/audit", lang),
        audit_label=words["nav_audit"],
    )
    return page(lang, words["landing_title"], main, "/")


def certificates_page(lang: Lang, form: QueryForm, outcome: Safe | None = None) -> str:
    """The query page: an outcome (answer or notice) above the form."""
    words = TEXT[lang]
    main = join(
        [fill("<h1>{title}</h1>", title=words["certificates_title"]), outcome or Safe(""), _form(lang, form)]
    )
    return page(lang, words["certificates_title"], main, "/certificates")


def form_errors(lang: Lang, errors: Sequence[str]) -> Safe:
    """What to correct in the form."""
    words = TEXT[lang]
    items = join(fill(_LIST_ITEM, text=words[key]) for key in errors)
    return notice("error", words["form_error_title"], fill("<ul>{items}</ul>", items=items))


def not_found(lang: Lang) -> Safe:
    """The one answer for a wrong number, a wrong name and an unpublished certificate."""
    words = TEXT[lang]
    return notice("info", words["not_found_title"], words["not_found_text"])


def results(lang: Lang, answers: Sequence[dict[str, Any]]) -> Safe:
    """Each certificate found (as ``query.by_number`` answers it), ID number masked."""
    return join(_result(lang, answer) for answer in answers)


def _result(lang: Lang, answer: dict[str, Any]) -> Safe:
    words = TEXT[lang]
    certificate = answer["certificate"]
    institution = answer["institution"]
    status = str(answer["status"])
    rows = [
        ("label_holder", certificate["holder_name"]),
        ("label_id_type", id_type_name(str(certificate["id_type"]), lang)),
        ("label_id_number", certificate["id_number_masked"]),
        ("label_occupation", f"{certificate['occupation_name']} ({certificate['occupation_code']})"),
        ("label_work_type", certificate["work_type"]),
        ("label_level", level_name(int(certificate["level"]), lang)),
        ("label_issue_date", certificate["issue_date"]),
        (
            "label_institution",
            fill(
                _INSTITUTION_LINK,
                url=href(f"/institutions/{institution['code']}", lang),
                name=institution["name"],
                code=institution["code"],
            ),
        ),
    ]
    if status in ("revoked", "suspended"):
        # Since when and in which category; the institution's own words stay in the registry.
        if answer.get("status_date"):
            rows.append((f"label_{status}_on", answer["status_date"]))
        category = answer.get(f"reason_category_{'zh' if lang == 'zh' else 'en'}")
        if category:
            rows.append(("label_reason_category", category))
    return fill(
        _RESULT,
        title=words["result_title"],
        number=certificate["certificate_number"],
        status=status,
        status_word=words[f"status_{status}"],
        note=words[f"status_{status}_note"],
        rows=join(fill(_ROW, label=words[key], value=value) for key, value in rows),
    )
