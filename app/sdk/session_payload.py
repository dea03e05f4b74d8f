"""What every new session carries in its access token, however it was created.

The SDK's own sign-in/up APIs and the app's form views both end in `create_new_session`, so the
override here is the one place that stamps (quart-supertokens adds `authAt`, the sign-in time):
- `email`: shown in the page header without a core call per render. A session another backend
  made gets it on its first render instead (`email_claim`, the extension's
  `foreign_session_claims`).

and records in the session's data in the database (never sent to the browser), for `/sessions`:
- `userAgent`: the User-Agent of the request that created the session (at most 256 characters);
  absent when the session was created without a request (the SDK's request is in `user_context`);
- `createdAt`: the creation time (epoch milliseconds).
What the caller passed in `session_data_in_database` wins over both.
"""

from __future__ import annotations

import time
from typing import Any

from supertokens_python.asyncio import get_user
from supertokens_python.recipe.session.interfaces import RecipeInterface, SessionContainer
from supertokens_python.supertokens import get_request_from_user_context
from supertokens_python.types import RecipeUserId

EMAIL_CLAIM = "email"
USER_AGENT_KEY = "userAgent"
CREATED_AT_KEY = "createdAt"
MAX_USER_AGENT_LENGTH = 256


def session_details(user_context: dict[str, Any]) -> dict[str, Any]:
    """`createdAt` now, and `userAgent` when the SDK call came with a request that has one."""
    details: dict[str, Any] = {CREATED_AT_KEY: int(time.time() * 1000)}
    request = get_request_from_user_context(user_context)
    user_agent = request.get_header("User-Agent") if request is not None else None
    if user_agent:
        details[USER_AGENT_KEY] = user_agent[:MAX_USER_AGENT_LENGTH]
    return details


def stamp_new_sessions(original: RecipeInterface) -> RecipeInterface:
    """A Session recipe override: `email` in each new access-token payload,
    `userAgent` and `createdAt` in each new session's data in the database."""
    create_new_session = original.create_new_session

    async def create_stamped_session(
        user_id: str,
        recipe_user_id: RecipeUserId,
        access_token_payload: dict[str, Any] | None,
        session_data_in_database: dict[str, Any] | None,
        disable_anti_csrf: bool | None,
        tenant_id: str,
        user_context: dict[str, Any],
    ) -> SessionContainer:
        payload = dict(access_token_payload or {})
        if EMAIL_CLAIM not in payload:
            user = await get_user(recipe_user_id.get_as_string(), user_context)
            if user is not None and user.emails:
                payload[EMAIL_CLAIM] = user.emails[0]
        data = {**session_details(user_context), **(session_data_in_database or {})}
        return await create_new_session(
            user_id,
            recipe_user_id,
            payload,
            data,
            disable_anti_csrf,
            tenant_id,
            user_context,
        )

    original.create_new_session = create_stamped_session  # type: ignore[method-assign]
    return original


async def email_claim(session: SessionContainer, user_context: dict[str, Any]) -> dict[str, Any]:
    """`email` for a session made elsewhere, when the core knows the user's (best effort)."""
    if session.get_access_token_payload(user_context).get(EMAIL_CLAIM):
        return {}
    try:
        user = await get_user(session.get_user_id(), user_context)
    except Exception:
        return {}
    return {EMAIL_CLAIM: user.emails[0]} if user is not None and user.emails else {}
