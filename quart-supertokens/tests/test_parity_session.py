"""The SDK's framework tests for Flask and FastAPI, re-created for Quart (written anew).

Each test names the SDK test it stands for (tests/Flask/test_flask.py, tests/Fastapi/
test_fastapi.py, tests/sessions/..., tests/test_session.py); PARITY.md maps them all. Everything
runs through a Quart app with the extension, the real SDK and a running local core.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
from conftest import init_sdk, new_user
from quart import Quart, Response, jsonify, request
from quart.testing import QuartClient
from supertokens_python.recipe.emailverification import EmailVerificationClaim
from supertokens_python.recipe.session import SessionContainer, SessionOverrideConfig
from supertokens_python.recipe.session.asyncio import create_new_session, get_session
from supertokens_python.recipe.session.exceptions import UnauthorisedError
from supertokens_python.recipe.session.interfaces import APIInterface, APIOptions
from supertokens_python.types import RecipeUserId

from quart_supertokens import QuartSuperTokens, add_claim_validators, verify_session
from quart_supertokens.framework import QuartRequest

PASSWORD = "pass-word-1"


def api_app(name: str = "api", **options: Any) -> Quart:
    """The SDK's test app, for Quart: SDK API served, JSON routes with `verify_session`."""
    app = Quart(name)
    QuartSuperTokens(app, **options)

    @app.post("/create")
    async def create() -> Response:
        user_id = (await request.get_json())["userId"]
        await create_new_session(QuartRequest(request), "public", RecipeUserId(user_id))
        return jsonify({})

    @app.post("/create-then-fail")
    async def create_then_fail() -> Response:
        user_id = (await request.get_json())["userId"]
        await create_new_session(QuartRequest(request), "public", RecipeUserId(user_id))
        raise UnauthorisedError("after creating", clear_tokens=True)

    @app.route("/info", methods=["GET", "POST", "OPTIONS"])
    @verify_session()
    async def info() -> Response:
        session = await _session()
        return jsonify({"userId": session.get_user_id() if session else None})

    @app.route("/optional", methods=["GET", "OPTIONS"])
    @verify_session(session_required=False)
    async def optional() -> Response:
        session = await _session()
        return jsonify({"userId": session.get_user_id() if session else None})

    @app.get("/admin")
    @verify_session(
        override_global_claim_validators=add_claim_validators(
            EmailVerificationClaim.validators.is_verified()  # type: ignore[attr-defined]
        )
    )
    async def admin() -> Response:
        return jsonify({"ok": True})

    @app.get("/handle")
    async def handle() -> Response:
        session = await get_session(QuartRequest(request), session_required=False)
        return jsonify({"userId": session.get_user_id() if session else None})

    return app


async def _session() -> SessionContainer | None:
    return QuartRequest(request).get_session()


def set_cookies(response: Response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie header of a response, parsed, by cookie name."""
    parsed: dict[str, SimpleCookie] = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            parsed[name] = cookie
    return parsed


async def sign_up(
    client: QuartClient, email: str, headers: dict[str, str] | None = None
) -> Response:
    fields = [{"id": "email", "value": email}, {"id": "password", "value": PASSWORD}]
    response = await client.post("/auth/signup", json={"formFields": fields}, headers=headers)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return response


def jar(client: QuartClient, name: str) -> str | None:
    return next((c.value for c in client.cookie_jar if c.name == name), None)


@pytest.fixture(name="app")
async def _app(sdk: None) -> AsyncIterator[Quart]:
    app = api_app()
    async with app.test_app():
        yield app


def _email(tag: str) -> str:
    import uuid

    return f"{tag}-{uuid.uuid4().hex[:8]}@example.test"


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
    await sign_up(client, _email("logout"))
    out = await client.post("/auth/signout")
    assert out.status_code == 200 and (await out.get_json())["status"] == "OK"
    cleared = set_cookies(out)
    assert cleared["sAccessToken"]["sAccessToken"].value == ""
    assert out.headers["front-token"] == "remove"
    again = await client.post("/auth/signout")
    assert again.status_code in (200, 401)  # no session left: the SDK answers, never a 500


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
    # OPTIONS with an optional session passes through (the SDK allows it only when optional).
    assert (await client.options("/optional")).status_code == 200


async def test_verify_session_returns_401_without_the_middleware(sdk: None) -> None:
    app = Quart("bare")

    @app.get("/info")
    @verify_session()
    async def info() -> Response:
        return jsonify({})

    response = await app.test_client().get("/info")
    assert response.status_code == 401
    assert await response.get_json() == {"message": "unauthorised"}


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


async def test_session_with_legacy_refresh_token_and_unauthorized_clears_legacy_token(
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
