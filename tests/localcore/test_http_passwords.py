"""Passwords are stored only as argon2id hashes."""

from __future__ import annotations

import sqlite3

import httpx

from tests.conftest import RunningCore
from tests.localcore.helpers import call


async def test_password_is_stored_only_as_argon2id_hash(
    http: httpx.AsyncClient, localcore: RunningCore
) -> None:
    password = "plain-text-password-42"
    signed_up = await call(
        http, "POST", "/public/recipe/signup", {"email": "ada@example.com", "password": password}
    )

    with sqlite3.connect(localcore.database) as database:
        (stored,) = database.execute(
            "SELECT password_hash FROM users WHERE user_id = ?", (signed_up["user"]["id"],)
        ).fetchone()

    assert stored.startswith("$argon2id$")
    assert password not in stored
