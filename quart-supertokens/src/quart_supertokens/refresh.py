"""The server-side refresh hop: `GET <api_base>/session/refresh?redirectBack=<path>`.

The refresh token's cookie has the path `<api_base>/session/refresh`, so the browser sends it only
there: a page render can never refresh in place, and a browser without JavaScript has no
supertokens-web-js to call the SDK's POST refresh API. A full page load that needs a refresh is
therefore sent here by the guard; this route refreshes on the server and sends the browser back
with rotated cookies. The SDK's own POST API at the same path is separate and unchanged.

Success: 303 back to `redirectBack` (validated), with the refresh marker (refresh_marker.py).
Failure (expired, revoked, theft, duplicate cookies the SDK cannot tell apart): cookies cleared,
303 to the login page. The core down: 503, and nobody is signed out.
"""

from __future__ import annotations

import logging
from typing import Any

from quart import Response, request
from quart.typing import ResponseReturnValue
from supertokens_python.exceptions import SuperTokensError
from supertokens_python.recipe.session.asyncio import refresh_session, revoke_session
from supertokens_python.recipe.session.exceptions import (
    ClearDuplicateSessionCookiesError,
    TokenTheftError,
    UnauthorisedError,
)
from supertokens_python.recipe.session.recipe import SessionRecipe

from quart_supertokens.decisions import CoreUnavailableError
from quart_supertokens.framework.middleware import (
    has_unresolvable_duplicate_cookies,
    request_user_context,
)
from quart_supertokens.framework.request import QuartRequest
from quart_supertokens.htmx import auth_redirect
from quart_supertokens.options import current_options
from quart_supertokens.refresh_marker import REFRESH_MARKER_COOKIE, refresh_marker_value
from quart_supertokens.responses import (
    apply_mutators,
    clear_session_cookies,
    login_url,
    safe_redirect_back,
)

logger = logging.getLogger(__name__)


async def refresh_hop() -> ResponseReturnValue:
    """Refresh the session from its refresh cookie and go back to `redirectBack`."""
    target = safe_redirect_back(request.args.get("redirectBack"))
    config = SessionRecipe.get_instance().config
    if config.anti_csrf_function_or_string == "VIA_CUSTOM_HEADER":
        # A plain GET cannot carry the custom header; the browser SDK refreshes instead.
        page = current_options().refresh_page
        if page is None:
            return Response(
                "This site refreshes sessions with JavaScript; please enable it.",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return await page(target)
    if has_unresolvable_duplicate_cookies(config.older_cookie_domain):
        logger.error("duplicate session cookies and no older_cookie_domain: signing out")
        return _refresh_failed(target, [])
    user_context = request_user_context()
    try:
        await refresh_session(QuartRequest(request), user_context)
    except ClearDuplicateSessionCookiesError as err:
        response = auth_redirect(target)
        apply_mutators(response, err.response_mutators)
        return response
    except TokenTheftError as err:
        logger.warning("refresh token reuse: session %s revoked", err.session_handle)
        await revoke_session(err.session_handle, user_context)
        return _refresh_failed(target, err.response_mutators)
    except UnauthorisedError as err:
        return _refresh_failed(target, err.response_mutators)
    except SuperTokensError:
        logger.exception("refresh failed inside the SDK")
        return _refresh_failed(target, [])
    except Exception:
        logger.exception("refresh could not reach the core")
        raise CoreUnavailableError(retry_url=target) from None
    response = auth_redirect(target)
    response.set_cookie(
        REFRESH_MARKER_COOKIE,
        refresh_marker_value(target),
        # The browser keeps the marker as long as the guard would read it (a little longer, so
        # clocks that round differently still see it within the window).
        max_age=current_options().refresh_loop_window + 5,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=config.cookie_secure,
    )
    return response


def _refresh_failed(target: str, mutators: list[Any]) -> Response:
    response = auth_redirect(login_url(target))
    apply_mutators(response, mutators)
    clear_session_cookies(response)
    return response
