"""Base45 (RFC 9285): the encoding that lets binary data use the QR alphanumeric mode."""

from __future__ import annotations

import array
import sys
from functools import cache

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


class Base45Error(ValueError):
    """Text that is not canonical base45."""


def b45encode(data: bytes) -> str:
    """Encode bytes: each big-endian pair to three characters, a final odd byte to two.

    Pairs are looked up in a table of all 65,536 triplets (built on first use), so issuing
    thousands of certificates does not loop in Python per character.
    """
    whole = len(data) - len(data) % 2
    pairs = array.array("H", data[:whole])
    if sys.byteorder == "little":
        pairs.byteswap()
    text = "".join(map(_triplets().__getitem__, pairs))
    if whole < len(data):
        high, low = divmod(data[-1], 45)
        text += ALPHABET[low] + ALPHABET[high]
    return text


@cache
def _triplets() -> list[str]:
    return [ALPHABET[n % 45] + ALPHABET[n // 45 % 45] + ALPHABET[n // 2025] for n in range(65536)]


def b45decode(text: str) -> bytes:
    """Decode strictly: unknown characters, a dangling character and values over range are errors.

    Every step runs in C: the characters become digit values by ``bytes.translate``, the three
    digits of all triplets are placed in 3-byte lanes of three big integers, and one
    ``a + 45·b + 2025·c`` computes every triplet's value at once. A lane whose top byte is not
    zero held a value over 65535 (such as ``GGW``). This is several times faster than a loop or
    a lookup table, and it is the verifier's hot path.
    """
    try:
        values = text.encode("ascii").translate(_DIGITS)
    except UnicodeEncodeError as e:
        raise Base45Error("a character is outside the base45 alphabet") from e
    if _INVALID in values:
        raise Base45Error("a character is outside the base45 alphabet")
    if len(values) % 3 == 1:
        raise Base45Error("dangling single character")
    whole = len(values) - len(values) % 3
    count = whole // 3
    lanes = []
    for position in range(3):
        lane = bytearray(3 * count)
        lane[2::3] = values[position:whole:3]
        lanes.append(int.from_bytes(lane, "big"))
    packed = (lanes[0] + 45 * lanes[1] + 2025 * lanes[2]).to_bytes(3 * count, "big")
    if packed[0::3].count(0) != count:
        raise Base45Error("a triplet's value exceeds 65535")
    out = bytearray(2 * count)
    out[0::2] = packed[1::3]
    out[1::2] = packed[2::3]
    if whole < len(values):
        last = values[whole] + 45 * values[whole + 1]
        if last > 0xFF:
            raise Base45Error("a final pair's value exceeds 255")
        out.append(last)
    return bytes(out)


_INVALID = 0xFF
_DIGITS = bytes(ALPHABET.index(chr(b)) if chr(b) in ALPHABET else _INVALID for b in range(256))
