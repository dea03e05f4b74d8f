"""The SDK's own /auth API served through the Quart app, against a local core app per test."""

from __future__ import annotations

import json
from dataclasses import replace
from http.cookiejar import Cookie
from pathlib import Path
from typing import Any

from quart import Quart, abort, request
from quart.testing import QuartClient
from supertokens_python.recipe.session.asyncio import create_new_session
from supertokens_python.types import RecipeUserId

from app import create_app
from app.config import Settings
from app.sdk.email import token_from_link
from quart_supertokens import request_user_context
from quart_supertokens.core_client import core_client_pool
from quart_supertokens.framework import QuartRequest
from tests.sdk.test_hooks_offline import cleared_cookies

EMAIL = "ada@example.test"
PASSWORD = "correct-horse-1"


def credentials(email: str = EMAIL, password: str = PASSWORD) -> dict[str, Any]:
    return {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": password}]}


def jar_cookies(client: QuartClient) -> dict[str, Cookie]:
    assert client.cookie_jar is not None
    return {cookie.name: cookie for cookie in client.cookie_jar}


def read_sink(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def sign_up(client: QuartClient, email: str = EMAIL) -> str:
    response = await client.post("/auth/signup", json=credentials(email))
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "OK", body
    return str(body["user"]["id"])


async def test_sign_up_sets_session_cookies(client: QuartClient) -> None:
    response = await client.post("/auth/signup", json=credentials())

    assert response.status_code == 200
    assert (await response.get_json())["status"] == "OK"
    cookies = jar_cookies(client)
    assert set(cookies) >= {"sAccessToken", "sRefreshToken"}
    assert cookies["sRefreshToken"].path == "/auth/session/refresh"
    assert "front-token" in response.headers
    # Cookie transfer is forced: no token headers, whatever st-auth-mode says.
    assert "st-access-token" not in response.headers


async def test_cookie_attributes_from_settings(client: QuartClient) -> None:
    response = await client.post("/auth/signup", json=credentials())

    for header in response.headers.getlist("Set-Cookie"):
        lowered = header.lower()
        assert "httponly" in lowered
        assert "samesite=lax" in lowered
        assert "secure" not in lowered.replace("samesite", "")  # http://localhost: not Secure
        assert "domain=" not in lowered  # host-only by default


async def test_header_auth_mode_request_still_gets_cookies(client: QuartClient) -> None:
    response = await client.post(
        "/auth/signup", json=credentials(), headers={"st-auth-mode": "header"}
    )

    assert response.status_code == 200
    assert "st-access-token" not in response.headers
    assert "sAccessToken" in jar_cookies(client)


async def test_sign_in_and_whoami(client: QuartClient) -> None:
    user_id = await sign_up(client)
    client.cookie_jar.clear()  # type: ignore[union-attr]

    response = await client.post("/auth/signin", json=credentials())
    assert (await response.get_json())["status"] == "OK"

    whoami = await client.get("/whoami")
    assert whoami.status_code == 200
    assert await whoami.get_json() == {"userId": user_id}


async def test_sign_in_wrong_password(client: QuartClient) -> None:
    await sign_up(client)
    client.cookie_jar.clear()  # type: ignore[union-attr]

    response = await client.post("/auth/signin", json=credentials(password="wrong-password-1"))

    assert (await response.get_json())["status"] == "WRONG_CREDENTIALS_ERROR"
    assert "sAccessToken" not in jar_cookies(client)


async def test_sign_up_malformed_json_reads_as_empty_body(client: QuartClient) -> None:
    response = await client.post(
        "/auth/signup", data="{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 200
    assert (await response.get_json())["status"] == "FIELD_ERROR"


async def test_sdk_bad_input_is_400(client: QuartClient) -> None:
    response = await client.post("/auth/signup", json={"formFields": "not-a-list"})

    assert response.status_code == 400
    assert await response.get_json() == {"message": "formFields must be an array"}


async def test_refresh_rotates_tokens(client: QuartClient) -> None:
    user_id = await sign_up(client)
    before = jar_cookies(client)

    response = await client.post("/auth/session/refresh")

    assert response.status_code == 200
    after = jar_cookies(client)
    assert after["sAccessToken"].value != before["sAccessToken"].value
    assert after["sRefreshToken"].value != before["sRefreshToken"].value
    assert "front-token" in response.headers
    whoami = await client.get("/whoami")
    assert await whoami.get_json() == {"userId": user_id}


async def test_refresh_with_bad_token_clears_cookies_on_401(client: QuartClient) -> None:
    response = await client.post(
        "/auth/session/refresh",
        headers={"Cookie": "sAccessToken=bogus; sRefreshToken=not-a-real-refresh-token"},
    )

    assert response.status_code == 401
    cleared = cleared_cookies(response.headers.getlist("Set-Cookie"))
    assert set(cleared) == {"sAccessToken", "sRefreshToken"}
    assert response.headers["front-token"] == "remove"


async def test_sign_out_clears_cookies(client: QuartClient) -> None:
    await sign_up(client)

    response = await client.post("/auth/signout")

    assert response.status_code == 200
    assert (await response.get_json())["status"] == "OK"
    assert set(cleared_cookies(response.headers.getlist("Set-Cookie"))) == {
        "sAccessToken",
        "sRefreshToken",
    }
    assert (await client.get("/whoami")).status_code == 401


async def test_bearer_token_alone_is_no_session(client: QuartClient, app: Quart) -> None:
    await sign_up(client)
    access_token = jar_cookies(client)["sAccessToken"].value

    bearer_only = app.test_client()
    response = await bearer_only.get("/whoami", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 401

    as_cookie = await bearer_only.get("/whoami", headers={"Cookie": f"sAccessToken={access_token}"})
    assert as_cookie.status_code == 200


async def test_session_mutations_reach_an_error_response(app: Quart, client: QuartClient) -> None:
    user_id = await sign_up(client)

    @app.post("/create-then-fail")
    async def create_then_fail() -> str:
        await create_new_session(
            QuartRequest(request),
            "public",
            RecipeUserId(user_id),
            user_context=request_user_context(),
        )
        abort(409)

    fresh = app.test_client()
    response = await fresh.post("/create-then-fail")

    assert response.status_code == 409
    assert "sAccessToken" in jar_cookies(fresh)
    assert (await fresh.get("/whoami")).status_code == 200


async def test_email_verification_email_goes_to_sink(client: QuartClient, email_sink: Path) -> None:
    await sign_up(client)

    response = await client.post("/auth/user/email/verify/token")

    assert (await response.get_json())["status"] == "OK"
    [message] = read_sink(email_sink)
    assert message["type"] == "email_verification"
    assert message["to"] == EMAIL
    assert message["link"].startswith("http://localhost:8000/verify-email?token=")

    verify = await client.post(
        "/auth/user/email/verify",
        json={"method": "token", "token": token_from_link(message["link"])},
    )
    assert (await verify.get_json())["status"] == "OK"


async def test_password_reset_email_goes_to_sink(client: QuartClient, email_sink: Path) -> None:
    await sign_up(client)
    client.cookie_jar.clear()  # type: ignore[union-attr]

    response = await client.post(
        "/auth/user/password/reset/token", json={"formFields": [{"id": "email", "value": EMAIL}]}
    )

    assert (await response.get_json())["status"] == "OK"
    [message] = read_sink(email_sink)
    assert message["type"] == "password_reset"
    assert message["to"] == EMAIL
    assert message["link"].startswith("http://localhost:8000/reset-password?token=")

    new_password = "new-horse-battery-2"
    reset = await client.post(
        "/auth/user/password/reset",
        json={
            "method": "token",
            "token": token_from_link(message["link"]),
            "formFields": [{"id": "password", "value": new_password}],
        },
    )
    assert (await reset.get_json())["status"] == "OK"
    sign_in = await client.post("/auth/signin", json=credentials(password=new_password))
    assert (await sign_in.get_json())["status"] == "OK"


async def test_core_calls_share_one_pooled_connection(client: QuartClient) -> None:
    created_before = core_client_pool.clients_created

    await sign_up(client)
    await client.post("/auth/session/refresh")
    await client.post("/auth/signout")
    await client.post("/auth/signin", json=credentials())

    pooled = core_client_pool.client()
    assert core_client_pool.clients_created == created_before + 1
    # httpcore's pool (private): sequential calls reused one keep-alive connection.
    assert len(pooled._transport._pool.connections) == 1  # type: ignore[attr-defined]


async def test_jwks_fetched_at_start_up(app: Quart) -> None:
    from supertokens_python.recipe.session import jwks

    assert jwks.cached_keys is not None
    assert jwks.cached_keys.keys


async def test_custom_header_anti_csrf_mode_needs_rid(settings: Settings) -> None:
    app = create_app(replace(settings, anti_csrf="VIA_CUSTOM_HEADER"))
    async with app.test_app():
        client = app.test_client()
        await sign_up(client)

        without_rid = await client.post("/auth/session/refresh")
        assert without_rid.status_code == 401
        # The failed refresh cleared the cookies: sign in again, then refresh with the header.
        await client.post("/auth/signin", json=credentials(), headers={"rid": "emailpassword"})
        with_rid = await client.post("/auth/session/refresh", headers={"rid": "session"})
        assert with_rid.status_code == 200
