"""tests/Flask/test_flask.py and the FastAPI-only tests of the SDK, re-created for Quart.

Each test names the SDK test it stands for; PARITY.md maps them all. Everything runs through a
Quart app with the extension (parity_app.py), the real SDK and a running local core.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import init_sdk, new_user
from parity_app import PASSWORD, _email, _session, api_app, set_cookies, sign_up
from quart import Quart, Response, jsonify, request
from supertokens_python.recipe.session import SessionContainer, SessionOverrideConfig
from supertokens_python.recipe.session.interfaces import APIInterface, APIOptions

from quart_supertokens import verify_session
from quart_supertokens.framework import QuartRequest


@pytest.fixture(name="app")
async def _app(sdk: None) -> AsyncIterator[Quart]:
    app = api_app()
    async with app.test_app():
        yield app


# -- tests/Flask/test_flask.py -------------------------------------------------------------------


async def test_cookie_login_and_refresh(core_uri: str) -> None:
    init_sdk(core_uri, cookie_domain=".example.test", cookie_same_site="lax")
    app = api_app()
    async with app.test_app():
        client = app.test_client()
        signed_up = await sign_up(client, _email("cookies"))
        cookies = set_cookies(signed_up)
        access, refresh = (
            cookies["sAccessToken"]["sAccessToken"],
            cookies["sRefreshToken"]["sRefreshToken"],
        )
        assert access["path"] == "/" and refresh["path"] == "/auth/session/refresh"
        assert access["domain"] == "example.test" and refresh["domain"] == "example.test"
        assert access["httponly"] and refresh["httponly"]
        assert access["samesite"].lower() == "lax"
        assert signed_up.headers["front-token"]
        headers = {"Cookie": f"sRefreshToken={refresh.value}"}
        refreshed = await client.post("/auth/session/refresh", headers=headers)
        assert refreshed.status_code == 200
        rotated = set_cookies(refreshed)
        assert rotated["sRefreshToken"]["sRefreshToken"].value != refresh.value
        assert rotated["sAccessToken"]["sAccessToken"].value != access.value


async def test_login_refresh_no_csrf(core_uri: str) -> None:
    init_sdk(core_uri, anti_csrf="VIA_TOKEN")
    app = api_app()
    async with app.test_app():
        client = app.test_client()
        signed_up = await sign_up(client, _email("csrf"))
        token = signed_up.headers["anti-csrf"]
        assert (await client.post("/info")).status_code == 401
        assert (await client.post("/info", headers={"anti-csrf": token})).status_code == 200


async def test_login_logout(app: Quart) -> None:
    client = app.test_client()
    signed_up = await sign_up(client, _email("logout"))
    token = set_cookies(signed_up)["sAccessToken"]["sAccessToken"].value
    out = await client.post("/auth/signout")
    assert out.status_code == 200 and (await out.get_json())["status"] == "OK"
    cleared = set_cookies(out)
    assert cleared["sAccessToken"]["sAccessToken"].value == ""
    assert cleared["sRefreshToken"]["sRefreshToken"].value == ""
    assert out.headers["front-token"] == "remove"
    # Signing out again with the (now revoked) session's token still answers 200 and clears.
    client.cookie_jar.clear()
    again = await client.post("/auth/signout", headers={"Cookie": f"sAccessToken={token}"})
    assert again.status_code == 200 and (await again.get_json())["status"] == "OK"
    assert set_cookies(again)["sAccessToken"]["sAccessToken"].value == ""
    # With no token at all, the SDK's sign-out answers 401.
    client.cookie_jar.clear()
    assert (await client.post("/auth/signout")).status_code == 401


async def test_login_handle(app: Quart) -> None:
    client = app.test_client()
    await sign_up(client, _email("handle"))
    response = await client.get("/handle")
    assert (await response.get_json())["userId"] is not None
    assert "Set-Cookie" not in response.headers  # verifying writes nothing


async def test_custom_response(core_uri: str) -> None:
    def override(original: APIInterface) -> APIInterface:
        async def signout_post(
            session: SessionContainer, api_options: APIOptions, user_context: dict[str, Any]
        ) -> Any:
            api_options.response.set_status_code(203)
            api_options.response.set_json_content({"custom": True})
            return await original_signout(session, api_options, user_context)

        original_signout = original.signout_post
        original.signout_post = signout_post  # type: ignore[method-assign]
        return original

    init_sdk(core_uri, override=SessionOverrideConfig(apis=override))
    app = api_app()
    async with app.test_app():
        client = app.test_client()
        await sign_up(client, _email("custom"))
        response = await client.post("/auth/signout")
        assert response.status_code == 203
        assert await response.get_json() == {"custom": True}


async def test_thirdparty_parsing_works(core_uri: str) -> None:
    from supertokens_python.recipe import thirdparty

    init_sdk(core_uri, extra_recipes=[thirdparty.init()])
    app = api_app()
    state = base64.b64encode(
        json.dumps({"frontendRedirectURI": "http://localhost/redirect"}).encode()
    ).decode()
    async with app.test_app():
        response = await app.test_client().post(
            "/auth/callback/apple", form={"state": state, "code": "testing"}
        )
    assert response.status_code == 303
    assert await response.get_data() == b""
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "localhost", "/redirect")
    assert parse_qs(location.query) == {"state": [state], "code": ["testing"]}


async def test_apple_s_cross_site_form_post_passes_the_cross_origin_protection(
    core_uri: str,
) -> None:
    # Apple's page posts the callback from its own site; every other unsafe SDK route from a
    # foreign site stays refused.
    from supertokens_python.recipe import thirdparty

    init_sdk(core_uri, extra_recipes=[thirdparty.init()])
    app = api_app()
    apple = {"Origin": "https://appleid.apple.com", "Sec-Fetch-Site": "cross-site"}
    state = base64.b64encode(
        json.dumps({"frontendRedirectURI": "http://localhost/redirect"}).encode()
    ).decode()
    form = {"state": state, "code": "testing"}
    async with app.test_app():
        client = app.test_client()
        for path in ("/auth/callback/apple", "/auth/public/callback/apple"):
            response = await client.post(path, form=form, headers=apple)
            assert response.status_code == 303, path
        for path in ("/auth/signin", "/auth/x/y/callback/apple", "/callback/apple"):
            response = await client.post(path, form=form, headers=apple)
            assert response.status_code == 403, path


async def test_optional_session(app: Quart) -> None:
    response = await app.test_client().get("/optional")
    assert response.status_code == 200 and (await response.get_json())["userId"] is None


async def test_verify_session_with_before_request_with_no_response(app: Quart) -> None:
    seen: list[str | None] = []

    @verify_session(session_required=False)
    async def look() -> None:
        session = await _session()
        seen.append(session.get_user_id() if session else None)

    app.before_request(look)
    client = app.test_client()
    assert (await client.get("/optional")).status_code == 200
    await sign_up(client, _email("before"))
    assert (await client.get("/optional")).status_code == 200
    assert seen[0] is None and seen[-1] is not None
    # OPTIONS with an optional session passes through (the SDK allows it only when optional);
    # on a required route the SDK raises ("verify_session cannot be used with options method").
    assert (await client.options("/optional")).status_code == 200
    assert (await client.options("/info")).status_code == 500


async def test_that_verify_session_return_401_if_access_token_is_not_sent_and_middleware_is_not_added(  # noqa: E501
    sdk: None,
) -> None:
    app = Quart("bare")

    @app.get("/info")
    @verify_session()
    async def info() -> Response:
        return jsonify({})

    response = await app.test_client().get("/info")
    assert response.status_code == 401
    assert await response.get_json() == {"message": "unauthorised"}


async def test_that_supertokens_is_not_in_g_if_middleware_is_not_added(sdk: None) -> None:
    from quart_supertokens.testing import create_session_for

    app = Quart("bare")
    seen: list[object] = []

    @app.before_request
    async def look() -> None:
        seen.append(QuartRequest(request).get_session())

    @app.get("/info")
    @verify_session(session_required=False)
    async def info() -> Response:
        session = QuartRequest(request).get_session()
        return jsonify({"userId": session.get_user_id() if session else None})

    session = await create_session_for(await new_user())
    client = app.test_client()
    cookie = {"Cookie": f"sAccessToken={session.get_access_token()}"}
    first = await client.get("/info", headers=cookie)
    assert (await first.get_json())["userId"] == session.get_user_id()
    second = await client.get("/info")
    assert (await second.get_json())["userId"] is None
    assert seen == [None, None]  # each request starts without the previous one's session


async def test_the_session_is_not_kept_after_the_request(app: Quart) -> None:
    client = app.test_client()
    await sign_up(client, _email("slot"))
    assert (await (await client.get("/info")).get_json())["userId"] is not None
    # A new request without cookies must not see the previous request's session.
    client.cookie_jar.clear()
    response = await client.get("/optional")
    assert (await response.get_json())["userId"] is None


# -- tests/Fastapi/test_fastapi.py (FastAPI-only) ------------------------------------------------


async def test_should_clear_all_response_during_refresh_if_unauthorized(app: Quart) -> None:
    client = app.test_client()
    response = await client.post(
        "/auth/session/refresh", headers={"Cookie": "sRefreshToken=not-a-token"}
    )
    assert response.status_code == 401
    cleared = set_cookies(response)
    assert cleared["sAccessToken"]["sAccessToken"].value == ""
    assert cleared["sRefreshToken"]["sRefreshToken"].value == ""
    assert response.headers["front-token"] == "remove"


async def test_should_clear_all_response_during_refresh_if_unauthorized_header(
    core_uri: str,
) -> None:
    init_sdk(core_uri, get_token_transfer_method=lambda *_: "header")
    app = api_app()
    async with app.test_app():
        response = await app.test_client().post(
            "/auth/session/refresh", headers={"Authorization": "Bearer not-a-token"}
        )
        assert response.status_code == 401
        assert response.headers["front-token"] == "remove"
        # Header mode's "clear" reaches the client: empty token headers, as the SDK sends them.
        assert response.headers["st-access-token"] == ""
        assert response.headers["st-refresh-token"] == ""


async def test_revoking_session_after_create_new_session_with_throwing_unauthorized(
    app: Quart,
) -> None:
    user_id = await new_user()
    response = await app.test_client().post("/create-then-fail", json={"userId": user_id})
    assert response.status_code == 401
    cookies = set_cookies(response)
    assert cookies["sAccessToken"]["sAccessToken"].value == ""  # cleared, never set
    assert cookies["sRefreshToken"]["sRefreshToken"].value == ""
    assert response.headers["front-token"] == "remove"


async def test_revoking_session_after_create_new_session_with_throwing_unauthorized_header(
    core_uri: str,
) -> None:
    init_sdk(core_uri, get_token_transfer_method=lambda *_: "header")
    app = api_app()
    async with app.test_app():
        user_id = await new_user()
        response = await app.test_client().post("/create-then-fail", json={"userId": user_id})
        assert response.status_code == 401
        assert response.headers.get("st-access-token", "") == ""
        assert response.headers.get("st-refresh-token", "") == ""
        assert response.headers["front-token"] == "remove"


async def test_session_with_legacy_refresh_token_and_unauthorized_should_clear_legacy_token(
    app: Quart,
) -> None:
    headers = {"Cookie": "sIdRefreshToken=legacy; sRefreshToken=bogus"}
    response = await app.test_client().post("/auth/session/refresh", headers=headers)
    assert response.status_code == 401
    cleared = set_cookies(response)
    assert cleared["sIdRefreshToken"]["sIdRefreshToken"].value == ""


async def test_custom_api_base_path_and_mount_point(core_uri: str) -> None:
    init_sdk(core_uri, api_base_path="/custom/auth")
    app = api_app()
    async with app.test_app():
        client = app.test_client()
        fields = [{"id": "email", "value": _email("base")}, {"id": "password", "value": PASSWORD}]
        assert (await client.post("/auth/signup", json={"formFields": fields})).status_code == 404
        signed_up = await client.post("/custom/auth/signup", json={"formFields": fields})
        assert signed_up.status_code == 200
        refresh = set_cookies(signed_up)["sRefreshToken"]["sRefreshToken"]
        assert refresh["path"] == "/custom/auth/session/refresh"
        hop = await client.get("/custom/auth/session/refresh?redirectBack=/x")
        assert hop.status_code == 303  # the refresh hop follows the API base path


# -- beyond the SDK's modules: the same adapter paths, and the page guard ------------------------


async def test_a_failing_email_verification_claim_is_403_with_the_sdk_s_body(app: Quart) -> None:
    client = app.test_client()
    await sign_up(client, _email("claims"))
    assert (await client.get("/info")).status_code == 200
    response = await client.get("/admin")
    assert response.status_code == 403
    body = await response.get_json()
    assert body["message"] == "invalid claim"
    assert body["claimValidationErrors"][0]["id"] == "st-ev"


async def test_an_unparsable_access_token_is_unauthorised(app: Quart) -> None:
    client = app.test_client()
    signed_up = await sign_up(client, _email("tampered"))
    header, payload, signature = set_cookies(signed_up)["sAccessToken"]["sAccessToken"].value.split(
        "."
    )
    client.cookie_jar.clear()
    forged = {"Cookie": f"sAccessToken={header}.{payload}x.{signature}"}
    response = await client.get("/info", headers=forged)
    assert response.status_code == 401
    assert await response.get_json() == {"message": "unauthorised"}


async def test_an_unknown_api_path_falls_through_to_the_app(app: Quart) -> None:
    assert (await app.test_client().post("/auth/no-such-api")).status_code == 404


async def test_a_rid_header_does_not_change_which_api_answers_the_refresh(app: Quart) -> None:
    for rid in (None, "session", "emailpassword", "unknown"):
        headers = {"rid": rid} if rid else {}
        response = await app.test_client().post("/auth/session/refresh", headers=headers)
        assert response.status_code == 401, rid  # the Session recipe's refresh, without a token


async def test_require_session_renders_a_page_and_writes_no_cookie(app: Quart) -> None:
    from quart_supertokens import current_session, require_session

    @app.get("/page")
    @require_session()
    async def page() -> str:
        return f"user {current_session.get_user_id()}"  # type: ignore[union-attr]

    client = app.test_client()
    assert (await client.get("/page")).status_code in (302, 303)  # to the login page
    await sign_up(client, _email("page"))
    response = await client.get("/page")
    assert response.status_code == 200
    assert (await response.get_data(as_text=True)).startswith("user ")
    assert "Set-Cookie" not in response.headers
