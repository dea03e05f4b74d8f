"""General user endpoints and the CDI user object (core ``AuthRecipeUserInfo.toJson``).

``GET /{t}/users`` pages through the tenant's users by ``timeJoined`` (then user id), ``ASC`` by
default, ``limit`` 1..500 (default 100). ``nextPaginationToken`` (present when more users follow)
is opaque: base64 of ``<userId>;<timeJoined>`` of the first user of the next page. Search tags as
in the official core: ``email`` (``;``-separated prefixes, case-insensitive); ``phone`` and
``provider`` cannot match EmailPassword users, so with either the list is empty.
"""

from __future__ import annotations

import base64
import binascii
import sqlite3
from typing import Any

from localcore.core import RequestContext, Route
from localcore.errors import BadRequestError
from localcore.inputs import JsonObject
from localcore.storage import Database

USER_COLUMNS = "user_id, tenant_id, email, time_joined"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
KNOWN_RECIPE_IDS = frozenset({"emailpassword", "thirdparty", "passwordless", "webauthn"})


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_json(database: Database, app_id: str, row: sqlite3.Row) -> JsonObject:
    """The CDI user object for an EmailPassword user, ``verified`` joined from verified emails."""
    verified = (
        database.one(
            "SELECT 1 FROM verified_emails WHERE app_id = ? AND user_id = ? AND email = ?",
            (app_id, row["user_id"], row["email"]),
        )
        is not None
    )
    tenant_ids = [row["tenant_id"]]
    return {
        "id": row["user_id"],
        "isPrimaryUser": False,
        "tenantIds": tenant_ids,
        "timeJoined": row["time_joined"],
        "emails": [row["email"]],
        "phoneNumbers": [],
        "thirdParty": [],
        "loginMethods": [
            {
                "recipeId": "emailpassword",
                "recipeUserId": row["user_id"],
                "tenantIds": tenant_ids,
                "timeJoined": row["time_joined"],
                "verified": verified,
                "email": row["email"],
            }
        ],
    }


def find_user(database: Database, app_id: str, user_id: str) -> JsonObject | None:
    row = database.one(
        f"SELECT {USER_COLUMNS} FROM users WHERE app_id = ? AND user_id = ?",  # noqa: S608
        (app_id, user_id),
    )
    return None if row is None else user_json(database, app_id, row)


async def get_user(ctx: RequestContext) -> JsonObject:
    user = find_user(ctx.database, ctx.app_id, ctx.query.string("userId"))
    if user is None:
        return {"status": "UNKNOWN_USER_ID_ERROR"}
    return {"status": "OK", "user": user}


async def users_by_account_info(ctx: RequestContext) -> JsonObject:
    """Users matching the given account info; only email can match EmailPassword users."""
    query = ctx.query
    union = query.boolean("doUnionOfAccountInfo", default=False)
    email = query.optional_string("email")
    other_given = any(
        query.has(name)
        for name in ("phoneNumber", "thirdPartyId", "thirdPartyUserId", "webauthnCredentialId")
    )
    if email is None or (other_given and not union):
        return {"status": "OK", "users": []}
    rows = ctx.database.all(
        f"SELECT {USER_COLUMNS} FROM users"  # noqa: S608
        " WHERE app_id = ? AND tenant_id = ? AND email = ? ORDER BY time_joined",
        (ctx.app_id, ctx.tenant_id, normalise_email(email)),
    )
    return {"status": "OK", "users": [user_json(ctx.database, ctx.app_id, row) for row in rows]}


def delete_user_data(database: Database, app_id: str, user_id: str) -> None:
    """Delete a user and everything stored about them, in the caller's transaction."""
    for table in (
        "users",
        "sessions",
        "password_reset_tokens",
        "email_verification_tokens",
        "verified_emails",
        "user_roles",
        "user_metadata",
    ):
        database.execute(
            f"DELETE FROM {table} WHERE app_id = ? AND user_id = ?",  # noqa: S608
            (app_id, user_id),
        )


async def remove_user(ctx: RequestContext) -> JsonObject:
    user_id = ctx.body.string("userId")
    ctx.body.boolean("removeAllLinkedAccounts", default=True)
    with ctx.database.transaction():
        delete_user_data(ctx.database, ctx.app_id, user_id)
    return {"status": "OK"}


def _include_emailpassword(ctx: RequestContext) -> bool:
    """Whether ``includeRecipeIds`` (absent or empty: all recipes) lets EmailPassword users in."""
    given = ctx.query.optional_string("includeRecipeIds")
    if not given:
        return True
    recipe_ids = [recipe_id.strip() for recipe_id in given.split(",") if recipe_id.strip()]
    for recipe_id in recipe_ids:
        if recipe_id not in KNOWN_RECIPE_IDS:
            raise BadRequestError(f"Unknown recipe ID: {recipe_id}")
    return not recipe_ids or "emailpassword" in recipe_ids


def _limit(ctx: RequestContext) -> int:
    given = ctx.query.optional_string("limit")
    if not given:
        return DEFAULT_LIMIT
    try:
        limit = int(given)
    except ValueError:
        raise BadRequestError("Field name 'limit' must be an integer") from None
    if limit < 1:
        raise BadRequestError("limit must a positive integer with min value 1")
    if limit > MAX_LIMIT:
        raise BadRequestError(f"max limit allowed is {MAX_LIMIT}")
    return limit


def _pagination_token(user_id: str, time_joined: int) -> str:
    return base64.b64encode(f"{user_id};{time_joined}".encode()).decode()


def _parse_pagination_token(token: str) -> tuple[str, int]:
    try:
        user_id, _, time_joined = base64.b64decode(token, validate=True).decode().rpartition(";")
        if not user_id:
            raise ValueError(token)
        return user_id, int(time_joined)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequestError("invalid pagination token") from None


async def list_users(ctx: RequestContext) -> JsonObject:
    query = ctx.query
    order = query.optional_string("timeJoinedOrder") or "ASC"
    if order not in ("ASC", "DESC"):
        raise BadRequestError("timeJoinedOrder can be either ASC OR DESC")
    limit = _limit(ctx)
    token = query.optional_string("paginationToken")
    include = _include_emailpassword(ctx)
    if not include or query.optional_string("phone") or query.optional_string("provider"):
        return {"status": "OK", "users": []}

    sql = f"SELECT {USER_COLUMNS} FROM users WHERE app_id = ? AND tenant_id = ?"  # noqa: S608
    parameters: list[Any] = [ctx.app_id, ctx.tenant_id]
    prefixes = [
        normalise_email(prefix) for prefix in (query.optional_string("email") or "").split(";")
    ]
    prefixes = [prefix for prefix in prefixes if prefix]
    if prefixes:
        escaped = [
            prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            for prefix in prefixes
        ]
        sql += " AND (" + " OR ".join("email LIKE ? ESCAPE '\\'" for _ in escaped) + ")"
        parameters += [prefix + "%" for prefix in escaped]
    if token:
        user_id, time_joined = _parse_pagination_token(token)
        after = ">" if order == "ASC" else "<"
        sql += f" AND (time_joined {after} ? OR (time_joined = ? AND user_id {after}= ?))"
        parameters += [time_joined, time_joined, user_id]
    sql += f" ORDER BY time_joined {order}, user_id {order} LIMIT ?"
    parameters.append(limit + 1)
    rows = ctx.database.all(sql, parameters)
    response: JsonObject = {
        "status": "OK",
        "users": [user_json(ctx.database, ctx.app_id, row) for row in rows[:limit]],
    }
    if len(rows) > limit:
        response["nextPaginationToken"] = _pagination_token(
            rows[limit]["user_id"], rows[limit]["time_joined"]
        )
    return response


async def count_users(ctx: RequestContext) -> JsonObject:
    include = _include_emailpassword(ctx)
    all_tenants = ctx.query.boolean("includeAllTenants", default=False)
    if not include:
        return {"status": "OK", "count": 0}
    sql = "SELECT COUNT(*) AS count FROM users WHERE app_id = ?"
    parameters: tuple[str, ...] = (ctx.app_id,)
    if not all_tenants:
        sql += " AND tenant_id = ?"
        parameters += (ctx.tenant_id,)
    row = ctx.database.one(sql, parameters)
    return {"status": "OK", "count": 0 if row is None else row["count"]}


async def search_tags(ctx: RequestContext) -> JsonObject:
    """The user-search tags the dashboard offers (as the official core lists them)."""
    return {"status": "OK", "tags": ["email", "phone", "provider"]}


ROUTES = [
    Route("GET", "/user/search/tags", search_tags),
    Route("GET", "/users", list_users, tenant_scoped=True),
    Route("GET", "/users/count", count_users, tenant_scoped=True),
    Route("GET", "/user/id", get_user),
    Route("GET", "/users/by-accountinfo", users_by_account_info, tenant_scoped=True),
    Route("POST", "/user/remove", remove_user),
]
