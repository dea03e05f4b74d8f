"""EmailVerification, UserRoles, UserMetadata, users and tenants through the SDK."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from supertokens_python.asyncio import delete_user, get_user, list_users_by_account_info
from supertokens_python.recipe.emailpassword.asyncio import (
    sign_in,
)
from supertokens_python.recipe.emailpassword.interfaces import (
    WrongCredentialsError,
)
from supertokens_python.recipe.emailverification.asyncio import (
    create_email_verification_token,
    is_email_verified,
    revoke_email_verification_tokens,
    unverify_email,
    verify_email_using_token,
)
from supertokens_python.recipe.emailverification.interfaces import (
    CreateEmailVerificationTokenEmailAlreadyVerifiedError,
    CreateEmailVerificationTokenOkResult,
    VerifyEmailUsingTokenInvalidTokenError,
    VerifyEmailUsingTokenOkResult,
)
from supertokens_python.recipe.multitenancy.asyncio import get_tenant
from supertokens_python.recipe.session.asyncio import (
    create_new_session_without_request_response,
    get_session_information,
)
from supertokens_python.recipe.usermetadata.asyncio import (
    clear_user_metadata,
    get_user_metadata,
    update_user_metadata,
)
from supertokens_python.recipe.userroles.asyncio import (
    add_role_to_user,
    create_new_role_or_add_permissions,
    delete_role,
    get_all_roles,
    get_permissions_for_role,
    get_roles_for_user,
    get_roles_that_have_permission,
    get_users_that_have_role,
    remove_permissions_from_role,
    remove_user_role,
)
from supertokens_python.recipe.userroles.interfaces import UnknownRoleError
from supertokens_python.types.base import AccountInfoInput

from tests.conftest import RunningCore
from tests.localcore.conftest import SdkApp
from tests.localcore.helpers import PASSWORD, signed_up


async def test_expired_verification_token_is_invalid(
    localcore: RunningCore, sdk_factory: Callable[..., SdkApp]
) -> None:
    uri = localcore.new_app(email_verification_token_lifetime="1")
    try:
        sdk_factory(uri)
        created = await signed_up()
        token = await create_email_verification_token("public", created.recipe_user_id)
        assert isinstance(token, CreateEmailVerificationTokenOkResult)
        await asyncio.sleep(0.01)

        result = await verify_email_using_token("public", token.token)

        assert isinstance(result, VerifyEmailUsingTokenInvalidTokenError)
    finally:
        localcore.remove_app(uri)


async def test_email_verification_round_trip(sdk: SdkApp) -> None:
    created = await signed_up()
    token = await create_email_verification_token("public", created.recipe_user_id)
    assert isinstance(token, CreateEmailVerificationTokenOkResult)

    verified = await verify_email_using_token("public", token.token)

    assert isinstance(verified, VerifyEmailUsingTokenOkResult)
    assert verified.user.email == "ada@example.com"
    assert await is_email_verified(created.recipe_user_id) is True
    user = await get_user(created.user.id)
    assert user is not None and user.login_methods[0].verified is True


async def test_verification_token_for_verified_email_is_refused(sdk: SdkApp) -> None:
    created = await signed_up()
    token = await create_email_verification_token("public", created.recipe_user_id)
    assert isinstance(token, CreateEmailVerificationTokenOkResult)
    await verify_email_using_token("public", token.token)

    again = await create_email_verification_token("public", created.recipe_user_id)

    assert isinstance(again, CreateEmailVerificationTokenEmailAlreadyVerifiedError)


async def test_revoked_verification_token_is_invalid(sdk: SdkApp) -> None:
    created = await signed_up()
    token = await create_email_verification_token("public", created.recipe_user_id)
    assert isinstance(token, CreateEmailVerificationTokenOkResult)

    await revoke_email_verification_tokens("public", created.recipe_user_id)
    result = await verify_email_using_token("public", token.token)

    assert isinstance(result, VerifyEmailUsingTokenInvalidTokenError)


async def test_unverify_email(sdk: SdkApp) -> None:
    created = await signed_up()
    token = await create_email_verification_token("public", created.recipe_user_id)
    assert isinstance(token, CreateEmailVerificationTokenOkResult)
    await verify_email_using_token("public", token.token)

    await unverify_email(created.recipe_user_id)

    assert await is_email_verified(created.recipe_user_id) is False


async def test_session_of_real_user_carries_verification_and_role_claims(sdk: SdkApp) -> None:
    created = await signed_up()
    await create_new_role_or_add_permissions("editor", ["write"])
    await add_role_to_user("public", created.user.id, "editor")

    session = await create_new_session_without_request_response("public", created.recipe_user_id)
    payload = session.get_access_token_payload()

    assert payload["st-ev"]["v"] is False
    assert payload["st-role"]["v"] == ["editor"]
    assert payload["st-perm"]["v"] == ["write"]
    information = await get_session_information(session.get_handle())
    assert information is not None
    assert information.custom_claims_in_access_token_payload["st-role"]["v"] == ["editor"]


async def test_roles_and_permissions(sdk: SdkApp) -> None:
    created = await create_new_role_or_add_permissions("admin", ["read", "write"])
    again = await create_new_role_or_add_permissions("admin", ["delete"])
    await create_new_role_or_add_permissions("viewer", ["read"])

    assert created.created_new_role is True
    assert again.created_new_role is False
    assert (await get_all_roles()).roles == ["admin", "viewer"]
    permissions = await get_permissions_for_role("admin")
    assert not isinstance(permissions, UnknownRoleError)
    assert permissions.permissions == ["delete", "read", "write"]
    assert (await get_roles_that_have_permission("read")).roles == ["admin", "viewer"]


async def test_remove_permissions_from_role(sdk: SdkApp) -> None:
    await create_new_role_or_add_permissions("admin", ["read", "write"])

    await remove_permissions_from_role("admin", ["write"])
    permissions = await get_permissions_for_role("admin")

    assert not isinstance(permissions, UnknownRoleError)
    assert permissions.permissions == ["read"]


async def test_unknown_role_is_reported(sdk: SdkApp) -> None:
    assert isinstance(await get_permissions_for_role("ghost"), UnknownRoleError)
    assert isinstance(await add_role_to_user("public", "u1", "ghost"), UnknownRoleError)
    assert isinstance(await remove_user_role("public", "u1", "ghost"), UnknownRoleError)
    assert isinstance(await get_users_that_have_role("public", "ghost"), UnknownRoleError)
    assert isinstance(await remove_permissions_from_role("ghost", ["x"]), UnknownRoleError)


async def test_user_roles(sdk: SdkApp) -> None:
    await create_new_role_or_add_permissions("admin", [])

    first = await add_role_to_user("public", "u1", "admin")
    second = await add_role_to_user("public", "u1", "admin")

    assert not isinstance(first, UnknownRoleError) and first.did_user_already_have_role is False
    assert not isinstance(second, UnknownRoleError) and second.did_user_already_have_role is True
    assert (await get_roles_for_user("public", "u1")).roles == ["admin"]
    users = await get_users_that_have_role("public", "admin")
    assert not isinstance(users, UnknownRoleError) and users.users == ["u1"]
    removed = await remove_user_role("public", "u1", "admin")
    assert not isinstance(removed, UnknownRoleError) and removed.did_user_have_role is True
    assert (await get_roles_for_user("public", "u1")).roles == []


async def test_delete_role_removes_it_from_users(sdk: SdkApp) -> None:
    await create_new_role_or_add_permissions("admin", ["read"])
    await add_role_to_user("public", "u1", "admin")

    assert (await delete_role("admin")).did_role_exist is True
    assert (await delete_role("admin")).did_role_exist is False
    assert (await get_roles_for_user("public", "u1")).roles == []
    assert (await get_roles_that_have_permission("read")).roles == []


async def test_metadata_shallow_merge_where_null_deletes(sdk: SdkApp) -> None:
    await update_user_metadata("u1", {"theme": "dark", "prefs": {"a": 1}, "drop": True})

    merged = await update_user_metadata("u1", {"prefs": {"b": 2}, "drop": None})

    assert merged.metadata == {"theme": "dark", "prefs": {"b": 2}}
    assert (await get_user_metadata("u1")).metadata == {"theme": "dark", "prefs": {"b": 2}}


async def test_metadata_of_unknown_user_is_empty(sdk: SdkApp) -> None:
    assert (await get_user_metadata("nobody")).metadata == {}


async def test_clear_metadata(sdk: SdkApp) -> None:
    await update_user_metadata("u1", {"a": 1})

    await clear_user_metadata("u1")

    assert (await get_user_metadata("u1")).metadata == {}


async def test_get_user_by_id_and_unknown_id(sdk: SdkApp) -> None:
    created = await signed_up()

    user = await get_user(created.user.id)

    assert user is not None and user.emails == ["ada@example.com"]
    assert await get_user("no-such-user") is None


async def test_list_users_by_email(sdk: SdkApp) -> None:
    created = await signed_up()

    users = await list_users_by_account_info("public", AccountInfoInput(email="ADA@example.com"))

    assert [user.id for user in users] == [created.user.id]
    assert await list_users_by_account_info("public", AccountInfoInput(email="x@y.z")) == []


async def test_delete_user_removes_user_and_sessions(sdk: SdkApp) -> None:
    created = await signed_up()
    session = await create_new_session_without_request_response("public", created.recipe_user_id)

    await delete_user(created.user.id)

    assert await get_user(created.user.id) is None
    assert await get_session_information(session.get_handle()) is None
    assert isinstance(await sign_in("public", "ada@example.com", PASSWORD), WrongCredentialsError)


async def test_public_tenant_config(sdk: SdkApp) -> None:
    tenant = await get_tenant("public")

    assert tenant is not None
    assert tenant.third_party_providers == []
