"""tests/test_session.py of the SDK, re-created for Quart (written anew), all 21 of its tests.

The SDK's module mixes request-less recipe checks (kept here: they run through the extension's
init, memo and the core) with tests through an app: sign-out, refresh overrides, cookie
lifetimes, anti-CSRF, token exposure, transfer method by origin, and duplicate cookies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from conftest import init_sdk, new_core_app
from parity_app import EPOCH, cookie_header, cookie_pairs, extract_info
from quart import Quart, Response, jsonify, request
from supertokens_python.process_state import PROCESS_STATE, ProcessState
from supertokens_python.recipe.session import SessionOverrideConfig
from supertokens_python.recipe.session.asyncio import (
    create_new_session,
    create_new_session_without_request_response,
    get_all_session_handles_for_user,
    get_session_information,
    get_session_without_request_response,
    merge_into_access_token_payload,
    refresh_session_without_request_response,
    revoke_session,
    update_session_data_in_database,
)
from supertokens_python.recipe.session.exceptions import raise_unauthorised_exception
from supertokens_python.recipe.session.interfaces import APIInterface, APIOptions, RecipeInterface
from supertokens_python.recipe.session.recipe import SessionRecipe
from supertokens_python.types import RecipeUserId

from quart_supertokens import QuartSuperTokens, verify_session
from quart_supertokens.framework import QuartRequest

USER = RecipeUserId("test-user")
IN_VERIFY = PROCESS_STATE.CALLING_SERVICE_IN_VERIFY


def _app(**options: Any) -> Quart:
    app = Quart("session")
    QuartSuperTokens(app, **options)

    @app.post("/create")
    async def create() -> Response:
        await create_new_session(QuartRequest(request), "public", USER, {}, {})
        return jsonify({})

    @app.post("/create-and-read")
    async def create_and_read() -> Response:
        session = await create_new_session(QuartRequest(request), "public", USER)
        return jsonify(await session.get_session_data_from_database())

    @app.post("/sessioninfo-optional")
    @verify_session(session_required=False)
    async def session_info() -> Response:
        session = QuartRequest(request).get_session()
        if session is None:
            return jsonify({"message": "no session"})
        return jsonify({"session": session.get_handle(), "user_id": session.get_user_id()})

    return app


@pytest.fixture(name="start")
def _start(core_uri: str) -> Callable[..., Quart]:
    def start(
        uri: str | None = None, app_options: dict[str, Any] | None = None, **kw: Any
    ) -> Quart:
        kw.setdefault("anti_csrf", "VIA_TOKEN")
        init_sdk(uri or core_uri, recipes=[], **kw)
        return _app(**(app_options or {}))

    return start


async def _post(app: Quart, path: str, headers: dict[str, str] | None = None) -> Response:
    async with app.test_app():
        return await app.test_client().post(path, headers=headers or {})


async def _created(app: Quart) -> dict[str, Any]:
    info = extract_info(await _post(app, "/create"))
    assert info["status"] == 200
    return info


def _refresh_override(after: Callable[..., Any]) -> SessionOverrideConfig:
    """An API override that refreshes as the SDK does, then runs `after(session, options)`."""

    def override(original: APIInterface) -> APIInterface:
        original_refresh = original.refresh_post

        async def refresh_post(api_options: APIOptions, user_context: dict[str, Any]) -> Any:
            session = await original_refresh(api_options, user_context)
            await after(session, api_options)
            return session

        original.refresh_post = refresh_post  # type: ignore[method-assign]
        return original

    return SessionOverrideConfig(apis=override)


async def _refresh_created(app: Quart, info: dict[str, Any]) -> dict[str, Any]:
    headers = cookie_header(sRefreshToken=info["refreshToken"])
    headers["anti-csrf"] = info["antiCsrf"]
    return extract_info(await _post(app, "/auth/session/refresh", headers))


def _assert_clears_tokens(info: dict[str, Any]) -> None:
    """The SDK's `assert_info_clears_tokens` for cookies."""
    for name in ("sAccessToken", "sRefreshToken"):
        assert info["cookies"][name].value == "" and info["cookies"][name]["expires"] == EPOCH
    assert info["frontToken"] == "remove"
    assert info["antiCsrf"] is None


async def test_that_once_the_info_is_loaded_it_doesnt_query_again(
    start: Callable[..., Quart],
) -> None:
    start()
    history = ProcessState.get_instance().history
    first = await create_new_session_without_request_response("public", USER)
    await get_session_without_request_response(first.get_access_token(), first.anti_csrf_token)
    assert IN_VERIFY not in history
    tokens = first.get_all_session_tokens_dangerously()
    refreshed = await refresh_session_without_request_response(
        tokens["refreshToken"], False, tokens["antiCsrfToken"]
    )
    refreshed_tokens = refreshed.get_all_session_tokens_dangerously()
    promoted = await get_session_without_request_response(
        refreshed.get_access_token(), refreshed_tokens["antiCsrfToken"]
    )
    assert promoted is not None and IN_VERIFY in history  # the child token is promoted
    ProcessState.get_instance().reset()
    again = await get_session_without_request_response(
        promoted.get_access_token(), refreshed_tokens["antiCsrfToken"]
    )
    assert again is not None and IN_VERIFY not in ProcessState.get_instance().history
    assert await revoke_session(again.get_handle())


def _custom(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload without `iss` (the SDK's, 0.31) and `authAt` (the extension's sign-in time)."""
    return {k: v for k, v in payload.items() if k not in ("iss", "authAt")}


async def test_creating_many_sessions_for_one_user_and_looping(
    start: Callable[..., Quart],
) -> None:
    start(anti_csrf="NONE")
    user = RecipeUserId(f"many-{time.monotonic_ns()}")
    sessions = [
        await create_new_session_without_request_response("public", user, {"someKey": "someValue"})
        for _ in range(7)
    ]
    handles = await get_all_session_handles_for_user(user.get_as_string())
    assert len(handles) == 7
    for handle in handles:
        info = await get_session_information(handle)
        assert info is not None and info.custom_claims_in_access_token_payload["someKey"] == (
            "someValue"
        )
        assert await merge_into_access_token_payload(
            handle, {"someKey": None, "someKey2": "someValue"}
        )
        assert await update_session_data_in_database(handle, {"foo": "bar"})
    for handle in handles:
        info = await get_session_information(handle)
        assert info is not None
        assert _custom(info.custom_claims_in_access_token_payload) == {"someKey2": "someValue"}
        assert info.session_data_in_database == {"foo": "bar"}
    implementation = SessionRecipe.get_instance().recipe_implementation
    regenerated = []
    for created in sessions:
        result = await implementation.regenerate_access_token(
            created.get_access_token(), {"bar": "baz"}, {}
        )
        assert result is not None
        regenerated.append(result.session.handle)
        info = await get_session_information(result.session.handle)
        assert info is not None
        assert _custom(info.custom_claims_in_access_token_payload) == {"bar": "baz"}
    assert sorted(regenerated) == sorted(handles)
    assert await merge_into_access_token_payload("invalidHandle", {"foo": "bar"}) is False
    assert await update_session_data_in_database("invalidHandle", {"foo": "bar"}) is False


async def test_signout_api_works_even_if_session_is_deleted_after_creation(
    start: Callable[..., Quart],
) -> None:
    app = start(get_token_transfer_method=None)
    created = await create_new_session_without_request_response("public", USER)
    assert await revoke_session(created.get_handle())
    headers = cookie_header(sAccessToken=created.get_access_token())
    headers["anti-csrf"] = created.anti_csrf_token or ""
    response = await _post(app, "/auth/signout", headers)
    assert await response.get_json() == {"status": "OK"}
    info = extract_info(response)
    access, refresh = info["cookies"]["sAccessToken"], info["cookies"]["sRefreshToken"]
    assert access.value == "" and refresh.value == ""
    assert access["expires"] == EPOCH and refresh["expires"] == EPOCH
    assert access["path"] == "/" and refresh["path"] == "/auth/session/refresh"
    assert access["httponly"] and access["samesite"].lower() == "lax"


async def test_signout_api_returns_401_without_session_tokens(start: Callable[..., Quart]) -> None:
    app = start(get_token_transfer_method=None)
    assert (await _post(app, "/auth/signout")).status_code == 401


async def test_should_use_override_functions_in_session_container_methods(
    start: Callable[..., Quart],
) -> None:
    def override(original: RecipeInterface) -> RecipeInterface:
        original_information = original.get_session_information

        async def get_session_information(handle: str, user_context: dict[str, Any]) -> Any:
            info = await original_information(handle, user_context)
            assert info is not None
            info.session_data_in_database["foo"] = "bar"
            return info

        original.get_session_information = get_session_information  # type: ignore[method-assign]
        return original

    app = start(override=SessionOverrideConfig(functions=override))
    response = await _post(app, "/create-and-read")
    assert await response.get_json() == {"foo": "bar"}


async def test_revoking_session_during_refresh_with_revoke_session_with_200(
    start: Callable[..., Quart],
) -> None:
    async def revoke(session: Any, _: APIOptions) -> None:
        await session.revoke_session()

    app = start(override=_refresh_override(revoke))
    info = await _refresh_created(app, await _created(app))
    assert info["status"] == 200
    _assert_clears_tokens(info)


async def test_revoking_session_during_refresh_with_revoke_session_sending_401(
    start: Callable[..., Quart],
) -> None:
    async def revoke_and_401(session: Any, options: APIOptions) -> None:
        await session.revoke_session()
        options.response.set_status_code(401)  # type: ignore[union-attr]
        options.response.set_json_content({})  # type: ignore[union-attr]

    app = start(override=_refresh_override(revoke_and_401))
    info = await _refresh_created(app, await _created(app))
    assert info["status"] == 401
    _assert_clears_tokens(info)


async def test_revoking_session_during_refresh_and_throw_unauthorized(
    start: Callable[..., Quart],
) -> None:
    async def unauthorised(_session: Any, _: APIOptions) -> None:
        raise_unauthorised_exception("unauthorized", clear_tokens=True)

    app = start(override=_refresh_override(unauthorised))
    info = await _refresh_created(app, await _created(app))
    assert info["status"] == 401
    assert info["antiCsrf"] is None and info["frontToken"]
    for name in ("sAccessToken", "sRefreshToken"):
        cookie = info["cookies"][name]
        assert cookie.value == "" and cookie["expires"] == EPOCH and cookie["domain"] == ""


async def test_revoking_session_during_refresh_fails_if_just_sending_401(
    start: Callable[..., Quart],
) -> None:
    async def just_401(_session: Any, options: APIOptions) -> None:
        options.response.set_status_code(401)  # type: ignore[union-attr]
        options.response.set_json_content({})  # type: ignore[union-attr]

    app = start(override=_refresh_override(just_401))
    info = await _refresh_created(app, await _created(app))
    assert info["status"] == 401
    assert info["antiCsrf"] and info["frontToken"]
    assert info["accessToken"] and info["refreshToken"]  # a 401 alone ends nothing


def _days_left(cookie: Any) -> float:
    return (parsedate_to_datetime(cookie["expires"]).timestamp() - time.time()) / 86400


async def test_token_cookie_expires(start: Callable[..., Quart]) -> None:
    app = start()
    for info in (created := await _created(app), await _refresh_created(app, created)):
        assert info["status"] == 200 and info["antiCsrf"] and info["frontToken"]
        access, refresh = info["cookies"]["sAccessToken"], info["cookies"]["sRefreshToken"]
        assert 364 < _days_left(access) <= 366  # one year (the SDK's, since 0.2x: 100 years)
        assert 99 < _days_left(refresh) <= 100  # the core's refresh-token lifetime


async def test_that_verify_session_doesnt_always_call_core(start: Callable[..., Quart]) -> None:
    start()
    history = ProcessState.get_instance().history
    first = await create_new_session_without_request_response("public", USER)
    assert first.get_access_token() and first.front_token
    assert IN_VERIFY not in history
    second = await get_session_without_request_response(
        first.get_access_token(), first.anti_csrf_token
    )
    assert second is not None and IN_VERIFY not in history
    tokens = first.get_all_session_tokens_dangerously()
    third = await refresh_session_without_request_response(
        tokens["refreshToken"], False, tokens["antiCsrfToken"]
    )
    assert IN_VERIFY not in history
    fourth = await get_session_without_request_response(
        third.get_access_token(), third.get_all_session_tokens_dangerously()["antiCsrfToken"]
    )
    assert fourth is not None and IN_VERIFY in history  # the core got called this time


async def test_anti_csrf_header_via_custom_header_check_happens_only_when_access_token_is_provided(
    start: Callable[..., Quart],
) -> None:
    app = start(anti_csrf="VIA_CUSTOM_HEADER")
    token = (await _created(app))["accessToken"]
    without_rid = await _post(app, "/sessioninfo-optional", cookie_header(sAccessToken=token))
    assert without_rid.status_code == 401
    assert await without_rid.get_json() == {"message": "try refresh token"}
    headers = {**cookie_header(sAccessToken=token), "rid": "session"}
    with_rid = await _post(app, "/sessioninfo-optional", headers)
    assert with_rid.status_code == 200 and list(await with_rid.get_json()) == ["session", "user_id"]
    for headers in ({}, {"rid": "session"}):  # without tokens, with and without rid
        response = await _post(app, "/sessioninfo-optional", headers)
        assert response.status_code == 200
        assert await response.get_json() == {"message": "no session"}


async def test_expose_access_token_to_frontend_in_cookie_based_auth(
    start: Callable[..., Quart],
) -> None:
    app = start(expose_access_token_to_frontend_in_cookie_based_auth=True)
    exposed = await _created(app)
    assert exposed["accessTokenFromHeader"] == exposed["accessToken"]
    app = start(expose_access_token_to_frontend_in_cookie_based_auth=False)
    assert (await _created(app))["accessTokenFromHeader"] is None


async def test_token_transfer_method_works_when_using_origin_function(
    start: Callable[..., Quart],
) -> None:
    def get_origin(req: Any, _: dict[str, Any]) -> str:
        return (req.get_header("origin") if req is not None else None) or "http://localhost:3000"

    def transfer_method(req: Any, *_: Any) -> str:
        return "cookie" if req.get_header("origin") == "http://localhost:3002" else "header"

    app = start(
        app_info={"website_domain": None, "origin": get_origin},
        get_token_transfer_method=transfer_method,
        cookie_same_site="lax",
        app_options={"trusted_origins": ["http://localhost:3002"]},
    )
    by_default = await _post(app, "/create")
    assert by_default.headers["st-access-token"] and by_default.headers["st-refresh-token"]
    assert not by_default.headers.getlist("Set-Cookie")
    from_3002 = await _post(app, "/create", {"origin": "http://localhost:3002"})
    assert "st-access-token" not in from_3002.headers
    assert "st-refresh-token" not in from_3002.headers
    assert from_3002.headers.getlist("Set-Cookie")


async def test_clear_all_session_tokens_if_refresh_called_without_refresh_token_but_with_access_token(  # noqa: E501
    start: Callable[..., Quart],
) -> None:
    app = start()
    created = await _created(app)
    headers = {**cookie_header(sAccessToken=created["accessToken"]), "anti-csrf": ""}
    headers["anti-csrf"] = created["antiCsrf"]
    info = extract_info(await _post(app, "/auth/session/refresh", headers))
    assert info["status"] == 401
    for name in ("sAccessToken", "sRefreshToken"):
        assert info["cookies"][name].value == "" and info["cookies"][name]["expires"] == EPOCH


async def test_clear_all_session_tokens_if_refresh_called_without_refresh_token_but_with_an_expired_access_token(  # noqa: E501
    core_uri: str, start: Callable[..., Quart]
) -> None:
    app = start(uri=new_core_app(core_uri, access_token_validity=1))
    created = await _created(app)
    await asyncio.sleep(1.5)  # the access token expires
    headers = {**cookie_header(sAccessToken=created["accessToken"]), "anti-csrf": ""}
    headers["anti-csrf"] = created["antiCsrf"]
    info = extract_info(await _post(app, "/auth/session/refresh", headers))
    assert info["status"] == 401
    for name in ("sAccessToken", "sRefreshToken"):
        assert info["cookies"][name].value == "" and info["cookies"][name]["expires"] == EPOCH


def _duplicates(access: str, refresh: str) -> dict[str, str]:
    """Both session cookies twice, as a browser sends them after a `cookie_domain` change."""
    pairs = [("sAccessToken", access), ("sRefreshToken", refresh)]
    return cookie_pairs(*pairs, *pairs)


async def test_access_and_refresh_tokens_are_cleared_if_multiple_tokens_are_passed_to_refresh_endpoint(  # noqa: E501
    start: Callable[..., Quart],
) -> None:
    app = start(older_cookie_domain="example.com")
    created = await _created(app)
    headers = _duplicates(created["accessToken"], created["refreshToken"])
    headers["anti-csrf"] = created["antiCsrf"]
    info = extract_info(await _post(app, "/auth/session/refresh", headers))
    assert info["status"] == 200
    for name in ("sAccessToken", "sRefreshToken"):
        cookie = info["cookies"][name]
        assert cookie.value == "" and cookie["expires"] == EPOCH
        assert cookie["domain"] == "example.com"


async def test_refresh_endpoint_throws_500_if_multiple_tokens_are_passed_and_older_cookie_domain_is_not_set(  # noqa: E501
    start: Callable[..., Quart],
) -> None:
    app = start()
    created = await _created(app)
    headers = _duplicates(created["accessToken"], created["refreshToken"])
    headers["anti-csrf"] = created["antiCsrf"]
    info = extract_info(await _post(app, "/auth/session/refresh", headers))
    # The SDK raises a plain Exception (500) here; the extension fails closed on purpose: 401,
    # the cookies it can reach cleared (framework/middleware.py).
    assert info["status"] == 401
    assert info["cookies"]["sAccessToken"].value == ""


async def test_verify_session_returns_401_if_multiple_tokens_are_passed_in_the_request(
    start: Callable[..., Quart],
) -> None:
    app = start()
    created = await _created(app)
    headers = _duplicates(created["accessToken"], created["refreshToken"])
    headers["anti-csrf"] = created["antiCsrf"]
    response = await _post(app, "/sessioninfo-optional", headers)
    assert response.status_code == 401
    assert await response.get_json() == {"message": "try refresh token"}


async def test_verify_session_returns_200_in_header_based_auth_even_if_multiple_tokens_are_present_in_cookie(  # noqa: E501
    start: Callable[..., Quart],
) -> None:
    app = start(anti_csrf="NONE", get_token_transfer_method=lambda *_: "header")
    created = await _created(app)
    access, refresh = created["accessTokenFromHeader"], created["refreshTokenFromHeader"]
    headers = {**_duplicates(access, refresh), "Authorization": f"Bearer {access}"}
    response = await _post(app, "/sessioninfo-optional", headers)
    assert response.status_code == 200
    assert list(await response.get_json()) == ["session", "user_id"]


async def _header_refresh_with_duplicate_cookies(start: Callable[..., Quart]) -> dict[str, Any]:
    app = start(anti_csrf="NONE", get_token_transfer_method=lambda *_: "header")
    created = await _created(app)
    access, refresh = created["accessTokenFromHeader"], created["refreshTokenFromHeader"]
    headers = {**_duplicates(access, refresh), "Authorization": f"Bearer {refresh}"}
    return extract_info(await _post(app, "/auth/session/refresh", headers))


async def test_refresh_endpoint_refreshes_the_token_in_header_based_auth_if_multiple_tokens_are_present_in_cookie(  # noqa: E501
    start: Callable[..., Quart],
) -> None:
    info = await _header_refresh_with_duplicate_cookies(start)
    assert info["status"] == 200
    assert info["accessTokenFromHeader"] and info["refreshTokenFromHeader"]


async def test_duplicate_cookies_do_not_refuse_a_header_refresh(
    start: Callable[..., Quart],
) -> None:
    # The adapter's duplicate-cookie refusal applies only where the SDK reads cookies (it once
    # answered 401 here, whatever the transfer method).
    assert (await _header_refresh_with_duplicate_cookies(start))["status"] == 200
