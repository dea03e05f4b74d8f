"""tests/test_middleware.py and tests/sessions/test_session_error_handlers.py of the SDK,
re-created for Quart (written anew): which recipe answers under `rid`, and overridden session
error handlers, through the extension's middleware.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import init_sdk
from parity_app import PASSWORD, _email
from quart import Quart
from supertokens_python.recipe import emailpassword, passwordless
from supertokens_python.recipe.session.exceptions import (
    ClearDuplicateSessionCookiesError,
    InvalidClaimsError,
    TokenTheftError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from supertokens_python.recipe.session.utils import InputErrorHandlers

from quart_supertokens import QuartSuperTokens


def _passwordless() -> Any:
    return passwordless.init(
        contact_config=passwordless.ContactEmailOrPhoneConfig(),
        flow_type="USER_INPUT_CODE_AND_MAGIC_LINK",
    )


async def _post(app: Quart, path: str, rid: str | None = None, json: Any = None) -> Any:
    headers = {"rid": rid} if rid else {}
    async with app.test_app():
        response = await app.test_client().post(path, headers=headers, json=json)
    return response


def _app(core_uri: str, recipes: list[Any]) -> Quart:
    init_sdk(core_uri, recipes=recipes)
    app = Quart("middleware")
    QuartSuperTokens(app)
    return app


def _fields(email: str) -> dict[str, Any]:
    return {"formFields": [{"id": "password", "value": PASSWORD}, {"id": "email", "value": email}]}


@pytest.mark.parametrize(
    "name, rid",
    [
        ("test_rid_with_session_and_non_existent_api_in_session_recipe_still_hits_api", "session"),
        ("test_no_rid_with_existent_API_does_not_give_404", None),
        ("test_rid_as_anticsrf_with_existent_API_does_not_give_404", "anti-csrf"),
        ("test_random_rid_with_existent_API_does_hits_api", "random"),
    ],
)
async def test_sign_in_is_served_whatever_the_rid(
    core_uri: str, name: str, rid: str | None
) -> None:
    # The SDK's four tests of this shape: the EmailPassword API answers, never a 404. Without a
    # body, 0.31.4 answers 200 FIELD_ERROR (older SDKs answered 400 for the missing formFields).
    app = _app(core_uri, [emailpassword.init()])
    response = await _post(app, "/auth/signin", rid)
    assert response.status_code == 200, name
    assert (await response.get_json())["status"] == "FIELD_ERROR", name


@pytest.mark.parametrize("rid", ["passwordless", "random"])
async def test_wrong_or_random_rid_with_existing_api_works(core_uri: str, rid: str) -> None:
    # test_wrong_rid_with_existing_api_works and test_random_rid_with_existing_api_works.
    app = _app(core_uri, [emailpassword.init(), _passwordless()])
    email = _email("rid")
    signed_up = await _post(app, "/auth/signup", json=_fields(email))
    assert signed_up.status_code == 200
    user = (await signed_up.get_json())["user"]
    signed_in = await _post(app, "/auth/signin", rid, _fields(email))
    assert signed_in.status_code == 200
    body = await signed_in.get_json()
    assert body["user"]["id"] == user["id"] and body["user"]["emails"] == user["emails"]


async def test_wrong_rid_returns_404_if_recipe_missing(core_uri: str) -> None:
    app = _app(core_uri, [_passwordless()])
    response = await _post(app, "/auth/signin", "passwordless", _fields("x@example.test"))
    assert response.status_code == 404


async def test_session_error_handlers_are_getting_overridden(core_uri: str) -> None:
    def answer(status: int, message: str) -> Any:
        def handler(*args: Any) -> Any:
            response = args[-1]
            response.set_status_code(status)
            response.set_json_content({"message": message})
            return response

        return handler

    handlers = InputErrorHandlers(
        on_unauthorised=answer(401, "unauthorized from errorHandler"),
        on_try_refresh_token=answer(401, "try refresh session from errorHandler"),
        on_token_theft_detected=answer(403, "token theft detected from errorHandler"),
        on_invalid_claim=answer(403, "invalid claim from errorHandler"),
        on_clear_duplicate_session_cookies=answer(200, "clear duplicate from errorHandler"),
    )
    init_sdk(core_uri, recipes=[], anti_csrf="VIA_TOKEN", error_handlers=handlers)
    app = Quart("errors")
    QuartSuperTokens(app)
    errors: dict[str, Exception] = {
        "unauthorized": UnauthorisedError(""),
        "try-refresh": TryRefreshTokenError(""),
        "token-theft": TokenTheftError("", "", ""),  # type: ignore[arg-type]
        "claim-validation": InvalidClaimsError("", []),
        "clear-duplicate-session": ClearDuplicateSessionCookiesError(""),
    }
    for name, error in errors.items():

        async def raising(error: Exception = error) -> None:
            raise error

        app.add_url_rule(f"/test/{name}", endpoint=name, view_func=raising, methods=["POST"])
    expected = {
        "unauthorized": (401, "unauthorized from errorHandler"),
        "try-refresh": (401, "try refresh session from errorHandler"),
        "token-theft": (403, "token theft detected from errorHandler"),
        "claim-validation": (403, "invalid claim from errorHandler"),
        "clear-duplicate-session": (200, "clear duplicate from errorHandler"),
    }
    for name, (status, message) in expected.items():
        response = await _post(app, f"/test/{name}")
        assert response.status_code == status, name
        assert await response.get_json() == {"message": message}, name
