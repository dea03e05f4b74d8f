"""tests/sessions/test_auth_mode.py of the SDK, re-created for Quart (written anew).

Token transfer: the `st-auth-mode` request header and `get_token_transfer_method` decide where
a new session's tokens go (cookies or `st-*` headers), which token a verification reads, and
where a refresh writes; the tokens of the other method are cleared. Session recipe only, as in
the SDK's module, with `anti_csrf="VIA_TOKEN"`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from conftest import init_sdk
from parity_app import EPOCH, cookie_header, extract_info
from quart import Quart, Response, jsonify, request
from supertokens_python.recipe.session.asyncio import create_new_session
from supertokens_python.types import RecipeUserId

from quart_supertokens import QuartSuperTokens, verify_session
from quart_supertokens.framework import QuartRequest

# A well-formed JWT that no core signed.
EXAMPLE_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0"
    "IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


def _app() -> Quart:
    app = Quart("auth_mode")
    QuartSuperTokens(app)

    @app.post("/create")
    async def create() -> Response:
        payload = await request.get_json(silent=True) or {}
        session = await create_new_session(
            QuartRequest(request), "public", RecipeUserId("userId"), payload
        )
        return jsonify({"message": True, "sessionHandle": session.get_handle()})

    @app.get("/update-payload")
    @verify_session()
    async def update_payload() -> Response:
        session = QuartRequest(request).get_session()
        assert session is not None
        await session.merge_into_access_token_payload({"newKey": "test"})
        return jsonify({"message": True})

    @app.get("/verify")
    @verify_session()
    async def verify() -> Response:
        return _described()

    @app.get("/verify-optional")
    @verify_session(session_required=False)
    async def verify_optional() -> Response:
        return _described()

    return app


def _described() -> Response:
    session = QuartRequest(request).get_session()
    return jsonify(
        {
            "message": True,
            "sessionHandle": session.get_handle() if session else None,
            "sessionExists": session is not None,
        }
    )


@pytest.fixture(name="start")
async def _start(core_uri: str) -> AsyncIterator[Callable[..., Quart]]:
    """Initialise the SDK with these session options, then give the app (one per test)."""
    apps: list[Quart] = []

    def start(**session_options: Any) -> Quart:
        init_sdk(core_uri, recipes=[], anti_csrf="VIA_TOKEN", **session_options)
        app = _app()
        apps.append(app)
        return app

    yield start


def _transfer(method: str | None) -> dict[str, Any]:
    """`get_token_transfer_method` returning `method`; None keeps the SDK's default."""
    return {"get_token_transfer_method": (lambda *_: method) if method else None}


async def _create(
    app: Quart, auth_mode: str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    sent = dict(headers or {})
    if auth_mode is not None:
        sent["st-auth-mode"] = auth_mode
    async with app.test_app():
        response = await app.test_client().post("/create", json={}, headers=sent)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return extract_info(response)


def _check(info: dict[str, Any], expected: str, passed_other_token: bool = False) -> None:
    """The SDK's `check_extracted_info`: tokens where `expected` says, none (or cleared) else."""
    if expected == "header":
        for name in ("accessToken", "refreshToken"):
            assert info[name] == ("" if passed_other_token else None), name
        assert info["antiCsrf"] is None
        assert info["accessTokenFromHeader"] and info["refreshTokenFromHeader"]
    else:
        assert info["accessToken"] and info["refreshToken"] and info["antiCsrf"]
        for name in ("accessTokenFromHeader", "refreshTokenFromHeader"):
            assert info[name] == ("" if passed_other_token else None), name


@pytest.mark.parametrize(
    ("auth_mode_header", "expected"),
    [(None, "header"), ("invalid-token-transfer-method", "header"), ("header", "header")]
    + [("cookie", "cookie")],
)
async def test_should_follow_auth_mode_header(
    start: Callable[..., Quart], auth_mode_header: str | None, expected: str
) -> None:
    app = start(**_transfer(None))
    _check(await _create(app, auth_mode_header), expected)


@pytest.mark.parametrize(
    ("method", "expected", "headers"),
    [
        ("any", "header", {}),
        ("header", "header", cookie_header(sAccessToken=EXAMPLE_JWT)),
        ("cookie", "cookie", {}),
        ("cookie", "cookie", {"Authorization": f"Bearer {EXAMPLE_JWT}"}),
    ],
)
async def test_should_follow_get_token_transfer_method(
    start: Callable[..., Quart], method: str, expected: str, headers: dict[str, str]
) -> None:
    app = start(**_transfer(method))
    info = await _create(app, headers=headers)
    _check(info, expected, passed_other_token=bool(headers))
    if "Cookie" in headers:  # a header session clears the cookies it was sent
        for name in ("sAccessToken", "sRefreshToken"):
            assert info["cookies"][name].value == ""
            assert info["cookies"][name]["expires"] == EPOCH
    if "Authorization" in headers:  # a cookie session clears the header tokens
        assert info["accessTokenFromHeader"] == "" and info["refreshTokenFromHeader"] == ""


def _auth_mode(header: bool, cookie: bool) -> str:
    return {(True, True): "both", (True, False): "header", (False, True): "cookie"}.get(
        (header, cookie), "none"
    )


async def _call(app: Quart, info: dict[str, Any], url: str, auth_mode: str) -> Response:
    """GET `url` with the session's access token in a cookie, a bearer header, both or neither."""
    token = info["accessToken"] or info["accessTokenFromHeader"]
    headers: dict[str, str] = {}
    if auth_mode in ("cookie", "both"):
        headers.update(cookie_header(sAccessToken=token))
        if info["antiCsrf"]:
            headers["anti-csrf"] = info["antiCsrf"]
    if auth_mode in ("header", "both"):
        headers["Authorization"] = f"Bearer {token}"
    async with app.test_app():
        return await app.test_client().get(url, headers=headers)


@pytest.mark.parametrize(
    ("method", "required", "header", "cookie", "result"),
    [
        ("any", False, False, False, None),
        ("header", False, False, False, None),
        ("cookie", False, False, False, None),
        ("cookie", False, True, False, None),
        ("header", False, False, True, None),
        ("any", True, False, False, "UNAUTHORISED"),
        ("header", True, False, False, "UNAUTHORISED"),
        ("cookie", True, False, False, "UNAUTHORISED"),
        ("cookie", True, True, False, "UNAUTHORISED"),
        ("header", True, False, True, "UNAUTHORISED"),
        ("any", True, True, True, "validateheader"),
        ("any", False, True, True, "validateheader"),
        ("header", True, True, True, "validateheader"),
        ("header", False, True, True, "validateheader"),
        ("cookie", True, True, True, "validatecookie"),
        ("cookie", False, True, True, "validatecookie"),
        ("any", True, True, False, "validateheader"),
        ("any", False, True, False, "validateheader"),
        ("header", True, True, False, "validateheader"),
        ("header", False, True, False, "validateheader"),
        ("any", True, False, True, "validatecookie"),
        ("any", False, False, True, "validatecookie"),
        ("cookie", True, False, True, "validatecookie"),
        ("cookie", False, False, True, "validatecookie"),
    ],
)
async def test_verify_session_parametrized(
    start: Callable[..., Quart],
    method: str,
    required: bool,
    header: bool,
    cookie: bool,
    result: str | None,
) -> None:
    app = start(**_transfer(method))
    info = await _create(app, "cookie")
    url = "/verify" if required else "/verify-optional"
    response = await _call(app, info, url, _auth_mode(header, cookie))
    body = await response.get_json()
    if result == "UNAUTHORISED":
        assert response.status_code == 401 and body == {"message": "unauthorised"}
    else:
        assert response.status_code == 200
        assert body["sessionExists"] is (result is not None)


async def test_should_reject_requests_with_sIdRefreshToken(  # noqa: N802 - the SDK's name
    start: Callable[..., Quart],
) -> None:
    app = start(**_transfer(None))
    info = await _create(app, "cookie")
    headers = cookie_header(sIdRefreshToken="IRRELEVANT-VALUE", sAccessToken=EXAMPLE_JWT)
    headers["anti-csrf"] = info["antiCsrf"]
    async with app.test_app():
        response = await app.test_client().get("/verify", headers=headers)
    assert response.status_code == 401
    assert await response.get_json() == {"message": "try refresh token"}


@pytest.mark.parametrize("transfer_method", ["header", "cookie"])
async def test_should_update_acccess_token_payload(
    start: Callable[..., Quart], transfer_method: str
) -> None:
    app = start(**_transfer(None))
    created = await _create(app, transfer_method)
    updated = extract_info(await _call(app, created, "/update-payload", "cookie"))
    assert updated["status"] == 200
    # Only the access token (in the cookie it came in) and the front token change.
    assert updated["refreshToken"] is None and updated["antiCsrf"] is None
    assert updated["accessTokenFromHeader"] is None and updated["refreshTokenFromHeader"] is None
    assert updated["accessToken"]
    assert updated["accessToken"] not in (created["accessToken"], created["accessTokenFromHeader"])
    assert updated["frontToken"] and updated["frontToken"] != created["frontToken"]


async def _refresh(app: Quart, method: str, auth_mode: str, info: dict[str, Any]) -> Response:
    access = info["accessToken"] or info["accessTokenFromHeader"]
    refresh = info["refreshToken"] or info["refreshTokenFromHeader"]
    headers = {"st-auth-mode": method}
    if auth_mode in ("both", "cookie"):
        headers.update(cookie_header(sAccessToken=access, sRefreshToken=refresh))
        if info["antiCsrf"]:
            headers["anti-csrf"] = info["antiCsrf"]
    if auth_mode in ("both", "header"):
        headers["Authorization"] = f"Bearer {refresh}"
    async with app.test_app():
        return await app.test_client().post("/auth/session/refresh", headers=headers)


@pytest.mark.parametrize(
    ("method", "header", "cookie", "output", "set_tokens", "cleared_tokens"),
    [
        ("any", False, False, "unauthorised", None, None),
        ("header", False, False, "unauthorised", None, None),
        ("cookie", False, False, "unauthorised", None, None),
        pytest.param("any", False, True, "validatecookie", "cookies", None),
        ("header", False, True, "unauthorised", None, None),
        ("cookie", False, True, "validatecookie", "cookies", None),
        ("any", True, False, "validateheader", "headers", None),
        ("header", True, False, "validateheader", "headers", None),
        ("cookie", True, False, "unauthorised", None, None),
        pytest.param("any", True, True, "validateheader", "headers", "cookies"),
        pytest.param("header", True, True, "validateheader", "headers", "cookies"),
        ("cookie", True, True, "validatecookie", "cookies", "headers"),
    ],
)
async def test_refresh_session_parametrized(
    start: Callable[..., Quart],
    method: str,
    header: bool,
    cookie: bool,
    output: str,
    set_tokens: str | None,
    cleared_tokens: str | None,
) -> None:
    app = start(**_transfer(method))
    created = await _create(app, "cookie" if method == "cookie" else None)
    response = await _refresh(app, method, _auth_mode(header, cookie), created)
    info = extract_info(response)
    if output == "unauthorised":
        assert info["status"] == 401
        assert await response.get_json() == {"message": "unauthorised"}
    else:
        assert info["status"] == 200
    if cleared_tokens == "headers":
        assert info["accessTokenFromHeader"] == "" and info["refreshTokenFromHeader"] == ""
    elif cleared_tokens == "cookies":
        for name in ("sAccessToken", "sRefreshToken"):
            assert info["cookies"][name].value == "" and info["cookies"][name]["expires"] == EPOCH
    if set_tokens == "headers":
        assert info["accessTokenFromHeader"] and info["refreshTokenFromHeader"]
    elif set_tokens == "cookies":
        assert info["accessToken"] and info["refreshToken"]
        for name in ("sAccessToken", "sRefreshToken"):
            assert info["cookies"][name]["expires"] != EPOCH
    elif cleared_tokens is None:
        assert info["frontToken"] in (None, "remove")
