"""Email verification: sending and following links, and the page that needs a verified address.

The routes live on the account blueprint (their endpoints are `account.*`). `/account/data`, the
account's stored data, is shown only to a verified owner: its route adds the email-verification
claim validator and names where the claim is satisfied, so a page load (or an htmx request) with
an unverified address is sent to `/verify-email?redirectBack=/account/data`, not shown a 403.
"""

from __future__ import annotations

from datetime import UTC, datetime

from quart import Response, request
from supertokens_python.asyncio import get_user
from supertokens_python.recipe.emailverification import EmailVerificationClaim
from supertokens_python.recipe.emailverification.asyncio import (
    send_email_verification_email,
    verify_email_using_token,
)
from supertokens_python.recipe.emailverification.interfaces import (
    SendEmailVerificationEmailAlreadyVerifiedError,
    VerifyEmailUsingTokenOkResult,
)

from app.core_calls import TENANT, core_call, plausible_token
from app.current_user import optional_session, required_session
from app.rendering import render
from app.views.account import VERIFY_PAGE, account_page, bp, load_profile
from quart_supertokens import (
    add_claim_validators,
    check_session,
    request_user_context,
    require_session,
)

DATA_PAGE = "account/data.html"
VERIFY_EMAIL_URL = "/verify-email"


@bp.post("/verify-email/send")
@require_session(check_database=True)
async def verify_email_send() -> Response:
    """Email a verification link to the signed-in user (from the dashboard or account page)."""
    session = required_session()
    result = await core_call(
        send_email_verification_email(
            TENANT,
            session.get_user_id(),
            session.get_recipe_user_id(),
            None,
            request_user_context(),
        )
    )
    if isinstance(result, SendEmailVerificationEmailAlreadyVerifiedError):
        # The token's st-ev value was stale: refresh it so the badge is right from now on.
        await core_call(session.fetch_and_set_claim(EmailVerificationClaim, request_user_context()))
        return await account_page("verification_card", verification="already")
    return await account_page("verification_card", verification="sent")


@bp.get("/verify-email")
async def verify_email() -> Response:
    """Follow an emailed verification link; without a token, offer to send one."""
    token = request.args.get("token")
    if token is None:
        session = await check_session(optional=True)
        return await render(VERIFY_PAGE, outcome="no-token", signed_in=session is not None)
    if not plausible_token(token):
        return await render(VERIFY_PAGE, status=400, outcome="invalid", signed_in=False)
    result = await core_call(verify_email_using_token(TENANT, token, True, request_user_context()))
    session = await optional_session()
    if not isinstance(result, VerifyEmailUsingTokenOkResult):
        return await render(
            VERIFY_PAGE, status=400, outcome="invalid", signed_in=session is not None
        )
    if session is not None:
        # The st-ev claim in this browser's access token still says "unverified": refetch it.
        await core_call(session.fetch_and_set_claim(EmailVerificationClaim, request_user_context()))
    return await render(VERIFY_PAGE, outcome="verified", signed_in=session is not None)


@bp.get("/account/data")
@require_session(
    check_database=True,
    override_global_claim_validators=add_claim_validators(
        # Typed as the base class's validators by the SDK; the instance has is_verified.
        EmailVerificationClaim.validators.is_verified()  # type: ignore[attr-defined]
    ),
    claim_redirects={EmailVerificationClaim.key: VERIFY_EMAIL_URL},
)
async def account_data() -> Response:
    """What the core stores about the signed-in user (a verified email address is required)."""
    session = required_session()
    user = await core_call(get_user(session.get_user_id(), request_user_context()))
    profile = await load_profile(session.get_user_id())
    joined = (
        datetime.fromtimestamp(user.time_joined / 1000, UTC).isoformat(timespec="seconds")
        if user is not None
        else None
    )
    return await render(
        DATA_PAGE,
        user_id=session.get_user_id(),
        emails=user.emails if user is not None else [],
        joined=joined,
        profile=profile,
    )
