"""Every problem in a roster, row by row, before anything leaves the machine.

Each row gets the roster-row schema checks of ``schemas`` (reported at the office's own column
header), plus what only the whole batch or the institution's filing can tell: the institution's scope on the
assessment date, duplicates within the file, characters the print font cannot show, photos (``photos``: missing, wrong type, size or shape), and dates
in the future. The registry repeats the schema and scope checks on review; doing them here first means the
clerk fixes the spreadsheet once, with a full list, instead of learning of one problem per upload.

Speed: the photo check is most of a row's time, so a long roster's photos are checked by worker processes
(``RosterValidator.check_each``); ``schemas`` judges a valid row's structure field by field, remembering the
values that passed.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Final

from common.paging import in_pages
from credential.directory import Scope
from issuer.photos import PhotoSource
from issuer.photos import problem as photo_problem
from issuer.photos import problems as photo_problems
from issuer.processes import worker_count, worker_processes
from issuer.progress import Progress
from issuer.roster import RosterRow
from schemas import Issue, validate_roster_row
from schemas.issues import describe_pointer_en, describe_pointer_zh
from schemas.vocabulary import LEVEL_NAMES, LEVEL_NAMES_EN

#: Codes this module adds to the schema's issue codes; code -> (Chinese, English) ``str.format`` templates.
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "level_unrecognised": (
        "等级“{value}”无法识别，请填写 1–5、“三级”或“三级/高级工”",
        "level “{value}” not recognised; write 1–5, “三级” or “三级/高级工”",
    ),
    "date_unrecognised": (
        "日期“{value}”无法识别，请写成 2025-03-15、2025/3/15 或 2025年3月15日",
        "date “{value}” not recognised; write 2025-03-15, 2025/3/15 or 2025年3月15日",
    ),
    "id_number_numeric": (
        "证件号码被 Excel 存成了数字（{value}），末几位可能已丢失；请把该列设为“文本”格式后重新输入",
        "Excel stored the ID number as a number ({value}) and may have lost its last digits; "
        "format the column as Text and type the numbers again",
    ),
    "occupation_out_of_scope": (
        "职业 {code} 不在本机构备案的评价范围内",
        "occupation {code} is not in the institution's filed scope",
    ),
    "scope_not_in_force": (
        "评价日期 {day} 时，本机构对职业 {code} 的备案不在有效期内",
        "on the assessment date {day} the institution's filing for occupation {code} was not in force",
    ),
    "level_out_of_scope": (
        "本机构不能评价职业 {code} 的 {level_zh}，可评等级：{allowed_zh}",
        "the institution may not certify occupation {code} at {level_en}; filed levels: {allowed_en}",
    ),
    "work_type_out_of_scope": (
        "工种/职业方向“{work_type}”不在备案范围内，可选：{allowed}",
        "work type “{work_type}” is not in the filed scope; filed: {allowed}",
    ),
    "occupation_name_mismatch": (
        "职业名称应与备案一致：{expected}",
        "occupation name must match the filing: {expected}",
    ),
    "duplicate_row": (
        "与第 {first} 行重复（同一证件号码、职业编码和等级）",
        "duplicates row {first} (same ID number, occupation code and level)",
    ),
    "name_glyph_missing": (
        "姓名中有证书字体无法显示的字：{chars}，请核对或联系技术支持",
        "the name has characters the certificate font cannot print: {chars}; check it or ask for support",
    ),
    "glyph_missing": (
        "含有证书字体无法显示的字：{chars}",
        "has characters the certificate font cannot print: {chars}",
    ),
    "photo_missing": ("找不到照片文件 {path}", "photo file {path} not found"),
    "photo_unreadable": ("照片 {path} 不是可读取的图片", "photo {path} is not a readable image"),
    "photo_required": (
        "缺少照片：请在“照片”列填写照片文件名（证书须印持证人照片）",
        "no photo: name the photo file in the photo column (certificates carry the holder's photo)",
    ),
    "photo_type": (
        "照片 {path} 是 {kind} 格式，只接受 JPEG 或 PNG",
        "photo {path} is {kind}; only JPEG or PNG is accepted",
    ),
    "photo_too_small": (
        "照片 {path} 只有 {width}×{height} 像素，至少需要 295×413（1 寸，300 dpi）",
        "photo {path} is {width}×{height} px; at least 295×413 is needed (1 inch at 300 dpi)",
    ),
    "photo_too_large": (
        "照片 {path} 有 {size} MiB，不能超过 2 MiB",
        "photo {path} is {size} MiB; at most 2 MiB is accepted",
    ),
    "photo_not_portrait": (
        "照片 {path} 是 {width}×{height} 像素的横向或方形图片，应为竖向证件照",
        "photo {path} is {width}×{height} px, landscape or square; an upright ID photo is needed",
    ),
    "assessment_date_future": ("评价日期 {day} 晚于今天", "assessment date {day} is in the future"),
}
_UNPARSED_CODES: Final = {
    "level": "level_unrecognised",
    "assessment_date": "date_unrecognised",
    "id_number": "id_number_numeric",
}
_GLYPH_FIELDS: Final = {
    "holder_name": "name_glyph_missing",
    "occupation_name": "glyph_missing",
    "work_type": "glyph_missing",
}


@dataclass(frozen=True)
class RowProblem:
    """One problem: data row number, the office's column header (``""`` for the whole row), code, why."""

    row: int
    column: str
    code: str
    message_zh: str
    message_en: str


def _problem(row: RosterRow, field_name: str, code: str, /, **params: object) -> RowProblem:
    zh, en = MESSAGES[code]
    column = row.column(field_name) if field_name else ""
    return RowProblem(row.number, column, code, zh.format(**params), en.format(**params))


def _from_issue(row: RosterRow, issue: Issue) -> RowProblem:
    field_name = issue.pointer.split("/")[1] if issue.pointer else ""
    zh = issue.message_zh.removeprefix(describe_pointer_zh(issue.pointer) + "：")
    en = issue.message_en.removeprefix(describe_pointer_en(issue.pointer) + ": ")
    return RowProblem(row.number, row.column(field_name) if field_name else "", issue.code, zh, en)


def _level_problem(row: RosterRow, code: str, level: int, levels: list[int]) -> RowProblem:
    return _problem(
        row,
        "level",
        "level_out_of_scope",
        code=code,
        level_zh=LEVEL_NAMES[level],
        level_en=LEVEL_NAMES_EN[level],
        allowed_zh="、".join(LEVEL_NAMES[lv] for lv in levels),
        allowed_en=", ".join(LEVEL_NAMES_EN[lv] for lv in levels),
    )


_Answer = tuple[str, dict[str, object]] | None  # ``photos.problem``'s: (code, message parameters) or None
_PHOTO_CHUNK = 100  # rows whose photos one worker checks at a time
_PROCESSES_FROM = 500  # rows: below, starting processes costs more than checking the photos here


@dataclass(frozen=True)
class _Checked:
    """A row's photo already checked by a worker (its answer), so the row's own check does not repeat it."""

    answer: _Answer


def _photo_name(row: RosterRow) -> str | None:
    name = row.fields.get("photo")
    return name if isinstance(name, str) else None


class RosterValidator:
    """Checks rows one at a time, remembering what it needs across rows (duplicates).

    Use it directly to validate while streaming rows into something else; ``validate_rows`` wraps it.
    """

    def __init__(
        self,
        *,
        scopes: Sequence[Scope] | None = None,
        font_check: Callable[[str], bool] | None = None,
        photos: PhotoSource | None = None,
        require_photos: bool = False,
        today: dt.date | None = None,
    ) -> None:
        self._scopes = scopes
        self._font_check = functools.cache(font_check) if font_check is not None else None
        self._photos = photos
        self._require_photos = require_photos
        self._today = today
        self._seen: dict[tuple[object, ...], int] = {}

    def check(self, row: RosterRow) -> list[RowProblem]:
        """Every problem of one row (the first of any duplicates is not itself a problem)."""
        return self._check(row, None)

    def check_each(self, rows: Iterable[RosterRow], *, workers: int = 1) -> Iterator[list[RowProblem]]:
        """``check`` for every row, in order; with ``workers`` > 1, the photos are checked by that many
        processes, a chunk of rows ahead.

        The photo check is nine tenths of a row's time (reading the file, Pillow parsing its header and
        decoding it at 1/8 scale). Threads ran it only a third faster on two cores, at a fifth more CPU: the
        header parsing holds the GIL. At most ``2 × workers`` chunks wait, so memory stays flat."""
        if self._photos is None or workers <= 1:
            yield from map(self.check, rows)
            return
        source = self._photos
        with worker_processes(workers) as pool:
            waiting: collections.deque[tuple[list[RosterRow], Future[list[_Answer]]]] = collections.deque()
            for chunk in in_pages(rows, _PHOTO_CHUNK):
                waiting.append((chunk, pool.submit(photo_problems, source, [_photo_name(r) for r in chunk])))
                if len(waiting) > 2 * workers:
                    yield from self._checked(*waiting.popleft())
            while waiting:
                yield from self._checked(*waiting.popleft())

    def _checked(self, chunk: list[RosterRow], answers: Future[list[_Answer]]) -> Iterator[list[RowProblem]]:
        for row, answer in zip(chunk, answers.result(), strict=True):
            yield self._check(row, _Checked(answer))

    def _check(self, row: RosterRow, photo: _Checked | None) -> list[RowProblem]:
        fields = row.fields
        problems = [
            _problem(row, name, _UNPARSED_CODES[name], value=fields.get(name))
            for name in sorted(row.unparsed)
        ]
        doc = {k: v for k, v in fields.items() if k not in row.unparsed}
        issues = [i for i in validate_roster_row(doc) if i.pointer.lstrip("/") not in row.unparsed]
        problems.extend(_from_issue(row, i) for i in issues)
        bad = row.unparsed | {i.pointer.lstrip("/") for i in issues}
        good = {k: v for k, v in fields.items() if k not in bad}
        problems.extend(self._glyph_problems(row, good))
        problems.extend(self._scope_problems(row, good))
        problems.extend(self._duplicate_problems(row, good))
        problems.extend(self._photo_problems(row, good, photo))
        problems.extend(self._date_problems(row, good))
        return problems

    def _glyph_problems(self, row: RosterRow, good: Mapping[str, object]) -> list[RowProblem]:
        check = self._font_check
        if check is None:
            return []
        found = []
        for name, code in _GLYPH_FIELDS.items():
            text = good.get(name)
            if isinstance(text, str):
                missing = [c for c in dict.fromkeys(text) if not check(c)]
                if missing:
                    chars = "、".join(f"{c}（U+{ord(c):04X}）" for c in missing)
                    found.append(_problem(row, name, code, chars=chars))
        return found

    def _scope_problems(self, row: RosterRow, good: Mapping[str, object]) -> list[RowProblem]:
        needed = ("occupation_code", "level", "work_type", "assessment_date")
        if self._scopes is None or any(name not in good for name in needed):
            return []
        code, level, work_type = str(good["occupation_code"]), good["level"], str(good["work_type"])
        assert isinstance(level, int)
        day = dt.date.fromisoformat(str(good["assessment_date"]))
        same = [s for s in self._scopes if s.occupation_code == code]
        covering = [s for s in same if s.covers(code, level, work_type, day)]
        if covering:
            return self._name_problems(row, good, covering[0])
        if not same:
            return [_problem(row, "occupation_code", "occupation_out_of_scope", code=code)]
        in_force = [
            s for s in same if s.valid_from <= day and (s.valid_until is None or day <= s.valid_until)
        ]
        if not in_force:
            return [_problem(row, "assessment_date", "scope_not_in_force", day=day.isoformat(), code=code)]
        levels = sorted({lv for s in in_force for lv in s.levels})
        if level not in levels:
            return [_level_problem(row, code, level, levels)]
        work_types = sorted({w for s in in_force if level in s.levels for w in s.work_types})
        allowed = "、".join(work_types)
        return [_problem(row, "work_type", "work_type_out_of_scope", work_type=work_type, allowed=allowed)]

    def _name_problems(self, row: RosterRow, good: Mapping[str, object], scope: Scope) -> list[RowProblem]:
        name = good.get("occupation_name")
        if name is None or name == scope.occupation_name:
            return []
        return [_problem(row, "occupation_name", "occupation_name_mismatch", expected=scope.occupation_name)]

    def _duplicate_problems(self, row: RosterRow, good: Mapping[str, object]) -> list[RowProblem]:
        key = tuple(good.get(name) for name in ("id_number", "occupation_code", "level"))
        if None in key:
            return []
        first = self._seen.setdefault(key, row.number)
        return [] if first == row.number else [_problem(row, "id_number", "duplicate_row", first=first)]

    def _photo_problems(
        self, row: RosterRow, good: Mapping[str, object], checked: _Checked | None
    ) -> list[RowProblem]:
        photo = good.get("photo")
        if not isinstance(photo, str):
            needed = (
                self._require_photos and "photo" not in row.fields
            )  # (a refused cell is reported already)
            return [_problem(row, "photo", "photo_required")] if needed else []
        if self._photos is None:
            return []
        found = photo_problem(self._photos, photo) if checked is None else checked.answer
        return [] if found is None else [_problem(row, "photo", found[0], **found[1])]

    def _date_problems(self, row: RosterRow, good: Mapping[str, object]) -> list[RowProblem]:
        day = good.get("assessment_date")
        if self._today is None or not isinstance(day, str) or day <= self._today.isoformat():
            return []
        return [_problem(row, "assessment_date", "assessment_date_future", day=day)]


def validate_rows(
    rows: Iterable[RosterRow],
    *,
    scopes: Sequence[Scope] | None = None,
    font_check: Callable[[str], bool] | None = None,
    photos: PhotoSource | None = None,
    require_photos: bool = False,
    today: dt.date | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> list[RowProblem]:
    """Every problem in every row, in row order. Pass ``fonts.font_has_glyphs`` as ``font_check`` when the
    rows will be printed, the institution's scopes from the registry's directory as ``scopes``, the photo
    folder or ZIP as ``photos`` and the run's date as ``today``; each check is skipped when its input is None.
    ``require_photos`` refuses a row without a photo (issued certificates carry one unless the institution
    chose photo-less certificates). The photos of a list of ``_PROCESSES_FROM`` rows or more are checked by
    ``workers`` processes (default: one per core; 1: all here).
    """
    validator = RosterValidator(
        scopes=scopes, font_check=font_check, photos=photos, require_photos=require_photos, today=today
    )
    many = isinstance(rows, Sized) and len(rows) >= _PROCESSES_FROM
    processes = worker_count(workers) if many else 1
    problems: list[RowProblem] = []
    for found in validator.check_each(rows, workers=processes):
        problems.extend(found)
        if progress is not None:
            progress.advance()
    return problems
