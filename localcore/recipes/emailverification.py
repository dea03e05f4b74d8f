"""EmailVerification: tokens, verifying, and the verified state of (user id, email) pairs.

As in the official core, the state belongs to the pair, not to a user record: any user id can
be verified, and changing a user's email makes the new address unverified. Tokens are random
strings stored as their sha256; verifying consumes every token of the pair.
"""

from __future__ import annotations

import secrets

from localcore.clock import now_ms
from localcore.core import RequestContext, Route
from localcore.errors import BadRequestError
from localcore.inputs import JsonObject
from localcore.recipes.users import normalise_email
from localcore.tokens import sha256_hex


def _is_verified(ctx: RequestContext, user_id: str, email: str) -> bool:
    row = ctx.database.one(
        "SELECT 1 FROM verified_emails WHERE app_id = ? AND user_id = ? AND email = ?",
        (ctx.app_id, user_id, email),
    )
    return row is not None


def _user_and_email(ctx: RequestContext) -> tuple[str, str]:
    return ctx.body.string("userId"), normalise_email(ctx.body.string("email"))


async def create_token(ctx: RequestContext) -> JsonObject:
    user_id, email = _user_and_email(ctx)
    if _is_verified(ctx, user_id, email):
        return {"status": "EMAIL_ALREADY_VERIFIED_ERROR"}
    token = secrets.token_urlsafe(48)
    with ctx.database.transaction():
        ctx.database.execute(
            "INSERT INTO email_verification_tokens"
            " (app_id, token_hash, tenant_id, user_id, email, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                ctx.app_id,
                sha256_hex(token),
                ctx.tenant_id,
                user_id,
                email,
                now_ms() + ctx.app.config.email_verification_token_lifetime,
            ),
        )
    return {"status": "OK", "token": token}


async def verify_email(ctx: RequestContext) -> JsonObject:
    method = ctx.body.string("method")
    if method != "token":
        raise BadRequestError("Unsupported method for email verification")
    token_hash = sha256_hex(ctx.body.string("token"))
    invalid = {"status": "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"}
    with ctx.database.transaction():
        row = ctx.database.one(
            "SELECT user_id, email, expires_at FROM email_verification_tokens"
            " WHERE app_id = ? AND tenant_id = ? AND token_hash = ?",
            (ctx.app_id, ctx.tenant_id, token_hash),
        )
        if row is None:
            return invalid
        ctx.database.execute(
            "DELETE FROM email_verification_tokens WHERE app_id = ? AND user_id = ? AND email = ?",
            (ctx.app_id, row["user_id"], row["email"]),
        )
        if row["expires_at"] < now_ms():
            return invalid
        ctx.database.execute(
            "INSERT OR IGNORE INTO verified_emails (app_id, user_id, email) VALUES (?, ?, ?)",
            (ctx.app_id, row["user_id"], row["email"]),
        )
    return {"status": "OK", "userId": row["user_id"], "email": row["email"]}


async def is_verified(ctx: RequestContext) -> JsonObject:
    user_id = ctx.query.string("userId")
    email = normalise_email(ctx.query.string("email"))
    return {"status": "OK", "isVerified": _is_verified(ctx, user_id, email)}


async def remove_tokens(ctx: RequestContext) -> JsonObject:
    user_id, email = _user_and_email(ctx)
    with ctx.database.transaction():
        ctx.database.execute(
            "DELETE FROM email_verification_tokens"
            " WHERE app_id = ? AND tenant_id = ? AND user_id = ? AND email = ?",
            (ctx.app_id, ctx.tenant_id, user_id, email),
        )
    return {"status": "OK"}


async def unverify_email(ctx: RequestContext) -> JsonObject:
    user_id, email = _user_and_email(ctx)
    with ctx.database.transaction():
        ctx.database.execute(
            "DELETE FROM verified_emails WHERE app_id = ? AND user_id = ? AND email = ?",
            (ctx.app_id, user_id, email),
        )
    return {"status": "OK"}


ROUTES = [
    Route("POST", "/recipe/user/email/verify/token", create_token, tenant_scoped=True),
    Route("POST", "/recipe/user/email/verify", verify_email, tenant_scoped=True),
    Route("GET", "/recipe/user/email/verify", is_verified),
    Route("POST", "/recipe/user/email/verify/token/remove", remove_tokens, tenant_scoped=True),
    Route("POST", "/recipe/user/email/verify/remove", unverify_email),
]
