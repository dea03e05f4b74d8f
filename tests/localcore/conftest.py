"""Fixtures for the localcore tests: the SDK initialised against a fresh core app, and raw HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from supertokens_python import InputAppInfo, Supertokens, SupertokensConfig, init
from supertokens_python.ingredients.emaildelivery.types import (
    EmailDeliveryConfig,
    EmailDeliveryInterface,
)
from supertokens_python.post_init_callbacks import PostSTInitCallbacks
from supertokens_python.process_state import ProcessState
from supertokens_python.querier import Querier
from supertokens_python.recipe import (
    emailpassword,
    emailverification,
    session,
    usermetadata,
    userroles,
)
from supertokens_python.recipe.accountlinking.recipe import AccountLinkingRecipe
from supertokens_python.recipe.emailpassword.recipe import EmailPasswordRecipe
from supertokens_python.recipe.emailverification.recipe import EmailVerificationRecipe
from supertokens_python.recipe.jwt.recipe import JWTRecipe
from supertokens_python.recipe.multifactorauth.recipe import MultiFactorAuthRecipe
from supertokens_python.recipe.multitenancy.recipe import MultitenancyRecipe
from supertokens_python.recipe.oauth2provider.recipe import OAuth2ProviderRecipe
from supertokens_python.recipe.openid.recipe import OpenIdRecipe
from supertokens_python.recipe.session.recipe import SessionRecipe
from supertokens_python.recipe.usermetadata.recipe import UserMetadataRecipe
from supertokens_python.recipe.userroles.recipe import UserRolesRecipe

from tests.conftest import RunningCore

CDI_HEADERS = {"cdi-version": "5.4"}


class RecordingEmailService(EmailDeliveryInterface[Any]):
    """Keeps the SDK's emails instead of sending them anywhere."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    async def send_email(self, template_vars: Any, user_context: dict[str, Any]) -> None:
        self.sent.append(template_vars)


@dataclass
class SdkApp:
    """The SDK initialised against one core app."""

    connection_uri: str
    emails: RecordingEmailService = field(default_factory=RecordingEmailService)


def reset_sdk() -> None:
    for recipe in (
        SessionRecipe,
        EmailPasswordRecipe,
        EmailVerificationRecipe,
        UserRolesRecipe,
        UserMetadataRecipe,
        MultitenancyRecipe,
        AccountLinkingRecipe,
        MultiFactorAuthRecipe,
        JWTRecipe,
        OpenIdRecipe,
        OAuth2ProviderRecipe,
    ):
        recipe.reset()
    PostSTInitCallbacks.reset()
    Supertokens.reset()
    Querier.reset()
    ProcessState.get_instance().reset()


def init_sdk(
    connection_uri: str,
    *,
    dynamic_keys: bool = True,
    email_verification: bool = True,
    api_key: str | None = None,
) -> SdkApp:
    """Initialise the SDK: Session, EmailPassword, UserRoles, UserMetadata and (unless turned
    off, e.g. for sessions of user ids that are not users) EmailVerification."""
    app = SdkApp(connection_uri)
    verification = [
        emailverification.init(
            mode="OPTIONAL", email_delivery=EmailDeliveryConfig(service=app.emails)
        )
    ]
    init(
        app_info=InputAppInfo(
            app_name="localcore-tests",
            api_domain="http://127.0.0.1:8000",
            website_domain="http://127.0.0.1:8000",
        ),
        framework="flask",
        supertokens_config=SupertokensConfig(connection_uri=connection_uri, api_key=api_key),
        recipe_list=[
            session.init(
                anti_csrf="NONE",
                cookie_same_site="lax",
                use_dynamic_access_token_signing_key=dynamic_keys,
            ),
            emailpassword.init(email_delivery=EmailDeliveryConfig(service=app.emails)),
            *(verification if email_verification else []),
            userroles.init(),
            usermetadata.init(),
        ],
        telemetry=False,
    )
    return app


@pytest.fixture
def sdk_factory() -> Iterator[Callable[..., SdkApp]]:
    """Initialise the SDK against a given core app; each call starts from a reset SDK."""

    def reset_and_init(connection_uri: str, **options: Any) -> SdkApp:
        reset_sdk()
        return init_sdk(connection_uri, **options)

    yield reset_and_init
    reset_sdk()


@pytest.fixture
def sdk(core_app: str, sdk_factory: Callable[..., SdkApp]) -> SdkApp:
    """The SDK initialised against this test's fresh core app."""
    return sdk_factory(core_app)


@pytest.fixture
def session_sdk(core_app: str, sdk_factory: Callable[..., SdkApp]) -> SdkApp:
    """The SDK without EmailVerification, so sessions need no user record."""
    return sdk_factory(core_app, email_verification=False)


@pytest.fixture
async def http(core_app: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for this test's core app, sending the CDI version header."""
    async with httpx.AsyncClient(base_url=core_app, headers=CDI_HEADERS) as client:
        yield client


@pytest.fixture
async def base_http(localcore: RunningCore) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the core's base path (the public app)."""
    async with httpx.AsyncClient(base_url=localcore.url, headers=CDI_HEADERS) as client:
        yield client


@pytest.fixture
async def short_grace_http(localcore: RunningCore) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose grace window is 1 s (access_token_validity 1 s)."""
    uri = localcore.new_app(access_token_validity=1)
    async with httpx.AsyncClient(base_url=uri, headers=CDI_HEADERS) as client:
        yield client
    localcore.remove_app(uri)
