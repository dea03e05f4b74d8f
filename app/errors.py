"""Error pages and fragments: 4xx/5xx answered as a full page, or as a fragment for htmx swaps.

Every error the app can produce goes through `error_response`, so no request ever sees a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from quart import Quart, Response, render_template, request
from werkzeug.exceptions import HTTPException

from quart_supertokens import (
    ClaimValidationError,
    CoreUnavailableError,
    CrossOriginRequestRefused,
    HtmxDetails,
    current_location,
    is_core_unavailable,
    safe_redirect_back,
)

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


UNAVAILABLE_MESSAGE = "The sign-in service is unavailable. Please try again in a moment."
# What a failed claim means to a person, by claim id (the id itself is shown too, for support).
CLAIM_DESCRIPTIONS = {
    "st-role": "a role your account does not have",
    "st-perm": "a permission your account does not have",
    "st-ev": "a verified email address",
}


async def core_unavailable_response(retry_url: str | None = None) -> Response:
    """503 page or fragment with Retry-After: nobody is signed out because the core is down.

    `retry_url` (already validated) defaults to the current page for a GET.
    """
    if retry_url is None and request.method == "GET":
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


async def _handle_claim_failure(error: ClaimValidationError) -> Response:
    needs = [CLAIM_DESCRIPTIONS.get(c, "a permission") for c in error.claim_ids]
    return await error_response(
        403,
        "This page needs " + (" and ".join(dict.fromkeys(needs)) or "a permission") + ".",
        claim=", ".join(error.claim_ids),
    )


async def _handle_core_unavailable(error: CoreUnavailableError) -> Response:
    return await core_unavailable_response(retry_url=error.retry_url)


async def _handle_cross_origin(error: CrossOriginRequestRefused) -> Response:
    return await error_response(403, "Cross-origin request refused.")


def install_error_pages(app: Quart) -> None:
    """The app's pages for every error, the extension's guard errors included."""
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(ClaimValidationError, _handle_claim_failure)
    app.register_error_handler(CoreUnavailableError, _handle_core_unavailable)
    app.register_error_handler(CrossOriginRequestRefused, _handle_cross_origin)
    app.register_error_handler(Exception, _handle_unexpected)
