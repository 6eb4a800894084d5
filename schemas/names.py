"""Personal names as printed on a certificate and carried in the QR.

A name is one or more *parts* of letters in any script (category L*, e.g. 𠮷 U+20BB7 from CJK Extension B),
each letter optionally followed by combining marks (M*), plus 〇 (U+3007), which occurs in Chinese names.
Parts are joined by the middle dot ``·`` (U+00B7), as in 买买提·艾力, or — only between two Latin-script
parts, as in passport names such as ``John Smith`` — by a single space. Digits, other punctuation, leading or
trailing separators and doubled separators are refused.

Decision on dot variants: ``normalise_name`` maps the *centred* dots people type for ``·`` — U+2022 •,
U+2027 ‧, U+2219 ∙, U+22C5 ⋅, U+30FB ・, U+FF65 ･ — to U+00B7 after NFC (which already folds U+0387 into
U+00B7). Baseline full stops (``.``, U+FF0E ．) are *not* mapped: they are more often an abbreviation or
a typo than a name separator, and silently changing them would print a name the holder never wrote.
``name_is_valid`` accepts only the normalised form, so what is signed is canonical; roster import should call
``normalise_name`` first.
"""

from __future__ import annotations

import unicodedata
from typing import Final

MIDDLE_DOT: Final = "\u00b7"
_DOT_VARIANTS: Final = "\u2022\u2027\u2219\u22c5\u30fb\uff65"
_TO_MIDDLE_DOT: Final = str.maketrans(dict.fromkeys(_DOT_VARIANTS, MIDDLE_DOT))
_EXTRA_LETTERS: Final = frozenset("\u3007")


def normalise_name(s: str) -> str:
    """NFC-normalise ``s`` and write every centred-dot variant as U+00B7."""
    return unicodedata.normalize("NFC", s).translate(_TO_MIDDLE_DOT)


def _is_letter(c: str) -> bool:
    return unicodedata.category(c).startswith("L") or c in _EXTRA_LETTERS


def _part_is_valid(part: str) -> bool:
    if not part or not _is_letter(part[0]):
        return False
    return all(_is_letter(c) or unicodedata.category(c).startswith("M") for c in part)


def _is_latin(part: str) -> bool:
    letters = [c for c in part if _is_letter(c)]
    return all(unicodedata.name(c, "").startswith("LATIN ") for c in letters)


def _spaced_group_is_valid(group: str) -> bool:
    words = group.split(" ")
    if not all(_part_is_valid(w) for w in words):
        return False
    return len(words) == 1 or all(_is_latin(w) for w in words)


def name_is_valid(s: str) -> bool:
    """True when ``s`` is a well-formed, already-normalised name (see the module docstring for the rule)."""
    if not s or s != normalise_name(s):
        return False
    return all(_spaced_group_is_valid(group) for group in s.split(MIDDLE_DOT))


def name_is_valid_after_normalising(s: str) -> bool:
    """True when ``s`` is not canonical yet but ``normalise_name`` would make it a valid name."""
    return not name_is_valid(s) and name_is_valid(normalise_name(s))
