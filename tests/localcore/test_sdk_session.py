"""The Session recipe driven by supertokens-python against the local core."""

from __future__ import annotations

from collections.abc import Callable

import jwt
import pytest
from supertokens_python.recipe.session.asyncio import (
    create_new_session_without_request_response,
    get_all_session_handles_for_user,
    get_session_information,
    get_session_without_request_response,
    merge_into_access_token_payload,
    refresh_session_without_request_response,
    revoke_all_sessions_for_user,
    revoke_multiple_sessions,
    revoke_session,
    update_session_data_in_database,
)
from supertokens_python.recipe.session.exceptions import (
    TokenTheftError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from supertokens_python.recipe.session.interfaces import SessionContainer
from supertokens_python.types import RecipeUserId

from tests.localcore.conftest import SdkApp


async def new_session(user_id: str = "user-1", **payload: object) -> SessionContainer:
    return await create_new_session_without_request_response(
        "public", RecipeUserId(user_id), dict(payload), {"db": "data"}
    )


def tokens(session: SessionContainer) -> tuple[str, str]:
    all_tokens = session.get_all_session_tokens_dangerously()
    refresh_token = all_tokens["refreshToken"]
    assert refresh_token is not None
    return all_tokens["accessToken"], refresh_token


async def test_created_session_verifies_without_a_core_call(session_sdk: SdkApp) -> None:
    created = await new_session(role="admin")
    access_token, _ = tokens(created)

    verified = await get_session_without_request_response(access_token, anti_csrf_check=False)

    assert verified is not None
    assert verified.get_user_id() == "user-1"
    assert verified.get_handle() == created.get_handle()
    assert verified.get_access_token_payload()["role"] == "admin"
    assert verified.get_tenant_id() == "public"


async def test_refresh_returns_new_tokens_and_first_verify_promotes(session_sdk: SdkApp) -> None:
    created = await new_session()
    _, refresh_token = tokens(created)

    refreshed = await refresh_session_without_request_response(
        refresh_token, disable_anti_csrf=True
    )
    new_access_token, new_refresh_token = tokens(refreshed)
    verified = await get_session_without_request_response(new_access_token, anti_csrf_check=False)

    assert new_refresh_token != refresh_token
    assert verified is not None
    assert verified.get_handle() == created.get_handle()
    assert verified.get_all_session_tokens_dangerously()["accessAndFrontTokenUpdated"] is True
    assert verified.get_access_token_payload()["parentRefreshTokenHash1"] is None


async def test_reusing_a_rotated_out_refresh_token_is_theft(session_sdk: SdkApp) -> None:
    created = await new_session()
    _, first_refresh_token = tokens(created)
    refreshed = await refresh_session_without_request_response(
        first_refresh_token, disable_anti_csrf=True
    )
    _, second_refresh_token = tokens(refreshed)
    refreshed = await refresh_session_without_request_response(
        second_refresh_token, disable_anti_csrf=True
    )
    _, third_refresh_token = tokens(refreshed)
    # Two generations old: the grace window for a just-rotated parent does not cover it.
    await refresh_session_without_request_response(third_refresh_token, disable_anti_csrf=True)

    with pytest.raises(TokenTheftError) as theft:
        await refresh_session_without_request_response(first_refresh_token, disable_anti_csrf=True)

    assert theft.value.session_handle == created.get_handle()
    assert theft.value.user_id == "user-1"


async def test_check_database_rejects_a_revoked_session(session_sdk: SdkApp) -> None:
    created = await new_session()
    access_token, _ = tokens(created)

    assert await revoke_session(created.get_handle()) is True

    with pytest.raises(UnauthorisedError):
        await get_session_without_request_response(
            access_token, anti_csrf_check=False, check_database=True
        )


async def test_garbage_access_token_asks_for_refresh(session_sdk: SdkApp) -> None:
    created = await new_session()
    access_token, _ = tokens(created)
    header, payload, _signature = access_token.split(".")

    with pytest.raises(TryRefreshTokenError):
        await get_session_without_request_response(
            f"{header}.{payload}.AAAA", anti_csrf_check=False
        )


async def test_refresh_after_revocation_is_unauthorised(session_sdk: SdkApp) -> None:
    created = await new_session()
    _, refresh_token = tokens(created)
    await revoke_session(created.get_handle())

    with pytest.raises(UnauthorisedError):
        await refresh_session_without_request_response(refresh_token, disable_anti_csrf=True)


async def test_session_information_has_data_and_custom_claims(session_sdk: SdkApp) -> None:
    created = await new_session(plan="pro")

    information = await get_session_information(created.get_handle())

    assert information is not None
    assert information.user_id == "user-1"
    assert information.recipe_user_id.get_as_string() == "user-1"
    assert information.session_data_in_database == {"db": "data"}
    assert information.custom_claims_in_access_token_payload["plan"] == "pro"
    assert "sub" not in information.custom_claims_in_access_token_payload
    assert information.tenant_id == "public"
    assert information.expiry > information.time_created


async def test_update_session_data_in_database(session_sdk: SdkApp) -> None:
    created = await new_session()

    assert await update_session_data_in_database(created.get_handle(), {"cart": [1, 2]})
    information = await get_session_information(created.get_handle())

    assert information is not None
    assert information.session_data_in_database == {"cart": [1, 2]}


async def test_update_session_data_of_unknown_session_is_false(session_sdk: SdkApp) -> None:
    assert await update_session_data_in_database("no-such-handle", {"a": 1}) is False


async def test_merge_into_live_session_reissues_access_token(session_sdk: SdkApp) -> None:
    created = await new_session(keep="me")

    await created.merge_into_access_token_payload({"theme": "dark", "keep": None})
    access_token, _ = tokens(created)
    verified = await get_session_without_request_response(access_token, anti_csrf_check=False)

    assert verified is not None
    assert verified.get_access_token_payload()["theme"] == "dark"
    assert "keep" not in verified.get_access_token_payload()


async def test_merge_by_handle_reaches_token_at_check_database_verify(session_sdk: SdkApp) -> None:
    created = await new_session()
    access_token, _ = tokens(created)

    assert await merge_into_access_token_payload(created.get_handle(), {"level": 3})
    verified = await get_session_without_request_response(
        access_token, anti_csrf_check=False, check_database=True
    )

    assert verified is not None
    assert verified.get_access_token_payload()["level"] == 3
    assert verified.get_all_session_tokens_dangerously()["accessAndFrontTokenUpdated"] is True


async def test_list_and_revoke_all_sessions_of_user(session_sdk: SdkApp) -> None:
    first = await new_session("user-a")
    second = await new_session("user-a")
    other = await new_session("user-b")

    handles = await get_all_session_handles_for_user("user-a")
    revoked = await revoke_all_sessions_for_user("user-a")

    assert sorted(handles) == sorted([first.get_handle(), second.get_handle()])
    assert sorted(revoked) == sorted(handles)
    assert await get_all_session_handles_for_user("user-a") == []
    assert await get_all_session_handles_for_user("user-b") == [other.get_handle()]


async def test_revoke_multiple_sessions_returns_only_existing(session_sdk: SdkApp) -> None:
    first = await new_session()

    revoked = await revoke_multiple_sessions([first.get_handle(), "unknown"])

    assert revoked == [first.get_handle()]


async def test_static_signing_key_issues_s_kid(
    core_app: str, sdk_factory: Callable[..., SdkApp]
) -> None:
    sdk_factory(core_app, dynamic_keys=False, email_verification=False)
    created = await new_session()
    access_token, _ = tokens(created)

    verified = await get_session_without_request_response(access_token, anti_csrf_check=False)

    assert verified is not None
    assert jwt.get_unverified_header(access_token)["kid"].startswith("s-")
