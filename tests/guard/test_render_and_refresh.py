"""A session renders; TRY_REFRESH_TOKEN starts the refresh flow (the hop, rotation, theft).

Through the real SDK and a running localcore, for each kind of request the browser makes
(a page load, an htmx fragment, a boosted navigation, a history restore) where it matters.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest
from quart import Quart

from tests.conftest import RunningCore
from tests.guard.conftest import (
    FRAGMENT,
    KINDS,
    REFRESH_MARKER_COOKIE,
    RETURNS_TO,
    XHR_KINDS,
    cookie,
    redirect_back_of,
    revoke,
    set_cookie,
    sign_up,
    target_of,
    wait_for_expiry,
)

# --- a session: render ---


@pytest.mark.parametrize("kind", KINDS)
async def test_valid_session_renders(guard_app: Quart, kind: str) -> None:
    client = guard_app.test_client()
    await sign_up(client)

    response = await client.get("/dashboard", headers=KINDS[kind])

    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="session-card"' in body
    is_fragment = kind == "fragment"
    assert ("<html" in body) is not is_fragment


async def test_guarded_responses_are_not_cached(guard_app: Quart) -> None:
    client = guard_app.test_client()
    await sign_up(client)

    response = await client.get("/dashboard")

    assert response.headers["Cache-Control"] == "no-store, private"
    vary = {v.strip() for v in response.headers["Vary"].split(",")}
    assert {"HX-Request", "Cookie"} <= vary


async def test_fragment_route_renders_only_the_card_for_htmx(guard_app: Quart) -> None:
    client = guard_app.test_client()
    await sign_up(client)

    response = await client.get("/dashboard/session", headers=FRAGMENT)

    body = await response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="session-card"')


async def test_authenticated_layout_keeps_pages_out_of_htmx_history(guard_app: Quart) -> None:
    client = guard_app.test_client()
    await sign_up(client)

    body = await (await client.get("/dashboard")).get_data(as_text=True)

    assert 'hx-history="false"' in body
    assert '"historyCacheSize":0' in body
    assert '"refreshOnHistoryMiss":true' in body
    assert '"historyRestoreAsHxRequest":false' in body


# --- TRY_REFRESH_TOKEN: the refresh flow ---


@pytest.mark.parametrize("kind", KINDS)
async def test_expired_token_starts_refresh(short_app: Quart, kind: str) -> None:
    client = short_app.test_client()
    await sign_up(client)
    await wait_for_expiry()

    response = await client.get("/dashboard/session", headers=KINDS[kind])

    target = target_of(response)
    assert urlsplit(target).path == "/auth/session/refresh"
    assert redirect_back_of(target) == RETURNS_TO[kind]
    if kind in XHR_KINDS:
        assert response.status_code == 401
        assert "Location" not in response.headers
    else:
        assert response.status_code == 303
        assert "HX-Redirect" not in response.headers


async def test_refresh_hop_returns_with_rotated_cookies(short_app: Quart) -> None:
    client = short_app.test_client()
    await sign_up(client)
    old_access, old_refresh = cookie(client, "sAccessToken"), cookie(client, "sRefreshToken")
    await wait_for_expiry()

    hop = await client.get("/dashboard")
    refreshed = await client.get(hop.headers["Location"])

    assert refreshed.status_code == 303
    assert refreshed.headers["Location"] == "/dashboard"
    assert cookie(client, "sAccessToken") not in (None, old_access)
    assert cookie(client, "sRefreshToken") not in (None, old_refresh)
    page = await client.get("/dashboard")
    assert page.status_code == 200


async def test_first_render_after_refresh_clears_loop_marker(short_app: Quart) -> None:
    client = short_app.test_client()
    await sign_up(client)
    await wait_for_expiry()
    await client.get("/auth/session/refresh?redirectBack=%2Fdashboard")
    assert cookie(client, REFRESH_MARKER_COOKIE) is not None

    await client.get("/dashboard")

    assert cookie(client, REFRESH_MARKER_COOKIE) is None


async def test_refresh_without_refresh_token_goes_to_login(guard_app: Quart) -> None:
    response = await guard_app.test_client().get("/auth/session/refresh?redirectBack=/dashboard")

    assert response.status_code == 303
    assert response.headers["Location"] == "/login?redirectBack=%2Fdashboard"


async def test_failed_refresh_clears_cookies(short_app: Quart, localcore: RunningCore) -> None:
    client = short_app.test_client()
    await sign_up(client)
    page = await client.get("/dashboard")
    handle = (await page.get_data(as_text=True)).split("Session handle</dt><dd><code>")[1]
    handle = handle.split("<")[0]
    revoke(short_app, handle)

    response = await client.get("/auth/session/refresh?redirectBack=/dashboard")

    assert response.status_code == 303
    assert response.headers["Location"] == "/login?redirectBack=%2Fdashboard"
    assert cookie(client, "sAccessToken") is None
    assert cookie(client, "sRefreshToken") is None


async def test_stolen_refresh_token_reuse_ends_on_login(short_app: Quart) -> None:
    client = short_app.test_client()
    await sign_up(client)
    stolen = cookie(client, "sRefreshToken")
    assert stolen is not None
    await wait_for_expiry()
    await client.get("/auth/session/refresh?redirectBack=/dashboard")
    assert (await client.get("/dashboard")).status_code == 200  # promotes the new token
    await wait_for_expiry()

    thief = short_app.test_client()
    set_cookie(thief, "sRefreshToken", stolen, path="/auth/session/refresh")
    theft = await thief.get("/auth/session/refresh?redirectBack=/dashboard")

    assert theft.status_code == 303
    assert urlsplit(theft.headers["Location"]).path == "/login"
    # The whole session is revoked: the victim's own refresh fails too.
    victim = await client.get("/auth/session/refresh?redirectBack=/dashboard")
    assert urlsplit(victim.headers["Location"]).path == "/login"


async def test_concurrent_refreshes_of_one_session_are_not_theft(short_app: Quart) -> None:
    # One browser (one cookie jar), three tabs refreshing at the same moment with one token.
    client = short_app.test_client()
    await sign_up(client)
    await wait_for_expiry()

    hops = await asyncio.gather(
        *(client.get("/auth/session/refresh?redirectBack=/dashboard") for _ in range(3))
    )

    assert [h.headers["Location"] for h in hops] == ["/dashboard"] * 3
    pages = await asyncio.gather(*(client.get("/dashboard") for _ in range(3)))
    assert [p.status_code for p in pages] == [200, 200, 200]
    # The browser keeps refreshing with whichever child it kept: no theft is detected.
    for _ in range(2):
        await wait_for_expiry()
        again = await client.get("/auth/session/refresh?redirectBack=/dashboard")
        assert again.headers["Location"] == "/dashboard"
        assert (await client.get("/dashboard")).status_code == 200
