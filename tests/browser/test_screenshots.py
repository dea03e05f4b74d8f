"""Every page at desktop (1280x800) and phone (390x844) width: laid out without sideways scrolling.

With UPDATE_SCREENSHOTS=1 the test also (re)writes viewport screenshots into docs/screenshots/
as `<page>-desktop.png` and `<page>-phone.png`:

    UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_screenshots.py
"""

from __future__ import annotations

import os

import pytest
from playwright.async_api import Page, expect

from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    ContextFactory,
    Site,
    fill_credentials,
    login_url_for,
    sign_in,
    sign_up,
    unique_email,
)
from tests.servers import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

SCREENSHOTS = ROOT / "docs" / "screenshots"
UPDATE = os.environ.get("UPDATE_SCREENSHOTS") == "1"

# name -> (path, heading that shows the page rendered)
SIGNED_OUT_PAGES = {
    "home": ("/", "Server-rendered pages with SuperTokens sessions"),
    "login": ("/login", "Sign in"),
    "signup": ("/signup", "Create an account"),
    "forgot-password": ("/forgot-password", "Reset your password"),
    "reset-password": ("/reset-password?token=screenshot-token", "Choose a new password"),
    "verify-email": ("/verify-email", "Verify your email address"),
    "not-found": ("/no-such-page", "Not found"),
}
SIGNED_IN_PAGES = {
    "home-signed-in": ("/", "Server-rendered pages with SuperTokens sessions"),
    "dashboard": ("/dashboard", "Dashboard"),
    "account": ("/account", "Your account"),
    "sessions": ("/sessions", "Your sessions"),
    "admin-forbidden": ("/admin", "Forbidden"),
}
ADMIN_PAGES = {"admin": ("/admin", "Administration")}


async def check_and_photograph(page: Page, name: str, size: str) -> None:
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size} width"
    if UPDATE:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / f"{name}-{size}.png", animations="disabled")


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_pages_fit_the_screen_and_screenshots(
    site: Site, new_context: ContextFactory, size: str
) -> None:
    if size == "phone":
        context = await new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    else:
        context = await new_context(viewport=DESKTOP)
    page = await context.new_page()

    for name, (path, heading) in SIGNED_OUT_PAGES.items():
        await page.goto(path)
        await expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        await check_and_photograph(page, name, size)

    # The sign-in form with its error, as a user sees it after a wrong password.
    await page.goto("/login")
    await fill_credentials(page, unique_email("nobody"), "wrong-password-1")
    await page.locator("#auth-form").get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("Incorrect email or password")
    await check_and_photograph(page, "login-error", size)

    await sign_up(page, site, unique_email(f"shots-{size}"))
    for name, (path, heading) in SIGNED_IN_PAGES.items():
        await page.goto(path)
        await expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        await check_and_photograph(page, name, size)

    await page.goto("/dashboard")  # (the 403 page lacks the Sign out button: see test_admin.py)
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(site.path("/login"))
    admin = unique_email(f"admin-{size}")
    site.create_admin(admin)
    for name, (path, heading) in ADMIN_PAGES.items():
        await page.goto(path)
        if page.url == site.path(login_url_for(path)):
            await sign_in(page, admin)
            await page.wait_for_url(site.path(path))
        await expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        await check_and_photograph(page, name, size)
