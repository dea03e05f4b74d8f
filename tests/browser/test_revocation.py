"""A session ended elsewhere (revoked, or by refresh-token theft) ends in this browser too."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.browser.conftest import ContextFactory
from tests.browser.helpers import (
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


async def revoke_from_second_context(
    site: Site, new_context: ContextFactory, email: str, handle: str
) -> None:
    """Sign in as the same user in a second context and revoke the first context's session."""
    other = await (await new_context()).new_page()
    await other.goto(login_url_for("/dashboard"))
    await sign_in(other, email)
    await other.wait_for_url(site.path("/dashboard"))
    assert (await session_card(other))["session_handle"] != handle
    # No sessions page yet: revoke through the core, as the app's revoke action would.
    site.revoke_session(handle)


@pytest.mark.parametrize("via", ["fragment", "page"])
async def test_revoked_session_lands_on_login_with_redirect_back_and_returns(
    site: Site, new_context: ContextFactory, context: BrowserContext, page: Page, via: str
) -> None:
    email = unique_email(f"revoked-{via}")
    await sign_up(page, site, email)
    await page.goto("/dashboard?view=revoked")
    card = await session_card(page)
    await revoke_from_second_context(site, new_context, email, card["session_handle"])
    # Until its access token expires the revoked session's pages still verify (no core call);
    # after that the refresh fails.
    await wait_for_access_token_expiry(context)

    if via == "fragment":
        await page.evaluate(
            """() => htmx.ajax("GET", "/dashboard/session",
                               {target: "#session-card", swap: "outerHTML"})"""
        )
    else:
        await page.goto("/dashboard?view=revoked")
    target = "/dashboard?view=revoked"
    await page.wait_for_url(site.path(login_url_for(target)))
    await expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert await cookie_value(context, "sAccessToken") is None
    assert await cookie_value(context, "sRefreshToken") is None

    await sign_in(page, email)
    await page.wait_for_url(site.path(target))
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    assert (await session_card(page))["session_handle"] != card["session_handle"]


async def test_replayed_old_refresh_token_ends_the_session_in_both_contexts(
    site: Site, new_context: ContextFactory, context: BrowserContext, page: Page
) -> None:
    await sign_up(page, site, unique_email("theft"))
    card = await session_card(page)
    stolen = await context.cookies()  # the first refresh token, and its access token

    # The victim refreshes once (full page hop); the landing page's verify promotes the new token.
    await wait_for_access_token_expiry(context)
    await page.goto("/dashboard")
    assert page.url == site.path("/dashboard")
    assert await cookie_value(context, "sRefreshToken") != next(
        c["value"] for c in stolen if c["name"] == "sRefreshToken"
    )

    # The thief replays the old cookies from another browser: theft detected, session revoked.
    thief_context = await new_context()
    await thief_context.add_cookies(stolen)  # type: ignore[arg-type]
    thief = await thief_context.new_page()
    await thief.goto("/dashboard")
    await thief.wait_for_url(site.path(login_url_for("/dashboard")))
    await expect(thief.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert site.session_handles(card["user_id"]) == []
    assert f"refresh token reuse: session {card['session_handle']} revoked" in site.app_log_text()

    # The victim's next page after its access token expires needs a refresh, which now fails.
    await wait_for_access_token_expiry(context)
    await page.goto("/dashboard")
    await page.wait_for_url(site.path(login_url_for("/dashboard")))
    await expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert await cookie_value(context, "sRefreshToken") is None
