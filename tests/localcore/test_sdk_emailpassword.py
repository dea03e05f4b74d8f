"""EmailPassword through the SDK: sign up, sign in, updating email and password, password reset."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from supertokens_python.recipe.emailpassword.asyncio import (
    consume_password_reset_token,
    create_reset_password_token,
    reset_password_using_token,
    send_reset_password_email,
    sign_in,
    sign_up,
    update_email_or_password,
)
from supertokens_python.recipe.emailpassword.interfaces import (
    ConsumePasswordResetTokenOkResult,
    CreateResetPasswordOkResult,
    EmailAlreadyExistsError,
    PasswordResetTokenInvalidError,
    SignInOkResult,
    SignUpOkResult,
    UnknownUserIdError,
    UpdateEmailOrPasswordOkResult,
    WrongCredentialsError,
)
from supertokens_python.types import RecipeUserId

from tests.conftest import RunningCore
from tests.localcore.conftest import SdkApp
from tests.localcore.helpers import PASSWORD, signed_up


async def test_sign_up_returns_full_user(sdk: SdkApp) -> None:
    result = await signed_up()

    user = result.user
    assert user.emails == ["ada@example.com"]
    assert user.tenant_ids == ["public"]
    assert user.is_primary_user is False
    assert user.login_methods[0].recipe_id == "emailpassword"
    assert user.login_methods[0].verified is False
    assert result.recipe_user_id.get_as_string() == user.id


async def test_sign_up_normalises_email(sdk: SdkApp) -> None:
    result = await sign_up("public", "  Ada@Example.COM ", PASSWORD)

    assert isinstance(result, SignUpOkResult)
    assert result.user.emails == ["ada@example.com"]


async def test_sign_up_twice_is_email_already_exists(sdk: SdkApp) -> None:
    await signed_up()

    assert isinstance(
        await sign_up("public", "ADA@example.com", "other-pw-1"), EmailAlreadyExistsError
    )


async def test_sign_in_with_right_password(sdk: SdkApp) -> None:
    created = await signed_up()

    result = await sign_in("public", "ada@example.com", PASSWORD)

    assert isinstance(result, SignInOkResult)
    assert result.user.id == created.user.id


async def test_sign_in_with_wrong_password_fails(sdk: SdkApp) -> None:
    await signed_up()

    assert isinstance(
        await sign_in("public", "ada@example.com", "wrong-pw-1"), WrongCredentialsError
    )


async def test_sign_in_of_unknown_email_fails(sdk: SdkApp) -> None:
    assert isinstance(
        await sign_in("public", "nobody@example.com", PASSWORD), WrongCredentialsError
    )


async def test_update_email_and_password(sdk: SdkApp) -> None:
    created = await signed_up()

    result = await update_email_or_password(
        created.recipe_user_id, email="new@example.com", password="new-password-2"
    )

    assert isinstance(result, UpdateEmailOrPasswordOkResult)
    assert isinstance(await sign_in("public", "new@example.com", "new-password-2"), SignInOkResult)
    assert isinstance(await sign_in("public", "ada@example.com", PASSWORD), WrongCredentialsError)


async def test_update_to_a_taken_email_fails(sdk: SdkApp) -> None:
    created = await signed_up()
    await signed_up("grace@example.com")

    result = await update_email_or_password(created.recipe_user_id, email="grace@example.com")

    assert isinstance(result, EmailAlreadyExistsError)


async def test_update_of_unknown_user_fails(sdk: SdkApp) -> None:
    result = await update_email_or_password(RecipeUserId("no-such-user"), email="x@example.com")

    assert isinstance(result, UnknownUserIdError)


async def test_password_reset_token_is_consumed_once(sdk: SdkApp) -> None:
    created = await signed_up()
    token = await create_reset_password_token("public", created.user.id, "ada@example.com")
    assert isinstance(token, CreateResetPasswordOkResult)

    first = await consume_password_reset_token("public", token.token)
    second = await consume_password_reset_token("public", token.token)

    assert isinstance(first, ConsumePasswordResetTokenOkResult)
    assert (first.user_id, first.email) == (created.user.id, "ada@example.com")
    assert isinstance(second, PasswordResetTokenInvalidError)


async def test_reset_password_using_token_changes_password(sdk: SdkApp) -> None:
    created = await signed_up()
    token = await create_reset_password_token("public", created.user.id, "ada@example.com")
    assert isinstance(token, CreateResetPasswordOkResult)

    result = await reset_password_using_token("public", token.token, "brand-new-pw-3")

    assert isinstance(result, UpdateEmailOrPasswordOkResult)
    assert isinstance(await sign_in("public", "ada@example.com", "brand-new-pw-3"), SignInOkResult)


async def test_reset_token_for_unknown_user_fails(sdk: SdkApp) -> None:
    result = await create_reset_password_token("public", "no-such-user", "x@example.com")

    assert isinstance(result, UnknownUserIdError)


async def test_reset_email_goes_to_the_recording_service(sdk: SdkApp) -> None:
    created = await signed_up()

    assert await send_reset_password_email("public", created.user.id, "ada@example.com") == "OK"
    assert len(sdk.emails.sent) == 1
    assert "token=" in sdk.emails.sent[0].password_reset_link


async def test_expired_reset_token_is_invalid(
    localcore: RunningCore, sdk_factory: Callable[..., SdkApp]
) -> None:
    uri = localcore.new_app(password_reset_token_lifetime=1)
    try:
        sdk_factory(uri)
        created = await signed_up()
        token = await create_reset_password_token("public", created.user.id, "ada@example.com")
        assert isinstance(token, CreateResetPasswordOkResult)
        await asyncio.sleep(0.01)

        result = await consume_password_reset_token("public", token.token)

        assert isinstance(result, PasswordResetTokenInvalidError)
    finally:
        localcore.remove_app(uri)
