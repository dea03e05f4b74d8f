"""Quart request and response wrappers implementing supertokens-python's adapter contract.

The SDK talks to a web framework only through `BaseRequest` and `BaseResponse`
(supertokens_python/framework/request.py and response.py); these classes are the Quart versions of
`FlaskRequest` and `FlaskResponse`, with every body read awaited. Always hand the SDK a
`QuartRequest`, never a raw `quart.request`: see app/sdk/framework.py for why.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from quart import Request, Response, g
from supertokens_python.framework import BaseRequest, BaseResponse

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


class QuartResponse(BaseResponse):
    """The SDK's view of a Quart response; status and body follow first-write-wins."""

    def __init__(self, response: Response) -> None:
        super().__init__({})
        self.response: Response = response
        self.status_set = False
        self.response_sent = False

    def set_cookie(
        self,
        key: str,
        value: str,
        expires: int,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] = "lax",
    ) -> None:
        # `expires` is absolute epoch milliseconds; werkzeug wants epoch seconds. The value arrives
        # URL-quoted already. Werkzeug drops a leading dot from `domain` (RFC 6265 ignores it too).
        self.response.set_cookie(
            key,
            value=value,
            expires=expires / 1000,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    def set_header(self, key: str, value: str) -> None:
        self.response.headers[key] = value

    def get_header(self, key: str) -> str | None:
        return self.response.headers.get(key)

    def remove_header(self, key: str) -> None:
        self.response.headers.pop(key, None)

    def set_status_code(self, status_code: int) -> None:
        if not self.status_set:
            self.response.status_code = status_code
            self.status_code = status_code
            self.status_set = True

    def set_json_content(self, content: dict[str, Any]) -> None:
        if not self.response_sent:
            self.response.headers["Content-Type"] = "application/json; charset=utf-8"
            body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            self.response.set_data(body.encode("utf-8"))
            self.response_sent = True

    def set_html_content(self, content: str) -> None:
        if not self.response_sent:
            self.response.headers["Content-Type"] = "text/html; charset=utf-8"
            self.response.set_data(content.encode("utf-8"))
            self.response_sent = True

    def redirect(self, url: str) -> BaseResponse:
        self.set_header("Location", url)
        self.set_status_code(302)
        self.response.set_data(b"")
        self.response_sent = True
        return self
