"""Session: create, verify, refresh, regenerate, remove, and the stored session data.

Refresh-token rotation follows the official core's legacy flow (CDI <= 5.4), with a grace window
for the requests of one browser that race each other (docs/security.md F4).

Every refresh token carries, sealed, its session handle, its parent's hash1 and its mint time.
Tokens form a tree; the *generation* of a token is its depth in it. Per session the store keeps
``refresh_hash2`` = sha256(sha256(current token)), the current token's generation, the mint
time of the first token promoted to that generation (``refresh_minted_at``), and a bounded
history (``refresh_history``, at most 8 entries) of tokens that were current and were displaced,
each with its generation and the time it was displaced. On every promotion the displaced token
joins the history and entries older than the parent generation are dropped, so the history
holds only the current generation's displaced siblings and the parent generation.

The grace window is ``min(30 s, access_token_validity)``. ``refresh(R)``:

1. R is current: mint a child of R; the store does not change, so concurrent refreshes with R
   all succeed, each with its own child.
2. R is a child of the current token: promote R (it becomes current, the session expiry is
   extended), then go on as in 1.
3. **Re-presented parent.** R was current in the parent generation (the parent of the current
   token, or a sibling of the parent displaced by it) and was displaced less than the window ago:
   a request that left the browser before the Set-Cookie of the refresh that replaced R arrived.
   Mint a child of R (a sibling of the current token); the store does not change.
4. **Siblings.** R is of the current generation and either was current before (a sibling that
   lost a race and comes back) or is a child of a parent-generation token in the history and was
   minted within the window of the generation's first promoted token, or after its parent was
   displaced (so by rule 3, within the window). Promote R; the current token joins the history.
   This does not expire: a browser whose cookie jar ended the race with the sibling that was not
   promoted may come back after any idle time.
5. **Nephews.** R is a child of a sibling that lost the race (a current-generation token in the
   history): promote R, as a child.
6. Anything else that decrypts under the app's key is ``TOKEN_THEFT_DETECTED``: a parent-
   generation token re-presented after the window, a token two or more generations older than
   the current one, a sibling minted outside the window, an unknown branch.

Verify applies rules 2, 4 and 5 to the refresh token named by an access token that has a parent
(``refreshTokenHash1``/``parentRefreshTokenHash1``; the mint time is judged by the token's ``iat``,
whole seconds) and then returns a new access token without a parent; it never reports theft.

Trade-off: a thief who replays a just-rotated token within the window gets a branch of their own
(as with the official core's CDI 5.6 grace period). The branches compete until one of them
advances a generation; the other is then theft as soon as its window has passed.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Any

from localcore.clock import now_ms
from localcore.core import PUBLIC_TENANT_ID, RequestContext, Route
from localcore.errors import BadRequestError
from localcore.inputs import JsonObject
from localcore.keys import SigningKey
from localcore.storage import Database
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

SIBLING_GRACE_MS = 30_000
HISTORY_LIMIT = 8
SESSION_COLUMNS = (
    "handle, user_id, recipe_user_id, tenant_id, refresh_hash2, previous_refresh_hash2,"
    " refresh_minted_at, refresh_generation, refresh_history, expires_at, created_at,"
    " jwt_payload, db_data, use_static_key"
)


@dataclass
class Retired:
    """A refresh token that was current and no longer is."""

    hash2: str
    generation: int
    retired_at: int


@dataclass
class StoredSession:
    handle: str
    user_id: str
    recipe_user_id: str
    tenant_id: str
    refresh_hash2: str
    previous_refresh_hash2: str | None
    refresh_minted_at: int
    refresh_generation: int
    refresh_history: list[Retired]
    expires_at: int
    created_at: int
    jwt_payload: dict[str, Any]
    db_data: dict[str, Any]
    use_static_key: bool

    def summary(self) -> JsonObject:
        """The session object ``S`` of create, verify, refresh and regenerate responses."""
        return {
            "handle": self.handle,
            "userId": self.user_id,
            "recipeUserId": self.recipe_user_id,
            "userDataInJWT": self.jwt_payload,
            "tenantId": self.tenant_id,
        }

    def retired(self, hash2: str) -> Retired | None:
        return next((entry for entry in self.refresh_history if entry.hash2 == hash2), None)


def _load_session(database: Database, app_id: str, handle: str) -> StoredSession | None:
    """The session if it exists and has not expired."""
    row = database.one(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE app_id = ? AND handle = ?",  # noqa: S608
        (app_id, handle),
    )
    if row is None or row["expires_at"] < now_ms():
        return None
    return StoredSession(
        handle=row["handle"],
        user_id=row["user_id"],
        recipe_user_id=row["recipe_user_id"],
        tenant_id=row["tenant_id"],
        refresh_hash2=row["refresh_hash2"],
        previous_refresh_hash2=row["previous_refresh_hash2"],
        refresh_minted_at=row["refresh_minted_at"],
        refresh_generation=row["refresh_generation"],
        refresh_history=[Retired(*entry) for entry in json.loads(row["refresh_history"])],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        jwt_payload=json.loads(row["jwt_payload"]),
        db_data=json.loads(row["db_data"]),
        use_static_key=bool(row["use_static_key"]),
    )


class Standing(Enum):
    """Where a presented refresh token stands relative to the session's current one."""

    CURRENT = "current"
    RECENT = "recent"  # a parent-generation token retired within the window: mint, no change
    PROMOTE = "promote"  # a child, sibling, nephew or displaced sibling: make it current
    STALE = "stale"  # anything else: theft


@dataclass(frozen=True)
class Verdict:
    standing: Standing
    generation: int = 0  # the generation of the token to promote


def _grace_ms(ctx: RequestContext) -> int:
    return min(SIBLING_GRACE_MS, ctx.app.config.access_token_validity_ms)


def _standing(
    ctx: RequestContext,
    session: StoredSession,
    token_hash2: str,
    parent_hash1: str | None,
    minted_at: int,
    slack_ms: int = 0,
) -> Verdict:
    """Classify a presented token (rules 1-6 of the module docstring).

    ``minted_at`` may be ``slack_ms`` too early (an access token's ``iat`` has whole seconds).
    """
    now = now_ms()
    grace = _grace_ms(ctx)
    generation = session.refresh_generation
    if token_hash2 == session.refresh_hash2:
        return Verdict(Standing.CURRENT)
    seen = session.retired(token_hash2)
    if seen is not None and seen.generation == generation:
        return Verdict(Standing.PROMOTE, generation)  # rule 4: a displaced sibling
    if seen is not None and seen.generation == generation - 1 and now - seen.retired_at <= grace:
        return Verdict(Standing.RECENT)  # rule 3: the parent (or an uncle), re-presented
    if parent_hash1 is None:
        return Verdict(Standing.STALE)
    parent_hash2 = sha256_hex(parent_hash1)
    if parent_hash2 == session.refresh_hash2:
        return Verdict(Standing.PROMOTE, generation + 1)  # rule 2: a child
    parent = session.retired(parent_hash2)
    if parent is None:
        return Verdict(Standing.STALE)
    if parent.generation == generation:
        return Verdict(Standing.PROMOTE, generation + 1)  # rule 5: a nephew
    if parent.generation == generation - 1 and (
        abs(minted_at - session.refresh_minted_at) <= grace + slack_ms
        or minted_at + slack_ms >= parent.retired_at
    ):
        return Verdict(Standing.PROMOTE, generation)  # rule 4: a sibling
    return Verdict(Standing.STALE)


def _promote(
    ctx: RequestContext,
    session: StoredSession,
    verdict: Verdict,
    token_hash2: str,
    parent_hash1: str | None,
    minted_at: int,
) -> None:
    """Make the presented token current, remember the displaced one, and extend the session."""
    now = now_ms()
    generation = verdict.generation
    history = [
        entry
        for entry in session.refresh_history
        if entry.hash2 != token_hash2 and entry.generation >= generation - 1
    ]
    history.append(Retired(session.refresh_hash2, session.refresh_generation, now))
    history = history[-HISTORY_LIMIT:]
    if generation != session.refresh_generation:
        session.refresh_minted_at = minted_at
    if parent_hash1 is not None:
        session.previous_refresh_hash2 = sha256_hex(parent_hash1)
    session.refresh_hash2 = token_hash2
    session.refresh_generation = generation
    session.refresh_history = history
    session.expires_at = now + ctx.app.config.refresh_token_validity_ms
    ctx.database.execute(
        "UPDATE sessions SET refresh_hash2 = ?, previous_refresh_hash2 = ?,"
        " refresh_minted_at = ?, refresh_generation = ?, refresh_history = ?, expires_at = ?"
        " WHERE app_id = ? AND handle = ?",
        (
            token_hash2,
            session.previous_refresh_hash2,
            session.refresh_minted_at,
            generation,
            json.dumps([[e.hash2, e.generation, e.retired_at] for e in history]),
            session.expires_at,
            ctx.app_id,
            session.handle,
        ),
    )


def _token_info(token: str, expiry: int, created_time: int) -> JsonObject:
    return {"token": token, "expiry": expiry, "createdTime": created_time}


def _user_data_in_jwt(ctx: RequestContext, *, required: bool = False) -> dict[str, Any]:
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
    jwt_payload = _user_data_in_jwt(ctx)
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


def _unauthorised(message: str) -> JsonObject:
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
        session = _load_session(ctx.database, ctx.app_id, payload["sessionHandle"])
        if session is None:
            return _unauthorised(SESSION_ENDED)
        token_hash2 = sha256_hex(payload["refreshTokenHash1"])
        if parent_hash1 is not None:
            verdict = _standing(ctx, session, token_hash2, parent_hash1, minted_at, slack_ms=999)
            if verdict.standing is Standing.PROMOTE:
                _promote(ctx, session, verdict, token_hash2, parent_hash1, minted_at)
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
        return _unauthorised("Invalid refresh token")
    if enable_anti_csrf and (
        token.anti_csrf_token is None or token.anti_csrf_token != anti_csrf_token
    ):
        return _unauthorised("Anti CSRF token missing, or not matching")
    key = await ctx.core.keys.signing_key(ctx.app_id, ctx.app.config, dynamic=dynamic)

    hash1 = sha256_hex(refresh_token)
    hash2 = sha256_hex(hash1)
    now = now_ms()
    with ctx.database.transaction():
        session = _load_session(ctx.database, ctx.app_id, token.session_handle)
        if session is None:
            return _unauthorised(SESSION_ENDED)
        verdict = _standing(ctx, session, hash2, token.parent_hash1, token.minted_at)
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
            _promote(ctx, session, verdict, hash2, token.parent_hash1, token.minted_at)
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
    jwt_payload = _user_data_in_jwt(ctx)
    try:
        payload, dynamic = _verified_payload(ctx, access_token, verify_expiry=False)
    except InvalidAccessTokenError as error:
        return _unauthorised(str(error))
    key = await ctx.core.keys.signing_key(ctx.app_id, ctx.app.config, dynamic=dynamic)
    with ctx.database.transaction():
        session = _load_session(ctx.database, ctx.app_id, payload["sessionHandle"])
        if session is None:
            return _unauthorised(SESSION_ENDED)
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
    session = _load_session(ctx.database, ctx.app_id, ctx.query.string("sessionHandle"))
    if session is None:
        return _unauthorised("Session does not exist.")
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
        if _load_session(ctx.database, ctx.app_id, handle) is None:
            return _unauthorised("Session does not exist.")
        ctx.database.execute(
            f"UPDATE sessions SET {column} = ? WHERE app_id = ? AND handle = ?",  # noqa: S608
            (json.dumps(value), ctx.app_id, handle),
        )
    return {"status": "OK"}


async def update_session_data(ctx: RequestContext) -> JsonObject:
    return _update_column(ctx, "db_data", ctx.body.json_object("userDataInDatabase"))


async def update_jwt_data(ctx: RequestContext) -> JsonObject:
    return _update_column(ctx, "jwt_payload", _user_data_in_jwt(ctx, required=True))


ROUTES = [
    Route("POST", "/recipe/session", create_session, tenant_scoped=True),
    Route("GET", "/recipe/session", get_session_information),
    Route("POST", "/recipe/session/verify", verify_session),
    Route("POST", "/recipe/session/refresh", refresh_session),
    Route("POST", "/recipe/session/regenerate", regenerate_session),
    Route("POST", "/recipe/session/remove", remove_sessions, tenant_scoped=True),
    Route("GET", "/recipe/session/user", session_handles_of_user, tenant_scoped=True),
    Route("PUT", "/recipe/session/data", update_session_data),
    Route("PUT", "/recipe/jwt/data", update_jwt_data),
]
