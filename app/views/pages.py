"""Pages. PLACEHOLDER: the session-guard issue replaces this module with the real pages and guard.

For now it holds a public landing page and `/whoami`, which shows that a process can verify the
session cookie on its own (the web process of the split deployment has no auth API).
"""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request
from supertokens_python.recipe.session.asyncio import get_session

from app.sdk import QuartRequest, request_user_context

bp = Blueprint("pages", __name__)


@bp.get("/")
async def index() -> Response:
    """Public landing page."""
    return Response("Welcome. This page is public.", content_type="text/plain; charset=utf-8")


@bp.get("/whoami")
async def whoami() -> tuple[Response, int]:
    """The signed-in user's id, or 401. SDK errors (expired token...) go to the app's handler."""
    session = await get_session(
        QuartRequest(request), session_required=False, user_context=request_user_context()
    )
    if session is None:
        return jsonify({"userId": None}), 401
    return jsonify({"userId": session.get_user_id()}), 200
