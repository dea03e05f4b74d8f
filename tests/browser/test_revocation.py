"""A session ended elsewhere (revoked, or by refresh-token theft) ends in this browser too."""

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

TARGET = "/dashboard?view=revoked"


async def revoke_from_second_context(
    site: Site, new_context: ContextFactory, email: str, handle: str, javascript: bool
) -> None:
    """Sign in as the same user in a second context and sign the first one out on /sessions.

    With JavaScript the row's button sends `hx-delete` and the list is swapped in; without it
    the same button posts to `/sessions/<handle>/revoke` and the page re-renders.
    """
    other = await (await new_context(java_script_enabled=javascript)).new_page()
    await other.goto(login_url_for("/sessions"))
    await sign_in(other, email)
    await other.wait_for_url(site.path("/sessions"))
    rows = other.locator("#sessions-list tbody tr")
    await expect(rows).to_have_count(2)
    await expect(other.locator("tr[aria-current=true]")).not_to_have_id(f"session-{handle}")

    await other.locator(f"#session-{handle}").get_by_role("button", name="Sign out").click()
    await expect(
        other.get_by_role("status").filter(has_text="Signed out 1 session.")
    ).to_be_visible()
    await expect(rows).to_have_count(1)
    await expect(other.locator(f"#session-{handle}")).to_have_count(0)
    expected_url = "/sessions" if javascript else f"/sessions/{handle}/revoke"
    assert other.url == site.path(expected_url)


async def revoked_elsewhere(
    site: Site, new_context: ContextFactory, page: Page, revoker_javascript: bool
) -> tuple[str, dict[str, str]]:
    """Sign up in `page`, open the target page, revoke its session from a second context.

    Returns the email and the revoked session's card. The access token has expired on return:
    until then the revoked session's pages still verify (no core call).
    """
    email = unique_email("revoked")
    await sign_up(page, site, email)
    await page.goto(TARGET)
    card = await session_card(page)
    await revoke_from_second_context(
        site, new_context, email, card["session_handle"], revoker_javascript
    )
    assert card["session_handle"] not in site.session_handles(card["user_id"])
    await wait_for_access_token_expiry(page.context)
    return email, card


async def assert_on_login_then_sign_in_returns(
    site: Site, context: BrowserContext, page: Page, email: str, revoked_handle: str
) -> None:
    await expect(page).to_have_url(site.path(login_url_for(TARGET)), timeout=5_000)
    await expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert await cookie_value(context, "sAccessToken") is None
    assert await cookie_value(context, "sRefreshToken") is None

    await sign_in(page, email)
    await page.wait_for_url(site.path(TARGET))
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    assert (await session_card(page))["session_handle"] != revoked_handle


@pytest.mark.parametrize("revoker_javascript", [True, False], ids=["htmx-revoke", "no-js-revoke"])
async def test_page_after_revocation_lands_on_login_with_redirect_back_and_returns(
    site: Site,
    new_context: ContextFactory,
    context: BrowserContext,
    page: Page,
    revoker_javascript: bool,
) -> None:
    email, card = await revoked_elsewhere(site, new_context, page, revoker_javascript)
    await page.goto(TARGET)
    await assert_on_login_then_sign_in_returns(site, context, page, email, card["session_handle"])


async def test_fragment_after_revocation_lands_on_login_with_redirect_back_and_returns(
    site: Site, new_context: ContextFactory, context: BrowserContext, page: Page
) -> None:
    email, card = await revoked_elsewhere(site, new_context, page, revoker_javascript=True)
    # Stop the card's own polling (a clone is not processed by htmx), so that only the one
    # fragment request below can take the page anywhere.
    await page.evaluate(
        "() => { const c = document.querySelector('#session-card');"
        " c.replaceWith(c.cloneNode(true)); }"
    )
    await page.evaluate(
        """() => htmx.ajax("GET", "/dashboard/session",
                           {target: "#session-card", swap: "outerHTML"})"""
    )
    await assert_on_login_then_sign_in_returns(site, context, page, email, card["session_handle"])


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

    # Later (past the core's grace window for racing refreshes, as long as an access token here),
    # the thief replays the old cookies from another browser: theft detected, session revoked.
    await wait_for_access_token_expiry(context)
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
