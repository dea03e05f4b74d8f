"""The `/sessions` page: every active session of the signed-in user, and revoking them.

What is shown per session comes from the core (`get_session_information`: created time) plus the
session's data in the database:
- `userAgent`: the browser's User-Agent, stamped when the session is created
  (app/sdk/session_payload.py). Sessions created before that stamping, or without a request, get it
  recorded by `remember_session_details` the first time they load `/sessions` or `/account`;
- `createdAt` (epoch ms, stamped at creation too) stands for the last refresh until one is seen;
- `lastRefreshed`: the `iat` of the newest access token seen (epoch seconds), i.e. the last refresh,
  recorded by `remember_session_details` when the session itself loads those pages after a refresh
  (creation cannot know it). A session that never opened them since its last refresh shows an older
  value; an old session that never opened them shows "not recorded".
So a new session that has not been refreshed costs no core write when it opens those pages.

Revoking: `hx-delete` for htmx (the list fragment is swapped in), POST routes without JavaScript
(the full page re-renders). A handle that is malformed or not the user's is a 404, never a 500.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quart import Blueprint, Response, request
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.asyncio import (
    get_all_session_handles_for_user,
    get_session_information,
    revoke_session,
    update_session_data_in_database,
)
from supertokens_python.recipe.session.interfaces import SessionInformationResult

from app.core_calls import core_call
from app.current_user import required_session
from app.errors import error_response
from app.rendering import redirect_to, render
from app.sdk.session_payload import CREATED_AT_KEY, MAX_USER_AGENT_LENGTH, USER_AGENT_KEY
from quart_supertokens import clear_session_cookies, request_user_context, require_session

bp = Blueprint("sessions", __name__)

SESSIONS_PAGE = "sessions/sessions.html"
LAST_REFRESHED_KEY = "lastRefreshed"
# Core session handles are a UUID, optionally with a tenant suffix; anything else is not one.
_HANDLE_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def _iso(epoch_seconds: float | None) -> str | None:
    if epoch_seconds is None:
        return None
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class SessionRow:
    handle: str
    user_agent: str | None
    created: str | None
    last_refreshed: str | None
    current: bool

    @classmethod
    def of(cls, info: SessionInformationResult, current_handle: str) -> SessionRow:
        data: dict[str, Any] = info.session_data_in_database or {}
        user_agent = data.get(USER_AGENT_KEY)
        refreshed = last_refresh_seen(data)
        return cls(
            handle=info.session_handle,
            user_agent=user_agent if isinstance(user_agent, str) and user_agent else None,
            created=_iso(info.time_created / 1000),
            last_refreshed=_iso(refreshed),
            current=info.session_handle == current_handle,
        )


def last_refresh_seen(data: dict[str, Any]) -> float | None:
    """Epoch seconds of the last refresh on record: `lastRefreshed`, else the creation time."""
    refreshed = data.get(LAST_REFRESHED_KEY)
    if isinstance(refreshed, int | float):
        return refreshed
    created_ms = data.get(CREATED_AT_KEY)
    if isinstance(created_ms, int | float):
        return created_ms / 1000
    return None


async def remember_session_details(
    session: SessionContainer, info: SessionInformationResult | None = None
) -> SessionInformationResult | None:
    """Record a refresh not yet on record in the session's data, and the user agent of a session
    created before sessions were stamped with one. A new, unrefreshed session needs neither.

    Returns the session's information as it now is, or None if the core no longer has it.
    """
    user_context = request_user_context()
    if info is None:
        info = await core_call(get_session_information(session.get_handle(), user_context))
        if info is None:
            return None
    data = dict(info.session_data_in_database or {})
    changed = False
    if not data.get(USER_AGENT_KEY):  # fallback: only sessions from before the stamping
        user_agent = request.headers.get("User-Agent", "")[:MAX_USER_AGENT_LENGTH]
        if user_agent:
            data[USER_AGENT_KEY] = user_agent
            changed = True
    issued_at = session.get_access_token_payload(user_context).get("iat")
    seen = last_refresh_seen(data)
    # iat is whole seconds, taken just after createdAt: rounding up keeps creation's own token
    # from counting as a refresh.
    if isinstance(issued_at, int) and (seen is None or issued_at > math.ceil(seen)):
        data[LAST_REFRESHED_KEY] = issued_at
        changed = True
    if changed:
        await core_call(update_session_data_in_database(info.session_handle, data, user_context))
        info.session_data_in_database = data
    return info


async def _handles(session: SessionContainer) -> list[str]:
    return await core_call(
        get_all_session_handles_for_user(session.get_user_id(), True, None, request_user_context())
    )


async def load_rows(session: SessionContainer) -> list[SessionRow]:
    """Every active session of the user: the current one first, then newest first."""
    user_context = request_user_context()
    handles = await _handles(session)
    infos = await core_call(
        asyncio.gather(*(get_session_information(handle, user_context) for handle in handles))
    )
    rows: list[SessionRow] = []
    for info in infos:
        if info is None:  # revoked or expired between the two calls
            continue
        if info.session_handle == session.get_handle():
            info = await remember_session_details(session, info) or info
        rows.append(SessionRow.of(info, session.get_handle()))
    rows.sort(key=lambda row: (not row.current, -_sort_key(row)))
    return rows


def _sort_key(row: SessionRow) -> float:
    return datetime.fromisoformat(row.created).timestamp() if row.created else 0.0


async def _sessions_page(status: int = 200, **context: Any) -> Response:
    session = required_session()
    return await render(
        SESSIONS_PAGE, "sessions_list", status=status, rows=await load_rows(session), **context
    )


@bp.get("/sessions")
@require_session(check_database=True)
async def sessions() -> Response:
    """The user's active sessions, this one marked."""
    return await _sessions_page()


@bp.delete("/sessions/<handle>")
@require_session(check_database=True)
async def revoke_one(handle: str) -> Response:
    """htmx: revoke one session, answer with the refreshed list."""
    return await _revoke(handle)


@bp.post("/sessions/<handle>/revoke")
@require_session(check_database=True)
async def revoke_one_form(handle: str) -> Response:
    """Without JavaScript: revoke one session, re-render the page."""
    return await _revoke(handle)


@bp.delete("/sessions")
@require_session(check_database=True)
async def revoke_others() -> Response:
    """htmx: revoke every session but this one."""
    return await _revoke_others()


@bp.post("/sessions/revoke-others")
@require_session(check_database=True)
async def revoke_others_form() -> Response:
    """Without JavaScript: revoke every session but this one."""
    return await _revoke_others()


async def _revoke(handle: str) -> Response:
    session = required_session()
    if not _HANDLE_PATTERN.match(handle) or handle not in await _handles(session):
        return await error_response(404, "There is no such session among yours.")
    await core_call(revoke_session(handle, request_user_context()))
    if handle == session.get_handle():
        # Revoking this very session is signing out.
        response = redirect_to("/login")
        clear_session_cookies(response)
        return response
    return await _sessions_page(notice="Signed out 1 session.")


async def _revoke_others() -> Response:
    count = await revoke_other_sessions(required_session())
    noun = "session" if count == 1 else "sessions"
    return await _sessions_page(notice=f"Signed out {count} other {noun}.")


async def revoke_other_sessions(session: SessionContainer) -> int:
    """Revoke every session of the user except `session`; return how many were revoked."""
    user_context = request_user_context()
    handles = await core_call(
        get_all_session_handles_for_user(session.get_user_id(), True, None, user_context)
    )
    revoked = 0
    for handle in handles:
        if handle != session.get_handle() and await core_call(revoke_session(handle, user_context)):
            revoked += 1
    return revoked
