"""Charts drawn on the server as inline SVG: no script, no third-party library, readable without CSS.

Each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` in the page's language, every
bar labelled with its category and value, so a screen reader and a printed page say the same as the
picture. Suppressed values (``None``) draw no bar and are labelled with the suppression mark. Only
presentation attributes are used (the Content-Security-Policy allows no inline ``style``).
"""

from __future__ import annotations

from collections.abc import Sequence

from registry.templates.markup import Safe, fill, join

_WIDTH = 640
_LABEL_WIDTH = 150
_BAR_HEIGHT = 22
_GAP = 8
_TOP = 8
_VALUE_ROOM = 70

_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-labelledby="{id}-t {id}-d" '
    'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
    'font-family="Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" font-size="13">'
    '<title id="{id}-t">{title}</title><desc id="{id}-d">{desc}</desc>{body}</svg>'
)
_HBAR = (
    '<g class="bar"><text x="{label_x}" y="{text_y}" text-anchor="end" fill="#1f2328">{label}</text>'
    '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#b3261e"><title>{label}：{shown}</title></rect>'
    '<text x="{value_x}" y="{text_y}" fill="#59636e">{shown}</text></g>'
)
_VBAR = (
    '<g class="bar"><rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#b3261e">'
    "<title>{label}：{shown}</title></rect>"
    '<text x="{mid}" y="{label_y}" text-anchor="middle" fill="#1f2328" font-size="11">{label}</text>'
    '<text x="{mid}" y="{value_y}" text-anchor="middle" fill="#59636e" font-size="11">{shown}</text></g>'
)
_AXIS = '<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#59636e" stroke-width="1"/>'
_AXIS_TEXT = '<text x="{x}" y="{y}" text-anchor="{anchor}" fill="#59636e" font-size="11">{text}</text>'
_EMPTY = '<text x="10" y="24" fill="#59636e">{text}</text>'


def bar_chart(
    chart_id: str, title: str, bars: Sequence[tuple[str, int | None]], *, suppressed: str, empty: str
) -> Safe:
    """Horizontal bars, one per category, each labelled with its value (or ``suppressed``)."""
    height = _TOP * 2 + max(1, len(bars)) * (_BAR_HEIGHT + _GAP)
    largest = max((v for _, v in bars if v), default=1)
    room = _WIDTH - _LABEL_WIDTH - _VALUE_ROOM
    parts = []
    for i, (label, value) in enumerate(bars):
        y = _TOP + i * (_BAR_HEIGHT + _GAP)
        width = 0 if not value else max(1, round(room * value / largest))
        parts.append(
            fill(
                _HBAR,
                label_x=_LABEL_WIDTH - 8,
                text_y=y + _BAR_HEIGHT - 6,
                label=label,
                x=_LABEL_WIDTH,
                y=y,
                w=width,
                h=_BAR_HEIGHT,
                shown=suppressed if value is None else value,
                value_x=_LABEL_WIDTH + width + 6,
            )
        )
    body = join(parts) if bars else fill(_EMPTY, text=empty)
    desc = _describe(bars, suppressed) or empty
    return fill(_SVG, id=chart_id, width=_WIDTH, height=height, title=title, desc=desc, body=body)


def column_chart(
    chart_id: str, title: str, columns: Sequence[tuple[str, int | None]], *, suppressed: str, empty: str
) -> Safe:
    """Vertical columns in time order (months), the largest value marked on the axis."""
    height, bottom, left = 250, 210, 50
    largest = max((v for _, v in columns if v), default=1)
    step = (_WIDTH - left - 10) / max(1, len(columns))
    parts = [
        fill(_AXIS, x1=left, y1=bottom, x2=_WIDTH - 5, y2=bottom),
        fill(_AXIS, x1=left, y1=10, x2=left, y2=bottom),
        fill(_AXIS_TEXT, x=left - 4, y=34, anchor="end", text=largest),
        fill(_AXIS_TEXT, x=left - 4, y=bottom, anchor="end", text=0),
    ]
    every = max(1, len(columns) // 12)  # at most about twelve month labels
    for i, (label, value) in enumerate(columns):
        bar = 0 if not value else max(1, round((bottom - 30) * value / largest))
        parts.append(
            fill(
                _VBAR,
                x=round(left + i * step + step * 0.15, 1),
                y=bottom - bar,
                w=round(step * 0.7, 1),
                h=bar,
                label=label if i % every == 0 else "",
                shown=suppressed if value is None else value,
                mid=round(left + i * step + step / 2, 1),
                label_y=bottom + 16,
                value_y=bottom - bar - 4,
            )
        )
    body = join(parts) if columns else fill(_EMPTY, text=empty)
    desc = _describe(columns, suppressed) or empty
    return fill(_SVG, id=chart_id, width=_WIDTH, height=height, title=title, desc=desc, body=body)


def _describe(items: Sequence[tuple[str, int | None]], suppressed: str) -> str:
    return "；".join(f"{label}：{suppressed if value is None else value}" for label, value in items)
