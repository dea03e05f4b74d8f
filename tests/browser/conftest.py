"""Browser-test fixtures: a live site on loopback with 2-second access tokens, and Chromium.

- `site` (session): `python -m localcore --access-token-validity 2` and the app served by
  Hypercorn, both on free 127.0.0.1 ports, stopped by PID at the end. The site is browsed at
  http://127.0.0.1:PORT, which is also WEBSITE_DOMAIN and API_DOMAIN (host-only cookies on an IP).
- `browser` (session): Debian's /usr/bin/chromium, headless, driven by Playwright's async API
  inside pytest-asyncio (no pytest-playwright, no browser download).
- `new_context` / `context` / `page` (per test): fresh contexts, closed after the test.

Every module sets `pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]`:
the browser lives in the session's event loop, so the tests that use it run there too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.browser.helpers import (
    ACCESS_TOKEN_VALIDITY,
    CHROMIUM,
    CHROMIUM_ARGS,
    ContextFactory,
    Site,
    context_factory,
)
from tests.servers import app_process, free_port, localcore_process

# Explicit waits, generous enough for a loaded CI machine; no fixed sleeps.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A localcore with 2 s access tokens and the app in Hypercorn, on loopback; stopped by PID."""
    directory = tmp_path_factory.mktemp("browser-site")
    core_port = free_port()
    core = localcore_process(
        core_port,
        directory / "core.db",
        extra_args=["--access-token-validity", str(ACCESS_TOKEN_VALIDITY)],
        log_path=directory / "core.log",
    )
    core.start()
    try:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            "SUPERTOKENS_CONNECTION_URI": f"http://127.0.0.1:{core_port}",
            "WEBSITE_DOMAIN": url,
            "API_DOMAIN": url,
            "EMAIL_SINK": str(directory / "emails.jsonl"),
            "SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP": "1",
        }
        app_log = directory / "app.log"
        app = app_process(port, env, app_log)
        app.start()
        try:
            yield Site(url, f"http://127.0.0.1:{core_port}", app_log, env)
        finally:
            app.stop()
    finally:
        core.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the whole run."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/setup --browser")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def new_context(browser: Browser, site: Site) -> AsyncIterator[ContextFactory]:
    """Make fresh browser contexts for this test (desktop size by default); all closed after it."""
    async with context_factory(browser, site.url, 10_000) as make:
        yield make


@pytest_asyncio.fixture(loop_scope="session")
async def context(new_context: ContextFactory) -> BrowserContext:
    return await new_context()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: BrowserContext) -> Page:
    return await context.new_page()
