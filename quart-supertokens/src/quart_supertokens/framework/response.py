"""The SDK's view of a Quart response: supertokens-python's `BaseResponse` for Quart.

The Quart version of `FlaskResponse`: cookie `expires` arrives in epoch milliseconds, and status
code and body are first-write-wins, as the SDK expects.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from quart import Response
from supertokens_python.framework import BaseResponse


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
