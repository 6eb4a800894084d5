"""The holder's pages (我的证书): the find form, the holder's certificates with their actions (show
the QR full screen, download it, share links), the full-screen QR, and a share link's page.

The holder's proof (name + ID number) travels only in POST bodies and in hidden fields of the
holder's own answer page, served ``no-store``; it never appears in a URL. A share page shows the
certificate with the ID number masked, nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from registry.clock import REGISTRY_TZ
from registry.holder import MAX_DAYS, MIN_DAYS, ShareLink
from registry.templates.layout import notice, page
from registry.templates.markup import Safe, fill, href, join
from registry.templates.text import TEXT, Lang
from registry.templates.views_certificates import results

WORDS: Final[dict[Lang, dict[str, str]]] = {
    "zh": {
        "title": "我的证书",
        "intro": "输入姓名和证件号码，查看本人名下已发布的职业技能等级证书，出示二维码或生成分享链接。",
        "name": "姓名",
        "id_number": "证件号码",
        "find": "查找",
        "not_found": "未查询到符合条件的证书。请核对姓名和证件号码（须与证书上完全一致）后重试。",
        "not_found_title": "未查询到",
        "form_error": "请输入姓名和证件号码。",
        "show_qr": "全屏出示二维码",
        "download_qr": "下载二维码图片",
        "share": "生成分享链接",
        "days": "有效天数（1–90）",
        "links": "分享链接",
        "link_live": "有效至 {until}",
        "link_ended": "已失效",
        "revoke": "撤销链接",
        "created_title": "分享链接已生成",
        "created_text": "把下面的链接发给需要查看证书的人（如招聘单位）。链接只显示证书内容和当前状态，不显示完整证件号码；{until} 后自动失效，也可随时撤销。该链接只显示这一次，请立即复制。",
        "revoked_title": "分享链接已撤销",
        "revoked_text": "该链接已不能再打开。",
        "back": "返回我的证书",
        "brightness": "请调高屏幕亮度，将手机平放在扫码设备前。",
        "qr_alt": "证书二维码",
        "share_title": "证书分享",
        "share_note": "此页由持证人分享，显示证书的实时状态，有效至 {until}。",
        "gone_title": "链接不可用",
        "gone_text": "该分享链接不存在、已过期或已被持证人撤销。",
        "rate_limited": "操作过于频繁，请稍后再试。",
        "days_invalid": "有效天数须为 1 至 90 天。",
        "limits": "说明：凭姓名、证件号码和证书编号即可生成或撤销分享链接，请妥善保管证书原件信息。",
    },
    "en": {
        "title": "My certificates",
        "intro": "Enter your name and ID number to see the skill certificates published in your name, show a QR code or make a share link.",
        "name": "Name",
        "id_number": "ID number",
        "find": "Find",
        "not_found": "No certificate matches. Check the name and the ID number (exactly as on the certificate) and try again.",
        "not_found_title": "Nothing found",
        "form_error": "Enter your name and ID number.",
        "show_qr": "Show the QR code full screen",
        "download_qr": "Download the QR image",
        "share": "Make a share link",
        "days": "Valid for days (1–90)",
        "links": "Share links",
        "link_live": "valid until {until}",
        "link_ended": "ended",
        "revoke": "Revoke link",
        "created_title": "Share link made",
        "created_text": "Send this link to whoever needs to see the certificate (an employer, say). It shows the certificate and its current status, never the full ID number; it ends on {until}, and you can revoke it at any time. The link is shown only this once: copy it now.",
        "revoked_title": "Share link revoked",
        "revoked_text": "The link no longer opens.",
        "back": "Back to my certificates",
        "brightness": "Turn the screen brightness up and hold the phone flat in front of the scanner.",
        "qr_alt": "Certificate QR code",
        "share_title": "Shared certificate",
        "share_note": "Shared by the holder; the status is live. This link works until {until}.",
        "gone_title": "Link unavailable",
        "gone_text": "This share link does not exist, has expired or was revoked by the holder.",
        "rate_limited": "Too many requests; try again later.",
        "days_invalid": "A link is valid for 1 to 90 days.",
        "limits": "Note: the name, ID number and certificate number are enough to make or revoke a share link; keep them to yourself.",
    },
}

_FIND = """<form class="query" method="post" action="{action}">
<label for="name">{name_label}</label><input id="name" name="name" maxlength="64" autocomplete="name" required>
<label for="id_number">{id_label}</label><input id="id_number" name="id_number" maxlength="32" autocomplete="off" spellcheck="false" required>
<button type="submit">{find}</button>
</form>"""
_PROOF = """<input type="hidden" name="name" value="{name}"><input type="hidden" name="id_number" value="{id_number}">
<input type="hidden" name="number" value="{number}">"""
_ACTION = '<form method="post" class="holder-act" action="{action}">{proof}{fields}<button type="submit">{label}</button></form>'


def day_of(unix: int) -> str:
    """A Unix time as a day on the registry's calendar."""
    return datetime.fromtimestamp(unix, UTC).astimezone(REGISTRY_TZ).date().isoformat()


def find_page(lang: Lang, outcome: Safe | None = None, status_title: str = "") -> str:
    """The find form, with an outcome (a notice) above it."""
    words = WORDS[lang]
    form = fill(
        _FIND,
        action=href("/holder", lang),
        name_label=words["name"],
        id_label=words["id_number"],
        find=words["find"],
    )
    main = join(
        [fill("<h1>{t}</h1><p>{i}</p>", t=words["title"], i=words["intro"]), outcome or Safe(""), form]
    )
    return page(lang, status_title or words["title"], main, "/holder")


def not_found(lang: Lang) -> Safe:
    """The one answer for any mismatch."""
    return notice("info", WORDS[lang]["not_found_title"], WORDS[lang]["not_found"])


def message(lang: Lang, key: str) -> Safe:
    """A short error notice."""
    return notice("error", TEXT[lang]["error_title"], WORDS[lang][key])


def _action(lang: Lang, path: str, proof: Safe, label: str, fields: Safe | None = None) -> Safe:
    return fill(_ACTION, action=href(path, lang), proof=proof, fields=fields or Safe(""), label=label)


def _links(lang: Lang, proof: Safe, links: Sequence[ShareLink], now_unix: int) -> Safe:
    words = WORDS[lang]
    items = []
    for link in links:
        live = link.revoked_at is None and now_unix < link.expires_at
        state = words["link_live"].format(until=day_of(link.expires_at)) if live else words["link_ended"]
        revoke = Safe("")
        if live:
            hidden = fill('<input type="hidden" name="link_id" value="{i}">', i=link.link_id)
            revoke = _action(lang, "/holder/share/revoke", proof, words["revoke"], hidden)
        items.append(fill("<li><code>{i}</code> · {s} {r}</li>", i=link.link_id, s=state, r=revoke))
    if not items:
        return Safe("")
    return fill('<h3>{t}</h3><ul class="links">{items}</ul>', t=words["links"], items=join(items))


def certificates_page(
    lang: Lang,
    name: str,
    id_number: str,
    answers: Sequence[dict[str, Any]],
    links: dict[str, list[ShareLink]],
    now_unix: int,
) -> str:
    """The holder's certificates, each with its actions and its share links."""
    words = WORDS[lang]
    blocks = []
    for answer in answers:
        number = answer["certificate"]["certificate_number"]
        proof = fill(_PROOF, name=name, id_number=id_number, number=number)
        days = fill(
            '<label>{l} <input name="days" type="number" min="{lo}" max="{hi}" value="30" required></label>',
            l=words["days"],
            lo=MIN_DAYS,
            hi=MAX_DAYS,
        )
        actions = join(
            [
                _action(lang, "/holder/qr", proof, words["show_qr"]),
                _action(lang, "/holder/qr.png", proof, words["download_qr"]),
                _action(lang, "/holder/share", proof, words["share"], days),
            ]
        )
        blocks.append(
            fill(
                '{card}<div class="holder-actions">{actions}</div>{links}',
                card=results(lang, [answer]),
                actions=actions,
                links=_links(lang, proof, links.get(number, []), now_unix),
            )
        )
    main = join(
        [
            fill("<h1>{t}</h1>", t=words["title"]),
            join(blocks),
            fill("<p><small>{t}</small></p>", t=words["limits"]),
        ]
    )
    return page(lang, words["title"], main, "/holder")


def qr_page(lang: Lang, number: str, holder_name: str, id_number: str, png_data_uri: str) -> str:
    """The full-screen QR: nothing but the code (with a wide quiet zone), whose it is, a hint, and a
    button back to the holder's list (it posts the proof again: a POST answer cannot be gone back to)."""
    words = WORDS[lang]
    proof = fill(
        '<input type="hidden" name="name" value="{n}"><input type="hidden" name="id_number" value="{i}">',
        n=holder_name,
        i=id_number,
    )
    back = _action(lang, "/holder", proof, words["back"])
    return fill(
        """<!doctype html>
<html lang="{html_lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{alt} {number}</title><link rel="stylesheet" href="/static/registry.css"></head>
<body class="qr-full"><main class="qr-full">
<img id="qr" src="{src}" alt="{alt} {number}">
<p class="qr-who">{name} · {number}</p>
<p class="qr-hint">{hint}</p>
{back}
</main></body></html>""",
        html_lang=TEXT[lang]["html_lang"],
        alt=words["qr_alt"],
        number=number,
        src=png_data_uri,
        name=holder_name,
        hint=words["brightness"],
        back=back,
    )


def created_page(lang: Lang, url: str, until: int) -> str:
    """The new share link, shown this once."""
    words = WORDS[lang]
    body = join(
        [
            notice("info", words["created_title"], words["created_text"].format(until=day_of(until))),
            fill(
                '<p class="share-url"><code id="share-url">{u}</code></p><p><a href="{b}">{l}</a></p>',
                u=url,
                b=href("/holder", lang),
                l=words["back"],
            ),
        ]
    )
    return page(lang, words["created_title"], body, "/holder")


def revoked_page(lang: Lang) -> str:
    """The link is revoked."""
    words = WORDS[lang]
    body = join(
        [
            notice("info", words["revoked_title"], words["revoked_text"]),
            fill('<p><a href="{b}">{l}</a></p>', b=href("/holder", lang), l=words["back"]),
        ]
    )
    return page(lang, words["revoked_title"], body, "/holder")


def share_page(lang: Lang, answer: dict[str, Any], token_path: str) -> str:
    """What a share link shows: the certificate (ID masked) and its live status."""
    words = WORDS[lang]
    body = join(
        [
            fill(
                "<h1>{t}</h1><p>{n}</p>",
                t=words["share_title"],
                n=words["share_note"].format(until=day_of(answer["expires_at"])),
            ),
            results(lang, [answer]),
        ]
    )
    return page(lang, words["share_title"], body, token_path)


def gone_page(lang: Lang) -> str:
    """An unknown, expired or revoked share link (one answer for all three)."""
    words = WORDS[lang]
    return page(lang, words["gone_title"], notice("error", words["gone_title"], words["gone_text"]), "/s/")
