"""Cross-origin protection, sign-in/out through htmx, legacy and duplicate cookies, and
custom-header CSRF.

Through the real SDK and a running localcore, for each kind of request the browser makes
(a page load, an htmx fragment, a boosted navigation, a history restore) where it matters.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from quart import Quart

from app.config import Settings
from tests.guard.conftest import (
    ORIGIN,
    PASSWORD,
    cookie,
    set_cookie,
    sign_up,
    started_app,
    wait_for_expiry,
)

# --- cross-origin protection ---


@pytest.mark.parametrize(
    "headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}]
)
@pytest.mark.parametrize(
    "path", ["/login", "/signup", "/logout", "/auth/signin", "/auth/session/refresh"]
)
async def test_cross_origin_posts_are_refused(
    guard_app: Quart, path: str, headers: dict[str, str]
) -> None:
    response = await guard_app.test_client().post(
        path, form={"email": "a@example.test", "password": PASSWORD}, headers=headers
    )

    assert response.status_code == 403


async def test_same_origin_post_passes(guard_app: Quart) -> None:
    response = await guard_app.test_client().post(
        "/signup",
        form={"email": "same@example.test", "password": PASSWORD},
        headers={"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"},
    )

    assert response.status_code == 303


async def test_htmx_sign_in_answers_hx_redirect_not_3xx(guard_app: Quart) -> None:
    client = guard_app.test_client()
    await sign_up(client, "htmx@example.test")
    other = guard_app.test_client()

    response = await other.post(
        "/login",
        form={"email": "htmx@example.test", "password": PASSWORD, "redirectBack": "/sessions"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/sessions"


async def test_signed_in_user_opening_login_goes_to_dashboard(guard_app: Quart) -> None:
    client = guard_app.test_client()
    await sign_up(client)

    response = await client.get("/login")

    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard"


async def test_sign_out_revokes_and_clears(guard_app: Quart) -> None:
    client = guard_app.test_client()
    await sign_up(client)
    old_access = cookie(client, "sAccessToken")

    response = await client.post("/logout")

    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "cookies" in response.headers["Clear-Site-Data"]
    assert cookie(client, "sAccessToken") is None
    replay = guard_app.test_client()
    set_cookie(replay, "sAccessToken", old_access or "")
    assert (await replay.get("/t/db")).status_code == 303


async def test_a_legacy_session_cookie_starts_refresh_even_with_a_valid_token(
    guard_app: Quart,
) -> None:
    client = guard_app.test_client()
    await sign_up(client)
    assert (await client.get("/dashboard")).status_code == 200
    set_cookie(client, "sIdRefreshToken", "from-a-pre-v3-session")

    response = await client.get("/dashboard")

    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/auth/session/refresh"


# --- duplicate session cookies (a cookie-domain change without OLDER_COOKIE_DOMAIN) ---


DUPLICATES = {"Cookie": "sRefreshToken=one; sRefreshToken=two; sAccessToken=a; sAccessToken=b"}


async def test_duplicate_cookies_on_refresh_api_are_unauthorised_not_500(guard_app: Quart) -> None:
    response = await guard_app.test_client().post("/auth/session/refresh", headers=DUPLICATES)

    assert response.status_code == 401
    assert response.headers["front-token"] == "remove"


async def test_duplicate_cookies_on_refresh_hop_end_on_login(guard_app: Quart) -> None:
    response = await guard_app.test_client().get(
        "/auth/session/refresh?redirectBack=/dashboard", headers=DUPLICATES
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/login?redirectBack=%2Fdashboard"


async def test_sign_out_with_an_expired_token_still_revokes_the_session(short_app: Quart) -> None:
    client = short_app.test_client()
    await sign_up(client)
    refresh_token = cookie(client, "sRefreshToken") or ""
    await wait_for_expiry()

    await client.post("/logout")

    replay = short_app.test_client()
    set_cookie(replay, "sRefreshToken", refresh_token, path="/auth/session/refresh")
    response = await replay.get("/auth/session/refresh?redirectBack=/dashboard")
    assert response.headers["Location"] == "/login?redirectBack=%2Fdashboard"


# --- cross-site deployments: anti-CSRF through a custom header ---


async def test_refresh_route_renders_the_browser_refresh_page_under_custom_header_csrf(
    settings: Settings,
) -> None:
    async for app in started_app(replace(settings, anti_csrf="VIA_CUSTOM_HEADER")):
        response = await app.test_client().get(
            "/auth/session/refresh", query_string={"redirectBack": "//evil.example"}
        )

        body = await response.get_data(as_text=True)
        assert response.status_code == 200
        assert 'data-page="refresh"' in body
        assert "supertokens-web-js/session.js" in body
        assert 'data-redirect-back="/"' in body
        assert 'data-anti-csrf="VIA_CUSTOM_HEADER"' in body  # app.js then sends `rid` with htmx


async def test_duplicate_cookies_after_a_domain_change_are_cleared_and_the_page_retried(
    settings: Settings,
) -> None:
    moved = replace(
        settings,
        website_domain="http://app.example.test",
        api_domain="http://app.example.test",
        cookie_domain=".example.test",
        older_cookie_domain="app.example.test",
    )
    async for app in started_app(moved):
        client = app.test_client()
        page = await client.get("/dashboard", headers={**DUPLICATES, "Host": "app.example.test"})
        assert urlsplit(page.headers["Location"]).path == "/auth/session/refresh"

        hop = await client.get(
            page.headers["Location"], headers={**DUPLICATES, "Host": "app.example.test"}
        )

        # The SDK clears the cookies of the older domain; the browser then retries the page.
        assert hop.status_code == 303
        assert hop.headers["Location"] == "/dashboard"
        cleared = [c for c in hop.headers.getlist("Set-Cookie") if "app.example.test" in c.lower()]
        assert any(c.startswith("sAccessToken=;") for c in cleared)
