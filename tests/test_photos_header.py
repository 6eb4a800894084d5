"""Photos read by the fast header reader (``issuer.photos``) get exactly the answer Pillow's path gives."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from issuer import photos


def test_a_jpeg_under_8_px_a_side_is_too_small_not_a_crash(tmp_path: Path) -> None:
    """Pillow's ``draft`` divided by zero when asked for 1/8 of a side under 8 px."""
    for size in ((5, 600), (600, 5), (1, 1)):
        out = io.BytesIO()
        Image.new("RGB", size).save(out, format="JPEG")
        (tmp_path / "tiny.jpg").write_bytes(out.getvalue())
        found = photos.problem(photos.PhotoSource(tmp_path), "tiny.jpg")
        assert found is not None and found[0] == "photo_too_small", size
