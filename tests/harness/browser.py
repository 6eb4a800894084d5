"""Headless Chromium from the system package, driven by Playwright's sync API.

We never let Playwright download a browser (the CI machine has no network): we launch Debian's
/usr/bin/chromium. The flags keep Chromium from reaching for the network or for hardware it does not
have, and from needing a sandbox that containers running as root cannot provide.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from playwright.sync_api import Browser, Playwright

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "fake_camera_args", "launch"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def fake_camera_args(y4m_file: Path | str) -> list[str]:
    """Flags that make getUserMedia succeed without a prompt and stream `y4m_file` as the camera."""
    return [
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m_file}",
        "--use-fake-ui-for-media-stream",
    ]


def launch(playwright: Playwright, extra_args: Sequence[str] = ()) -> Browser:
    """Launch the system Chromium headless with our standard flags plus `extra_args`."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )
