"""Shared test helpers: a real PostgreSQL, HTTP servers on loopback, headless Chromium, fake-camera video.

Import from the modules (`harness.postgres`, `harness.servers`, `harness.browser`, `harness.y4m`); the
fixtures built on them live in `tests/conftest.py`.
"""
