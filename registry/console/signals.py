"""The regulator's signals in the console (监管信号): each signal with its stated rule and threshold and
the institutions it fires for today, with the figures behind it and a link to their credit file.
Nothing here decides anything: staff read it and act (or not) through the credit file."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse

from registry import signals
from registry.console import layout
from registry.console.accounts import ADMIN, REVIEWER, SUPERVISOR
from registry.console.kit import (
    NavItem,
    Viewer,
    add_nav,
    console_router,
    link,
    page_lang,
    registry_of,
    render,
)
from registry.console.sessions import Session
from registry.templates.markup import Safe, fill, join

router = console_router()
READERS: Final = (ADMIN, REVIEWER, SUPERVISOR)
add_nav(NavItem("/console/signals", "监管信号", "Signals", READERS))

_TEXT: Final = {
    "zh": {
        "intro": "以下信号按明示的规则和阈值计算，只提示值得关注的机构，不自动作出任何决定。",
        "rule": "规则",
        "quiet": "目前没有机构触发此信号。",
        "institution": "机构代码",
        "figures": "数据",
        "credit": "信用与督导",
    },
    "en": {
        "intro": "Each signal follows its stated rule and threshold. It points to institutions worth a look and decides nothing.",
        "rule": "Rule",
        "quiet": "No institution meets this rule today.",
        "institution": "Institution",
        "figures": "Figures",
        "credit": "Credit and supervision",
    },
}


_FIGURES: Final = {
    "zh": {
        "last_30_days": "近 30 天发证",
        "monthly_average_before": "此前 12 个月月均",
        "refused_out_of_scope": "超范围被拒行数",
        "rows": "近 90 天提交行数",
        "certificates_shared_with_another_institution": "与其他机构重复的证书",
        "revoked_last_30_days": "近 30 天撤销",
        "published": "已发布证书",
        "upheld_last_90_days": "近 90 天查实投诉",
    },
    "en": {
        "last_30_days": "issued in the last 30 days",
        "monthly_average_before": "monthly average of the 12 months before",
        "refused_out_of_scope": "rows refused as outside scope",
        "rows": "rows submitted in the last 90 days",
        "certificates_shared_with_another_institution": "certificates shared with another institution",
        "revoked_last_30_days": "revoked in the last 30 days",
        "published": "published certificates",
        "upheld_last_90_days": "complaints upheld in the last 90 days",
    },
}


def _figures(request: Request, figures: dict[str, Any]) -> str:
    names = _FIGURES[page_lang(request)]
    return "；".join(f"{names.get(name, name)}：{value}" for name, value in figures.items())


def _signal(request: Request, found: dict[str, Any]) -> Safe:
    lang = page_lang(request)
    words = _TEXT[lang]
    title = found["title_zh"] if lang == "zh" else found["title_en"]
    rule = found["rule_zh"] if lang == "zh" else found["rule_en"]
    hits = found["institutions"]
    listing = (
        layout.table(
            [words["institution"], words["figures"], words["credit"]],
            [
                [
                    h["institution_code"],
                    _figures(request, h["figures"]),
                    fill(
                        '<a href="{u}">{t}</a>',
                        u=link(request, f"/console/supervision/{h['institution_code']}"),
                        t=words["credit"],
                    ),
                ]
                for h in hits
            ],
        )
        if hits
        else fill("<p>{t}</p>", t=words["quiet"])
    )
    return fill(
        '<section class="signal" id="{code}"><h2>{title} <small>({n})</small></h2><p><strong>{rl}</strong>：{rule}</p>{listing}</section>',
        code=found["code"],
        title=title,
        n=len(hits),
        rl=words["rule"],
        rule=rule,
        listing=listing,
    )


@router.get("/signals")
def signals_page(request: Request, who: Annotated[Session, Viewer(*READERS)]) -> HTMLResponse:
    """Every signal, its rule and threshold, and the institutions it fires for."""
    reg = registry_of(request)
    now = reg.now()
    with reg.db.read() as conn:
        found = signals.evaluate(conn, now)
    intro = fill("<p>{t}</p>", t=_TEXT[page_lang(request)]["intro"])
    return render(request, who, "监管信号", "Signals", join([intro, *(_signal(request, s) for s in found)]))
