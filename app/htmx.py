"""htmx in and out: what an incoming request asks for, and responses htmx understands.

Modelled on django-htmx's `HtmxDetails`: headers are read lazily, and the one URL we act on
(`HX-Current-URL`) is only trusted when it is on our own origin.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from jinja2_fragments.quart import render_block
from quart import Request, Response, render_template, request

from app.security import path_from_same_origin_url


class HtmxDetails:
    """The HX-* headers of one request. Truthy when the request came from htmx."""

    def __init__(self, req: Request) -> None:
        self._headers = req.headers
        self._origin = req.host_url.rstrip("/")

    def _flag(self, name: str) -> bool:
        return self._headers.get(name, "").lower() == "true"

    def __bool__(self) -> bool:
        return self._flag("HX-Request")

    @cached_property
    def boosted(self) -> bool:
        return self._flag("HX-Boosted")

    @cached_property
    def history_restore_request(self) -> bool:
        return self._flag("HX-History-Restore-Request")

    @cached_property
    def current_url(self) -> str | None:
        return self._headers.get("HX-Current-URL")

    @cached_property
    def current_url_abs_path(self) -> str | None:
        """Path and query of `HX-Current-URL` when it is on this request's origin, else None."""
        return path_from_same_origin_url(self.current_url, self._origin)

    @cached_property
    def target(self) -> str | None:
        return self._headers.get("HX-Target")

    @property
    def wants_fragment(self) -> bool:
        """An htmx request that will swap a fragment (not a boosted page, not a history restore)."""
        return bool(self) and not self.boosted and not self.history_restore_request

    @property
    def is_xhr(self) -> bool:
        """htmx sent this through XHR and will act on HX-* response headers (so: never a 3xx).

        History-restore requests are excluded: htmx ignores HX-* headers on them and needs a page.
        """
        return bool(self) and not self.history_restore_request


def client_redirect(location: str, status: int = 401) -> Response:
    """Ask htmx to navigate the whole window to `location` (an `HX-Redirect`, never a 3xx)."""
    response = Response("", status=status)
    response.headers["HX-Redirect"] = location
    return response


async def render(
    template: str, fragment: str | None = None, status: int = 200, **context: Any
) -> Response:
    """Render `template`, or only its block `fragment` when htmx asked for a fragment swap.

    A page and its fragment come from one template, so they cannot drift apart. Responses that
    differ by `HX-Request` say so in `Vary`.
    """
    if fragment is not None and HtmxDetails(request).wants_fragment:
        body = await render_block(template, fragment, **context)
    else:
        body = await render_template(template, **context)
    response = Response(body, status=status, content_type="text/html; charset=utf-8")
    if fragment is not None:
        response.vary.add("HX-Request")
    return response


def redirect_to(location: str, htmx_status: int = 200) -> Response:
    """A 303 for a page load; for an htmx XHR, `HX-Redirect` with `htmx_status` (never a 3xx,
    which the browser would follow and swap into the target)."""
    if HtmxDetails(request).is_xhr:
        return client_redirect(location, status=htmx_status)
    response = Response("", status=303)
    response.headers["Location"] = location
    return response


def current_location() -> str:
    """Path and query of the current request."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")
