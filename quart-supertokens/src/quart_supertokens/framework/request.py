"""The SDK's view of a Quart request: supertokens-python's `BaseRequest` for Quart.

The SDK talks to a web framework only through `BaseRequest` and `BaseResponse`
(supertokens_python/framework/request.py and response.py); this is the Quart version of
`FlaskRequest`, with every body read awaited. Always hand the SDK a `QuartRequest`, never a raw
`quart.request`: see framework.py for why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from quart import Request, g
from supertokens_python.framework import BaseRequest

if TYPE_CHECKING:
    from supertokens_python.recipe.session.interfaces import SessionContainer

# The per-request slot for the verified session, in `g` (Quart pushes an app context per request).
SESSION_SLOT = "supertokens_session"


class QuartRequest(BaseRequest):
    """The SDK's view of a Quart request."""

    def __init__(self, request: Request) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.request: Request = request

    def get_original_url(self) -> str:
        return self.request.url

    def get_query_param(self, key: str, default: str | None = None) -> str | None:
        return self.request.args.get(key, default)

    def get_query_params(self) -> dict[str, Any]:
        return self.request.args.to_dict()

    async def json(self) -> Any:
        """The JSON object in the body; `{}` when it is absent, malformed or not an object."""
        try:
            body = await self.request.get_json(force=True, silent=True)
        except Exception:
            return {}
        # The SDK indexes the body as a mapping; a JSON list or scalar would become a 500.
        return body if isinstance(body, dict) else {}

    async def form_data(self) -> dict[str, Any]:
        return (await self.request.form).to_dict()

    def method(self) -> str:
        return self.request.method

    def get_cookie(self, key: str) -> str | None:
        return self.request.cookies.get(key)

    def get_header(self, key: str) -> str | None:
        return self.request.headers.get(key)

    def get_session(self) -> SessionContainer | None:
        session: SessionContainer | None = g.get(SESSION_SLOT)
        return session

    def set_session(self, session: SessionContainer) -> None:
        setattr(g, SESSION_SLOT, session)

    def set_session_as_none(self) -> None:
        setattr(g, SESSION_SLOT, None)

    def get_path(self) -> str:
        # Like Flask's adapter (base_url), include where the app is mounted.
        return self.request.root_path + self.request.path
