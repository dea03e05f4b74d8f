"""SuperTokens SDK initialisation for a server-rendered app, plus the start-up JWKS warm-up.

Choices that differ from the SDK defaults, and why:
- tokens always travel in cookies (`get_token_transfer_method` → "cookie"): pages are rendered on
  the server from the browser's cookies, so an `Authorization: Bearer` header alone is no session;
- SameSite, Secure and Domain come from Settings instead of being guessed per request;
- anti-CSRF is off by default: the app is same-origin with lax cookies and checks Origin itself.
  ANTI_CSRF=VIA_CUSTOM_HEADER switches to the SDK's `rid`-header check for cross-site deployments;
- emails go to a local sink (app/sdk/email.py), never to api.supertokens.io;
- no telemetry, and no public-suffix-list download (SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Literal

from supertokens_python import InputAppInfo, Supertokens, SupertokensConfig
from supertokens_python.framework import BaseRequest
from supertokens_python.ingredients.emaildelivery.types import EmailDeliveryConfig
from supertokens_python.recipe import (
    emailpassword,
    emailverification,
    session,
    usermetadata,
    userroles,
)
from supertokens_python.recipe.emailpassword.types import PasswordResetEmailTemplateVars
from supertokens_python.recipe.emailverification.types import VerificationEmailTemplateVars
from supertokens_python.recipe.session.interfaces import RecipeInterface

import quart_supertokens
from app.config import Settings
from app.sdk.email import EmailSink, PasswordResetEmailService, VerificationEmailService
from app.sdk.session_payload import stamp_new_sessions

logger = logging.getLogger(__name__)


def cookie_transfer_only(
    request: BaseRequest, for_create_new_session: bool, user_context: dict[str, Any]
) -> Literal["cookie"]:
    """Read and write session tokens in cookies only, whatever headers the request carries."""
    return "cookie"


def session_overrides(original: RecipeInterface) -> RecipeInterface:
    """The app's Session recipe override (quart_supertokens.init adds the extension's own)."""
    return stamp_new_sessions(original)


def reset_supertokens() -> None:
    """Forget every SDK singleton so `init` can run again (only when SUPERTOKENS_ENV=testing)."""
    from supertokens_python.post_init_callbacks import PostSTInitCallbacks
    from supertokens_python.process_state import ProcessState
    from supertokens_python.recipe.accountlinking.recipe import AccountLinkingRecipe
    from supertokens_python.recipe.emailpassword.recipe import EmailPasswordRecipe
    from supertokens_python.recipe.emailverification.recipe import EmailVerificationRecipe
    from supertokens_python.recipe.jwt.recipe import JWTRecipe
    from supertokens_python.recipe.multitenancy.recipe import MultitenancyRecipe
    from supertokens_python.recipe.oauth2provider.recipe import OAuth2ProviderRecipe
    from supertokens_python.recipe.openid.recipe import OpenIdRecipe
    from supertokens_python.recipe.session.recipe import SessionRecipe
    from supertokens_python.recipe.userroles.recipe import UserRolesRecipe

    # Supertokens.reset() also resets UserMetadata and the Querier; SessionRecipe.reset() the JWKS.
    # The SDK's reset functions are untyped.
    Supertokens.reset()  # type: ignore[no-untyped-call]
    for recipe in (
        SessionRecipe,
        EmailPasswordRecipe,
        EmailVerificationRecipe,
        UserRolesRecipe,
        AccountLinkingRecipe,
        JWTRecipe,
        OpenIdRecipe,
        MultitenancyRecipe,
        OAuth2ProviderRecipe,
    ):
        recipe.reset()  # type: ignore[no-untyped-call]
    PostSTInitCallbacks.reset()  # type: ignore[no-untyped-call]
    ProcessState.get_instance().reset()  # type: ignore[no-untyped-call]


def _is_testing() -> bool:
    return os.environ.get("SUPERTOKENS_ENV") == "testing"


def init_supertokens(settings: Settings) -> None:
    """Initialise the SDK for this process from `settings` (re-initialise when testing)."""
    os.environ.setdefault("SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP", "1")
    if _is_testing():
        reset_supertokens()
    elif _is_initialised():
        logger.warning(
            "SuperTokens is already initialised in this process; keeping the first settings"
        )
        return

    sink = EmailSink(settings.email_sink)
    password_reset_delivery: EmailDeliveryConfig[PasswordResetEmailTemplateVars] = (
        EmailDeliveryConfig(service=PasswordResetEmailService(sink, settings.website_domain))
    )
    verification_delivery: EmailDeliveryConfig[VerificationEmailTemplateVars] = EmailDeliveryConfig(
        service=VerificationEmailService(sink, settings.website_domain)
    )
    quart_supertokens.init(
        app_info=InputAppInfo(
            app_name=settings.app_name,
            api_domain=settings.api_domain,
            website_domain=settings.website_domain,
            api_base_path=settings.api_base_path,
        ),
        supertokens_config=SupertokensConfig(
            connection_uri=settings.connection_uri, api_key=settings.api_key
        ),
        recipe_list=[
            session.init(
                get_token_transfer_method=cookie_transfer_only,
                cookie_same_site=settings.cookie_same_site,
                cookie_secure=settings.secure_cookies,
                cookie_domain=settings.cookie_domain,
                older_cookie_domain=settings.older_cookie_domain,
                anti_csrf=settings.anti_csrf,
                override=session.SessionOverrideConfig(functions=session_overrides),
            ),
            emailpassword.init(email_delivery=password_reset_delivery),
            emailverification.init(mode="OPTIONAL", email_delivery=verification_delivery),
            userroles.init(),
            usermetadata.init(),
        ],
        telemetry=False,
        core_timeout=settings.core_timeout,
    )


def _is_initialised() -> bool:
    try:
        Supertokens.get_instance()
    except Exception:
        return False
    return True


def _fetch_jwks() -> int:
    from supertokens_python.recipe.session.jwks import get_latest_keys
    from supertokens_python.recipe.session.recipe import SessionRecipe

    return len(get_latest_keys(SessionRecipe.get_instance().config))


async def warm_jwks_cache() -> None:
    """Fetch the core's JWKS once, off the event loop, so no page render waits on it.

    The SDK fetches with blocking `requests.get`; a failure (core down) is logged and start-up goes
    on: the first session check retries the fetch.
    """
    try:
        key_count = await asyncio.to_thread(_fetch_jwks)
    except Exception as error:
        logger.warning("Could not fetch the JWKS from the SuperTokens core at start-up: %s", error)
    else:
        logger.info("Fetched %d signing key(s) from the SuperTokens core", key_count)
