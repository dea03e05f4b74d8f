"""What the browser tests share: the live site's handle, launch settings and page helpers."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.servers import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ACCESS_TOKEN_VALIDITY = 2  # seconds: expiry is real and quick
PASSWORD = "correct-horse-1"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
CDI_HEADERS = {"cdi-version": "5.4"}


ContextFactory = Callable[..., Awaitable[BrowserContext]]


@asynccontextmanager
async def context_factory(
    browser: Browser, base_url: str, timeout_ms: float
) -> AsyncIterator[ContextFactory]:
    """Make fresh browser contexts (desktop size by default) for one test; all closed after it."""
    contexts: list[BrowserContext] = []

    async def make(**options: Any) -> BrowserContext:
        options.setdefault("viewport", DESKTOP)
        context = await browser.new_context(base_url=base_url, **options)
        context.set_default_timeout(timeout_ms)
        contexts.append(context)
        return context

    try:
        yield make
    finally:
        for context in contexts:
            await context.close()


@dataclass
class Site:
    """The live app (browsed at `url`) and its core."""

    url: str
    core_url: str
    app_log: Path
    app_env: dict[str, str]

    def path(self, location: str) -> str:
        return self.url + location

    def app_log_text(self) -> str:
        return self.app_log.read_text(errors="replace") if self.app_log.exists() else ""

    def core(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Call the core directly (CDI 5.4), as an operator or the SDK would."""
        response = httpx.request(
            method, self.core_url + path, headers=CDI_HEADERS, timeout=10, **kwargs
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def revoke_session(self, handle: str) -> None:
        body = self.core("POST", "/recipe/session/remove", json={"sessionHandles": [handle]})
        assert body == {"status": "OK", "sessionHandlesRevoked": [handle]}, body

    def session_handles(self, user_id: str) -> list[str]:
        body = self.core("GET", "/recipe/session/user", params={"userId": user_id})
        assert body["status"] == "OK", body
        handles: list[str] = body["sessionHandles"]
        return handles

    def create_admin(self, email: str, password: str = PASSWORD) -> str:
        """`python -m app create-admin EMAIL --password P` against this site's core."""
        result = subprocess.run(
            [sys.executable, "-m", "app", "create-admin", email, "--password", password],
            cwd=ROOT,
            env={**os.environ, **self.app_env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


def unique_email(label: str = "user") -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}@example.com"


def login_url_for(path: str) -> str:
    """The exact sign-in path the guard sends a visitor of `path` to."""
    return "/login?redirectBack=" + quote(path, safe="")


async def fill_credentials(page: Page, email: str, password: str = PASSWORD) -> None:
    form = page.locator("#auth-form")
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Password").fill(password)


async def assert_scripts_loaded(page: Page) -> None:
    """htmx, supertokens-web-js and app.js all ran (vendored assets missing: scripts/setup)."""
    loaded = await page.evaluate(
        "() => [typeof htmx, typeof supertokensSession, typeof appAuth].join()"
    )
    assert loaded == "object,object,object", f"scripts missing ({loaded}): run scripts/setup"


async def sign_up(page: Page, site: Site, email: str, scripts: bool = True) -> None:
    """Create an account through the sign-up page and land on the dashboard."""
    await page.goto("/signup")
    if scripts:
        await assert_scripts_loaded(page)
    await fill_credentials(page, email)
    await page.get_by_role("button", name="Create account").click()
    await page.wait_for_url(site.path("/dashboard"))
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()


async def sign_in(page: Page, email: str) -> None:
    """Submit the sign-in form on the current (sign-in) page."""
    await expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    await fill_credentials(page, email)
    await page.locator("#auth-form").get_by_role("button", name="Sign in").click()


async def cookie_value(context: BrowserContext, name: str) -> str | None:
    for cookie in await context.cookies():
        if cookie["name"] == name:
            return cookie["value"]
    return None


def jwt_payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return payload


async def wait_for_access_token_expiry(
    context: BrowserContext, validity: float = ACCESS_TOKEN_VALIDITY
) -> None:
    """Sleep until the context's access token has expired: the one fixed wait (about `validity`
    seconds, the site's access-token lifetime)."""
    token = await cookie_value(context, "sAccessToken")
    assert token, "no access token cookie to wait on"
    delay = jwt_payload(token)["exp"] - time.time() + 0.3
    await asyncio.sleep(max(0.0, min(delay, validity + 1.0)))


async def session_card(page: Page) -> dict[str, str]:
    """The facts on the dashboard's session card."""
    card = page.locator("#session-card")
    codes = card.locator("code")
    return {
        "user_id": await codes.nth(0).inner_text(),
        "session_handle": await codes.nth(1).inner_text(),
        "expires_at": await card.locator("time").get_attribute("datetime") or "",
    }
