"""Base45 (RFC 9285): the encoding that lets binary data use the QR alphanumeric mode."""

from __future__ import annotations

import re
from functools import cache

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


class Base45Error(ValueError):
    """Text that is not canonical base45."""


def b45encode(data: bytes) -> str:
    """Encode bytes: each pair to three characters, a final odd byte to two."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Decode strictly: unknown characters, a dangling character and values over range are errors.

    Triplets are looked up in a table of the 65,536 valid ones, so decoding runs at C speed and
    an out-of-range triplet (such as ``GGW``) or a foreign character simply is not found.
    """
    if len(text) % 3 == 1:
        raise Base45Error("dangling single character")
    whole = len(text) - len(text) % 3
    triplets, pairs = _tables()
    try:
        out = b"".join(map(triplets.__getitem__, _TRIPLET.findall(text, 0, whole)))
        return out + pairs[text[whole:]] if whole < len(text) else out
    except KeyError as e:
        raise Base45Error(f"{e.args[0]!r} is not valid base45") from e


_TRIPLET = re.compile(r"...", re.DOTALL)


@cache
def _tables() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Every valid triplet and final pair, mapped to its bytes (built once, about 6 MB)."""
    triplets = {b45encode(n.to_bytes(2, "big")): n.to_bytes(2, "big") for n in range(65536)}
    pairs = {b45encode(bytes([n])): bytes([n]) for n in range(256)}
    return triplets, pairs
