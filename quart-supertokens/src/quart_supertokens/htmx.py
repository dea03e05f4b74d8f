"""htmx in and out: what an incoming request asks for, and redirects htmx understands.

Named as django-htmx and litestar-htmx name theirs. `HtmxDetails` reads the HX-* headers lazily,
and the one URL the guard acts on (`HX-Current-URL`) is only trusted when it is on the request's
own origin. A redirect for an htmx XHR is never a 3xx: the browser would follow it inside the XHR
and htmx would swap the target page into the fragment. `HX-Redirect` makes htmx navigate instead.
"""

from __future__ import annotations

from functools import cached_property

from quart import Request, Response, request

from quart_supertokens.options import current_options
from quart_supertokens.redirects import path_from_same_origin_url


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

    @cached_property
    def trigger(self) -> str | None:
        return self._headers.get("HX-Trigger")

    @cached_property
    def trigger_name(self) -> str | None:
        return self._headers.get("HX-Trigger-Name")

    @cached_property
    def prompt(self) -> str | None:
        return self._headers.get("HX-Prompt")

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


def client_redirect(location: str, status: int = 200) -> Response:
    """Ask htmx to navigate the whole window to `location` (`HX-Redirect`, never a 3xx)."""
    response = Response("", status=status)
    response.headers["HX-Redirect"] = location
    return response


def auth_redirect(location: str, htmx_status: int | None = None) -> Response:
    """Send the browser to `location`: 303 for a page load (history restores included); for an
    htmx XHR, `HX-Redirect` with `htmx_status`, by default the extension's `HTMX_AUTH_STATUS`
    (401), so that supertokens-web-js's fetch interceptor and htmx's error handling both see it.
    """
    if HtmxDetails(request).is_xhr:
        if htmx_status is None:
            htmx_status = current_options().htmx_auth_status
        return client_redirect(location, status=htmx_status)
    response = Response("", status=303)
    response.headers["Location"] = location
    return response
