"""Talent statistics over HTTP: ``GET /api/v1/statistics`` (JSON), the page ``/statistics`` and its
CSV and XLSX downloads. All public and read-only; all answer from the same cached fine cells
(``registry.statistics``), suppressed the same way."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from registry.deps import RegistryDep
from registry.institutions import load_institutions
from registry.pages import guarded, html_response
from registry.service import Registry
from registry.statistics import DIMENSIONS
from registry.statistics import Query as StatsQuery
from registry.templates import views_statistics
from registry.templates.text import Lang, lang_of

router = APIRouter()
_PARAM_MAX = 200
GroupBy = Annotated[str | None, Query(max_length=_PARAM_MAX)]
From = Annotated[str | None, Query(alias="from", max_length=16)]
To = Annotated[str | None, Query(alias="to", max_length=16)]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _answer(reg: Registry, query: StatsQuery) -> dict[str, Any]:
    return reg.statistics.answer(query, reg.now())


def _names(reg: Registry) -> dict[str, str]:
    with reg.db.read() as conn:
        return {i.code: i.name for i in load_institutions(conn)}


@router.get("/api/v1/statistics")
def statistics(
    reg: RegistryDep,
    group_by: GroupBy = None,
    start: From = None,
    end: To = None,
) -> dict[str, Any]:
    """Certificates issued and in force per group; counts under 5 are ``null``."""
    return _answer(reg, StatsQuery.parse(group_by, start, end))


def _page_query(group_by: list[str] | None, start: str | None, end: str | None) -> StatsQuery:
    """The page's checkboxes send ``group_by`` once per box, links send it comma-separated."""
    joined = ",".join(group_by) if group_by else "year,level"
    return StatsQuery.parse(joined, start, end)


PageGroupBy = Annotated[list[str] | None, Query(max_length=len(DIMENSIONS))]


@router.get("/statistics", response_class=HTMLResponse, include_in_schema=False)
def statistics_page(
    reg: RegistryDep,
    lang: Annotated[str | None, Query()] = None,
    group_by: PageGroupBy = None,
    start: From = None,
    end: To = None,
) -> HTMLResponse:
    """Charts, the table of the chosen grouping and the download links."""
    page_lang = lang_of(lang)

    def build() -> HTMLResponse:
        query = _page_query(group_by, start, end)
        answer = _answer(reg, query)
        by = {
            d: _answer(reg, StatsQuery((d,), query.start, query.end)) for d in ("level", "province", "month")
        }
        svgs = views_statistics.charts(page_lang, by["level"], by["province"], by["month"])
        text = views_statistics.statistics_page(page_lang, query, answer, svgs, _names(reg))
        return html_response(text)

    return guarded(page_lang, "/statistics", build)


def _download(
    reg: Registry, lang: Lang, group_by: list[str] | None, start: str | None, end: str | None, kind: str
) -> Response:
    query = _page_query(group_by, start, end)
    answer = _answer(reg, query)
    names = _names(reg)
    name = f"statistics-{answer['as_of_checkpoint']}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-cache"}
    if kind == "csv":
        return Response(
            views_statistics.as_csv(answer, lang, names),
            media_type="text/csv; charset=utf-8",
            headers=headers,
        )
    return Response(views_statistics.as_xlsx(answer, lang, names), media_type=XLSX_TYPE, headers=headers)


@router.get("/statistics.csv", include_in_schema=False)
def statistics_csv(
    reg: RegistryDep,
    lang: Annotated[str | None, Query()] = None,
    group_by: PageGroupBy = None,
    start: From = None,
    end: To = None,
) -> Response:
    """The table as CSV."""
    return _download(reg, lang_of(lang), group_by, start, end, "csv")


@router.get("/statistics.xlsx", include_in_schema=False)
def statistics_xlsx(
    reg: RegistryDep,
    lang: Annotated[str | None, Query()] = None,
    group_by: PageGroupBy = None,
    start: From = None,
    end: To = None,
) -> Response:
    """The table as an Excel workbook."""
    return _download(reg, lang_of(lang), group_by, start, end, "xlsx")
