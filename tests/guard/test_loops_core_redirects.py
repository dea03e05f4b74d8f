"""The loop breaker, the core down (503, never a sign-out), and redirectBack everywhere.

Through the real SDK and a running localcore, for each kind of request the browser makes
(a page load, an htmx fragment, a boosted navigation, a history restore) where it matters.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from quart import Quart

from app.config import Settings
from tests.conftest import RunningCore
from tests.guard.conftest import (
    FRAGMENT,
    KINDS,
    ORIGIN,
    PASSWORD,
    REFRESH_MARKER_COOKIE,
    cookie,
    set_cookie,
    sign_up,
    started_app,
    target_of,
    wait_for_expiry,
)
from tests.hostile_urls import HOSTILE_CURRENT_URL, HOSTILE_REDIRECT_BACK

# --- the loop breaker ---


async def test_second_refresh_demand_right_after_refresh_ends_on_login(
    short_app: Quart, caplog: pytest.LogCaptureFixture
) -> None:
    client = short_app.test_client()
    await sign_up(client)
    await wait_for_expiry()
    # A successful refresh for /dashboard just happened...
    set_cookie(client, REFRESH_MARKER_COOKIE, quote(f"{int(time.time())}|/dashboard", safe=""))

    # ...and the page still cannot verify the session (here: an expired token again).
    with caplog.at_level(logging.ERROR, logger="quart_supertokens.guard"):
        response = await client.get("/dashboard")

    assert response.status_code == 303
    assert response.headers["Location"] == "/login?redirectBack=%2Fdashboard"
    assert "refresh loop" in caplog.text


async def test_old_refresh_marker_does_not_break_a_normal_refresh(short_app: Quart) -> None:
    client = short_app.test_client()
    await sign_up(client)
    await wait_for_expiry()
    set_cookie(
        client, REFRESH_MARKER_COOKIE, quote(f"{int(time.time()) - 120}|/dashboard", safe="")
    )

    response = await client.get("/dashboard")

    assert urlsplit(response.headers["Location"]).path == "/auth/session/refresh"


# --- the core is down ---


@pytest.mark.parametrize("kind", ["page", "fragment"])
async def test_core_down_is_503_never_login(
    short_settings: Settings, localcore: RunningCore, tmp_path: Path, kind: str
) -> None:
    async for app in started_app(short_settings):
        client = app.test_client()
        await sign_up(client)
        await wait_for_expiry()

    offline = replace(short_settings, connection_uri="http://127.0.0.1:9")  # nothing listens
    async for app in started_app(offline):
        client2 = app.test_client()
        set_cookie(client2, "sAccessToken", cookie(client, "sAccessToken") or "")
        set_cookie(
            client2,
            "sRefreshToken",
            cookie(client, "sRefreshToken") or "",
            path="/auth/session/refresh",
        )

        hop = await client2.get("/dashboard", headers=KINDS[kind])
        response = await client2.get(
            "/auth/session/refresh?redirectBack=/dashboard", headers=KINDS[kind]
        )

        body = await response.get_data(as_text=True)
        assert urlsplit(target_of(hop)).path == "/auth/session/refresh"
        assert response.status_code == 503
        assert "Traceback" not in body
        assert response.headers["Retry-After"] == "5"
        assert cookie(client2, "sRefreshToken") is not None  # nobody was logged out


async def test_core_failing_during_database_check_is_503(settings: Settings) -> None:
    async for app in started_app(settings):
        client = app.test_client()
        await sign_up(client)
    offline = replace(settings, connection_uri="http://127.0.0.1:9")
    async for app in started_app(offline):
        client2 = app.test_client()
        set_cookie(client2, "sAccessToken", cookie(client, "sAccessToken") or "")
        # The JWKS was cached by the first app in this process? No: a new init resets it, so
        # verification cannot even start. Either way: 503 or a refresh hop, never a 500.
        response = await client2.get("/t/db", headers=FRAGMENT)
        assert response.status_code in {401, 503}
        assert response.status_code != 500


# --- redirectBack everywhere ---


@pytest.mark.parametrize("value", HOSTILE_REDIRECT_BACK)
async def test_hostile_redirect_back_on_refresh_route(guard_app: Quart, value: str) -> None:
    response = await guard_app.test_client().get(
        "/auth/session/refresh", query_string={"redirectBack": value}
    )

    location = response.headers["Location"]
    assert location == "/login"
    assert "\r" not in location and "\n" not in location


@pytest.mark.parametrize("value", HOSTILE_REDIRECT_BACK)
async def test_hostile_redirect_back_after_sign_in(guard_app: Quart, value: str) -> None:
    client = guard_app.test_client()
    await sign_up(client, "eve@example.test")
    other = guard_app.test_client()

    response = await other.post(
        "/login",
        form={"email": "eve@example.test", "password": PASSWORD, "redirectBack": value},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard"


@pytest.mark.parametrize("value", HOSTILE_REDIRECT_BACK)
async def test_hostile_redirect_back_is_escaped_on_login_page(guard_app: Quart, value: str) -> None:
    response = await guard_app.test_client().get("/login", query_string={"redirectBack": value})

    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="redirectBack" value="/dashboard"' in body
    assert "<script>alert" not in body


# A header value with CR/LF cannot even be sent (the HTTP stack refuses it); skip those here.
@pytest.mark.parametrize("value", [v for v in HOSTILE_CURRENT_URL if "\n" not in v])
async def test_hostile_current_url_falls_back_to_root(guard_app: Quart, value: str) -> None:
    headers = {"HX-Request": "true", "HX-Current-URL": value}

    response = await guard_app.test_client().get("/dashboard/session", headers=headers)

    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"


async def test_referer_path_used_when_current_url_missing(guard_app: Quart) -> None:
    headers = {"HX-Request": "true", "Referer": f"{ORIGIN}/sessions?page=2"}

    response = await guard_app.test_client().get("/dashboard/session", headers=headers)

    assert response.headers["HX-Redirect"] == "/login?redirectBack=%2Fsessions%3Fpage%3D2"


async def test_foreign_referer_is_ignored(guard_app: Quart) -> None:
    headers = {"HX-Request": "true", "Referer": "https://evil.example/sessions"}

    response = await guard_app.test_client().get("/dashboard/session", headers=headers)

    assert response.headers["HX-Redirect"] == "/login"
