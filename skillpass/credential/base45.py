"""Base45 (RFC 9285): the encoding that lets binary data use the QR alphanumeric mode."""

from __future__ import annotations

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
