"""Fixtures for the production shape: the whole topology once per run, and a Chromium that knows it.

- `topology` (session): tests/topology/stack.py's processes, stopped by PID at the end.
- `site_browser` (session): Debian's Chromium resolving www/api.example.test to the proxy and
  ignoring certificate errors for the test leaf key only.
- `new_context` (per test): fresh browser contexts, JavaScript on unless told otherwise.

nginx and Chromium come from Debian (scripts/setup --browser installs both).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright, expect

from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, ContextFactory, context_factory
from tests.topology.stack import NGINX, WWW, Topology, start_topology

expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    if not Path(NGINX).exists():
        pytest.skip(f"{NGINX} is missing: run scripts/setup --browser")
    running = start_topology(tmp_path_factory.mktemp("topology"))
    try:
        yield running
    finally:
        running.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def site_browser(topology: Topology) -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/setup --browser")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, *topology.chromium_args()],
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def new_context(site_browser: Browser) -> AsyncIterator[ContextFactory]:
    async with context_factory(site_browser, WWW, 15_000) as make:
        yield make
