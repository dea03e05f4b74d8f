"""The `/admin` page: users and their roles, for sessions whose `st-role` claim includes `admin`.

The role check is a claim validator on the route, so a session without the role gets the guard's
403 page or fragment. Roles travel in the access token (`st-role`), fetched at session creation.
A refresh does NOT re-fetch them, and the SDK's UserRoleClaim has no default max age, so the
validator here sets one (ROLE_MAX_AGE): when the token's roles are older than that, opening /admin
re-fetches them from the core (one core call per minute at most) and updates the token. So a role
granted with `python -m app create-admin`, or revoked, reaches existing sessions within a minute;
signing in again, or `session.fetch_and_set_claim(UserRoleClaim)`, applies it at once.

Listing uses the core's user list (`get_users_newest_first`, `GET /{tenant}/users`, which both the
official and the local core serve). A core that cannot list users falls back to the users who hold
any role, plus a search by email, and the page says the list is partial.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from quart import Blueprint, Response, request
from supertokens_python.asyncio import get_user, get_users_newest_first, list_users_by_account_info
from supertokens_python.recipe.userroles import UserRoleClaim
from supertokens_python.recipe.userroles.asyncio import (
    get_all_roles,
    get_roles_for_user,
    get_users_that_have_role,
)
from supertokens_python.recipe.userroles.interfaces import (
    GetRolesForUserOkResult,
    GetUsersThatHaveRoleOkResult,
)
from supertokens_python.types import User
from supertokens_python.types.base import AccountInfoInput

from app.core_calls import TENANT, core_call, plausible_token
from app.forms import email_error, normalise_email
from app.rendering import render
from quart_supertokens import add_claim_validators, request_user_context, require_session

logger = logging.getLogger(__name__)

bp = Blueprint("admin", __name__)

ADMIN_ROLE = "admin"
# Seconds a session's role list is trusted before /admin re-fetches it from the core.
ROLE_MAX_AGE = 60
PAGE_SIZE = 50
ADMIN_PAGE = "admin/admin.html"


@dataclass(frozen=True)
class UserRow:
    user_id: str
    email: str
    joined: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Listing:
    rows: list[UserRow]
    # False when the core cannot list users and only users with a role are shown.
    complete: bool
    next_page: str | None = None
    search: str = ""
    search_error: str | None = None


async def _rows(users: list[User]) -> list[UserRow]:
    user_context = request_user_context()
    results = await core_call(
        asyncio.gather(*(get_roles_for_user(TENANT, user.id, user_context) for user in users))
    )
    rows = []
    for user, roles in zip(users, results, strict=True):
        rows.append(
            UserRow(
                user_id=user.id,
                email=", ".join(user.emails) or "—",
                joined=datetime.fromtimestamp(user.time_joined / 1000, UTC).isoformat(
                    timespec="seconds"
                ),
                roles=tuple(roles.roles) if isinstance(roles, GetRolesForUserOkResult) else (),
            )
        )
    return rows


async def _users_with_a_role() -> list[User]:
    user_context = request_user_context()
    roles = await core_call(get_all_roles(user_context))
    holders = await core_call(
        asyncio.gather(*(get_users_that_have_role(TENANT, r, user_context) for r in roles.roles))
    )
    user_ids = sorted(
        {
            user_id
            for holder in holders
            if isinstance(holder, GetUsersThatHaveRoleOkResult)
            for user_id in holder.users
        }
    )
    users = await core_call(asyncio.gather(*(get_user(uid, user_context) for uid in user_ids)))
    found = [user for user in users if user is not None]
    return sorted(found, key=lambda user: user.time_joined, reverse=True)


async def list_users(page_token: str | None) -> Listing:
    """A page of users, newest first; see the module docstring for the fallback."""
    user_context = request_user_context()
    try:
        result = await get_users_newest_first(
            TENANT, PAGE_SIZE, page_token, None, None, user_context
        )
    except Exception as error:  # the SDK raises a plain Exception for a core 404
        logger.info("the core cannot list users (%s); listing users with a role", error)
        return Listing(rows=await _rows(await _users_with_a_role()), complete=False)
    return Listing(
        rows=await _rows(result.users),
        complete=True,
        next_page=result.next_pagination_token,
    )


async def search_users(email: str) -> Listing:
    if error := email_error(email):
        return Listing(rows=[], complete=False, search=email, search_error=error)
    users = await core_call(
        list_users_by_account_info(
            TENANT, AccountInfoInput(email=email), False, request_user_context()
        )
    )
    return Listing(rows=await _rows(users), complete=True, search=email)


@bp.get("/admin")
@require_session(
    check_database=True,
    override_global_claim_validators=add_claim_validators(
        UserRoleClaim.validators.includes(ADMIN_ROLE, max_age_in_seconds=ROLE_MAX_AGE)
    ),
)
async def admin() -> Response:
    """Users and roles; `?email=` searches, `?page=` pages (htmx swaps the table)."""
    email = request.args.get("email")
    page_token = request.args.get("page")
    if email is not None and email.strip():
        listing = await search_users(normalise_email(email))
    else:
        listing = await list_users(page_token if plausible_token(page_token) else None)
    status = 422 if listing.search_error else 200
    return await render(ADMIN_PAGE, "users_table", status=status, listing=listing)
