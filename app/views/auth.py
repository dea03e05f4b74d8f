"""Sign-in, sign-up, sign-out and the server-side refresh hop.

These pages are public and never guarded, so a failed refresh always has somewhere to land.
Forms post here (not to the SDK's JSON API) and the session is created with cookies.
"""

from __future__ import annotations

import logging
from typing import Any

from quart import Blueprint, Response, request
from supertokens_python.recipe.emailpassword.asyncio import sign_in, sign_up
from supertokens_python.recipe.emailpassword.interfaces import (
    EmailAlreadyExistsError,
    SignInOkResult,
    SignUpOkResult,
)
from supertokens_python.recipe.session.asyncio import (
    create_new_session,
    get_session,
    revoke_session,
)
from supertokens_python.recipe.session.exceptions import (
    TryRefreshTokenError,
)

from app.core_calls import TENANT
from app.forms import FormResult, credentials_form, read_form
from app.rendering import redirect_to, render
from app.sdk.session_payload import EMAIL_CLAIM
from quart_supertokens import (
    clear_session_cookies,
    request_user_context,
    safe_redirect_back,
    session_handle_of_expired_token,
)
from quart_supertokens.framework import QuartRequest

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

ACCESS_TOKEN_COOKIE = "sAccessToken"  # noqa: S105 - a cookie name


async def _signed_in() -> bool:
    """Whether the request already carries a valid session (no refresh attempted here)."""
    try:
        session = await get_session(
            QuartRequest(request),
            session_required=False,
            override_global_claim_validators=lambda *_: [],
            user_context=request_user_context(),
        )
    except Exception:  # an expired token, or the core down: show the form, never an error
        return False
    return session is not None


def _redirect_back_from(source: dict[str, str] | Any) -> str:
    return safe_redirect_back(source.get("redirectBack"), default="/dashboard")


async def _credentials_page(
    template: str, form: FormResult, redirect_back: str, status: int = 200
) -> Response:
    return await render(
        template,
        "auth_form",
        status=status,
        form=form,
        redirect_back=redirect_back,
    )


async def _start_session(recipe_user_id: Any, email: str) -> None:
    """End the browser's previous session, if any, then create the new one with cookies
    (app/sdk/session_payload.py stamps the sign-in time)."""
    if ACCESS_TOKEN_COOKIE in request.cookies:
        await _end_this_browser_s_session()
    await create_new_session(
        QuartRequest(request),
        TENANT,
        recipe_user_id,
        access_token_payload={EMAIL_CLAIM: email},
        user_context=request_user_context(),
    )


async def _empty_form_or_onwards(template: str) -> Response:
    """A signed-in visitor goes straight to where they were going; others get the empty form."""
    redirect_back = _redirect_back_from(request.args)
    if await _signed_in():
        return redirect_to(redirect_back)
    return await _credentials_page(template, FormResult(), redirect_back)


@bp.get("/login")
async def login_page() -> Response:
    """The sign-in form."""
    return await _empty_form_or_onwards("auth/login.html")


@bp.post("/login")
async def login_submit() -> Response:
    """Check the credentials and start a session, or re-render the form with inline errors."""
    fields = await read_form()
    redirect_back = _redirect_back_from(fields)
    form = credentials_form(fields, new_account=False)
    if form.ok:
        result = await sign_in(
            TENANT, form.values["email"], fields["password"], None, request_user_context()
        )
        if isinstance(result, SignInOkResult):
            await _start_session(result.recipe_user_id, form.values["email"])
            return redirect_to(redirect_back)
        form.errors["form"] = "Incorrect email or password."
    return await _credentials_page("auth/login.html", form, redirect_back, status=422)


@bp.get("/signup")
async def signup_page() -> Response:
    """The sign-up form."""
    return await _empty_form_or_onwards("auth/signup.html")


@bp.post("/signup")
async def signup_submit() -> Response:
    """Create the account and start a session, or re-render the form with inline errors."""
    fields = await read_form()
    redirect_back = _redirect_back_from(fields)
    form = credentials_form(fields, new_account=True)
    if form.ok:
        result = await sign_up(
            TENANT, form.values["email"], fields["password"], None, request_user_context()
        )
        if isinstance(result, SignUpOkResult):
            await _start_session(result.recipe_user_id, form.values["email"])
            return redirect_to(redirect_back)
        if isinstance(result, EmailAlreadyExistsError):
            # The SDK's own sign-up API reveals this too; saying so is no new leak.
            form.errors["email"] = "An account with this email already exists. Sign in instead?"
        else:
            form.errors["form"] = "The account could not be created."
    return await _credentials_page("auth/signup.html", form, redirect_back, status=422)


async def _end_this_browser_s_session() -> None:
    """Revoke the session this browser's token belongs to, if any, expired tokens included.

    Signing out, and signing in again over a session (whose cookies the new one replaces), must
    not leave the old session alive in the core, held by nobody. Never raises.
    """
    handle: str | None = None
    try:
        session = await get_session(
            QuartRequest(request),
            session_required=False,
            override_global_claim_validators=lambda *_: [],
            user_context=request_user_context(),
        )
        handle = session.get_handle() if session is not None else None
    except TryRefreshTokenError:
        # An expired (but genuine) token: the session must still end in the core.
        handle = session_handle_of_expired_token(request.cookies.get("sAccessToken", ""))
    except Exception:
        logger.info("no verifiable session to end; clearing cookies only")
    if handle is not None:
        try:
            await revoke_session(handle, request_user_context())
        except Exception:
            logger.warning("could not revoke session %s in the core", handle)


@bp.post("/logout")
async def logout() -> Response:
    """Revoke the session, clear its cookies and the site's data, and go to the sign-in page."""
    await _end_this_browser_s_session()
    response = redirect_to("/login")
    clear_session_cookies(response)
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response
