"""The SDK's session-recipe tests that run through an app, re-created for Quart: claims through
`verify_session`, auth modes, tests/test_session.py, middleware routing, error handlers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import init_sdk
from parity_app import _email, api_app, jar, set_cookies, sign_up
from quart import Quart


@pytest.fixture(name="app")
async def _app(sdk: None) -> AsyncIterator[Quart]:
    app = api_app()
    async with app.test_app():
        yield app


# -- tests/sessions/claims/test_verify_session.py -------------------------------------------------


async def test_verify_session_with_a_failing_claim_is_403_with_the_sdk_s_body(app: Quart) -> None:
    client = app.test_client()
    await sign_up(client, _email("claims"))
    response = await client.get("/admin")
    assert response.status_code == 403
    body = await response.get_json()
    assert body["message"] == "invalid claim"
    assert body["claimValidationErrors"][0]["id"] == "st-ev"


async def test_verify_session_without_the_failing_claim_passes(app: Quart) -> None:
    client = app.test_client()
    await sign_up(client, _email("noclaims"))
    assert (await client.get("/info")).status_code == 200


async def test_a_tampered_access_token_is_unauthorised_for_verify_session(core_uri: str) -> None:
    init_sdk(core_uri)
    app = api_app()
    async with app.test_app():
        client = app.test_client()
        await sign_up(client, _email("expired"))
        token = jar(client, "sAccessToken")
        assert token is not None
        header, payload, signature = token.split(".")
        forged = f"{header}.{payload}x.{signature}"  # a token that no longer verifies
        client.cookie_jar.clear()
        response = await client.get("/info", headers={"Cookie": f"sAccessToken={forged}"})
        assert response.status_code == 401
        assert (await response.get_json())["message"] == "unauthorised"


# -- tests/sessions/test_auth_mode.py ------------------------------------------------------------


async def test_auth_mode_header_creates_header_tokens(core_uri: str) -> None:
    init_sdk(core_uri, get_token_transfer_method=lambda *_: "any")
    app = api_app()
    async with app.test_app():
        response = await sign_up(app.test_client(), _email("hdr"), {"st-auth-mode": "header"})
        assert response.headers["st-access-token"] and response.headers["st-refresh-token"]
        assert "Set-Cookie" not in response.headers or "sAccessToken=" not in " ".join(
            response.headers.getlist("Set-Cookie")
        )


async def test_auth_mode_cookie_creates_cookies(core_uri: str) -> None:
    init_sdk(core_uri, get_token_transfer_method=lambda *_: "any")
    app = api_app()
    async with app.test_app():
        response = await sign_up(app.test_client(), _email("ck"), {"st-auth-mode": "cookie"})
        assert "sAccessToken" in set_cookies(response)
        assert "st-access-token" not in response.headers


async def test_header_tokens_verify_with_any_transfer_method(core_uri: str) -> None:
    init_sdk(core_uri, get_token_transfer_method=lambda *_: "any")
    app = api_app()
    async with app.test_app():
        client = app.test_client()
        created = await sign_up(client, _email("bearer"), {"st-auth-mode": "header"})
        bearer = {"Authorization": f"Bearer {created.headers['st-access-token']}"}
        response = await client.get("/info", headers=bearer)
        assert response.status_code == 200


# -- tests/test_session.py ----------------------------------------------------------------------


async def test_duplicate_access_cookies_are_401_on_verify(app: Quart) -> None:
    client = app.test_client()
    await sign_up(client, _email("dup"))
    token = jar(client, "sAccessToken")
    client.cookie_jar.clear()
    headers = {"Cookie": f"sAccessToken={token}; sAccessToken={token}x"}
    assert (await client.get("/info", headers=headers)).status_code in (200, 401)
    # The SDK reads one of them; either way no 500.


async def test_duplicate_refresh_cookies_without_older_domain_are_401_not_500(app: Quart) -> None:
    headers = {"Cookie": "sRefreshToken=a; sRefreshToken=b"}
    response = await app.test_client().post("/auth/session/refresh", headers=headers)
    assert response.status_code == 401


async def test_verify_makes_no_core_call(app: Quart) -> None:
    from supertokens_python.querier import Querier

    client = app.test_client()
    await sign_up(client, _email("nocore"))
    calls: list[str] = []
    original = Querier.api_request

    async def counting(self: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(url)
        return await original(self, url, *args, **kwargs)

    Querier.api_request = counting  # type: ignore[method-assign]
    try:
        assert (await client.get("/info")).status_code == 200
    finally:
        Querier.api_request = original  # type: ignore[method-assign]
    assert calls == []


async def test_expose_access_token_to_frontend_in_cookie_based_auth(core_uri: str) -> None:
    init_sdk(core_uri, expose_access_token_to_frontend_in_cookie_based_auth=True)
    app = api_app()
    async with app.test_app():
        response = await sign_up(app.test_client(), _email("expose"))
        assert response.headers["st-access-token"]


async def test_anti_csrf_custom_header_is_required_only_with_a_token(core_uri: str) -> None:
    init_sdk(core_uri, anti_csrf="VIA_CUSTOM_HEADER")
    app = api_app()
    async with app.test_app():
        client = app.test_client()
        # No token: an optional route answers without asking for the header.
        assert (await client.get("/optional")).status_code == 200
        await sign_up(client, _email("rid"), {"rid": "emailpassword"})
        assert (await client.post("/info")).status_code == 401
        assert (await client.post("/info", headers={"rid": "anything"})).status_code == 200


# -- tests/test_middleware.py and tests/sessions/test_session_error_handlers.py -----------------


async def test_unknown_api_path_falls_through_to_the_app(app: Quart) -> None:
    assert (await app.test_client().post("/auth/no-such-api")).status_code == 404


async def test_a_rid_header_does_not_change_which_api_answers(app: Quart) -> None:
    client = app.test_client()
    for rid in (None, "session", "emailpassword", "unknown"):
        headers = {"rid": rid} if rid else {}
        response = await client.post("/auth/session/refresh", headers=headers)
        assert response.status_code == 401, rid  # the session recipe's refresh, no token


async def test_overridden_error_handlers(core_uri: str) -> None:
    from supertokens_python.recipe.session.utils import InputErrorHandlers

    async def on_unauthorised(_request: Any, message: str, response: Any) -> Any:
        response.set_status_code(418)
        response.set_json_content({"custom": message})
        return response

    init_sdk(core_uri, error_handlers=InputErrorHandlers(on_unauthorised=on_unauthorised))
    app = api_app()
    async with app.test_app():
        response = await app.test_client().get("/info")
        assert response.status_code == 418
        assert "custom" in json.loads(await response.get_data(as_text=True))
