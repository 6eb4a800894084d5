"""Shared test helpers: a real PostgreSQL, HTTP servers on loopback, a fault-injecting proxy standing in
for the network, headless Chromium, fake-camera video.

Import from the modules (`harness.postgres`, `harness.servers`, `harness.faulty_proxy`,
`harness.browser`, `harness.y4m`); the fixtures built on them live in `tests/conftest.py`.
"""
