"""/admin: a 403 page for a signed-in user without the admin role, the user list for an admin."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.helpers import (
    PASSWORD,
    Site,
    assert_scripts_loaded,
    login_url_for,
    sign_in,
    sign_up,
    unique_email,
)

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_non_admin_gets_the_403_page(site: Site, page: Page) -> None:
    await sign_up(page, site, unique_email("plain"))
    await expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        ["Dashboard", "Account", "Sessions"]
    )

    response = await page.goto("/admin")

    assert response is not None and response.status == 403
    assert page.url == site.path("/admin")  # an error page, not a redirect to sign in
    await expect(page.get_by_role("heading", name="Forbidden", level=1)).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("Error 403")
    await expect(page.get_by_role("table")).to_have_count(0)
    # Still signed in: the next page is the dashboard, not a sign-in.
    await page.get_by_role("link", name="Go to the home page").click()
    await expect(page.get_by_role("link", name="Go to your dashboard")).to_be_visible()


async def test_403_page_keeps_the_signed_in_header(site: Site, page: Page) -> None:
    email = unique_email("plain403")
    await sign_up(page, site, email)
    await page.goto("/admin")
    await expect(page.get_by_role("heading", name="Forbidden", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("button", name="Sign out")).to_be_visible(timeout=2_000)
    await expect(nav.get_by_role("link", name="Sign in")).to_have_count(0)


async def test_admin_sees_the_admin_page_and_searches_users_in_place(
    site: Site, page: Page
) -> None:
    other = unique_email("listed")
    await sign_up(page, site, other)
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(site.path("/login"))
    admin = unique_email("admin")
    assert "granted admin" in site.create_admin(admin, PASSWORD)

    await page.goto("/admin")
    await page.wait_for_url(site.path(login_url_for("/admin")))
    await sign_in(page, admin)
    await page.wait_for_url(site.path("/admin"))
    await expect(page.get_by_role("heading", name="Administration", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Admin")).to_have_attribute("aria-current", "page")
    table = page.locator("#users-table")
    await expect(table.get_by_role("row").filter(has_text=admin)).to_contain_text("admin")

    # The search form swaps the table in place (htmx), without leaving the page.
    await assert_scripts_loaded(page)
    await page.evaluate("window.__pageMarker = 'kept'")
    await page.get_by_label("Find a user by email").fill(other)
    await page.get_by_role("button", name="Search").click()
    await expect(table.get_by_role("heading")).to_have_text(f"Users matching “{other}”")
    await expect(table.locator("tbody tr")).to_have_count(1)
    await expect(table.locator("tbody tr")).to_contain_text(other)
    assert page.url == site.path("/admin")
    assert await page.evaluate("window.__pageMarker") == "kept"
