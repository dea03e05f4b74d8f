"""A Quart adapter for supertokens-python: request/response wrappers, hooks and SDK set-up."""

from __future__ import annotations

from app.sdk.hooks import init_app, request_user_context
from app.sdk.wrappers import QuartRequest, QuartResponse

__all__ = ["QuartRequest", "QuartResponse", "init_app", "request_user_context"]
