"""Taking a stream a page at a time: what keeps a stage's memory flat in the batch's size."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import TypeVar

_T = TypeVar("_T")


def in_pages(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """``items`` as lists of ``size`` (the last one shorter), read only as each list is wanted
    (``itertools.batched`` from Python 3.12)."""
    iterator = iter(items)
    while page := list(itertools.islice(iterator, size)):
        yield page
