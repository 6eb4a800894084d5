"""``qr_matrix`` chooses the data mask itself (``qrimage._penalty``) instead of letting zint try all eight: the
symbol must stay exactly zxing-cpp's own, for every kind of text and every size a certificate can need."""

from __future__ import annotations

import random

import pytest

from common import qrimage

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _texts() -> list[str]:
    rng = random.Random(15)
    lengths = (1, 20, 60, 120, 201, 236, 300, 376, 405, 700)  # versions 1 to about 20 at level Q
    plain = ["SP2:" + "".join(rng.choice(ALPHANUMERIC) for _ in range(n)) for n in lengths for _ in range(12)]
    url = ["HTTPS://VERIFY.EXAMPLE.CN/#" + text[4:] for text in plain[::4]]
    mixed = ["职业技能等级证书 holder 王建国 " * k for k in range(1, 8)]
    return plain + url + mixed


def _zxing_symbol(text: str) -> bytes:
    """zxing-cpp's symbol with the mask zint chose, one byte a module, 1 dark."""
    image = qrimage.render_image(text, scale=1)
    side = image.width - 8  # the quiet zone: 4 modules on each side
    inner = image.crop((4, 4, 4 + side, 4 + side)).tobytes()
    return inner.translate(bytes.maketrans(bytes(range(256)), b"\x01" * 128 + b"\x00" * 128))


def test_the_matrix_is_zxings_own_symbol_for_every_kind_and_size_of_text() -> None:
    masked_otherwise = 0
    for text in _texts():
        own = _zxing_symbol(text)
        assert b"".join(qrimage.qr_matrix(text)) == own, text
        plain, _ = qrimage._symbol(text, 0)
        masked_otherwise += plain.translate(bytes.maketrans(b"\x00\xff", b"\x01\x00")) != own
    assert masked_otherwise > len(_texts()) // 2  # the choice was made, not mask 0 every time


def _reference_penalty(rows: list[bytes]) -> int:
    """The four penalty rules module by module, as ISO/IEC 18004 7.8.3 states them (and zint scores them)."""
    side = len(rows)
    columns = [bytes(row[c] for row in rows) for c in range(side)]
    score = 0
    for line in rows + columns:
        run = 1
        for i in range(1, side + 1):
            if i < side and line[i] == line[i - 1]:
                run += 1
                continue
            score += run - 2 if run >= 5 else 0
            run = 1
        for i in range(side - 6):
            if line[i : i + 7] == b"\x01\x00\x01\x01\x01\x00\x01":
                before = line[max(0, i - 4) : i]
                after = line[i + 7 : i + 11]
                if not any(before) or not any(after):
                    score += 40
    for y in range(side - 1):
        for x in range(side - 1):
            if rows[y][x] == rows[y][x + 1] == rows[y + 1][x] == rows[y + 1][x + 1]:
                score += 3
    dark = sum(sum(row) for row in rows)
    return score + 10 * int(abs(100.0 * dark / (side * side) - 50.0) / 5.0)


@pytest.mark.parametrize("seed", range(6))
def test_the_whole_symbol_penalty_equals_the_rules_module_by_module(seed: int) -> None:
    rng = random.Random(seed)
    side = rng.choice((21, 25, 57, 77))
    dark_share = rng.choice((0.2, 0.5, 0.8))
    rows = [bytes(int(rng.random() < dark_share) for _ in range(side)) for _ in range(side)]
    rows[rng.randrange(side)] = b"\x00" * side  # long runs, and finder-like patterns next to light
    rows[rng.randrange(side)] = (b"\x00\x00\x00\x00\x01\x00\x01\x01\x01\x00\x01" * side)[:side]
    pixels = b"".join(rows).translate(bytes.maketrans(b"\x00\x01", b"\xff\x00"))
    assert qrimage._penalty(qrimage._as_lines(pixels, side), side) == _reference_penalty(rows)


def test_text_too_long_for_any_version_is_refused() -> None:
    with pytest.raises(qrimage.QrImageError):
        qrimage.qr_matrix("SP2:" + "A" * 5000)
