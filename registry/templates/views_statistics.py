"""The public statistics page (人才统计): charts by level, by province and by month, a table for the
chosen grouping, and the same figures as CSV and XLSX. Every figure says which audit checkpoint it
is as of; suppressed cells show "<5" (``null`` in the JSON)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any, Final

from openpyxl import Workbook

from registry.statistics import DIMENSIONS, SUPPRESS_BELOW, Query
from registry.templates.charts import bar_chart, column_chart
from registry.templates.layout import page
from registry.templates.markup import Safe, fill, href, join
from registry.templates.provinces import province_name
from registry.templates.text import TEXT, Lang, level_name

WORDS: Final[dict[Lang, dict[str, str]]] = {
    "zh": {
        "title": "人才统计",
        "intro": "仅统计已发布、可在全国联网查询系统上查询的职业技能等级证书。“在有效期内”指未被撤销或暂停。",
        "as_of": "截至审计检查点 {n}（审计日志前 {n} 条记录）",
        "as_of_note": "任何人都可以用仓库中的 scripts/recount_statistics 脚本，依据公开的审计日志和机构目录重新统计并核对本页数字。",
        "suppressed_note": "为防止识别到个人，少于 {k} 的数字不予公开，显示为“<{k}”。",
        "suppressed": "<5",
        "dim_year": "年份",
        "dim_month": "月份",
        "dim_occupation": "职业编码",
        "dim_level": "等级",
        "dim_province": "省份",
        "dim_institution": "评价机构",
        "dim_category": "机构类别",
        "in_force": "有效证书数",
        "issued": "发证数",
        "total": "合计",
        "chart_level": "按等级统计的有效证书数",
        "chart_province": "按省份统计的有效证书数",
        "chart_month": "按月统计的发证数",
        "empty": "暂无数据",
        "form_group": "分组",
        "form_from": "起始月份",
        "form_to": "截止月份",
        "form_submit": "统计",
        "table_title": "统计表",
        "downloads": "下载",
        "csv": "CSV 表格",
        "xlsx": "Excel 表格（XLSX）",
        "json": "JSON 接口",
    },
    "en": {
        "title": "Talent statistics",
        "intro": "Only published certificates, the ones the national query system answers for, are counted. In force means neither revoked nor suspended.",
        "as_of": "As of audit checkpoint {n} (the audit log's first {n} entries)",
        "as_of_note": "Anyone can recount these figures from the public audit log and directory with scripts/recount_statistics in the repository.",
        "suppressed_note": "So that nobody can be singled out, figures under {k} are not published and show as “<{k}”.",
        "suppressed": "<5",
        "dim_year": "Year",
        "dim_month": "Month",
        "dim_occupation": "Occupation code",
        "dim_level": "Level",
        "dim_province": "Province",
        "dim_institution": "Institution",
        "dim_category": "Category",
        "in_force": "In force",
        "issued": "Issued",
        "total": "Total",
        "chart_level": "Certificates in force by level",
        "chart_province": "Certificates in force by province",
        "chart_month": "Certificates issued by month",
        "empty": "no data yet",
        "form_group": "Group by",
        "form_from": "From month",
        "form_to": "To month",
        "form_submit": "Show",
        "table_title": "Table",
        "downloads": "Download",
        "csv": "CSV",
        "xlsx": "Excel (XLSX)",
        "json": "JSON API",
    },
}

_FORM = """<form class="stats" method="get" action="/statistics">
<fieldset><legend>{group_label}</legend>{checks}</fieldset>
<label for="from">{from_label}</label><input id="from" name="from" type="month" value="{start}">
<label for="to">{to_label}</label><input id="to" name="to" type="month" value="{end}">
{lang_field}<button type="submit">{submit}</button>
</form>"""
_CHECK = (
    '<label class="check"><input type="checkbox" name="group_by" value="{value}"{checked}> {label}</label>'
)
_TABLE = '<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
_TH = "<th scope=col>{text}</th>"
_TD = '<td data-label="{label}">{text}</td>'
_FIGURE = '<figure class="chart"><figcaption>{caption}</figcaption>{svg}</figure>'


def label(dimension: str, value: object, lang: Lang, names: Mapping[str, str]) -> str:
    """How a group's key reads on the page and in downloads."""
    if dimension == "level" and isinstance(value, int):
        return level_name(value, lang)
    if dimension == "province":
        return province_name(str(value), lang)
    if dimension == "category":
        return TEXT[lang][f"category_{value}"]
    if dimension == "institution":
        return f"{value} {names.get(str(value), '')}".strip()
    return str(value)


def _shown(value: int | None, lang: Lang) -> str:
    return WORDS[lang]["suppressed"] if value is None else str(value)


def _bars(answer: Mapping[str, Any], dimension: str, field: str, lang: Lang) -> list[tuple[str, int | None]]:
    return [(label(dimension, g["key"][dimension], lang, {}), g[field]) for g in answer["groups"]]


def charts(
    lang: Lang, by_level: Mapping[str, Any], by_province: Mapping[str, Any], by_month: Mapping[str, Any]
) -> Safe:
    """The three charts the page always shows."""
    words = WORDS[lang]
    marks = {"suppressed": words["suppressed"], "empty": words["empty"]}
    titles = (words["chart_level"], words["chart_province"], words["chart_month"])
    return join(
        fill(_FIGURE, caption=title, svg=svg)
        for title, svg in zip(
            titles,
            (
                bar_chart(
                    "chart-level", words["chart_level"], _bars(by_level, "level", "in_force", lang), **marks
                ),
                bar_chart(
                    "chart-province",
                    words["chart_province"],
                    _bars(by_province, "province", "in_force", lang),
                    **marks,
                ),
                column_chart(
                    "chart-month", words["chart_month"], _bars(by_month, "month", "issued", lang), **marks
                ),
            ),
            strict=True,
        )
    )


def table_rows(answer: Mapping[str, Any], lang: Lang, names: Mapping[str, str]) -> list[list[str]]:
    """Header and one row per group, labelled (used by the page and both downloads)."""
    words = WORDS[lang]
    dims = list(answer["group_by"])
    head = [words[f"dim_{d}"] for d in dims] + [words["in_force"], words["issued"]]
    body = [
        [label(d, g["key"][d], lang, names) for d in dims]
        + [_shown(g["in_force"], lang), _shown(g["issued"], lang)]
        for g in answer["groups"]
    ]
    return [head, *body]


def _table(rows: Sequence[Sequence[str]], lang: Lang) -> Safe:
    if len(rows) < 2:
        return fill("<p>{text}</p>", text=WORDS[lang]["empty"])
    head = rows[0]
    return fill(
        _TABLE,
        head=join(fill(_TH, text=h) for h in head),
        body=join(
            fill(
                "<tr>{cells}</tr>",
                cells=join(fill(_TD, label=h, text=c) for h, c in zip(head, row, strict=True)),
            )
            for row in rows[1:]
        ),
    )


def _form(lang: Lang, query: Query) -> Safe:
    words = WORDS[lang]
    checks = join(
        fill(
            _CHECK,
            value=d,
            checked=Safe(" checked") if d in query.group_by else "",
            label=words[f"dim_{d}"],
        )
        for d in DIMENSIONS
    )
    return fill(
        _FORM,
        group_label=words["form_group"],
        checks=checks,
        from_label=words["form_from"],
        start=query.start or "",
        to_label=words["form_to"],
        end=query.end or "",
        lang_field=Safe('<input type="hidden" name="lang" value="en">') if lang == "en" else "",
        submit=words["form_submit"],
    )


def _params(query: Query) -> dict[str, str]:
    params = {"group_by": ",".join(query.group_by)}
    if query.start:
        params["from"] = query.start
    if query.end:
        params["to"] = query.end
    return params


def statistics_page(
    lang: Lang, query: Query, answer: Mapping[str, Any], chart_svgs: Safe, names: Mapping[str, str]
) -> str:
    """The whole page."""
    words = WORDS[lang]
    params = _params(query)
    links = [
        (href("/statistics.csv", lang, **params), words["csv"]),
        (href("/statistics.xlsx", lang, **params), words["xlsx"]),
        (href("/api/v1/statistics", "zh", **params), words["json"]),
    ]
    main = join(
        [
            fill("<h1>{t}</h1>", t=words["title"]),
            fill(
                '<p class="as-of"><strong>{t}</strong></p>',
                t=words["as_of"].format(n=answer["as_of_checkpoint"]),
            ),
            fill("<p>{t}</p>", t=words["intro"]),
            fill("<p><small>{t}</small></p>", t=words["suppressed_note"].format(k=SUPPRESS_BELOW)),
            chart_svgs,
            fill("<h2>{t}</h2>", t=words["table_title"]),
            _form(lang, query),
            _table(table_rows(answer, lang, names), lang),
            fill("<h2>{t}</h2>", t=words["downloads"]),
            fill(
                '<ul class="links">{items}</ul>',
                items=join(fill('<li><a href="{u}">{t}</a></li>', u=u, t=t) for u, t in links),
            ),
            fill("<p><small>{t}</small></p>", t=words["as_of_note"]),
        ]
    )
    return page(lang, words["title"], main, "/statistics", **params)


def as_csv(answer: Mapping[str, Any], lang: Lang, names: Mapping[str, str]) -> bytes:
    """UTF-8 CSV with a BOM (so spreadsheet programs in China open it as UTF-8), checkpoint first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([WORDS[lang]["as_of"].format(n=answer["as_of_checkpoint"])])
    writer.writerows(table_rows(answer, lang, names))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(answer: Mapping[str, Any], lang: Lang, names: Mapping[str, str]) -> bytes:
    """One sheet: the checkpoint line, then the table; suppressed cells as "<5" text."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(WORDS[lang]["title"][:31])
    sheet.append([WORDS[lang]["as_of"].format(n=answer["as_of_checkpoint"])])
    rows = table_rows(answer, lang, names)
    sheet.append(rows[0])
    for row in rows[1:]:
        sheet.append([int(c) if c.isdigit() else c for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
