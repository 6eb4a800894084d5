"""Fitting a value into its frame on the certificate: one line at a comfortable size, else two lines at a
readable one, never below 9 pt (issue 15: a 60-character institution name and a 30-character occupation must
fit without running off the page or into the photo).

Chinese breaks between any two characters; a run of Latin letters or digits is kept whole where it can be,
so an English name or a code such as 6-31-01-03 is not cut in the middle.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

ONE_LINE_SIZES: Final = (14.0, 13.5, 13.0, 12.5, 12.0)
TWO_LINE_SIZES: Final = (11.0, 10.5, 10.0, 9.5, 9.0)
MIN_SIZE: Final = 9.0
_UNITS: Final = re.compile(r"[A-Za-z0-9()\-./·'’]+ ?|.", re.S)

Measure = Callable[[str, float], float]


@dataclass(frozen=True)
class Fitted:
    """A value laid out: its font size in points and its lines (one or two)."""

    size: float
    lines: tuple[str, ...]


class LayoutError(ValueError):
    """A value too long for its frame even on two lines at the minimum size."""


def fit(text: str, width: float, measure: Measure) -> Fitted:
    """The largest size at which ``text`` fits ``width`` (points): one line from 14 pt down to 12 pt, else
    two lines from 11 pt down to 9 pt. ``measure(text, size)`` gives a width in points."""
    for size in ONE_LINE_SIZES:
        if measure(text, size) <= width:
            return Fitted(size, (text,))
    for size in TWO_LINE_SIZES:
        lines = _two_lines(text, width, size, measure)
        if lines is not None:
            return Fitted(size, lines)
    raise LayoutError(f"{text!r} does not fit {width:.1f} pt on two lines at {MIN_SIZE} pt")


def _two_lines(text: str, width: float, size: float, measure: Measure) -> tuple[str, ...] | None:
    units = _UNITS.findall(text)
    first = ""
    for i, unit in enumerate(units):
        if measure((first + unit).rstrip(), size) > width:
            second = "".join(units[i:])
            if first and measure(second, size) <= width:
                return first.rstrip(), second
            return _split_anywhere(text, width, size, measure)
        first += unit
    return (text,) if first else None


def _split_anywhere(text: str, width: float, size: float, measure: Measure) -> tuple[str, str] | None:
    """Fallback for a single unit longer than a line (a long passport number): break at any character."""
    cut = len(text)
    while cut > 0 and measure(text[:cut], size) > width:
        cut -= 1
    if cut == 0 or measure(text[cut:], size) > width:
        return None
    return text[:cut], text[cut:]


__all__ = ["MIN_SIZE", "Fitted", "LayoutError", "fit"]
