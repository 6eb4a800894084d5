"""Base45 (RFC 9285) and its URL-fragment-safe sibling: encodings that let binary data use the QR
alphanumeric mode.

Base45 maps each big-endian byte pair to three digits of radix 45, a final odd byte to two. The
plain form uses it as RFC 9285 has it. Two of its characters, space and ``%``, cannot stand in a
URL fragment, so the URL form uses the same scheme with radix 43 over the other 43 characters
(``BASE43_ALPHABET``): 43³ = 79,507 and 43² = 1,849 still hold a pair and a byte, so the text is
exactly as long (docs/spec.md §3).
"""

from __future__ import annotations

from functools import cache

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
BASE43_ALPHABET = ALPHABET.replace(" ", "").replace("%", "")
_INVALID = 0xFF
_TYPICAL_LANES = 4296 // 3  # the longest text a QR code holds (version 40-L), in triplets
_SHIFT = 21  # of the multiply-and-shift division in ``encode``
_MARKER = b"\xff"  # no digit's value: a lane's filler that ``encode`` drops


class Base45Error(ValueError):
    """Text that is not canonical base45 (or base43)."""


class TripletCodec:
    """Byte pairs ⇄ three digits of radix ``len(alphabet)``, least significant first (RFC 9285)."""

    def __init__(self, alphabet: str) -> None:
        self.alphabet = alphabet
        self.radix = radix = len(alphabet)
        self._characters = alphabet.encode("ascii").ljust(256, b"\0")  # digit value → its character
        self._digits = bytes(alphabet.index(chr(b)) if chr(b) in alphabet else _INVALID for b in range(256))
        self._masks: tuple[int, int, int, int] = (0, 0, 0, 0)  # lanes covered, then ``_lane_masks``
        self._lane_masks(_TYPICAL_LANES)
        # v // radix as (v · _multiplier) >> _SHIFT: exact for every v < 2¹⁶, with a product below 2³² (one
        # lane) and a quotient within the 11 bits ``_quotient_masks`` keeps.
        self._multiplier = multiplier = -(-(1 << _SHIFT) // radix)
        exact = (multiplier * radix - (1 << _SHIFT)) * 0xFFFF < 1 << _SHIFT
        in_lane = multiplier * 0xFFFF < 1 << 32 and 0xFFFF // radix < 1 << 11
        digits_fit = radix**3 > 0xFFFF and radix <= _MARKER[0]  # a digit is a byte, never the marker
        if not (exact and in_lane and digits_fit):
            raise ValueError(f"three digits of radix {radix} cannot encode a pair in a 32-bit lane")
        # c0·2¹⁶ + c1·2⁸ + c2 = v·2¹⁶ + q1·(2⁸ − radix·2¹⁶) + q2·(1 − radix·2⁸), for q1 = v // radix and
        # q2 = q1 // radix: each lane's three digits from v, q1 and q2 by two products and sums.
        self._q1_weight = 0x100 - radix * 0x10000
        self._q2_weight = 1 - radix * 0x100
        self._encode_masks: tuple[int, int, int] = (0, 0, 0)  # lanes covered, then ``_quotient_masks``
        self._quotient_masks(_TYPICAL_LANES)

    def encode(self, data: bytes) -> str:
        """Each big-endian pair to three characters, a final odd byte to two.

        Every step runs in C, like ``decode``: each pair is copied into the low half of a 4-byte lane
        of one big integer, whose lanes are then divided by the radix all at once (a multiplication
        and a shift; no lane's product reaches the next lane), giving each lane's three digits in its
        low three bytes. A marker byte fills each lane's top byte, and ``bytes.translate`` maps the
        digits to characters and drops the markers in one pass. A table of all 65,536 triplets, as
        this once used, cost three times as much per credential: its strings are scattered in memory,
        so nearly every lookup missed the cache.
        """
        whole = len(data) - len(data) % 2
        count = whole // 2
        lanes = bytearray(4 * count)
        lanes[2::4] = data[0:whole:2]  # each pair's high byte
        lanes[3::4] = data[1:whole:2]  # and its low byte
        values = int.from_bytes(lanes, "big")
        quotient, markers = self._quotient_masks(count)
        multiplier = self._multiplier
        q1 = ((values * multiplier) >> _SHIFT) & quotient
        q2 = ((q1 * multiplier) >> _SHIFT) & quotient
        digits = (values << 16) + q1 * self._q1_weight + q2 * self._q2_weight + markers
        text = digits.to_bytes(4 * count, "big").translate(self._characters, _MARKER).decode("ascii")
        if whole < len(data):
            high, low = divmod(data[-1], self.radix)
            text += self.alphabet[low] + self.alphabet[high]
        return text

    def _quotient_masks(self, count: int) -> tuple[int, int]:
        """The low 11 bits of every 4-byte lane (a quotient; ``count`` or more lanes, counted from the
        low end), and a marker in the top byte of exactly ``count`` lanes. Grown on demand."""
        masks = self._encode_masks
        if masks[0] < count:
            masks = self._encode_masks = (
                count,
                int.from_bytes(b"\x00\x00\x07\xff" * count, "big"),
                int.from_bytes((_MARKER + b"\x00\x00\x00") * count, "big"),
            )
        return masks[1], masks[2] >> (32 * (masks[0] - count))

    def decode(self, text: str) -> bytes:
        """Decode strictly: unknown characters, a dangling character and values over range are errors.

        Every step runs in C: the characters become digit values by ``bytes.translate``; read as
        one big integer, every triplet's three digits sit in one 3-byte lane, and masking out each
        digit's byte of every lane at once lets one ``a + r·b + r²·c`` compute every triplet's
        value (at most 44·(1 + r + r²) < 2²⁴, so no lane carries into the next). A lane whose top
        byte is not zero held a value over 65535 (such as base45's ``GGW``). This is several times
        faster than a loop or a lookup table, and it is the verifier's hot path.
        """
        try:
            values = text.encode("ascii").translate(self._digits)
        except UnicodeEncodeError as e:
            raise Base45Error("a character is outside the alphabet") from e
        if _INVALID in values:
            raise Base45Error("a character is outside the alphabet")
        if len(values) % 3 == 1:
            raise Base45Error("dangling single character")
        whole = len(values) - len(values) % 3
        count = whole // 3
        first, second, third = self._lane_masks(count)
        lanes = int.from_bytes(values[:whole], "big")
        radix = self.radix
        packed = (
            ((lanes & first) >> 16) + radix * ((lanes & second) >> 8) + radix * radix * (lanes & third)
        ).to_bytes(whole, "big")
        if packed[0::3].count(0) != count:
            raise Base45Error("a triplet's value exceeds 65535")
        out = bytearray(2 * count)
        out[0::2] = packed[1::3]
        out[1::2] = packed[2::3]
        if whole < len(values):
            last = values[whole] + radix * values[whole + 1]
            if last > 0xFF:
                raise Base45Error("a final pair's value exceeds 255")
            out.append(last)
        return bytes(out)

    def _lane_masks(self, count: int) -> tuple[int, int, int]:
        """Masks of the first, second and third byte of ``count`` or more 3-byte lanes (counted from
        the low end, so longer masks serve shorter texts). Grown on demand, replaced whole."""
        masks = self._masks
        if masks[0] < count:
            first = int.from_bytes(b"\xff\x00\x00" * count, "big")
            masks = self._masks = (count, first, first >> 8, first >> 16)
        return masks[1], masks[2], masks[3]


@cache
def base45() -> TripletCodec:
    """The plain form's alphabet, RFC 9285 (tables built on first use)."""
    return TripletCodec(ALPHABET)


@cache
def base43() -> TripletCodec:
    """The URL form's fragment-safe alphabet."""
    return TripletCodec(BASE43_ALPHABET)


def b45encode(data: bytes) -> str:
    """Base45-encode bytes."""
    return base45().encode(data)


def b45decode(text: str) -> bytes:
    """Strictly decode base45."""
    return base45().decode(text)
