"""YUV4MPEG2 video files from Pillow images, for Chromium's fake camera.

Chromium's `--use-file-for-fake-video-capture` plays a .y4m file in a loop as the webcam, which lets the
verifier page's QR scanner be tested with a real getUserMedia stream. The format is trivial: a text
header, then per frame "FRAME\\n" and the raw Y, Cb and Cr planes (chroma at half resolution, 4:2:0).

We write studio-range BT.601 (Y 16-235, Cb/Cr 16-240), which is what Chromium assumes for camera
frames, so the colours a page draws from the stream match the images we started from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image

__all__ = ["Y4MError", "write_y4m"]


class Y4MError(ValueError):
    """The frames cannot be written as 4:2:0 video (empty, odd or mismatched sizes)."""


def write_y4m(path: Path | str, frames: Sequence[Image.Image], fps: int = 10) -> None:
    """Write `frames` (all the same even width and height) as a C420jpeg YUV4MPEG2 file at `fps`."""
    width, height = _check_frames(frames, fps)
    header = f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii")
    with Path(path).open("wb") as out:
        out.write(header)
        for frame in frames:
            out.write(b"FRAME\n")
            out.write(_planes(frame))


def _check_frames(frames: Sequence[Image.Image], fps: int) -> tuple[int, int]:
    if not frames:
        raise Y4MError("a video needs at least one frame")
    if fps <= 0:
        raise Y4MError(f"fps must be positive, got {fps}")
    width, height = frames[0].size
    if width % 2 or height % 2 or width == 0 or height == 0:
        raise Y4MError(f"4:2:0 needs even, non-zero dimensions, got {width}x{height}")
    for index, frame in enumerate(frames):
        if frame.size != (width, height):
            raise Y4MError(f"frame {index} is {frame.size}, frame 0 is {(width, height)}")
    return width, height


def _planes(frame: Image.Image) -> bytes:
    """Pillow's YCbCr is full-range (JFIF); squeeze it into studio range, then halve the chroma."""
    y, cb, cr = frame.convert("RGB").convert("YCbCr").split()
    half = (frame.width // 2, frame.height // 2)
    luma = y.point(lambda v: 16 + v * 219 // 255)
    chroma = [c.resize(half, Image.Resampling.BOX).point(lambda v: 16 + v * 224 // 255) for c in (cb, cr)]
    return luma.tobytes() + chroma[0].tobytes() + chroma[1].tobytes()
