"""A one-line progress bar on stderr ("校验 validate 4200/100000 rows 4% ETA 0:00:21"), without a dependency.

Long steps (validating a 100,000-row roster, rendering thousands of PDFs) must show they are alive, but a log
file or a pipe must not fill with carriage returns: the bar draws only when the stream is a terminal, unless
``force`` is set (tests, ``--progress``). Redraws are throttled so the bar never costs noticeable time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import TextIO

_BAR_WIDTH = 24

#: Who else watches the bars of this thread (the institution console draws them in a browser).
Observer = Callable[[str, int, "int | None"], None]
_observer: ContextVar[Observer | None] = ContextVar("skillpass_progress_observer", default=None)


@contextmanager
def observed(observer: Observer) -> Iterator[None]:
    """Within this block, every bar of the current thread also reports ``(label, done, total)``."""
    token = _observer.set(observer)
    try:
        yield
    finally:
        _observer.reset(token)


class Progress:
    """Counts done items against an optional total and redraws at most every ``interval`` seconds."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        unit: str = "rows",
        stream: TextIO | None = None,
        force: bool = False,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = force or self._stream.isatty()
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last_draw = float("-inf")
        self._observer = _observer.get()
        self._tell()

    def set_total(self, total: int | None) -> None:
        """Set or correct the total once it is known (e.g. after counting a CSV's lines)."""
        self.total = total
        self._tell()

    def advance(self, n: int = 1) -> None:
        """Record ``n`` more items done; redraw if the last redraw is old enough."""
        self.done += n
        self._tell()
        if self._enabled and self._clock() - self._last_draw >= self._interval:
            self._draw()

    def close(self) -> None:
        """Draw the final state and end the line (only if the bar was shown at all)."""
        if self._enabled:
            self._draw()
            self._stream.write("\n")
            self._stream.flush()

    def render_line(self) -> str:
        """The current bar as text (what ``advance`` draws)."""
        elapsed = self._clock() - self._started
        if not self.total:
            return f"{self.label} {self.done} {self.unit} {_clock_text(elapsed)}"
        done = min(self.done, self.total)
        filled = _BAR_WIDTH * done // self.total
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        eta = elapsed / done * (self.total - done) if done else None
        eta_text = "ETA " + (_clock_text(eta) if eta is not None else "?")
        percent = 100 * done // self.total
        return f"{self.label} [{bar}] {done}/{self.total} {self.unit} {percent}% {eta_text}"

    def _tell(self) -> None:
        if self._observer is not None:
            self._observer(self.label, self.done, self.total)

    def _draw(self) -> None:
        self._last_draw = self._clock()
        self._stream.write("\r" + self.render_line())
        self._stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _clock_text(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
