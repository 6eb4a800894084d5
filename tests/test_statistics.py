"""Talent statistics on SQLite and PostgreSQL: the API's figures equal a count made here from the
certificates this test issued; cells under 5 are null; approved-but-unpublished certificates do not
count; the recount script agrees from the public log and directory alone; CSV and XLSX carry the same
table; bad parameters get 422 ``statistics_invalid``; and the page's SVG charts are valid, labelled in
Chinese and render in Chromium (screenshots taken)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.postgres import fresh_database
from openpyxl import load_workbook
from playwright.sync_api import Page
from test_registry_support import Api, roster_row, running_registry, sign_row

from keys import Signer

REPO = Path(__file__).resolve().parents[1]
BEIJING, GUANGDONG = "Y000011000001", "S000044000002"
KEYS = {BEIJING: Signer.generate(), GUANGDONG: Signer.generate()}
SVG_NS = "{http://www.w3.org/2000/svg}"


def _issue(api: Api, code: str, batch_id: str, levels: list[int], *, publish: bool = True) -> list[str]:
    """Approve one batch of rows at these levels (distinct holders) and publish them; their numbers."""
    base = sum(map(ord, batch_id)) * 100
    rows = [roster_row(base + i, level=level) for i, level in enumerate(levels)]
    report = api.approved_batch(code, batch_id, rows)["rows"]
    if publish:
        credentials = [
            {"row": i + 1, "qr": sign_row(r, str(row["id_number"]), KEYS[code])}
            for i, (r, row) in enumerate(zip(report, rows, strict=True))
        ]
        api.ok("POST", f"/api/v1/batches/{batch_id}/publish", code, json={"credentials": credentials})
    return [r["certificate"]["certificate_number"] for r in report]


def _status(api: Api, number: str, action: str) -> None:
    body = {"action": action, "reason": "统计测试"}
    api.ok("POST", f"/api/v1/certificates/{number}/status", number[:13], json=body)


def _seed(api: Api) -> list[dict[str, Any]]:
    """Certificates in two provinces, categories and months; some revoked, suspended or unpublished.
    Returns what this test knows about each published certificate (its own independent record)."""
    for code in KEYS:
        api.add_institution(code, KEYS[code])
    known: list[dict[str, Any]] = []
    june = _issue(api, BEIJING, "B-JUNE", [3] * 7 + [4] * 2)
    _issue(api, BEIJING, "B-UNPUBLISHED", [3] * 3, publish=False)
    api.clock.advance(days=31)  # July in Beijing
    july = _issue(api, GUANGDONG, "G-JULY", [5] * 6)
    july += _issue(api, BEIJING, "B-JULY", [3] * 5)
    for number in june + july:
        known.append(
            {"number": number, "status": "valid", "month": "2026-06" if number in june else "2026-07"}
        )
    _status(api, june[0], "revoke")
    _status(api, june[1], "suspend")
    _status(api, july[0], "suspend")
    _status(api, july[0], "reinstate")
    for record in known:
        record["status"] = {june[0]: "revoked", june[1]: "suspended"}.get(record["number"], "valid")
    return known


def _expected(known: list[dict[str, Any]], dims: tuple[str, ...]) -> dict[tuple[Any, ...], tuple[int, int]]:
    """Count here, from the numbers this test was given: (in force, issued) per group, unsuppressed."""

    def value(record: dict[str, Any], dim: str) -> Any:
        number = record["number"]
        return {
            "year": int(record["month"][:4]),
            "month": record["month"],
            "level": int(number[15]),
            "province": number[5:7],
            "institution": number[:13],
            "category": number[0],
            "occupation": "6-31-01-03",
        }[dim]

    issued: Counter[tuple[Any, ...]] = Counter()
    in_force: Counter[tuple[Any, ...]] = Counter()
    for record in known:
        key = tuple(value(record, d) for d in dims)
        issued[key] += 1
        in_force[key] += record["status"] == "valid"
    return {key: (in_force[key], issued[key]) for key in issued}


def _public(count: int) -> int | None:
    return None if count < 5 else count


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Api, list[dict[str, Any]]]]:
    """One seeded registry per database for the read-only tests of this module."""
    tmp = tmp_path_factory.mktemp("statistics")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp / 'db.sqlite3'}"
        else:
            url = stack.enter_context(fresh_database(request.getfixturevalue("postgres_server_url")))
        api = stack.enter_context(running_registry(url, tmp, statistics_refresh=0))
        yield api, _seed(api)


@pytest.fixture
def fresh_seeded(database_url: str, tmp_path: Path) -> Iterator[tuple[Api, list[dict[str, Any]]]]:
    """A seeded registry of its own, for a test that changes it."""
    with running_registry(database_url, tmp_path, statistics_refresh=0) as api:
        yield api, _seed(api)


GROUPINGS = [
    ("level",),
    ("year", "level"),
    ("month", "institution"),
    ("province",),
    ("category", "occupation"),
    (),
]


def test_figures_equal_an_independent_count_and_small_cells_are_null(
    seeded: tuple[Api, list[dict[str, Any]]],
) -> None:
    api, known = seeded
    for dims in GROUPINGS:
        answer = api.ok("GET", "/api/v1/statistics", params={"group_by": ",".join(dims)})
        assert answer["as_of_checkpoint"] > 0
        got = {tuple(g["key"][d] for d in dims): (g["in_force"], g["issued"]) for g in answer["groups"]}
        expected = {k: (_public(f), _public(i)) for k, (f, i) in _expected(known, dims).items()}
        assert got == expected, dims
    by_level = api.ok("GET", "/api/v1/statistics", params={"group_by": "level"})["groups"]
    # level 3: 7 + 5 issued, 2 not in force -> 10; level 4: 2 issued -> suppressed both ways.
    assert {g["key"]["level"]: (g["in_force"], g["issued"]) for g in by_level} == {
        3: (10, 12),
        4: (None, None),
        5: (6, 6),
    }
    total = api.ok("GET", "/api/v1/statistics")["groups"]
    assert total == [{"key": {}, "in_force": 18, "issued": 20}]  # the 3 unpublished never count


def test_month_range_filters_by_issue_month(seeded: tuple[Api, list[dict[str, Any]]]) -> None:
    api, known = seeded
    july = api.ok(
        "GET", "/api/v1/statistics", params={"group_by": "province", "from": "2026-07", "to": "2026"}
    )
    assert {g["key"]["province"]: g["issued"] for g in july["groups"]} == {"11": 5, "44": 6}
    june_only = api.ok("GET", "/api/v1/statistics", params={"group_by": "month", "to": "2026-06"})
    assert [g["key"]["month"] for g in june_only["groups"]] == ["2026-06"]
    assert len([k for k in known if k["month"] == "2026-06"]) == june_only["groups"][0]["issued"]


def test_as_of_names_a_signed_checkpoint_and_figures_follow_the_log(
    fresh_seeded: tuple[Api, list[dict[str, Any]]],
) -> None:
    api, known = fresh_seeded
    first = api.ok("GET", "/api/v1/statistics", params={"group_by": "category"})
    sizes = [c["size"] for c in api.ok("GET", "/api/v1/audit/checkpoints")["checkpoints"]]
    assert first["as_of_checkpoint"] in sizes
    revoked = next(k["number"] for k in known if k["number"].startswith("S") and k["status"] == "valid")
    _status(api, revoked, "revoke")
    second = api.ok("GET", "/api/v1/statistics", params={"group_by": "category"})
    assert second["as_of_checkpoint"] == first["as_of_checkpoint"] + 1
    s_before = next(g for g in first["groups"] if g["key"]["category"] == "S")
    s_after = next(g for g in second["groups"] if g["key"]["category"] == "S")
    assert (s_before["in_force"], s_after["in_force"]) == (6, 5)


def test_recount_script_agrees_from_public_data(seeded: tuple[Api, list[dict[str, Any]]]) -> None:
    api, _ = seeded
    for dims in ("year,level", "month,institution,occupation"):
        done = subprocess.run(
            [str(REPO / "scripts" / "recount_statistics"), "--registry", api.url, "--group-by", dims],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "一致 / agrees" in done.stderr
        recounted = json.loads(done.stdout)
        published = api.ok("GET", "/api/v1/statistics", params={"group_by": dims})
        assert recounted["groups"] == published["groups"]
        assert recounted["as_of_checkpoint"] == published["as_of_checkpoint"]


def test_recount_notices_figures_that_differ_from_the_log() -> None:
    """The replay itself: a certificate revoked in the log is out of force in the recount, and a
    publication naming an institution missing from the directory is refused."""
    from registry.recount import RecountError, cells_from_log
    from registry.statistics import Query, roll_up

    number = BEIJING + "263000001"
    events = [
        {"action": "batch.review", "time": 1781496000, "data": {"approved": [[1, number, "6-31-01-03"]]}},
        {"action": "certificate.publish", "time": 1781496001, "data": {"published": [[1, number, "00"]]}},
        {
            "action": "certificate.revoke",
            "time": 1781496002,
            "subject": number,
            "data": {"status": "revoked"},
        },
    ]
    directory = [{"code": BEIJING, "category": "Y"}]
    groups = roll_up(cells_from_log(events, directory), Query(("level",)))
    assert groups == [{"key": {"level": 3}, "in_force": 0, "issued": 1}]
    with pytest.raises(RecountError):
        cells_from_log(events, [])


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"group_by": "level,shoe_size"}, "/group_by"),
        ({"group_by": "level,level"}, "/group_by"),
        ({"from": "2026-13"}, "/from"),
        ({"to": "June"}, "/to"),
        ({"from": "2026-07", "to": "2026-06"}, "/from"),
    ],
)
def test_bad_parameters_are_422_with_a_code(
    seeded: tuple[Api, list[dict[str, Any]]], params: dict[str, str], pointer: str
) -> None:
    api, _ = seeded
    answer = api.call("GET", "/api/v1/statistics", params=params)
    assert answer.status_code == 422
    assert answer.json()["code"] == "statistics_invalid"
    assert answer.json()["details"][0]["pointer"] == pointer
    page = httpx.get(api.url + "/statistics", params=params, timeout=30)
    assert page.status_code == 422 and "统计查询参数不正确" in page.text


def test_downloads_carry_the_same_table(seeded: tuple[Api, list[dict[str, Any]]]) -> None:
    api, _ = seeded
    params = {"group_by": "year,level"}
    answer = api.ok("GET", "/api/v1/statistics", params=params)
    expected = [
        [str(g["key"]["year"]), str(g["key"]["level"]), g["in_force"], g["issued"]] for g in answer["groups"]
    ]
    csv_answer = httpx.get(api.url + "/statistics.csv", params=params, timeout=30)
    assert csv_answer.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(csv_answer.content.decode("utf-8-sig"))))
    assert lines[0] == [
        f"截至审计检查点 {answer['as_of_checkpoint']}（审计日志前 {answer['as_of_checkpoint']} 条记录）"
    ]
    assert lines[1] == ["年份", "等级", "有效证书数", "发证数"]
    shown = [["<5" if v is None else str(v) for v in row[2:]] for row in expected]
    assert [row[2:] for row in lines[2:]] == shown
    assert [row[1] for row in lines[2:]] == ["三级/高级工", "四级/中级工", "五级/初级工"]
    xlsx = httpx.get(api.url + "/statistics.xlsx", params=params, timeout=30)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[1]) == lines[1]
    assert [[str(c) for c in row[2:]] for row in values[2:]] == shown


def _charts(html: str) -> list[ET.Element]:
    found = []
    start = 0
    while (i := html.find("<svg", start)) >= 0:
        end = html.index("</svg>", i) + len("</svg>")
        found.append(ET.fromstring(html[i:end]))  # noqa: S314 (our own page)
        start = end
    return found


def test_page_charts_are_valid_svg_labelled_in_chinese(seeded: tuple[Api, list[dict[str, Any]]]) -> None:
    api, _ = seeded
    html = httpx.get(api.url + "/statistics", timeout=30).text
    assert "截至审计检查点" in html
    charts = _charts(html)
    titles = [c.find(f"{SVG_NS}title").text for c in charts]  # type: ignore[union-attr]
    assert titles == ["按等级统计的有效证书数", "按省份统计的有效证书数", "按月统计的发证数"]
    level_text = " ".join(t.text or "" for t in charts[0].iter(f"{SVG_NS}text"))
    assert "三级/高级工" in level_text and "10" in level_text and "<5" in level_text
    province_text = " ".join(t.text or "" for t in charts[1].iter(f"{SVG_NS}text"))
    assert "北京市" in province_text and "广东省" in province_text
    assert all(c.get("role") == "img" for c in charts)


def test_page_renders_in_chromium(
    seeded: tuple[Api, list[dict[str, Any]]], page: Page, tmp_path: Path
) -> None:
    api, _ = seeded
    for width, name in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(api.url + "/statistics?group_by=year&group_by=province")
        charts = page.locator("svg.chart")
        assert charts.count() == 3
        box = charts.first.bounding_box()
        assert box is not None and box["width"] > 200 and box["width"] <= width
        page.screenshot(path=str(tmp_path / f"statistics-{name}.png"), full_page=True)
    assert page.locator("svg.chart rect").count() >= 5
    page.get_by_role("button", name="统计").click()
    assert "截至审计检查点" in page.content()


def test_a_running_registry_answers_from_its_figures_between_refreshes(tmp_path: Path) -> None:
    """With the default refresh (60 s) a change in the log does not stall or alter answers within
    the minute: they keep naming the checkpoint they describe."""
    with running_registry(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path) as api:
        api.add_institution(BEIJING, KEYS[BEIJING])
        numbers = _issue(api, BEIJING, "B-CACHE", [3] * 6)
        first = api.ok("GET", "/api/v1/statistics", params={"group_by": "level"})
        assert first["groups"] == [{"key": {"level": 3}, "in_force": 6, "issued": 6}]
        _status(api, numbers[0], "revoke")
        assert api.ok("GET", "/api/v1/statistics", params={"group_by": "level"}) == first
