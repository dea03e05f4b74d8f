"""The absolute session lifetime: how long a session may last from sign-in, refreshes or not.

The sign-in time is the `authAt` claim (epoch seconds) of the access-token payload. `init`
stamps it into every new session (`stamp_sign_in_time`, a Session recipe override). A session made
by another SuperTokens backend sharing the core (supertokens-node, a plain supertokens-python API)
has no `authAt`, and that is no reason to refuse it: the core knows when the session was created.
The first render reads that time from the core and stamps it into the payload (one core call and a
new access token, once per session), so later renders read it locally. A claim this extension adds
is never a reason to revoke a session.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.asyncio import get_session_information, revoke_session
from supertokens_python.recipe.session.exceptions import UnauthorisedError
from supertokens_python.recipe.session.interfaces import RecipeInterface
from supertokens_python.types import RecipeUserId

from quart_supertokens.decisions import CoreUnavailableError, LoginRequired, SessionGone
from quart_supertokens.options import current_options
from quart_supertokens.tokens import is_number

logger = logging.getLogger(__name__)

SIGN_IN_TIME_CLAIM = "authAt"


def stamp_sign_in_time(original: RecipeInterface) -> RecipeInterface:
    """A Session recipe override: `authAt` (now) in each new session's access-token payload,
    unless the caller put one there."""
    if getattr(original, "_quart_supertokens_stamps", False):
        return original
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
        payload.setdefault(SIGN_IN_TIME_CLAIM, int(time.time()))
        return await create_new_session(
            user_id,
            recipe_user_id,
            payload,
            session_data_in_database,
            disable_anti_csrf,
            tenant_id,
            user_context,
        )

    original.create_new_session = create_stamped_session  # type: ignore[method-assign]
    original._quart_supertokens_stamps = True  # type: ignore[attr-defined]
    return original


async def enforce_absolute_lifetime(
    session: SessionContainer, max_age: int | None, user_context: dict[str, Any]
) -> None:
    """Revoke the session and require a sign-in when it began more than `max_age` seconds ago."""
    if max_age is None:
        return
    if time.time() - await sign_in_time(session, user_context) > max_age:
        await revoke_session(session.get_handle(), user_context)
        raise LoginRequired("session lifetime over", clear_cookies=True)


async def sign_in_time(session: SessionContainer, user_context: dict[str, Any]) -> float:
    """When the session began: its `authAt` claim, else the core's creation time (stamped).

    The core failing during the lookup is a 503, never a sign-out; a session the core no longer
    has goes to the refresh flow, which fails and ends on the sign-in page.
    """
    auth_at = session.get_access_token_payload(user_context).get(SIGN_IN_TIME_CLAIM)
    if is_number(auth_at):
        return float(auth_at)
    try:
        info = await get_session_information(session.get_handle(), user_context)
    except Exception:
        logger.exception("could not read the session's creation time from the core")
        raise CoreUnavailableError() from None
    if info is None:
        raise SessionGone("the core no longer has this session")
    created_at = info.time_created / 1000
    stamp: dict[str, Any] = {SIGN_IN_TIME_CLAIM: int(created_at)}
    more_claims = current_options().foreign_session_claims
    if more_claims is not None:
        stamp = {**await more_claims(session, user_context), **stamp}
    try:
        await session.merge_into_access_token_payload(stamp, user_context)
    except UnauthorisedError:
        raise SessionGone("the core no longer has this session") from None
    except Exception:
        # The creation time is known; the stamp is retried on the next render.
        logger.warning("could not stamp the sign-in time into session %s", session.get_handle())
    return created_at
