"""Test helpers: a Quart test client signed in as a user, with a real session from the core.

    async with authenticated_client(app.test_client(), user_id) as client:
        response = await client.get("/dashboard")

As quart-auth's helper of the same name, it puts the session's cookie in the test client's jar
for the block and takes it out afterwards. The session is a real one (created in the core
through the SDK, so the app must have called `quart_supertokens.init`), and it is revoked when
the block ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from quart.testing import QuartClient
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.asyncio import (
    create_new_session_without_request_response,
    revoke_session,
)
from supertokens_python.types import RecipeUserId

ACCESS_TOKEN_COOKIE = "sAccessToken"  # noqa: S105 - a cookie name


@asynccontextmanager
async def authenticated_client(
    client: QuartClient,
    user_id: str,
    access_token_payload: dict[str, Any] | None = None,
    tenant_id: str = "public",
    server_name: str = "localhost",
) -> AsyncIterator[QuartClient]:
    """`client`, carrying an access-token cookie of a new session of `user_id`, for the block."""
    session = await create_session_for(user_id, access_token_payload, tenant_id)
    client.set_cookie(server_name, ACCESS_TOKEN_COOKIE, session.get_access_token(), httponly=True)
    try:
        yield client
    finally:
        client.delete_cookie(server_name, ACCESS_TOKEN_COOKIE)
        await revoke_session(session.get_handle())


async def create_session_for(
    user_id: str, access_token_payload: dict[str, Any] | None = None, tenant_id: str = "public"
) -> SessionContainer:
    """A new session of `user_id` in the core, without a request (for tests and scripts)."""
    return await create_new_session_without_request_response(
        tenant_id, RecipeUserId(user_id), access_token_payload or {}
    )
