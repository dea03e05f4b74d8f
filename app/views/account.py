"""Accounts: password reset, email verification, and the signed-in user's `/account` page.

Public pages (forgot/reset password, following a verification link) never say whether an email is
registered: the forgot-password answer is the same for every well-formed address. The `/account`
page and its forms are guarded with `check_database=True`, so a revoked session or a deleted user
is sent to sign in again instead of editing an account that no longer exists.

Profile data (display name, time zone) lives in UserMetadata; the display name is also merged into
the access-token payload (`name`), which the page header reads without a core call per render.
"""

from __future__ import annotations

import logging
import unicodedata
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from quart import Blueprint, Response, request
from supertokens_python.asyncio import get_user, list_users_by_account_info
from supertokens_python.recipe.emailpassword.asyncio import (
    consume_password_reset_token,
    send_reset_password_email,
    update_email_or_password,
    verify_credentials,
)
from supertokens_python.recipe.emailpassword.interfaces import (
    ConsumePasswordResetTokenOkResult,
    PasswordPolicyViolationError,
    SignInOkResult,
    UpdateEmailOrPasswordOkResult,
)
from supertokens_python.recipe.session.asyncio import (
    revoke_all_sessions_for_user,
    revoke_session,
)
from supertokens_python.recipe.usermetadata.asyncio import (
    get_user_metadata,
    update_user_metadata,
)
from supertokens_python.types import RecipeUserId
from supertokens_python.types.base import AccountInfoInput

from app.core_calls import TENANT, core_call, plausible_token
from app.current_user import optional_session, required_session
from app.forms import (
    FormResult,
    email_error,
    existing_password_error,
    new_password_error,
    normalise_email,
    read_form,
)
from app.rendering import render
from app.views.sessions import remember_session_details, revoke_other_sessions
from quart_supertokens import (
    HtmxDetails,
    LoginRequired,
    clear_session_cookies,
    forget_current_session,
    request_user_context,
    require_session,
)

logger = logging.getLogger(__name__)

bp = Blueprint("account", __name__)

DISPLAY_NAME_MAX = 50
DEFAULT_TIME_ZONE = "UTC"
# Besides letters, digits, combining marks and spaces, a display name may use these.
NAME_PUNCTUATION = frozenset(".,'’-_()&!?@")

ACCOUNT_PAGE = "account/account.html"
FORGOT_PAGE = "account/forgot_password.html"
RESET_PAGE = "account/reset_password.html"
VERIFY_PAGE = "account/verify_email.html"

# ---------------------------------------------------------------------------------------------
# Profile validation


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA time zone name this system knows, sorted (for the select and for validation)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def display_name_error(name: str) -> str | None:
    if not name:
        return "Enter a display name."
    if len(name) > DISPLAY_NAME_MAX:
        return f"Use at most {DISPLAY_NAME_MAX} characters."
    for ch in name:
        category = unicodedata.category(ch)
        if category == "Cc" or ch == "\ufffd":
            return "The name contains characters that cannot be used."
        if not (category[0] in "LNM" or ch == " " or ch in NAME_PUNCTUATION):
            return "Use letters, digits, spaces and basic punctuation (. , ' - _ ( ) & ! ? @)."
    return None


def time_zone_error(time_zone: str) -> str | None:
    if time_zone not in time_zones():
        return "Choose a time zone from the list."
    return None


def profile_form(fields: dict[str, str]) -> FormResult:
    name = " ".join(fields.get("display_name", "").split())  # trim, collapse inner whitespace
    time_zone = fields.get("time_zone", "").strip()
    result = FormResult(values={"display_name": name, "time_zone": time_zone})
    if error := display_name_error(name):
        result.errors["display_name"] = error
    if error := time_zone_error(time_zone):
        result.errors["time_zone"] = error
    return result


@dataclass(frozen=True)
class Profile:
    display_name: str
    time_zone: str

    @property
    def local_time(self) -> str:
        try:
            zone = zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)
        return datetime.now(UTC).astimezone(zone).strftime("%H:%M")


async def load_profile(user_id: str) -> Profile:
    result = await core_call(get_user_metadata(user_id, request_user_context()))
    metadata: dict[str, Any] = result.metadata or {}
    name = metadata.get("displayName")
    zone = metadata.get("timeZone")
    return Profile(
        display_name=name if isinstance(name, str) else "",
        time_zone=zone if isinstance(zone, str) and zone in time_zones() else DEFAULT_TIME_ZONE,
    )


# ---------------------------------------------------------------------------------------------
# Password reset (public)


@bp.get("/forgot-password")
async def forgot_password_page() -> Response:
    """Ask for the email address to send a reset link to."""
    return await render(FORGOT_PAGE, "forgot_form", form=FormResult())


@bp.post("/forgot-password")
async def forgot_password_submit() -> Response:
    """Send a reset link if an account exists; the answer is the same either way."""
    fields = await read_form()
    email = normalise_email(fields.get("email", ""))
    form = FormResult(values={"email": email})
    if error := email_error(email):
        form.errors["email"] = error
        return await render(FORGOT_PAGE, "forgot_form", status=422, form=form)
    await core_call(_send_reset_links(email))
    return await render(FORGOT_PAGE, "forgot_form", form=form, sent=True)


async def _send_reset_links(email: str) -> None:
    user_context = request_user_context()
    users = await list_users_by_account_info(
        TENANT, AccountInfoInput(email=email), False, user_context
    )
    for user in users:
        if any(
            m.recipe_id == "emailpassword" and m.has_same_email_as(email)
            for m in user.login_methods
        ):
            await send_reset_password_email(TENANT, user.id, email, user_context)


@bp.get("/reset-password")
async def reset_password_page() -> Response:
    """The new-password form for the token in the emailed link."""
    token = request.args.get("token", "")
    return await render(
        RESET_PAGE,
        "reset_form",
        form=FormResult(),
        token=token,
        token_invalid=not plausible_token(token),
    )


@bp.post("/reset-password")
async def reset_password_submit() -> Response:
    """Set the new password with the single-use token and sign out every session of the account,
    or explain what is wrong inline."""
    fields = await read_form()
    token = fields.get("token", "")
    password = fields.get("password", "")
    form = FormResult()
    if not plausible_token(token):
        return await _reset_page(form, token, status=422, token_invalid=True)
    if error := new_password_error(password):
        form.errors["password"] = error
    elif fields.get("password_confirm", "") != password:
        form.errors["password_confirm"] = "The two passwords do not match."  # noqa: S105
    if not form.ok:
        return await _reset_page(form, token, status=422)

    user_context = request_user_context()
    consumed = await core_call(consume_password_reset_token(TENANT, token, user_context))
    if not isinstance(consumed, ConsumePasswordResetTokenOkResult):
        # PasswordResetTokenInvalidError: expired, already used or unknown.
        return await _reset_page(form, token, status=422, token_invalid=True)
    result = await core_call(
        update_email_or_password(
            RecipeUserId(consumed.user_id),
            password=password,
            apply_password_policy=True,
            tenant_id_for_password_policy=TENANT,
            user_context=user_context,
        )
    )
    if isinstance(result, PasswordPolicyViolationError):
        # Not reached with the SDK's default policy, which new_password_error mirrors.
        form.errors["password"] = result.failure_reason
        return await _reset_page(form, token, status=422)
    if not isinstance(result, UpdateEmailOrPasswordOkResult):
        # UnknownUserIdError: the account was deleted after the link was sent.
        return await _reset_page(form, token, status=422, token_invalid=True)
    # A reset means the old password may be known to someone else: end every session.
    user = await core_call(get_user(consumed.user_id, user_context))
    user_id = user.id if user is not None else consumed.user_id
    this_browser = await optional_session()
    await core_call(revoke_all_sessions_for_user(user_id, True, None, user_context))
    signed_out_here = this_browser is not None and this_browser.get_user_id() == user_id
    if signed_out_here:
        forget_current_session()  # the page header shows the browser signed out
    response = await _reset_page(form, "", done=True)
    if signed_out_here:
        # This browser's own session was among those ended: sign it out here too.
        clear_session_cookies(response)
    return response


async def _reset_page(form: FormResult, token: str, status: int = 200, **context: Any) -> Response:
    return await render(RESET_PAGE, "reset_form", status=status, form=form, token=token, **context)


# ---------------------------------------------------------------------------------------------
# The account page: profile, password, verification


async def account_page(
    fragment: str | None = None,
    status: int = 200,
    profile: FormResult | None = None,
    password: FormResult | None = None,
    **context: Any,
) -> Response:
    """The whole account page, or one of its cards (`fragment`) for an htmx request."""
    session = required_session()
    if profile is None:
        saved = await load_profile(session.get_user_id())
        profile = FormResult(
            values={"display_name": saved.display_name, "time_zone": saved.time_zone}
        )
    zone = profile.values.get("time_zone", DEFAULT_TIME_ZONE)
    return await render(
        ACCOUNT_PAGE,
        fragment,
        status=status,
        profile=profile,
        password_form=password or FormResult(),
        time_zones=time_zones(),
        local_time=Profile("", zone if zone in time_zones() else DEFAULT_TIME_ZONE).local_time,
        **context,
    )


@bp.get("/account")
@require_session(check_database=True)
async def account() -> Response:
    """Profile, password and email verification of the signed-in user."""
    await remember_session_details(required_session())
    return await account_page()


@bp.post("/account/profile")
@require_session(check_database=True)
async def account_profile() -> Response:
    """Save display name and time zone; htmx swaps the profile card, else the page re-renders."""
    session = required_session()
    form = profile_form(await read_form())
    if not form.ok:
        return await account_page("profile_card", status=422, profile=form)
    user_context = request_user_context()
    await core_call(
        update_user_metadata(
            session.get_user_id(),
            {"displayName": form.values["display_name"], "timeZone": form.values["time_zone"]},
            user_context,
        )
    )
    # The header reads `name` from the access token: no core call per render.
    await core_call(
        session.merge_into_access_token_payload({"name": form.values["display_name"]}, user_context)
    )
    # htmx swaps only the card: the header's name comes along out of band (hx-swap-oob).
    nav_name = form.values["display_name"] if HtmxDetails(request).wants_fragment else None
    return await account_page(
        "profile_card", profile=form, profile_saved=True, nav_name_oob=nav_name
    )


@bp.post("/account/password")
@require_session(check_database=True)
async def account_password() -> Response:
    """Change the password after checking the current one; sign out every other session."""
    session = required_session()
    user_context = request_user_context()
    fields = await read_form()
    current = fields.get("current_password", "")
    new = fields.get("new_password", "")
    form = FormResult()
    if existing_password_error(current):
        form.errors["current_password"] = (
            "Enter your current password." if not current else "Incorrect password."
        )
    if error := new_password_error(new):
        form.errors["new_password"] = error
    elif new == current:
        form.errors["new_password"] = "Choose a password different from the current one."  # noqa: S105
    if not form.ok:
        return await account_page("password_card", status=422, password=form)

    user = await core_call(get_user(session.get_user_id(), user_context))
    if user is None:
        await core_call(revoke_session(session.get_handle(), user_context))
        raise LoginRequired("account deleted", clear_cookies=True)
    method = next(
        (
            m
            for m in user.login_methods
            if m.recipe_id == "emailpassword"
            and m.recipe_user_id.get_as_string() == session.get_recipe_user_id().get_as_string()
        ),
        None,
    )
    if method is None or method.email is None:
        form.errors["form"] = "This account has no password to change."
        return await account_page("password_card", status=422, password=form)

    check = await core_call(verify_credentials(TENANT, method.email, current, user_context))
    if not isinstance(check, SignInOkResult):
        form.errors["current_password"] = "Incorrect password."  # noqa: S105
        return await account_page("password_card", status=422, password=form)
    result = await core_call(
        update_email_or_password(
            session.get_recipe_user_id(),
            password=new,
            tenant_id_for_password_policy=TENANT,
            user_context=user_context,
        )
    )
    if isinstance(result, PasswordPolicyViolationError):
        form.errors["new_password"] = result.failure_reason
        return await account_page("password_card", status=422, password=form)
    if not isinstance(result, UpdateEmailOrPasswordOkResult):
        form.errors["form"] = "The password could not be changed."
        return await account_page("password_card", status=422, password=form)

    signed_out = await revoke_other_sessions(session)
    return await account_page("password_card", password_changed=True, signed_out=signed_out)
