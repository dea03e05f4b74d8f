"""Pages: the public landing page and the signed-in dashboard with its polled session card."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from quart import Blueprint, Response, jsonify, request
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.asyncio import get_session

from app.current_user import required_session
from app.rendering import render
from quart_supertokens import check_session, request_user_context, require_session
from quart_supertokens.framework import QuartRequest

bp = Blueprint("pages", __name__)


@dataclass(frozen=True)
class SessionCard:
    """What the dashboard shows about the session, all read from the access token (no core call)."""

    user_id: str
    session_handle: str
    expires_in: int
    expires_at_iso: str
    since_refresh: int

    @classmethod
    def of(cls, session: SessionContainer) -> SessionCard:
        payload = session.get_access_token_payload()
        now = time.time()
        expires_at = float(payload.get("exp", now))
        issued_at = float(payload.get("iat", now))
        return cls(
            user_id=session.get_user_id(),
            session_handle=session.get_handle(),
            expires_in=int(expires_at - now),
            expires_at_iso=datetime.fromtimestamp(expires_at, UTC).isoformat(timespec="seconds"),
            since_refresh=max(0, int(now - issued_at)),
        )


@bp.get("/")
async def index() -> Response:
    """Public landing page; a signed-in visitor sees a link to the dashboard (session optional)."""
    await check_session(optional=True)
    return await render("pages/index.html")


@bp.get("/dashboard")
@require_session()
async def dashboard() -> Response:
    """Who is signed in, and the session card that htmx polls."""
    session = required_session()
    return await render("pages/dashboard.html", "session_card", card=SessionCard.of(session))


@bp.get("/dashboard/session")
@require_session()
async def dashboard_session() -> Response:
    """The session card alone (htmx polls it; without JS it is the whole dashboard)."""
    session = required_session()
    return await render("pages/dashboard.html", "session_card", card=SessionCard.of(session))


@bp.get("/whoami")
async def whoami() -> tuple[Response, int]:
    """JSON for API clients: the signed-in user's id, or 401. SDK errors use the SDK's handler."""
    session = await get_session(
        QuartRequest(request), session_required=False, user_context=request_user_context()
    )
    if session is None:
        return jsonify({"userId": None}), 401
    return jsonify({"userId": session.get_user_id()}), 200
