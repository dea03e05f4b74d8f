"""Signing up, out and in again in a real browser, with JavaScript on and off."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.browser.helpers import (
    ContextFactory,
    Site,
    cookie_value,
    login_url_for,
    session_card,
    sign_in,
    sign_up,
    unique_email,
    wait_for_access_token_expiry,
)

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_sign_up_sign_out_back_button_and_sign_in_again(
    site: Site, context: BrowserContext, page: Page
) -> None:
    email = unique_email("back")
    await sign_up(page, site, email)
    card = await session_card(page)
    await expect(page.get_by_text(email).first).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(site.path("/login"))
    assert await cookie_value(context, "sAccessToken") is None

    await page.go_back()
    await page.wait_for_load_state()
    print("after back:", page.url)
    content = await page.content()
    assert email not in content
    assert card["session_handle"] not in content
    assert card["user_id"] not in content
    await expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert page.url == site.path(login_url_for("/dashboard"))

    await sign_in(page, email)
    await page.wait_for_url(site.path("/dashboard"))
    await expect(page.get_by_text(email).first).to_be_visible()


async def test_full_page_after_expiry_refreshes_without_a_login_step(
    site: Site, context: BrowserContext, page: Page
) -> None:
    await sign_up(page, site, unique_email("expiry"))
    handle = (await session_card(page))["session_handle"]
    old_token = await cookie_value(context, "sAccessToken")
    documents: list[str] = []
    page.on(
        "request",
        lambda request: (
            documents.append(request.url.removeprefix(site.url))
            if request.resource_type == "document"
            else None
        ),
    )
    await wait_for_access_token_expiry(context)

    await page.goto("/dashboard?tab=1")

    assert page.url == site.path("/dashboard?tab=1")
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    assert (await session_card(page))["session_handle"] == handle  # the same session, refreshed
    new_token = await cookie_value(context, "sAccessToken")
    assert new_token and new_token != old_token
    # One server-side refresh hop, and no sign-in page anywhere in the chain.
    assert documents == [
        "/dashboard?tab=1",
        "/auth/session/refresh?redirectBack=%2Fdashboard%3Ftab%3D1",
        "/dashboard?tab=1",
    ]


async def test_without_javascript_sign_in_expiry_and_sign_out(
    site: Site, new_context: ContextFactory
) -> None:
    context = await new_context(java_script_enabled=False)
    page = await context.new_page()
    email = unique_email("nojs")
    await sign_up(page, site, email, scripts=False)  # a plain form POST and a 303
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(site.path("/login"))

    # Sign in from a protected page: the plain form carries redirectBack through.
    await page.goto("/dashboard?from=nojs")
    assert page.url == site.path(login_url_for("/dashboard?from=nojs"))
    await sign_in(page, email)
    await page.wait_for_url(site.path("/dashboard?from=nojs"))
    handle = (await session_card(page))["session_handle"]

    # Expiry on navigation: a click on a plain link goes through the server-side refresh hop.
    old_token = await cookie_value(context, "sAccessToken")
    await wait_for_access_token_expiry(context)
    await page.get_by_role("link", name="Dashboard").click()
    await page.wait_for_url(site.path("/dashboard"))
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    assert (await session_card(page))["session_handle"] == handle
    assert await cookie_value(context, "sAccessToken") not in (None, old_token)

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(site.path("/login"))
    assert await cookie_value(context, "sAccessToken") is None
    await page.goto("/dashboard")
    assert page.url == site.path(login_url_for("/dashboard"))
