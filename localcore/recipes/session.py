"""Session: create, verify, refresh and regenerate (CDI 5.4 `/recipe/session*`).

Refresh-token rotation and its grace window are refresh_chain.py's; removal, listing and the
stored session data are session_admin.py's.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from localcore.clock import now_ms
from localcore.core import PUBLIC_TENANT_ID, RequestContext, Route
from localcore.errors import BadRequestError
from localcore.inputs import JsonObject
from localcore.keys import SigningKey
from localcore.recipes.refresh_chain import (
    SESSION_COLUMNS,
    Standing,
    StoredSession,
    load_session,
    promote,
    standing,
)
from localcore.tokens import (
    PROTECTED_CLAIMS,
    AccessTokenClaims,
    InvalidAccessTokenError,
    RefreshTokenPayload,
    custom_claims,
    decode_access_token,
    parse_access_token,
    refresh_hash2,
    sha256_hex,
    sign_access_token,
)


def _token_info(token: str, expiry: int, created_time: int) -> JsonObject:
    return {"token": token, "expiry": expiry, "createdTime": created_time}


def user_data_in_jwt(ctx: RequestContext, *, required: bool = False) -> dict[str, Any]:
    user_data = ctx.body.json_object("userDataInJWT", None if required else {})
    protected = PROTECTED_CLAIMS.intersection(user_data)
    if protected:
        raise BadRequestError(f"The user payload contains protected field: {sorted(protected)[0]}")
    return user_data


def _new_access_token(
    ctx: RequestContext,
    key: SigningKey,
    session: StoredSession,
    refresh_token_hash1: str,
    parent_hash1: str | None,
    anti_csrf_token: str | None,
) -> JsonObject:
    issued_at = now_ms() // 1000
    expires_at = issued_at + ctx.app.config.access_token_validity
    claims = AccessTokenClaims(
        user_id=session.user_id,
        recipe_user_id=session.recipe_user_id,
        tenant_id=session.tenant_id,
        session_handle=session.handle,
        refresh_token_hash1=refresh_token_hash1,
        parent_refresh_token_hash1=parent_hash1,
        anti_csrf_token=anti_csrf_token,
    )
    token = sign_access_token(key, claims, session.jwt_payload, issued_at, expires_at)
    return _token_info(token, expires_at * 1000, issued_at * 1000)


async def create_session(ctx: RequestContext) -> JsonObject:
    body = ctx.body
    user_id = body.string("userId")
    jwt_payload = user_data_in_jwt(ctx)
    db_data = body.json_object("userDataInDatabase", {})
    dynamic = body.boolean("useDynamicSigningKey", default=True)
    anti_csrf_token = str(uuid.uuid4()) if body.boolean("enableAntiCsrf", default=False) else None
    key = await ctx.core.keys.signing_key(ctx.app_id, ctx.app.config, dynamic=dynamic)

    handle = str(uuid.uuid4())
    if ctx.tenant_id != PUBLIC_TENANT_ID:
        handle = f"{handle}_{ctx.tenant_id}"
    now = now_ms()
    refresh_token = ctx.app.refresh_tokens.mint(
        RefreshTokenPayload(handle, None, now, anti_csrf_token)
    )
    session = StoredSession(
        handle=handle,
        user_id=user_id,
        recipe_user_id=user_id,
        tenant_id=ctx.tenant_id,
        refresh_hash2=refresh_hash2(refresh_token),
        previous_refresh_hash2=None,
        refresh_minted_at=now,
        refresh_generation=0,
        refresh_history=[],
        expires_at=now + ctx.app.config.refresh_token_validity_ms,
        created_at=now,
        jwt_payload=jwt_payload,
        db_data=db_data,
        use_static_key=not dynamic,
    )
    with ctx.database.transaction():
        ctx.database.execute(
            f"INSERT INTO sessions (app_id, {SESSION_COLUMNS})"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ctx.app_id,
                handle,
                user_id,
                user_id,
                ctx.tenant_id,
                session.refresh_hash2,
                None,
                now,
                0,
                "[]",
                session.expires_at,
                now,
                json.dumps(jwt_payload),
                json.dumps(db_data),
                int(not dynamic),
            ),
        )
    access_token = _new_access_token(
        ctx, key, session, sha256_hex(refresh_token), None, anti_csrf_token
    )
    response: JsonObject = {
        "status": "OK",
        "session": session.summary(),
        "accessToken": access_token,
        "refreshToken": _token_info(refresh_token, session.expires_at, now),
    }
    if anti_csrf_token is not None:
        response["antiCsrfToken"] = anti_csrf_token
    return response


def _verified_payload(
    ctx: RequestContext, access_token: str, *, verify_expiry: bool
) -> tuple[dict[str, Any], bool]:
    """The token's payload, and whether a dynamic key signed it."""
    parsed = parse_access_token(access_token)
    key = ctx.core.keys.verification_key(ctx.app_id, parsed.kid, ctx.app.config)
    if key is None:
        raise InvalidAccessTokenError("access token signed by an unknown key")
    return decode_access_token(parsed, key, verify_expiry=verify_expiry), key.is_dynamic


def unauthorised(message: str) -> JsonObject:
    return {"status": "UNAUTHORISED", "message": message}


SESSION_ENDED = "Session does not exist or has expired"


async def verify_session(ctx: RequestContext) -> JsonObject:
    body = ctx.body
    access_token = body.string("accessToken")
    do_anti_csrf_check = body.boolean("doAntiCsrfCheck", default=False)
    enable_anti_csrf = body.boolean("enableAntiCsrf", default=False)
    check_database = body.boolean("checkDatabase", default=False)
    anti_csrf_token = body.optional_string("antiCsrfToken")
    try:
        payload, dynamic = _verified_payload(ctx, access_token, verify_expiry=True)
    except InvalidAccessTokenError as error:
        return {"status": "TRY_REFRESH_TOKEN", "message": str(error)}
    if do_anti_csrf_check and enable_anti_csrf and anti_csrf_token != payload["antiCsrfToken"]:
        return {"status": "TRY_REFRESH_TOKEN", "message": "anti-csrf check failed"}
    parent_hash1 = payload["parentRefreshTokenHash1"]
    if parent_hash1 is None and not check_database:
        return {
            "status": "OK",
            "session": {
                "handle": payload["sessionHandle"],
                "userId": payload["sub"],
                "recipeUserId": payload["rsub"],
                "userDataInJWT": custom_claims(payload),
                "tenantId": payload["tId"],
            },
        }

    key = await ctx.core.keys.signing_key(ctx.app_id, ctx.app.config, dynamic=dynamic)
    # iat has whole seconds, the stored mint time milliseconds.
    minted_at = payload["iat"] * 1000
    with ctx.database.transaction():
        session = load_session(ctx.database, ctx.app_id, payload["sessionHandle"])
        if session is None:
            return unauthorised(SESSION_ENDED)
        token_hash2 = sha256_hex(payload["refreshTokenHash1"])
        if parent_hash1 is not None:
            verdict = standing(ctx, session, token_hash2, parent_hash1, minted_at, slack_ms=999)
            if verdict.standing is Standing.PROMOTE:
                promote(ctx, session, verdict, token_hash2, parent_hash1, minted_at)
    response: JsonObject = {"status": "OK", "session": session.summary()}
    promoted = parent_hash1 is not None and session.refresh_hash2 == token_hash2
    if promoted or session.jwt_payload != custom_claims(payload):
        response["accessToken"] = _new_access_token(
            ctx, key, session, payload["refreshTokenHash1"], None, payload["antiCsrfToken"]
        )
    return response


async def refresh_session(ctx: RequestContext) -> JsonObject:
    body = ctx.body
    refresh_token = body.string("refreshToken")
    enable_anti_csrf = body.boolean("enableAntiCsrf", default=False)
    anti_csrf_token = body.optional_string("antiCsrfToken")
    dynamic = body.boolean("useDynamicSigningKey", default=True)
    token = ctx.app.refresh_tokens.open(refresh_token)
    if token is None:
        return unauthorised("Invalid refresh token")
    # As the official core (Session.refreshSession): a token minted without an anti-CSRF value
    # (a header-mode session, or one created with anti-CSRF off) is not checked.
    if (
        enable_anti_csrf
        and token.anti_csrf_token is not None
        and token.anti_csrf_token != anti_csrf_token
    ):
        return unauthorised("Anti CSRF token missing, or not matching")
    key = await ctx.core.keys.signing_key(ctx.app_id, ctx.app.config, dynamic=dynamic)

    hash1 = sha256_hex(refresh_token)
    hash2 = sha256_hex(hash1)
    now = now_ms()
    with ctx.database.transaction():
        session = load_session(ctx.database, ctx.app_id, token.session_handle)
        if session is None:
            return unauthorised(SESSION_ENDED)
        verdict = standing(ctx, session, hash2, token.parent_hash1, token.minted_at)
        if verdict.standing is Standing.STALE:
            return {
                "status": "TOKEN_THEFT_DETECTED",
                "session": {
                    "handle": session.handle,
                    "userId": session.user_id,
                    "recipeUserId": session.recipe_user_id,
                },
            }
        if verdict.standing is Standing.PROMOTE:
            promote(ctx, session, verdict, hash2, token.parent_hash1, token.minted_at)
        if session.use_static_key == dynamic:
            ctx.database.execute(
                "UPDATE sessions SET use_static_key = ? WHERE app_id = ? AND handle = ?",
                (int(not dynamic), ctx.app_id, session.handle),
            )
    new_anti_csrf_token = str(uuid.uuid4()) if enable_anti_csrf else None
    child = ctx.app.refresh_tokens.mint(
        RefreshTokenPayload(session.handle, hash1, now, new_anti_csrf_token)
    )
    response: JsonObject = {
        "status": "OK",
        "session": session.summary(),
        "accessToken": _new_access_token(
            ctx, key, session, sha256_hex(child), hash1, new_anti_csrf_token
        ),
        "refreshToken": _token_info(child, now + ctx.app.config.refresh_token_validity_ms, now),
    }
    if new_anti_csrf_token is not None:
        response["antiCsrfToken"] = new_anti_csrf_token
    return response


async def regenerate_session(ctx: RequestContext) -> JsonObject:
    """Replace the stored custom claims; re-sign the token unless it has expired."""
    access_token = ctx.body.string("accessToken")
    jwt_payload = user_data_in_jwt(ctx)
    try:
        payload, dynamic = _verified_payload(ctx, access_token, verify_expiry=False)
    except InvalidAccessTokenError as error:
        return unauthorised(str(error))
    key = await ctx.core.keys.signing_key(ctx.app_id, ctx.app.config, dynamic=dynamic)
    with ctx.database.transaction():
        session = load_session(ctx.database, ctx.app_id, payload["sessionHandle"])
        if session is None:
            return unauthorised(SESSION_ENDED)
        ctx.database.execute(
            "UPDATE sessions SET jwt_payload = ? WHERE app_id = ? AND handle = ?",
            (json.dumps(jwt_payload), ctx.app_id, session.handle),
        )
        session.jwt_payload = jwt_payload
    response: JsonObject = {"status": "OK", "session": session.summary()}
    if payload["exp"] * 1000 > now_ms():
        claims = AccessTokenClaims(
            user_id=session.user_id,
            recipe_user_id=session.recipe_user_id,
            tenant_id=session.tenant_id,
            session_handle=session.handle,
            refresh_token_hash1=payload["refreshTokenHash1"],
            parent_refresh_token_hash1=payload["parentRefreshTokenHash1"],
            anti_csrf_token=payload["antiCsrfToken"],
        )
        token = sign_access_token(key, claims, jwt_payload, payload["iat"], payload["exp"])
        response["accessToken"] = _token_info(token, payload["exp"] * 1000, payload["iat"] * 1000)
    return response


ROUTES = [
    Route("POST", "/recipe/session", create_session, tenant_scoped=True),
    Route("POST", "/recipe/session/verify", verify_session),
    Route("POST", "/recipe/session/refresh", refresh_session),
    Route("POST", "/recipe/session/regenerate", regenerate_session),
]
