"""Fixtures every test may use: databases on both backends, headless Chromium.

One PostgreSQL serves the whole run. The pytest process that owns the run (the xdist controller, or
the only process without xdist) starts it in `pytest_configure` - before xdist spawns its workers -
and publishes its URL in SKILLPASS_TEST_POSTGRES_URL, which the workers inherit. If that variable is
already set, the server it names is used and left alone.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import browser as _browser
from harness.postgres import ENV_VAR, PostgresServer, fresh_database, start_postgres
from hypothesis import HealthCheck, settings
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

# Property tests are deterministic unless a developer asks otherwise: the same examples on every run
# (derandomized, no example database), no deadline and no speed health check, because a loaded
# 2-core machine slows generation and a suite that fails by chance cannot stop a regression.
# `HYPOTHESIS_PROFILE=explore scripts/test` draws fresh random examples to hunt for new failures.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_SERVER_KEY = pytest.StashKey[PostgresServer]()
_BROWSER_FIXTURES = frozenset({"browser", "launch_chromium", "page"})


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or os.environ.get(ENV_VAR):
        return
    if config.getoption("help") or config.getoption("collectonly"):
        return
    server = start_postgres()
    config.stash[_SERVER_KEY] = server
    os.environ[ENV_VAR] = server.url


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(_SERVER_KEY, None)
    if server is not None:
        del config.stash[_SERVER_KEY]
        os.environ.pop(ENV_VAR, None)
        server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that drive Chromium are marked `browser` by their fixtures, so nobody forgets the mark."""
    for item in items:
        if _BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """SQLAlchemy URL of the shared server's `postgres` database (for tests that manage databases)."""
    url = os.environ.get(ENV_VAR)
    if not url:
        pytest.fail(
            f"{ENV_VAR} is not set: the test PostgreSQL was not started. Run the tests with scripts/test "
            "or plain pytest from the repository (tests/conftest.py starts it).",
            pytrace=False,
        )
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL to an empty database: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    server_url: str = request.getfixturevalue("postgres_server_url")
    with fresh_database(server_url) as url:
        yield url


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Playwright]:
    if _running_loop():
        pytest.fail("Playwright's sync API cannot run inside a running asyncio loop", pytrace=False)
    playwright = sync_playwright().start()
    yield playwright
    playwright.stop()


@pytest.fixture(scope="session")
def browser(_playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium per worker; open a new context or page per test."""
    chromium = _browser.launch(_playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies or storage shared with other tests)."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def launch_chromium(_playwright: Playwright) -> Iterator[Callable[[list[str]], Browser]]:
    """Launch Chromium with extra flags, e.g. `harness.browser.fake_camera_args(file)`; closed after."""
    launched: list[Browser] = []

    def launch(extra_args: list[str]) -> Browser:
        chromium = _browser.launch(_playwright, extra_args)
        launched.append(chromium)
        return chromium

    yield launch
    for chromium in launched:
        chromium.close()


def _running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
