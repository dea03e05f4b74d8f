"""Error pages and fragments: 4xx/5xx answered as a full page, or as a fragment for htmx swaps.

Every error the app can produce goes through `error_response`, so no request ever sees a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from quart import Quart, Response, render_template, request
from werkzeug.exceptions import HTTPException

from app.htmx import HtmxDetails

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


async def _handle_unexpected(error: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return await error_response(500, "An unexpected error occurred. It has been logged.")


def install_error_pages(app: Quart) -> None:
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
