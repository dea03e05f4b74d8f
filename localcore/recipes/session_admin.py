"""Session administration: remove sessions, list a user's, read one, update its stored data.

The CDI 5.4 routes besides create/verify/refresh/regenerate (session.py).
"""

from __future__ import annotations

import json
from typing import Any

from localcore.clock import now_ms
from localcore.core import RequestContext, Route
from localcore.inputs import JsonObject
from localcore.recipes.refresh_chain import load_session
from localcore.recipes.session import unauthorised, user_data_in_jwt


async def remove_sessions(ctx: RequestContext) -> JsonObject:
    """Revoke by ``sessionHandles``, or every session of ``userId``."""
    body = ctx.body
    if body.has("sessionHandles"):
        handles = body.string_list("sessionHandles")
        with ctx.database.transaction():
            revoked = [
                handle
                for handle in dict.fromkeys(handles)
                if ctx.database.execute(
                    "DELETE FROM sessions WHERE app_id = ? AND handle = ?", (ctx.app_id, handle)
                )
            ]
        return {"status": "OK", "sessionHandlesRevoked": revoked}
    user_id = body.string("userId")
    across_tenants = body.boolean("revokeAcrossAllTenants", default=True)
    body.boolean("revokeSessionsForLinkedAccounts", default=True)
    with ctx.database.transaction():
        handles = _handles_of_user(ctx, user_id, across_tenants)
        ctx.database.execute(
            f"DELETE FROM sessions WHERE app_id = ? AND user_id = ?"  # noqa: S608
            f"{'' if across_tenants else ' AND tenant_id = ?'}",
            (ctx.app_id, user_id) if across_tenants else (ctx.app_id, user_id, ctx.tenant_id),
        )
    return {"status": "OK", "sessionHandlesRevoked": handles}


def _handles_of_user(ctx: RequestContext, user_id: str, across_tenants: bool) -> list[str]:
    sql = "SELECT handle FROM sessions WHERE app_id = ? AND user_id = ? AND expires_at >= ?"
    parameters: tuple[Any, ...] = (ctx.app_id, user_id, now_ms())
    if not across_tenants:
        sql += " AND tenant_id = ?"
        parameters += (ctx.tenant_id,)
    return [row["handle"] for row in ctx.database.all(sql + " ORDER BY created_at", parameters)]


async def session_handles_of_user(ctx: RequestContext) -> JsonObject:
    user_id = ctx.query.string("userId")
    across_tenants = ctx.query.boolean("fetchAcrossAllTenants", default=True)
    ctx.query.boolean("fetchSessionsForAllLinkedAccounts", default=True)
    return {"status": "OK", "sessionHandles": _handles_of_user(ctx, user_id, across_tenants)}


async def get_session_information(ctx: RequestContext) -> JsonObject:
    session = load_session(ctx.database, ctx.app_id, ctx.query.string("sessionHandle"))
    if session is None:
        return unauthorised("Session does not exist.")
    return {
        "status": "OK",
        "sessionHandle": session.handle,
        "userId": session.user_id,
        "recipeUserId": session.recipe_user_id,
        "userDataInDatabase": session.db_data,
        "expiry": session.expires_at,
        "userDataInJWT": session.jwt_payload,
        "timeCreated": session.created_at,
        "tenantId": session.tenant_id,
    }


def _update_column(ctx: RequestContext, column: str, value: JsonObject) -> JsonObject:
    handle = ctx.body.string("sessionHandle")
    with ctx.database.transaction():
        if load_session(ctx.database, ctx.app_id, handle) is None:
            return unauthorised("Session does not exist.")
        ctx.database.execute(
            f"UPDATE sessions SET {column} = ? WHERE app_id = ? AND handle = ?",  # noqa: S608
            (json.dumps(value), ctx.app_id, handle),
        )
    return {"status": "OK"}


async def update_session_data(ctx: RequestContext) -> JsonObject:
    return _update_column(ctx, "db_data", ctx.body.json_object("userDataInDatabase"))


async def update_jwt_data(ctx: RequestContext) -> JsonObject:
    return _update_column(ctx, "jwt_payload", user_data_in_jwt(ctx, required=True))


ROUTES = [
    Route("GET", "/recipe/session", get_session_information),
    Route("POST", "/recipe/session/remove", remove_sessions, tenant_scoped=True),
    Route("GET", "/recipe/session/user", session_handles_of_user, tenant_scoped=True),
    Route("PUT", "/recipe/session/data", update_session_data),
    Route("PUT", "/recipe/jwt/data", update_jwt_data),
]
