"""UNAUTHORISED and no session, failed claims, optional sessions and the absolute lifetime.

Through the real SDK and a running localcore, for each kind of request the browser makes
(a page load, an htmx fragment, a boosted navigation, a history restore) where it matters.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from quart import Quart
from supertokens_python.recipe.userroles.asyncio import (
    add_role_to_user,
    create_new_role_or_add_permissions,
)

from app.config import Settings
from tests.guard.conftest import (
    KINDS,
    PASSWORD,
    RETURNS_TO,
    XHR_KINDS,
    cookie,
    redirect_back_of,
    revoke,
    set_cookie,
    sign_up,
    started_app,
    target_of,
    wait_for_expiry,
)

# --- UNAUTHORISED and no session ---


@pytest.mark.parametrize("kind", KINDS)
async def test_no_session_cookie_goes_to_login(guard_app: Quart, kind: str) -> None:
    response = await guard_app.test_client().get("/dashboard/session", headers=KINDS[kind])

    target = target_of(response)
    assert urlsplit(target).path == "/login"
    # The sign-in page's own default is the dashboard; "/" is not worth carrying.
    expected = None if RETURNS_TO[kind] == "/" else RETURNS_TO[kind]
    assert redirect_back_of(target) == expected
    assert response.status_code == (401 if kind in XHR_KINDS else 303)


@pytest.mark.parametrize("kind", KINDS)
async def test_revoked_session_on_database_checked_route_refreshes_then_logs_in(
    guard_app: Quart, kind: str
) -> None:
    client = guard_app.test_client()
    await sign_up(client)
    page = await client.get("/t/db")
    assert page.status_code == 200
    handle_page = await client.get("/dashboard")
    handle = (await handle_page.get_data(as_text=True)).split("Session handle</dt><dd><code>")[1]
    revoke(guard_app, handle.split("<")[0])

    response = await client.get("/t/db", headers=KINDS[kind])

    target = target_of(response)
    assert urlsplit(target).path == "/auth/session/refresh"
    if kind not in XHR_KINDS:
        final = await client.get(target)
        assert urlsplit(final.headers["Location"]).path == "/login"


async def test_header_only_session_is_no_session(guard_app: Quart) -> None:
    client = guard_app.test_client()
    await sign_up(client)
    token = cookie(client, "sAccessToken")

    bare = guard_app.test_client()
    response = await bare.get("/dashboard", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/login"


async def test_garbage_token_cookie_refreshes_never_renders(guard_app: Quart) -> None:
    client = guard_app.test_client()
    set_cookie(client, "sAccessToken", "not.a.jwt")

    response = await client.get("/dashboard")

    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path in {"/auth/session/refresh", "/login"}


# --- claims ---


@pytest.mark.parametrize("kind", ["page", "fragment"])
async def test_failed_claim_is_403_naming_the_claim(guard_app: Quart, kind: str) -> None:
    client = guard_app.test_client()
    await sign_up(client)

    response = await client.get("/t/admin", headers=KINDS[kind])

    body = await response.get_data(as_text=True)
    assert response.status_code == 403
    assert "st-role" in body
    assert "HX-Redirect" not in response.headers
    assert ("<html" in body) is (kind == "page")


async def test_403_page_keeps_the_signed_in_header(guard_app: Quart) -> None:
    client = guard_app.test_client()
    await sign_up(client)

    body = await (await client.get("/t/admin")).get_data(as_text=True)

    assert "Sign out" in body
    assert "a role your account does not have" in body


async def test_added_claim_passes_for_a_user_with_the_role(guard_app: Quart) -> None:
    client = guard_app.test_client()
    await sign_up(client, "admin@example.test")
    await create_new_role_or_add_permissions("admin", [])
    page = await client.get("/dashboard")
    user_id = (await page.get_data(as_text=True)).split("User id</dt><dd><code>")[1].split("<")[0]
    await add_role_to_user("public", user_id, "admin")

    # The role is in the token from the next session on.
    client2 = guard_app.test_client()
    response = await client2.post(
        "/login", form={"email": "admin@example.test", "password": PASSWORD}
    )
    assert response.status_code == 303

    assert (await client2.get("/t/admin")).status_code == 200


async def test_removing_all_claim_validators_skips_failing_ones(guard_app: Quart) -> None:
    client = guard_app.test_client()
    await sign_up(client)

    response = await client.get("/t/no-claims")

    assert response.status_code == 200


# --- optional sessions and absolute lifetime ---


async def test_optional_route_renders_anonymously(guard_app: Quart) -> None:
    response = await guard_app.test_client().get("/t/optional")

    assert await response.get_data(as_text=True) == "anonymous"


async def test_optional_route_renders_for_user(guard_app: Quart) -> None:
    client = guard_app.test_client()
    await sign_up(client)

    assert (await (await client.get("/t/optional")).get_data(as_text=True)).startswith("user ")


async def test_optional_route_still_refreshes_expired_token(short_app: Quart) -> None:
    client = short_app.test_client()
    await sign_up(client)
    await wait_for_expiry()

    response = await client.get("/t/optional")

    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/auth/session/refresh"


async def test_absolute_lifetime_revokes_and_logs_in(guard_app: Quart) -> None:
    client = guard_app.test_client()
    await sign_up(client)
    assert (await client.get("/t/short-lived")).status_code == 200
    await asyncio.sleep(3.2)  # `authAt` is whole seconds: over 3 s for sure after 3.2 s

    response = await client.get("/t/short-lived")

    assert response.status_code == 303
    assert response.headers["Location"] == "/login?redirectBack=%2Ft%2Fshort-lived"
    assert cookie(client, "sAccessToken") is None
    # Revoked in the core, not only forgotten by the browser.
    assert (await client.get("/t/db")).status_code == 303


async def test_lifetime_survives_refresh(short_settings: Settings) -> None:
    async for app in started_app(replace(short_settings, session_max_age=6)):
        client = app.test_client()
        signed_in_at = time.monotonic()
        await sign_up(client)
        await wait_for_expiry()
        await client.get("/auth/session/refresh?redirectBack=/dashboard")
        assert (await client.get("/dashboard")).status_code == 200
        await asyncio.sleep(max(0.0, 7 - (time.monotonic() - signed_in_at)))

        response = await client.get("/dashboard")

        # A refresh does not restart the lifetime: it counts from sign-in.
        assert urlsplit(target_of(response)).path in {"/login", "/auth/session/refresh"}
        if urlsplit(target_of(response)).path == "/auth/session/refresh":
            await client.get(target_of(response))
            final = await client.get("/dashboard")
            assert urlsplit(final.headers["Location"]).path == "/login"
