"""htmx fragments after the access token expired: refreshed and swapped in place, never a login."""

from __future__ import annotations

import time

import pytest
from playwright.async_api import BrowserContext, Page, Request, expect

from tests.browser.helpers import (
    Site,
    cookie_value,
    session_card,
    sign_up,
    unique_email,
    wait_for_access_token_expiry,
)

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

MARKER = "window.__pageMarker"


def record_requests(page: Page, site: Site) -> list[str]:
    """'METHOD path' of every request the page makes from now on."""
    seen: list[str] = []

    def on_request(request: Request) -> None:
        seen.append(f"{request.method} {request.url.removeprefix(site.url)}")

    page.on("request", on_request)
    return seen


async def fetch_card_at(page: Page, epoch_ms: int) -> None:
    """Have htmx GET the session card (as its poll does) at the wall-clock time `epoch_ms`."""
    await page.evaluate(
        """(at) => {
            setTimeout(() => htmx.ajax("GET", "/dashboard/session",
                                       {target: "#session-card", swap: "outerHTML"}),
                       Math.max(0, at - Date.now()));
        }""",
        epoch_ms,
    )


async def test_polled_fragment_after_expiry_is_refreshed_and_swapped_in_place(
    site: Site, context: BrowserContext, page: Page
) -> None:
    await sign_up(page, site, unique_email("poll"))
    before = await session_card(page)
    old_token = await cookie_value(context, "sAccessToken")
    await page.evaluate(f"{MARKER} = 'kept'")
    requests = record_requests(page, site)
    await wait_for_access_token_expiry(context)

    # The card's own `every 5s` poll fires with the expired token; wait for the new card.
    card_time = page.locator("#session-card time")
    await expect(card_time).not_to_have_attribute("datetime", before["expires_at"])

    assert page.url == site.path("/dashboard")
    assert await page.evaluate(MARKER) == "kept", "the page was reloaded"
    after = await session_card(page)
    assert after["session_handle"] == before["session_handle"]
    await expect(page.locator("#session-card")).to_have_count(1)
    await expect(page.locator("#auth-form")).to_have_count(0)
    await expect(page.get_by_role("heading", name="Sign in")).to_have_count(0)
    assert await cookie_value(context, "sAccessToken") not in (None, old_token)
    # 401 to the poll, the SDK's refresh, the replayed poll; no page load, no sign-in page.
    assert requests[:3] == [
        "GET /dashboard/session",
        "POST /auth/session/refresh",
        "GET /dashboard/session",
    ], requests
    assert not any(r.startswith("GET /login") or r == "GET /dashboard" for r in requests)


async def test_two_tabs_firing_fragments_together_after_expiry_both_recover(
    site: Site, context: BrowserContext, page: Page
) -> None:
    await sign_up(page, site, unique_email("tabs"))
    second = await context.new_page()
    await second.goto("/dashboard")
    before = await session_card(page)
    tabs = (page, second)
    requests = {tab: record_requests(tab, site) for tab in tabs}
    for tab in tabs:
        await tab.evaluate(f"{MARKER} = 'kept'")
    await wait_for_access_token_expiry(context)

    at = int(time.time() * 1000) + 300
    for tab in tabs:
        await fetch_card_at(tab, at)
    for tab in tabs:
        await expect(tab.locator("#session-card time")).not_to_have_attribute(
            "datetime", before["expires_at"]
        )

    for tab in tabs:
        assert tab.url == site.path("/dashboard")
        assert await tab.evaluate(MARKER) == "kept"
        assert (await session_card(tab))["session_handle"] == before["session_handle"]
        await expect(tab.locator("#auth-form")).to_have_count(0)
    # One session remains, the same one, and the app saw no refresh-token reuse.
    assert site.session_handles(before["user_id"]) == [before["session_handle"]]
    assert "refresh token reuse" not in site.app_log_text()
    refreshes = sum(r == "POST /auth/session/refresh" for tab in tabs for r in requests[tab])
    assert 1 <= refreshes <= 2, requests
    # And both tabs still have a working session for a full page load.
    for tab in tabs:
        await tab.goto("/dashboard")
        assert tab.url == site.path("/dashboard")
        assert (await session_card(tab))["session_handle"] == before["session_handle"]
