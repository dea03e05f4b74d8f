"""EmailPassword: sign up, sign in, user update, password-reset tokens.

Passwords are hashed with argon2id (OWASP parameters) in a worker thread, so a hash never
blocks the event loop; only the hash is stored and no password is ever logged. Hashing has its
own pool of at most two threads: each hash allocates 19 MiB, and glibc keeps a thread's freed
hash memory for reuse, so resident memory grows by up to 19 MiB per hashing thread (on the
default executor, six threads on two CPUs: +115 MiB); more threads than cores would not hash
faster anyway. Reset tokens are
random strings stored as their sha256.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from localcore.clock import now_ms
from localcore.core import RequestContext, Route
from localcore.errors import BadRequestError
from localcore.inputs import JsonObject
from localcore.recipes.users import USER_COLUMNS, find_user, normalise_email
from localcore.tokens import sha256_hex

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): memory-hard like
# argon2-cffi's default (64 MiB, 3 passes, 4 lanes) at a fifth of its CPU, which matters on a
# two-core machine running the core, the app and the tests at once.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Compared against when the email is unknown, so sign-in takes as long either way.
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_hex(16))
_hashing = ThreadPoolExecutor(max_workers=2, thread_name_prefix="localcore-argon2")
_T = TypeVar("_T")


async def _in_hashing_thread(function: Callable[..., _T], *args: str) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_hashing, function, *args)


def _password(ctx: RequestContext, name: str = "password") -> str:
    password = ctx.body.string(name)
    if password == "":
        raise BadRequestError("Password cannot be an empty string")
    return password


def _email(ctx: RequestContext) -> str:
    email = normalise_email(ctx.body.string("email"))
    if email == "":
        raise BadRequestError("Email cannot be an empty string")
    return email


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def sign_up(ctx: RequestContext) -> JsonObject:
    email = _email(ctx)
    password = _password(ctx)
    exists_sql = "SELECT 1 FROM users WHERE app_id = ? AND email = ?"
    if ctx.database.one(exists_sql, (ctx.app_id, email)) is not None:
        return {"status": "EMAIL_ALREADY_EXISTS_ERROR"}
    password_hash = await _in_hashing_thread(_hasher.hash, password)
    user_id = str(uuid.uuid4())
    try:
        with ctx.database.transaction():
            ctx.database.execute(
                "INSERT INTO users (app_id, user_id, tenant_id, email, password_hash, time_joined)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (ctx.app_id, user_id, ctx.tenant_id, email, password_hash, now_ms()),
            )
    except sqlite3.IntegrityError:
        return {"status": "EMAIL_ALREADY_EXISTS_ERROR"}
    user = find_user(ctx.database, ctx.app_id, user_id)
    return {"status": "OK", "user": user, "recipeUserId": user_id}


async def sign_in(ctx: RequestContext) -> JsonObject:
    email = _email(ctx)
    password = ctx.body.string("password")
    row = ctx.database.one(
        f"SELECT {USER_COLUMNS}, password_hash FROM users"  # noqa: S608
        " WHERE app_id = ? AND tenant_id = ? AND email = ?",
        (ctx.app_id, ctx.tenant_id, email),
    )
    password_hash = _UNKNOWN_USER_HASH if row is None else row["password_hash"]
    matches = await _in_hashing_thread(_password_matches, password_hash, password)
    if row is None or not matches:
        return {"status": "WRONG_CREDENTIALS_ERROR"}
    # Re-read: the user may have changed or gone while the hash was checked off the loop.
    user = find_user(ctx.database, ctx.app_id, row["user_id"])
    if user is None:
        return {"status": "WRONG_CREDENTIALS_ERROR"}
    return {"status": "OK", "user": user, "recipeUserId": row["user_id"]}


async def update_user(ctx: RequestContext) -> JsonObject:
    user_id = ctx.body.string("recipeUserId")
    email = _email(ctx) if ctx.body.has("email") else None
    password = _password(ctx) if ctx.body.has("password") else None
    if email is None and password is None:
        raise BadRequestError("You have to provide either email or password.")
    password_hash = None if password is None else await _in_hashing_thread(_hasher.hash, password)
    with ctx.database.transaction():
        if find_user(ctx.database, ctx.app_id, user_id) is None:
            return {"status": "UNKNOWN_USER_ID_ERROR"}
        if email is not None:
            owner = ctx.database.one(
                "SELECT user_id FROM users WHERE app_id = ? AND email = ?", (ctx.app_id, email)
            )
            if owner is not None and owner["user_id"] != user_id:
                return {"status": "EMAIL_ALREADY_EXISTS_ERROR"}
            ctx.database.execute(
                "UPDATE users SET email = ? WHERE app_id = ? AND user_id = ?",
                (email, ctx.app_id, user_id),
            )
        if password_hash is not None:
            ctx.database.execute(
                "UPDATE users SET password_hash = ? WHERE app_id = ? AND user_id = ?",
                (password_hash, ctx.app_id, user_id),
            )
    return {"status": "OK"}


async def create_reset_token(ctx: RequestContext) -> JsonObject:
    user_id = ctx.body.string("userId")
    email = ctx.body.optional_string("email")
    row = ctx.database.one(
        "SELECT email FROM users WHERE app_id = ? AND user_id = ?", (ctx.app_id, user_id)
    )
    if row is None:
        return {"status": "UNKNOWN_USER_ID_ERROR"}
    token = secrets.token_urlsafe(48)
    with ctx.database.transaction():
        ctx.database.execute(
            "INSERT INTO password_reset_tokens (app_id, token_hash, user_id, email, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                ctx.app_id,
                sha256_hex(token),
                user_id,
                normalise_email(email) if email else row["email"],
                now_ms() + ctx.app.config.password_reset_token_lifetime,
            ),
        )
    return {"status": "OK", "token": token}


async def consume_reset_token(ctx: RequestContext) -> JsonObject:
    token_hash = sha256_hex(ctx.body.string("token"))
    with ctx.database.transaction():
        row = ctx.database.one(
            "SELECT user_id, email, expires_at FROM password_reset_tokens"
            " WHERE app_id = ? AND token_hash = ?",
            (ctx.app_id, token_hash),
        )
        if row is None:
            return {"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"}
        ctx.database.execute(
            "DELETE FROM password_reset_tokens WHERE app_id = ? AND user_id = ?",
            (ctx.app_id, row["user_id"]),
        )
    if row["expires_at"] < now_ms():
        return {"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"}
    return {"status": "OK", "userId": row["user_id"], "email": row["email"]}


ROUTES = [
    Route("POST", "/recipe/signup", sign_up, tenant_scoped=True),
    Route("POST", "/recipe/signin", sign_in, tenant_scoped=True),
    Route("PUT", "/recipe/user", update_user),
    Route("POST", "/recipe/user/password/reset/token", create_reset_token, tenant_scoped=True),
    Route(
        "POST", "/recipe/user/password/reset/token/consume", consume_reset_token, tenant_scoped=True
    ),
]
