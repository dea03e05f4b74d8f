"""General user endpoints and the CDI user object (core ``AuthRecipeUserInfo.toJson``)."""

from __future__ import annotations

import sqlite3

from localcore.core import RequestContext, Route
from localcore.inputs import JsonObject
from localcore.storage import Database

USER_COLUMNS = "user_id, tenant_id, email, time_joined"


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


ROUTES = [
    Route("GET", "/user/id", get_user),
    Route("GET", "/users/by-accountinfo", users_by_account_info, tenant_scoped=True),
    Route("POST", "/user/remove", remove_user),
]
