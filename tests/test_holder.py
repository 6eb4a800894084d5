"""Holder self-service over real HTTP on SQLite and PostgreSQL: find by name + ID number (one
not-found answer for any mismatch, rate limited), the QR as PNG (decoded back to the published
credential), share links (1-90 days, proof = name + ID + number, masked ID only, expiry, revocation,
unknown tokens), and no full ID number on any page a share link shows."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image
from test_registry_support import Api, resident_id, roster_row, running_registry, sign_row

from common.qrimage import read_texts
from keys import Signer

KEY = Signer.generate()
CODE = "Y000011000001"
NAME = "张三丰"


def _publish(api: Api) -> list[tuple[str, str]]:
    """Two published certificates of 张三丰 (levels 3 and 4) and one of 李四; (number, qr) of each."""
    api.add_institution(CODE, KEY)
    rows = [roster_row(1), roster_row(1, level=4), roster_row(2, holder_name="李四")]
    report = api.approved_batch(CODE, "B-1", rows)["rows"]
    qrs = [sign_row(r, str(row["id_number"]), KEY) for r, row in zip(report, rows, strict=True)]
    credentials = [{"row": i + 1, "qr": qr} for i, qr in enumerate(qrs)]
    api.ok("POST", "/api/v1/batches/B-1/publish", CODE, json={"credentials": credentials})
    return [(r["certificate"]["certificate_number"], qr) for r, qr in zip(report, qrs, strict=True)]


def _proof(number: str, **changes: str) -> dict[str, str]:
    return {"name": NAME, "id_number": resident_id(1), "number": number, **changes}


def test_find_show_and_download(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        published = _publish(api)
        found = api.call("POST", "/holder", data={"name": NAME, "id_number": resident_id(1).lower()})
        assert found.status_code == 200 and found.headers["cache-control"] == "no-store"
        assert (
            published[0][0] in found.text
            and published[1][0] in found.text
            and published[2][0] not in found.text
        )
        not_found = [
            api.call("POST", "/holder", data={"name": "张三", "id_number": resident_id(1)}),
            api.call("POST", "/holder", data={"name": NAME, "id_number": resident_id(2)}),
            api.call("POST", "/holder", data={"name": NAME, "id_number": "not an id"}),
        ]
        assert {r.status_code for r in not_found} == {404}
        bodies = {r.text for r in not_found}
        assert len(bodies) == 1 and "未查询到符合条件的证书" in bodies.pop()
        png = api.call("POST", "/holder/qr.png", data=_proof(published[0][0]))
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert read_texts(Image.open(io.BytesIO(png.content))) == [published[0][1]]
        assert api.call("POST", "/holder/qr.png", data=_proof(published[2][0])).status_code == 404  # 李四's
        full = api.call("POST", "/holder/qr", data=_proof(published[0][0]))
        assert (
            full.status_code == 200
            and 'src="data:image/png;base64,' in full.text
            and "调高屏幕亮度" in full.text
        )
        assert "data:" in full.headers["content-security-policy"]


def test_share_links(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        number = _publish(api)[0][0]
        for days in ("0", "91", "x"):
            assert api.call("POST", "/holder/share", data={**_proof(number), "days": days}).status_code == 422
        wrong = api.call(
            "POST", "/holder/share", data={**_proof(number, id_number=resident_id(2)), "days": "7"}
        )
        assert wrong.status_code == 404
        made = api.call("POST", "/holder/share", data={**_proof(number), "days": "7"})
        assert made.status_code == 201
        url = re.search(r'id="share-url">([^<]+)<', made.text)
        assert url is not None
        assert api.settings is not None and url.group(1).startswith(api.settings.base_url + "/s/")
        path = url.group(1).removeprefix(
            api.settings.base_url
        )  # the registry's public URL, not this test server's
        assert re.fullmatch(r"/s/[A-Za-z0-9_-]{32}", path)
        shown = api.call("GET", path)
        assert (
            shown.status_code == 200 and number in shown.text and NAME in shown.text and "有效" in shown.text
        )
        assert resident_id(1) not in shown.text and resident_id(1)[-4:] in shown.text
        assert (
            shown.headers["referrer-policy"] == "no-referrer" and shown.headers["cache-control"] == "no-store"
        )
        api.ok(
            "POST",
            f"/api/v1/certificates/{number}/status",
            "admin",
            json={"action": "suspend", "reason": "核查"},
        )
        assert "已暂停" in api.call("GET", path).text  # the status is live
        assert api.call("GET", path[:-1] + ("A" if path[-1] != "A" else "B")).status_code == 404
        api.clock.advance(days=7)
        gone = api.call("GET", path)
        assert gone.status_code == 404 and "已过期" in gone.text
        again = api.call("POST", "/holder/share", data={**_proof(number), "days": "90"})
        second = re.search(r'id="share-url">[^<]*(/s/[^<]+)<', again.text)
        assert second is not None
        listing = api.call("POST", "/holder", data={"name": NAME, "id_number": resident_id(1)}).text
        link_ids = re.findall(r'name="link_id" value="([0-9a-f]{12})"', listing)
        assert len(link_ids) == 1  # only the live link can be revoked
        forged = api.call(
            "POST", "/holder/share/revoke", data={**_proof(number, name="李四"), "link_id": link_ids[0]}
        )
        assert forged.status_code == 404 and api.call("GET", second.group(1)).status_code == 200
        revoked = api.call("POST", "/holder/share/revoke", data={**_proof(number), "link_id": link_ids[0]})
        assert revoked.status_code == 200
        assert api.call("GET", second.group(1)).status_code == 404
        assert (
            api.call(
                "POST", "/holder/share/revoke", data={**_proof(number), "link_id": link_ids[0]}
            ).status_code
            == 404
        )
        size = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
        log = str(api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": size}))
        assert (
            "share.create" in log and "share.revoke" in log and NAME not in log and resident_id(1) not in log
        )


def test_holder_pages_are_rate_limited(tmp_path: Path) -> None:
    with running_registry(
        f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path, query_rate_per_second=0.001, query_burst=2
    ) as api:
        answers = [
            api.call("POST", "/holder", data={"name": NAME, "id_number": resident_id(1)}).status_code
            for _ in range(3)
        ]
        assert answers == [404, 404, 429]
        assert api.call("GET", "/s/anything").status_code == 429
