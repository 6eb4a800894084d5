"""The registry's public pages over real HTTP: certificate query (found, revoked, suspended, not
found without enumeration, form errors, rate limit), the institution directory with scope and
status history, the audit checkpoint, the English switch, HTML escaping, the security headers,
and the query form filled in headless Chromium."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.records import institution_record
from harness.servers import serve_app
from playwright.sync_api import Page, expect
from test_registry_support import (
    PASSPHRASE,
    Api,
    SettableClock,
    roster_row,
    sign_row,
)

from keys import Signer
from registry import merkle, pages
from registry.app import create_app
from registry.setup import init_registry
from registry.templates.text import EN, ZH

KEY = Signer.generate()
CODE = "Y000011000001"
HOSTILE_CODE = "Y000011000002"
HOSTILE_NAME = "<script>alert(1)</script>有限公司"
HOSTILE_REASON = '<img src=x onerror="alert(2)">违规'
NOT_FOUND = "未查询到符合条件的证书"


@contextlib.contextmanager
def _registry_with_pages(database_url: str, tmp_path: Path, **overrides: Any) -> Iterator[Api]:
    """A registry app with the pages router mounted, served on loopback."""
    clock = SettableClock()
    made = init_registry(tmp_path / "registry", database_url, PASSPHRASE, clock=clock)
    settings = replace(made.settings, **overrides)
    app = create_app(settings)
    if not any(getattr(route, "path", None) == "/audit" for route in app.routes):
        app.include_router(pages.router)  # until create_app mounts the pages itself
    try:
        with serve_app(app) as url:
            api = Api(url, clock, tmp_path / "registry", {"admin": made.admin_token}, settings)
            api.tokens["reviewer"] = api.new_token("reviewer")
            yield api
    finally:
        app.state.registry.db.dispose()


def _publish(api: Api) -> list[str]:
    """Two published certificates of CODE (张三丰 level 3, 李四 level 4); their numbers."""
    api.add_institution(CODE, KEY)
    rows = [roster_row(1), roster_row(2, holder_name="李四", level=4)]
    report = api.approved_batch(CODE, "B-1", rows)["rows"]
    credentials = [
        {"row": i + 1, "qr": sign_row(r, str(row["id_number"]), KEY)}
        for i, (r, row) in enumerate(zip(report, rows, strict=True))
    ]
    api.ok("POST", "/api/v1/batches/B-1/publish", CODE, json={"credentials": credentials})
    return [r["certificate"]["certificate_number"] for r in report]


def _set_certificate(api: Api, number: str, action: str) -> None:
    body = {"action": action, "reason": "test"}
    if action != "reinstate":
        body["category"] = "disciplinary"
    api.ok("POST", f"/api/v1/certificates/{number}/status", "admin", json=body)


def _add_hostile_institution(api: Api) -> None:
    """An institution whose name and status reason are markup; suspended, then active again."""
    api.ok("POST", "/api/v1/institutions", "admin", json=institution_record(HOSTILE_CODE, HOSTILE_NAME))
    for status, reason in (("suspended", HOSTILE_REASON), ("active", "整改完成")):
        body = {"status": status, "reason": reason}
        api.ok("POST", f"/api/v1/institutions/{HOSTILE_CODE}/status", "admin", json=body)


def _query(api: Api, number: str, name: str, lang: str | None = None) -> httpx.Response:
    params = {"lang": lang} if lang else {}
    return httpx.post(
        f"{api.url}/certificates", params=params, data={"number": number, "name": name}, timeout=30
    )


def _get(api: Api, path: str, **params: str) -> httpx.Response:
    return httpx.get(api.url + path, params=params, timeout=30)


def _status_badge(body: str) -> str:
    found = re.search(r'<span class="status status-(\w+)">([^<]*)</span>', body)
    assert found is not None, body
    return f"{found[1]}:{found[2]}"


@dataclass
class Seeded:
    api: Api
    numbers: list[str]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """SQLite registry: 张三丰's certificate valid, 李四's suspended, and a hostile institution."""
    tmp = tmp_path_factory.mktemp("pages")
    with _registry_with_pages(f"sqlite:///{tmp / 'db.sqlite3'}", tmp, query_burst=1000) as api:
        numbers = _publish(api)
        _set_certificate(api, numbers[1], "suspend")
        _add_hostile_institution(api)
        yield Seeded(api, numbers)


def test_query_found_then_revoked_and_not_found_is_one_answer(database_url: str, tmp_path: Path) -> None:
    with _registry_with_pages(database_url, tmp_path) as api:
        number = _publish(api)[0]
        found = _query(api, number, "张三丰")
        assert found.status_code == 200
        assert _status_badge(found.text) == "valid:有效"
        assert "三级/高级工" in found.text and "中国国家铁路集团有限公司" in found.text
        assert "电工 (6-31-01-03)" in found.text
        assert "<th scope=row>工种/职业方向</th><td>--</td>" in found.text  # as the printed certificate
        id_number = str(roster_row(1)["id_number"])
        assert id_number not in found.text and "*" * 14 + id_number[-4:] in found.text
        by_get = _get(api, "/certificates", number=number, name="张三丰")
        assert by_get.status_code == 200 and _status_badge(by_get.text) == "valid:有效"

        _set_certificate(api, number, "revoke")
        revoked = _query(api, number, "张三丰")
        assert _status_badge(revoked.text) == "revoked:已撤销"
        assert "该证书已被撤销" in revoked.text

        wrong_name = _query(api, number, "王五")
        wrong_number = _query(api, number[:-1] + "9", "张三丰")
        assert wrong_name.status_code == wrong_number.status_code == 404
        assert wrong_name.text == wrong_number.text
        assert NOT_FOUND in wrong_name.text and "王五" not in wrong_name.text


def test_institution_detail_on_both_backends(database_url: str, tmp_path: Path) -> None:
    with _registry_with_pages(database_url, tmp_path) as api:
        _add_hostile_institution(api)
        detail = _get(api, f"/institutions/{HOSTILE_CODE}")
        assert detail.status_code == 200
        history = detail.text.split("状态变更记录")[1]
        assert [m[1] for m in re.finditer(r'class="status inst-(\w+)"', history)] == [
            "active",
            "suspended",
            "active",
        ]
        assert "整改完成" in history and "6-31-01-03" in detail.text


def test_query_shows_suspended_with_level_and_institution_link(seeded: Seeded) -> None:
    answer = _query(seeded.api, seeded.numbers[1], "李四")
    assert _status_badge(answer.text) == "suspended:已暂停"
    assert "四级/中级工" in answer.text
    assert f'href="/institutions/{CODE}"' in answer.text


def test_query_accepts_full_width_and_spaced_numbers(seeded: Seeded) -> None:
    typed = " ".join(seeded.numbers[0]).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    answer = _query(seeded.api, typed.lower(), " 张三丰 ")
    assert _status_badge(answer.text) == "valid:有效"


@pytest.mark.parametrize(
    ("number", "name", "messages"),
    [
        ("", "", ["请输入证书编号", "请输入持证人姓名"]),
        ("Y123", "张三丰", ["证书编号应为 22 位"]),
        ("Y" + "0" * 100_000, "张三丰", ["证书编号应为 22 位"]),
        ("Y000011000001263000001", "张" * 65, ["姓名过长"]),
        ("Y000011000001263000001", "   ", ["请输入持证人姓名"]),
    ],
    ids=["empty", "short_number", "huge_number", "long_name", "blank_name"],
)
def test_bad_input_gets_a_form_error(seeded: Seeded, number: str, name: str, messages: list[str]) -> None:
    answer = _query(seeded.api, number, name)
    assert answer.status_code == 422
    assert "请检查输入" in answer.text
    for message in messages:
        assert message in answer.text
    assert len(answer.text) < 20_000  # an oversized input is not echoed back in full


def test_get_without_parameters_is_the_empty_form(seeded: Seeded) -> None:
    answer = _get(seeded.api, "/certificates")
    assert answer.status_code == 200
    assert '<form class="query" method="post" action="/certificates">' in answer.text
    assert "请检查输入" not in answer.text and NOT_FOUND not in answer.text


def test_rate_limit_answers_a_429_page_shared_with_the_json_query(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    with _registry_with_pages(url, tmp_path, query_burst=2, query_rate_per_second=0.001) as api:
        body = {"certificate_number": "Y000011000001263000001", "holder_name": "张三丰"}
        assert api.call("POST", "/api/v1/certificates/query", json=body).status_code == 404
        assert _query(api, "Y000011000001263000001", "张三丰").status_code == 404
        limited = _query(api, "Y000011000001263000001", "张三丰")
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "1"
        assert "查询过于频繁" in limited.text and "<form" in limited.text
        english = _query(api, "", "", lang="en")
        assert english.status_code == 429 and "too many queries" in english.text


def test_institution_list_shows_status_and_filters(seeded: Seeded) -> None:
    listing = _get(seeded.api, "/institutions")
    assert listing.status_code == 200
    assert "中国国家铁路集团有限公司" in listing.text and f'href="/institutions/{CODE}"' in listing.text
    assert listing.text.count('class="status inst-active"') == 2
    filtered = _get(seeded.api, "/institutions", q="铁路")
    assert CODE in filtered.text and HOSTILE_CODE not in filtered.text
    assert "没有符合条件的机构" in _get(seeded.api, "/institutions", q="不存在的机构").text


def test_institution_detail_shows_scope_history_and_keys(seeded: Seeded) -> None:
    detail = _get(seeded.api, f"/institutions/{CODE}")
    assert detail.status_code == 200
    text = detail.text
    assert "6-31-01-03" in text and "电工" in text
    assert "三级/高级工、四级/中级工、五级/初级工" in text
    assert "2024-01-01 – 长期" in text
    assert KEY.public_key.kid_b64 in text and "使用中" in text
    assert '<td data-label="原因">备案</td>' in text  # the status history starts with the filing


@pytest.mark.parametrize("code", ["Y999999999999", "nonsense", "Y0000110000011"])
def test_unknown_institution_is_a_404_page(seeded: Seeded, code: str) -> None:
    answer = _get(seeded.api, f"/institutions/{code}")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "机构不存在" in answer.text
    assert "no such institution" in _get(seeded.api, f"/institutions/{code}", lang="en").text


def test_markup_in_directory_data_is_escaped(seeded: Seeded) -> None:
    for path in ("/institutions", f"/institutions/{HOSTILE_CODE}"):
        text = _get(seeded.api, path).text
        assert "<script>" not in text and "<img" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;有限公司" in text
    detail = _get(seeded.api, f"/institutions/{HOSTILE_CODE}").text
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;违规" in detail


def test_markup_in_typed_input_is_escaped(seeded: Seeded) -> None:
    answer = _query(seeded.api, '"><script>x</script>', "<b>张</b>")
    assert answer.status_code == 422
    assert "<script>" not in answer.text and "<b>" not in answer.text
    assert 'value="&quot;&gt;&lt;SCRIPT&gt;X&lt;/SCRIPT&gt;"' in answer.text


def test_audit_page_shows_the_latest_checkpoint(seeded: Seeded) -> None:
    api = seeded.api
    page = _get(api, "/audit")
    assert page.status_code == 200
    checkpoint = api.ok("GET", "/api/v1/audit/checkpoint")
    entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": 10_000})["entries"]
    root = merkle.root_from_leaf_hashes([merkle.leaf_hash(e["data"].encode("ascii")) for e in entries])
    assert checkpoint["size"] == len(entries) and checkpoint["root"] == root.hex()
    assert f"<td>{len(entries)}</td>" in page.text and root.hex() in page.text
    assert "已用登记系统公钥验证" in page.text and api.settings is not None
    assert api.settings.signer.public_key.kid_b64 in page.text
    for link in ("/api/v1/audit/checkpoint", f"/api/v1/audit/proof/consistency?old=1&amp;new={len(entries)}"):
        assert f'href="{link}"' in page.text
    inclusion = re.search(r'href="(/api/v1/audit/proof/inclusion[^"]+)"', page.text)
    assert inclusion is not None
    assert api.ok("GET", inclusion[1].replace("&amp;", "&"))["size"] == len(entries)


def _english_pages(seeded: Seeded) -> dict[str, httpx.Response]:
    api = seeded.api
    return {
        "landing": _get(api, "/", lang="en"),
        "form": _get(api, "/certificates", lang="en"),
        "found": _query(api, seeded.numbers[0], "张三丰", lang="en"),
        "not_found": _query(api, seeded.numbers[0], "王五", lang="en"),
        "form_error": _query(api, "", "", lang="en"),
        "institutions": _get(api, "/institutions", lang="en"),
        "institution": _get(api, f"/institutions/{CODE}", lang="en"),
        "audit": _get(api, "/audit", lang="en"),
    }


def test_english_switch_translates_every_string_and_links_keep_it(seeded: Seeded) -> None:
    chinese_only = {v.split("{")[0] for k, v in ZH.items() if v != EN[k] and k != "html_lang"}
    for name, response in _english_pages(seeded).items():
        text = response.text
        assert '<html lang="en">' in text, name
        leaked = [word for word in chinese_only if word and word in text]
        assert leaked == [], (name, leaked)
        switch = re.search(r'<a class="lang" href="([^"]*)"', text)
        assert switch is not None and "lang=en" not in switch[1], name
        body = text.replace(switch[0], "")
        for form in re.findall(r'<form [^>]*method="get".*?</form>', body, re.S):
            # a GET form drops its action's query string: the language rides in a hidden field
            assert '<input type="hidden" name="lang" value="en">' in form, name
            body = body.replace(form, "")
        for link in re.findall(r'(?:href|action)="(/[^"]*)"', body):
            assert "lang=en" in link or link.startswith(("/api/", "/static/")), (name, link)
    found = _english_pages(seeded)["found"].text
    assert "Level 3 / Senior Worker" in found and _status_badge(found) == "valid:Valid"


def test_chinese_is_the_default_and_offers_english(seeded: Seeded) -> None:
    text = _get(seeded.api, "/").text
    assert '<html lang="zh-CN">' in text
    assert 'href="/?lang=en"' in text and ">English<" in text
    assert "http://jndj.osta.org.cn" in text and "http://pjjg.osta.org.cn" in text


def test_word_lists_have_the_same_keys() -> None:
    assert ZH.keys() == EN.keys()
    assert all(ZH.values()) and all(EN.values())


def test_security_headers_and_no_scripts(seeded: Seeded) -> None:
    for path in ("/", "/certificates", "/institutions", f"/institutions/{CODE}", "/audit"):
        response = _get(seeded.api, path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert "'unsafe-inline'" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in response.text and "http://" not in response.text.split("<footer>")[0]
    assert _query(seeded.api, seeded.numbers[0], "张三丰").headers["cache-control"] == "no-store"
    css = _get(seeded.api, "/static/registry.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "@media" in css.text


def test_pages_stay_out_of_the_openapi_document(seeded: Seeded) -> None:
    paths = seeded.api.ok("GET", "/openapi.json")["paths"]
    assert "/certificates" not in paths and "/audit" not in paths
    assert "/api/v1/certificates/query" in paths


def test_browser_fills_the_query_form(seeded: Seeded, page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(seeded.api.url + "/")
    page.fill("#number", seeded.numbers[0])
    page.fill("#name", "张三丰")
    page.click("button[type=submit]")
    badge = page.locator(".result .status")
    expect(badge).to_have_text("有效")
    expect(page.locator(".result")).to_contain_text("三级/高级工")
    assert page.url == seeded.api.url + "/certificates"  # POST: the name is not in the URL
    colour = badge.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(26, 127, 55)"  # the stylesheet loaded under the CSP
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    page.click("a.lang")
    expect(page.locator("h1")).to_have_text("Certificate query")
    for path in ("/institutions", f"/institutions/{CODE}", "/audit"):
        page.goto(seeded.api.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
