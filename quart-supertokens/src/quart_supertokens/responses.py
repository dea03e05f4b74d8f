"""The responses that follow the guard's decisions, and what every guarded response carries.

`handle_guard_redirect` is the one place a `GuardRedirect` becomes a response (303 for a page,
`HX-Redirect` for htmx). `mark_guarded_response` makes every response of a guarded request
`Cache-Control: no-store, private` with `Vary: Cookie, HX-Request`: it depends on who asks and how.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from quart import Response, request
from supertokens_python.recipe.session.cookie_and_header import (
    clear_session_from_all_token_transfer_methods,
)
from supertokens_python.recipe.session.recipe import SessionRecipe

from quart_supertokens.decisions import (
    ClaimRedirect,
    GuardRedirect,
    LoginRequired,
    RefreshRequired,
)
from quart_supertokens.framework.middleware import request_user_context
from quart_supertokens.framework.request import QuartRequest
from quart_supertokens.framework.response import QuartResponse
from quart_supertokens.htmx import HtmxDetails, auth_redirect
from quart_supertokens.options import Options, current_options
from quart_supertokens.redirects import current_location, path_from_same_origin_url
from quart_supertokens.redirects import safe_redirect_back as _safe_redirect_back
from quart_supertokens.refresh_marker import REFRESH_MARKER_COOKIE
from quart_supertokens.state import GuardState

GUARDED_VARY = "Cookie, HX-Request"


def safe_redirect_back(value: object, default: str = "/") -> str:
    """`value` if it is a same-origin path a sign-in or refresh may return to, else `default`.

    Never the login URL, a NEVER_RETURN_TO path or anything under the API base (a loop).
    """
    options = current_options()
    return _safe_redirect_back(
        value,
        default,
        never=(options.login_url, *options.never_return_to),
        never_under=(options.api_base_path.rstrip("/") + "/",),
    )


def return_location(htmx: HtmxDetails | None = None) -> str:
    """Where the user should come back to after a refresh or sign-in, already validated.

    A full page load returns to itself. A form submission (any other method) returns to the page
    the form was on, the Referer's path (same origin only), else `/`: the hop back is a GET, and
    a GET of the POST's URL would be a 405 at best. An htmx XHR returns to the page it was made
    from: `HX-Current-URL` (same origin only), else the Referer's path, else `/`.
    """
    htmx = htmx if htmx is not None else HtmxDetails(request)
    if not htmx.is_xhr:
        if request.method in ("GET", "HEAD"):
            return safe_redirect_back(current_location())
        return safe_redirect_back(_referer_path())
    candidate = htmx.current_url_abs_path
    return safe_redirect_back(candidate if candidate is not None else _referer_path())


def _referer_path() -> str | None:
    return path_from_same_origin_url(request.headers.get("Referer"), request.host_url.rstrip("/"))


def _with_return(url: str, options: Options, redirect_back: str) -> str:
    target = safe_redirect_back(redirect_back)
    if target == "/":
        return url
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{options.redirect_param}={quote(target, safe='')}"


def refresh_url(redirect_back: str) -> str:
    """The server-side refresh hop that returns to `redirect_back`."""
    options = current_options()
    target = quote(safe_redirect_back(redirect_back), safe="")
    return f"{options.refresh_path}?redirectBack={target}"


def login_url(redirect_back: str) -> str:
    """The login URL, with the path to return to after sign-in."""
    options = current_options()
    return _with_return(options.login_url, options, redirect_back)


async def handle_guard_redirect(decision: GuardRedirect) -> Response:
    """The one place where a guard redirect becomes a response."""
    htmx = HtmxDetails(request)
    here = return_location(htmx)
    if isinstance(decision, RefreshRequired):
        response = auth_redirect(refresh_url(here))
    elif isinstance(decision, ClaimRedirect):
        # 200, not 401: nothing to refresh, and supertokens-web-js must not try to.
        location = _with_return(decision.location, current_options(), here)
        response = auth_redirect(location, htmx_status=200)
    else:
        response = auth_redirect(login_url(here))
        if isinstance(decision, LoginRequired) and decision.clear_cookies:
            clear_session_cookies(response)
    apply_mutators(response, decision.mutators)
    return response


def mark_guarded_response(state: GuardState, response: Response) -> None:
    headers = response.headers
    headers["Cache-Control"] = "no-store, private"
    vary = headers.get("Vary")
    if vary is None or vary == "HX-Request":  # what every page and fragment render sets
        headers["Vary"] = GUARDED_VARY
    else:
        values = {v.strip() for v in vary.split(",") if v.strip()}
        headers["Vary"] = ", ".join(sorted(values | {"Cookie", "HX-Request"}))
    if state.clear_refresh_marker:
        response.delete_cookie(REFRESH_MARKER_COOKIE, path="/")
    if state.mutators:
        apply_mutators(response, state.mutators)
        state.mutators = []


def apply_mutators(response: Response, mutators: Iterable[Any]) -> None:
    """Run SDK response mutators (cookie clears, front-token) carried by an SDK error."""
    wrapped = QuartResponse(response)
    for mutator in mutators:
        mutator(wrapped, request_user_context())


def clear_session_cookies(response: Response) -> None:
    """Clear the session's cookies and front-token exactly as the SDK does on UNAUTHORISED."""
    clear_session_from_all_token_transfer_methods(
        QuartResponse(response),
        SessionRecipe.get_instance(),
        QuartRequest(request),
        request_user_context(),
    )
    response.delete_cookie(REFRESH_MARKER_COOKIE, path="/")
