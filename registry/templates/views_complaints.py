"""The public complaint pages (投诉举报): the filing form (no script: an arithmetic question stands in
for the API's proof of work), the receipt with tracking number and secret, and the tracking page
showing state, times and the public finding only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from registry.complaints import (
    CATEGORIES,
    CONTACT_MAX,
    DESCRIPTION_MAX,
    EVIDENCE_BYTES_MAX,
    EVIDENCE_FILES_MAX,
)
from registry.templates.layout import notice, page
from registry.templates.markup import Safe, fill, href, join
from registry.templates.text import Lang
from registry.templates.when import beijing_time

WORDS: Final[dict[Lang, dict[str, str]]] = {
    "zh": {
        "title": "投诉举报",
        "intro": "对评价机构或证书有异议，可在此投诉举报。受理后由职业技能鉴定中心核实处理；处理结果（公开结论）可凭受理编号和查询密码查询。联系方式和证据材料仅供工作人员核查，不会公开。",
        "target": "投诉对象（填写其一）",
        "institution_code": "机构代码（13 位）",
        "certificate_number": "证书编号（22 位）",
        "category": "投诉类别",
        "description": "情况说明",
        "contact": "联系方式（选填，仅工作人员可见）",
        "evidence": "证据材料（选填，PDF、PNG 或 JPEG，最多 {n} 个，每个不超过 {mb} MB）",
        "question": "防刷校验：{q}",
        "submit": "提交",
        "filed_title": "已受理",
        "filed_text": "请妥善保存以下受理编号和查询密码，查询处理进度时需要。查询密码只显示这一次。",
        "tracking": "受理编号",
        "secret": "查询密码",
        "track_title": "查询处理进度",
        "track_submit": "查询",
        "state": "当前状态",
        "steps": "处理记录",
        "finding": "公开结论",
        "filed_at": "提交时间",
        "state_received": "已提交",
        "state_accepted": "已受理",
        "state_investigating": "核查中",
        "state_upheld": "查证属实",
        "state_dismissed": "不予支持",
    },
    "en": {
        "title": "Complaints and reports",
        "intro": "Report a problem with an evaluation institution or a certificate. The appraisal centre verifies and handles it; the outcome (its public finding) can be followed with the tracking number and secret. Contact details and evidence are seen only by staff and never published.",
        "target": "About (give one)",
        "institution_code": "Institution code (13 characters)",
        "certificate_number": "Certificate number (22 characters)",
        "category": "Category",
        "description": "What happened",
        "contact": "Contact details (optional, staff only)",
        "evidence": "Evidence (optional: PDF, PNG or JPEG, at most {n} files of {mb} MB each)",
        "question": "Anti-spam check: {q}",
        "submit": "Submit",
        "filed_title": "Received",
        "filed_text": "Keep the tracking number and secret below: you need both to follow the complaint. The secret is shown only this once.",
        "tracking": "Tracking number",
        "secret": "Secret",
        "track_title": "Follow a complaint",
        "track_submit": "Look up",
        "state": "State",
        "steps": "Steps",
        "finding": "Public finding",
        "filed_at": "Filed",
        "state_received": "received",
        "state_accepted": "accepted",
        "state_investigating": "under investigation",
        "state_upheld": "upheld",
        "state_dismissed": "dismissed",
    },
}

_FORM = """<form class="query" method="post" action="{action}" enctype="multipart/form-data">
<fieldset><legend>{target}</legend>
<label for="institution_code">{institution_code_label}</label><input id="institution_code" name="institution_code" maxlength="13" value="{institution_code}">
<label for="certificate_number">{certificate_number_label}</label><input id="certificate_number" name="certificate_number" maxlength="22" value="{certificate_number}">
</fieldset>
<label for="category">{category_label}</label><select id="category" name="category">{options}</select>
<label for="description">{description_label}</label><textarea id="description" name="description" rows="6" maxlength="{description_max}" required>{description}</textarea>
<label for="contact">{contact_label}</label><input id="contact" name="contact" maxlength="{contact_max}" value="{contact}">
<label for="evidence">{evidence_label}</label><input id="evidence" name="evidence" type="file" multiple accept="application/pdf,image/png,image/jpeg">
<label for="answer">{question}</label><input id="answer" name="answer" inputmode="numeric" maxlength="4" required>
<input type="hidden" name="challenge" value="{challenge}">
<button type="submit">{submit}</button>
</form>"""
_TRACK = """<form class="query" method="post" action="{action}">
<label for="tracking">{tracking_label}</label><input id="tracking" name="tracking" maxlength="13" required>
<label for="secret">{secret_label}</label><input id="secret" name="secret" maxlength="100" required>
<button type="submit">{submit}</button>
</form>"""
_FIELDS = '<table class="fields">{rows}</table>'
_FIELD = "<tr><th scope=row>{label}</th><td>{value}</td></tr>"


def complaint_page(
    lang: Lang,
    question: str,
    challenge: str,
    outcome: Safe | None = None,
    typed: Mapping[str, str] | None = None,
) -> str:
    """The form (refilled with what was ``typed`` after an error) and the tracking form."""
    words = WORDS[lang]
    typed = typed or {}
    options = join(
        fill(
            '<option value="{v}"{selected}>{t}</option>',
            v=code,
            selected=Safe(" selected") if typed.get("category") == code else "",
            t=names[0 if lang == "zh" else 1],
        )
        for code, names in CATEGORIES.items()
    )
    form = fill(
        _FORM,
        action=href("/complaints", lang),
        target=words["target"],
        institution_code_label=words["institution_code"],
        institution_code=typed.get("institution_code", ""),
        certificate_number=typed.get("certificate_number", ""),
        description=typed.get("description", ""),
        contact=typed.get("contact", ""),
        certificate_number_label=words["certificate_number"],
        category_label=words["category"],
        options=options,
        description_label=words["description"],
        description_max=DESCRIPTION_MAX,
        contact_label=words["contact"],
        contact_max=CONTACT_MAX,
        evidence_label=words["evidence"].format(n=EVIDENCE_FILES_MAX, mb=EVIDENCE_BYTES_MAX // 2**20),
        question=words["question"].format(q=question),
        challenge=challenge,
        submit=words["submit"],
    )
    main = join(
        [
            fill("<h1>{t}</h1>", t=words["title"]),
            outcome or Safe(""),
            fill("<p>{t}</p>", t=words["intro"]),
            form,
            _track_form(lang),
        ]
    )
    return page(lang, words["title"], main, "/complaints")


def _track_form(lang: Lang) -> Safe:
    words = WORDS[lang]
    return join(
        [
            fill("<h2>{t}</h2>", t=words["track_title"]),
            fill(
                _TRACK,
                action=href("/complaints/track", lang),
                tracking_label=words["tracking"],
                secret_label=words["secret"],
                submit=words["track_submit"],
            ),
        ]
    )


def receipt_page(lang: Lang, tracking: str, secret: str) -> str:
    """Shown once after filing."""
    words = WORDS[lang]
    fields = fill(
        _FIELDS,
        rows=join(
            fill(_FIELD, label=label, value=fill("<code>{v}</code>", v=value))
            for label, value in ((words["tracking"], tracking), (words["secret"], secret))
        ),
    )
    main = join([notice("info", words["filed_title"], words["filed_text"], fields), _track_form(lang)])
    return page(lang, words["title"], main, "/complaints")


def tracking_page(lang: Lang, view: Mapping[str, Any]) -> str:
    """A complaint's state, step times and public finding (nothing the filer did not already know)."""
    words = WORDS[lang]
    steps: Sequence[Mapping[str, Any]] = view["steps"]
    rows = [
        (words["tracking"], view["tracking"]),
        (words["category"], CATEGORIES[view["category"]][0 if lang == "zh" else 1]),
        (words["filed_at"], beijing_time(view["filed_at"])),
        (words["state"], words[f"state_{view['state']}"]),
        (words["finding"], view["public_finding"] or "—"),
    ]
    fields = fill(_FIELDS, rows=join(fill(_FIELD, label=label, value=value) for label, value in rows))
    history = fill(
        "<ol>{items}</ol>",
        items=join(
            fill("<li>{when} {state}</li>", when=beijing_time(s["at"]), state=words[f"state_{s['state']}"])
            for s in steps
        ),
    )
    main = join(
        [
            fill("<h1>{t}</h1>", t=words["track_title"]),
            fields,
            fill("<h2>{t}</h2>", t=words["steps"]),
            history,
            _track_form(lang),
        ]
    )
    return page(lang, words["track_title"], main, "/complaints")
