"""Error pages and fragments: 4xx/5xx answered as a full page, or as a fragment for htmx swaps.

Every error the app can produce goes through `error_response`, so no request ever sees a traceback.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
from quart import Quart, Response, render_template, request
from werkzeug.exceptions import HTTPException

from app.htmx import HtmxDetails, current_location

logger = logging.getLogger(__name__)

ERROR_TEMPLATE = "errors/error.html"
ERROR_BLOCK = "error_fragment"

TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Service unavailable",
}


async def render_error(status: int, message: str, **context: Any) -> str:
    """The error panel alone for an htmx fragment request, else the full error page."""
    title = TITLES.get(status, "Error")
    context = {"status": status, "title": title, "message": message, **context}
    if HtmxDetails(request).wants_fragment:
        from jinja2_fragments.quart import render_block

        return await render_block(ERROR_TEMPLATE, ERROR_BLOCK, **context)
    return await render_template(ERROR_TEMPLATE, **context)


async def error_response(status: int, message: str, **context: Any) -> Response:
    body = await render_error(status, message, **context)
    response = Response(body, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "HX-Request"
    return response


async def _handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status < 400:  # pragma: no cover - werkzeug raises redirects as RequestRedirect
        return error.get_response()  # type: ignore[return-value]
    message = {
        404: "There is no page at this address.",
        405: "This address does not accept that kind of request.",
        413: "The request was too large.",
    }.get(status, "The request could not be processed.")
    response = await error_response(status, message)
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return response


# What supertokens-python raises (plain `Exception`s) when no core answers, or one answers 5xx.
_NO_CORE_MESSAGE = "No SuperTokens core available to query"
_CORE_5XX = re.compile(r"^SuperTokens core threw an error .* with status code: 5\d\d\b", re.S)
UNAVAILABLE_MESSAGE = "The sign-in service is unavailable. Please try again in a moment."


def is_core_unavailable(error: BaseException | None) -> bool:
    """Whether `error` (or anything in its cause/context chain) means the core is unreachable,
    timed out or failing, as opposed to a bug in the app."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, httpx.TransportError):  # connect/read timeouts, refused, reset
            return True
        if type(error).__module__.startswith("requests"):  # the SDK's JWKS fetch uses requests
            return True
        message = str(error)
        if message == _NO_CORE_MESSAGE or _CORE_5XX.match(message):
            return True
        error = error.__cause__ or error.__context__
    return False


async def core_unavailable_response(retry_url: str | None = None) -> Response:
    """503 page or fragment with Retry-After: nobody is signed out because the core is down.

    `retry_url` (already validated) defaults to the current page for a GET.
    """
    if retry_url is None and request.method == "GET":
        from app.security import safe_redirect_back

        retry_url = safe_redirect_back(current_location(), default="") or None
    response = await error_response(503, UNAVAILABLE_MESSAGE, retry_url=retry_url)
    response.headers["Retry-After"] = "5"
    return response


async def _handle_unexpected(error: Exception) -> Response:
    if is_core_unavailable(error):
        logger.warning(
            "core unavailable on %s %s: %s", request.method, request.path, error, exc_info=error
        )
        return await core_unavailable_response()
    logger.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return await error_response(500, "An unexpected error occurred. It has been logged.")


def install_error_pages(app: Quart) -> None:
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
