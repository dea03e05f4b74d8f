"""Helpers shared by the localcore tests: raw CDI calls and reads of the session store (the
HTTP-level tests), and a user signed up through the SDK (the SDK-level tests)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import sqlite3
from typing import Any

import httpx
from supertokens_python.recipe.emailpassword.asyncio import sign_up
from supertokens_python.recipe.emailpassword.interfaces import SignUpOkResult

from tests.conftest import RunningCore

PASSWORD = "correct-horse-1"


async def signed_up(email: str = "ada@example.com") -> SignUpOkResult:
    result = await sign_up("public", email, PASSWORD)
    assert isinstance(result, SignUpOkResult)
    return result


async def call(
    http: httpx.AsyncClient, method: str, path: str, body: Any = None, **params: Any
) -> dict[str, Any]:
    """A CDI call that must answer 200 with JSON; returns the JSON."""
    response = await http.request(method, path, json=body, params=params or None)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def create_session(
    http: httpx.AsyncClient, user_id: str = "user-1", **extra: Any
) -> dict[str, Any]:
    body = {
        "userId": user_id,
        "userDataInJWT": {},
        "userDataInDatabase": {},
        "useDynamicSigningKey": True,
        "enableAntiCsrf": False,
        **extra,
    }
    created = await call(http, "POST", "/public/recipe/session", body)
    assert created["status"] == "OK"
    return created


async def refresh(http: httpx.AsyncClient, refresh_token: str, **extra: Any) -> dict[str, Any]:
    body = {"refreshToken": refresh_token, "enableAntiCsrf": False, **extra}
    return await call(http, "POST", "/recipe/session/refresh", body)


async def verify(
    http: httpx.AsyncClient, access_token: str, *, check_database: bool = False
) -> dict[str, Any]:
    body = {
        "accessToken": access_token,
        "doAntiCsrfCheck": False,
        "enableAntiCsrf": False,
        "checkDatabase": check_database,
    }
    return await call(http, "POST", "/recipe/session/verify", body)


def tokens(response: dict[str, Any]) -> tuple[str, str]:
    """(access token, refresh token) of a create or refresh response."""
    return response["accessToken"]["token"], response["refreshToken"]["token"]


def jwt_part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def stored_hash2(localcore: RunningCore, handle: str) -> str:
    """The hash2 of the session's current refresh token, read from the store."""
    with sqlite3.connect(localcore.database) as database:
        row = database.execute(
            "SELECT refresh_hash2 FROM sessions WHERE handle = ?", (handle,)
        ).fetchone()
    return str(row[0])


def hash2(refresh_token: str) -> str:
    return sha256_hex(sha256_hex(refresh_token))


async def outlive_short_grace_window() -> None:
    await asyncio.sleep(1.1)
