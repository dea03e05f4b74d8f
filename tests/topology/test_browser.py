"""Chromium against the production shape: https, HTTP/2, shared cookies across www and api.

Pages come from two pages-only web instances on www.example.test; the SDK's API from the API
process on api.example.test; nginx terminates TLS in front of both (tests/topology/stack.py).
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.async_api import BrowserContext, Page, Request, Response, expect

from tests.browser.helpers import (
    ContextFactory,
    cookie_value,
    fill_credentials,
    session_card,
    unique_email,
    wait_for_access_token_expiry,
)
from tests.topology.stack import (
    ACCESS_TOKEN_VALIDITY,
    API,
    WWW,
    WWW_HOST,
    Topology,
)

pytestmark = [
    pytest.mark.topology,
    pytest.mark.browser,
    pytest.mark.asyncio(loop_scope="session"),
]

SESSION_COOKIES = ("sAccessToken", "sRefreshToken")


class Navigation:
    """Every redirect and HX-Redirect target the page receives, and every request it makes."""

    def __init__(self, page: Page) -> None:
        self.targets: list[str] = []
        self.requests: list[str] = []
        page.on("response", self._on_response)
        page.on("request", self._on_request)

    def _on_response(self, response: Response) -> None:
        headers = response.headers
        if 300 <= response.status < 400 and "location" in headers:
            self.targets.append(urljoin(response.url, headers["location"]))
        if "hx-redirect" in headers:
            self.targets.append(urljoin(response.url, headers["hx-redirect"]))

    def _on_request(self, request: Request) -> None:
        self.requests.append(f"{request.method} {request.url}")

    def assert_targets_on_www(self) -> None:
        assert self.targets, "no redirect seen"
        for target in self.targets:
            parts = urlsplit(target)
            assert (parts.scheme, parts.netloc) == ("https", WWW_HOST), target


async def sign_up(page: Page, email: str) -> None:
    await page.goto("/signup")
    await fill_credentials(page, email)
    await page.get_by_role("button", name="Create account").click()
    await page.wait_for_url(f"{WWW}/dashboard")
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()


async def wait_for_expiry(context: BrowserContext) -> None:
    await wait_for_access_token_expiry(context, ACCESS_TOKEN_VALIDITY)


async def api_session_status(page: Page) -> int:
    """GET the SDK's email-verify API on api.example.test: 200 only with a valid session cookie."""
    response = await page.goto(f"{API}/auth/user/email/verify")
    assert response is not None
    if response.status == 200:
        body = json.loads(await response.text())
        assert body["status"] == "OK", body
    return response.status


def dashboard_renders(topology: Topology) -> dict[str, int]:
    """How many signed-in dashboard renders each web instance has logged so far."""
    return {
        name: len(re.findall(r'"GET /dashboard 1\.1" 200', topology.log_text(name)))
        for name in ("web1", "web2")
    }


async def test_javascript_off_sign_in_refresh_and_sign_out_across_both_hosts(
    topology: Topology, new_context: ContextFactory
) -> None:
    context = await new_context(java_script_enabled=False)
    page = await context.new_page()
    navigation = Navigation(page)
    await sign_up(page, unique_email("nojs"))

    cookies = {cookie["name"]: cookie for cookie in await context.cookies()}
    for name in SESSION_COOKIES:
        assert cookies[name]["domain"] == ".example.test", cookies[name]
        assert cookies[name]["secure"] is True
        assert cookies[name]["httpOnly"] is True
        assert cookies[name]["sameSite"] == "Lax"
    card = await session_card(page)
    # Sent to api.example.test too: the SDK's API there verifies the same session.
    assert await api_session_status(page) == 200

    # Expired access token, no JavaScript: the server-side refresh hop on www.
    await page.goto("/dashboard")
    await wait_for_expiry(context)
    old_token = await cookie_value(context, "sAccessToken")
    hops_before = len(navigation.targets)
    response = await page.goto("/dashboard")
    assert response is not None and response.status == 200
    assert page.url == f"{WWW}/dashboard"
    hops = navigation.targets[hops_before:]
    assert [urlsplit(target).path for target in hops] == ["/auth/session/refresh", "/dashboard"]
    assert await cookie_value(context, "sAccessToken") != old_token
    assert (await session_card(page))["session_handle"] == card["session_handle"]
    assert await api_session_status(page) == 200

    # Sign-out on www ends the session for both hosts and in the core.
    await page.goto("/dashboard")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{WWW}/login")
    assert topology.session_handles(card["user_id"]) == []
    assert await api_session_status(page) == 401
    await page.goto("/dashboard")
    assert urlsplit(page.url).path == "/login"

    navigation.assert_targets_on_www()


async def test_javascript_on_a_fragment_is_refreshed_by_web_js_on_the_api_host(
    topology: Topology, new_context: ContextFactory
) -> None:
    context = await new_context()
    page = await context.new_page()
    navigation = Navigation(page)
    email = unique_email("js")
    await sign_up(page, email)
    protocol = await page.evaluate("performance.getEntriesByType('navigation')[0].nextHopProtocol")
    assert protocol == "h2"
    before = await session_card(page)
    await page.evaluate("window.__pageMarker = 'kept'")
    await wait_for_expiry(context)
    requests_before = len(navigation.requests)

    await page.evaluate(
        'htmx.ajax("GET", "/dashboard/session", {target: "#session-card", swap: "outerHTML"})'
    )

    card_time = page.locator("#session-card time")
    await expect(card_time).not_to_have_attribute("datetime", before["expires_at"])
    assert await page.evaluate("window.__pageMarker") == "kept"  # swapped in place, no reload
    made = navigation.requests[requests_before:]
    assert f"POST {API}/auth/session/refresh" in made, made
    assert not any("/login" in request for request in made), made
    assert (await session_card(page))["session_handle"] == before["session_handle"]

    # Revoked elsewhere: web-js's refresh on the API host fails, and the page goes to www's
    # sign-in page with itself as redirectBack; signing in there returns to it.
    topology.revoke_session(before["session_handle"])
    await wait_for_expiry(context)
    await page.evaluate(
        'htmx.ajax("GET", "/dashboard/session", {target: "#session-card", swap: "outerHTML"})'
    )
    await page.wait_for_url(f"{WWW}/login?redirectBack=%2Fdashboard")
    await fill_credentials(page, email)
    await page.locator("#auth-form").get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{WWW}/dashboard")

    # Sign-out from the page lands on www's sign-in page and ends the session on both hosts.
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{WWW}/login")
    assert topology.session_handles(before["user_id"]) == []
    assert await api_session_status(page) == 401
    navigation.assert_targets_on_www()


async def test_pages_render_on_whichever_instance_answers(
    topology: Topology, new_context: ContextFactory
) -> None:
    context = await new_context(java_script_enabled=False)
    page = await context.new_page()
    email = unique_email("balance")
    await sign_up(page, email)
    before = dashboard_renders(topology)

    for _ in range(6):
        response = await page.goto("/dashboard")
        assert response is not None and response.status == 200
        await expect(page.get_by_text(email).first).to_be_visible()

    after = dashboard_renders(topology)
    assert all(after[name] > before[name] for name in after), (before, after)


async def test_a_cookie_domain_change_leaves_no_duplicate_cookie_loop(
    topology: Topology, new_context: ContextFactory
) -> None:
    """The release before set Domain=www.example.test; this one sets .example.test and has
    OLDER_COOKIE_DOMAIN=www.example.test, so the SDK clears the old pair once."""
    # A session from the release before, in cookies on Domain=www.example.test...
    earlier = await new_context(java_script_enabled=False)
    await sign_up(await earlier.new_page(), unique_email("earlier"))
    old = [c for c in await earlier.cookies() if c["name"] in SESSION_COOKIES]
    # ...beside this release's session (Domain=.example.test) in the same browser.
    context = await new_context(java_script_enabled=False)
    page = await context.new_page()
    email = unique_email("moved")
    await sign_up(page, email)
    await context.add_cookies(
        [
            {
                "name": c["name"],
                "value": c["value"],
                "domain": f".{WWW_HOST}",
                "path": c["path"],
                "secure": True,
                "httpOnly": True,
                "sameSite": "Lax",
                "expires": time.time() + 3600,
            }
            for c in old
        ]
    )
    domains = {(c["name"], c["domain"]) for c in await context.cookies()}
    assert ("sAccessToken", f".{WWW_HOST}") in domains
    assert ("sAccessToken", ".example.test") in domains

    navigation = Navigation(page)
    await wait_for_expiry(context)
    response = await page.goto("/dashboard")

    assert response is not None and response.status == 200
    assert page.url == f"{WWW}/dashboard"
    assert len(navigation.targets) <= 4, navigation.targets  # clear, retry, refresh, back
    left = {
        (c["name"], c["domain"]) for c in await context.cookies() if c["name"] in SESSION_COOKIES
    }
    assert left == {(name, ".example.test") for name in SESSION_COOKIES}
    await expect(page.get_by_text(email).first).to_be_visible()
    for _ in range(3):  # and it stays settled
        again = await page.goto("/dashboard")
        assert again is not None and again.status == 200 and page.url == f"{WWW}/dashboard"
    navigation.assert_targets_on_www()
