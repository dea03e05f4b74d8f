"""Quart request hooks that plug supertokens-python into every request.

The async counterpart of the SDK's Flask middleware (framework/flask/flask_middleware.py):

- before_request: builds the request's `user_context` (kept in `g`) and, when this process serves
  the auth API, lets the SDK answer its own routes under the API base path (sign in/up, sign out,
  refresh, email verification, password reset...). Quart runs after_request even when
  before_request returns a response, so those responses get their cookies below.
- after_request: applies the session's pending response mutations (new or cleared cookies,
  `front-token`...) to every response, error responses included. Nothing else writes them. It is
  the last hook to run, and then enforces app/sdk/session_end.py: a response that clears the
  session's cookies never also sets a session token, whoever attached it.
- teardown_request: drops the request's session and context, so nothing leaks between requests.
- errorhandler(SuperTokensError): the one place SDK errors become HTTP responses.
"""

from __future__ import annotations

from typing import Any

from quart import Quart, Response, g, request
from supertokens_python import Supertokens
from supertokens_python.exceptions import SuperTokensError
from supertokens_python.recipe.session.exceptions import UnauthorisedError
from supertokens_python.supertokens import manage_session_post_response
from supertokens_python.utils import default_user_context

from app.sdk.session_end import end_session_wins
from app.sdk.wrappers import SESSION_SLOT, QuartRequest, QuartResponse

USER_CONTEXT_SLOT = "supertokens_user_context"


def request_user_context() -> dict[str, Any]:
    """The SDK user context of the current request, created on first use."""
    user_context: dict[str, Any] | None = g.get(USER_CONTEXT_SLOT)
    if user_context is None:
        user_context = default_user_context(QuartRequest(request))
        setattr(g, USER_CONTEXT_SLOT, user_context)
    return user_context


def has_unresolvable_duplicate_cookies(older_cookie_domain: str | None) -> bool:
    """Two session cookies of one kind with no OLDER_COOKIE_DOMAIN to tell them apart.

    The SDK raises a plain Exception (a 500) on a refresh in that case; the app fails closed
    instead: the refresh is refused as unauthorised and the cookies it can reach are cleared.
    """
    from supertokens_python.recipe.session.cookie_and_header import (
        has_multiple_cookies_for_token_type,
    )

    if older_cookie_domain is not None:
        return False
    wrapped = QuartRequest(request)
    return any(has_multiple_cookies_for_token_type(wrapped, kind) for kind in ("access", "refresh"))


def _empty_json_response() -> Response:
    return Response("{}", status=200, content_type="application/json; charset=utf-8")


def init_app(
    app: Quart,
    *,
    serve_auth_api: bool,
    api_base_path: str = "/auth",
    cookie_domain: str | None = None,
    older_cookie_domain: str | None = None,
) -> None:
    """Register the hooks; `serve_auth_api=False` leaves the auth API to another process."""
    refresh_path = api_base_path.rstrip("/") + "/session/refresh"

    @app.before_request
    async def serve_supertokens_api() -> Response | None:
        user_context = request_user_context()
        if not serve_auth_api:
            return None
        if (
            request.method == "POST"
            and request.path == refresh_path
            and has_unresolvable_duplicate_cookies(older_cookie_domain)
        ):
            raise UnauthorisedError("duplicate session cookies", clear_tokens=True)
        result = await Supertokens.get_instance().middleware(
            QuartRequest(request), QuartResponse(_empty_json_response()), user_context
        )
        if result is None:
            return None
        if not isinstance(result, QuartResponse):
            raise TypeError(f"the SDK answered with {type(result).__name__}, not QuartResponse")
        return result.response

    @app.after_request
    async def apply_session_mutations(response: Response) -> Response:
        session = g.get(SESSION_SLOT)
        if session is not None and session.response_mutators:
            manage_session_post_response(session, QuartResponse(response), request_user_context())
        end_session_wins(response, cookie_domain, older_cookie_domain)
        return response

    @app.teardown_request
    async def forget_session(_: BaseException | None) -> None:
        g.pop(SESSION_SLOT, None)
        g.pop(USER_CONTEXT_SLOT, None)

    @app.errorhandler(SuperTokensError)
    async def handle_supertokens_error(error: SuperTokensError) -> Response:
        user_context = request_user_context()
        result = await Supertokens.get_instance().handle_supertokens_error(
            QuartRequest(request),
            error,
            QuartResponse(_empty_json_response()),
            user_context,
        )
        if not isinstance(result, QuartResponse):
            raise TypeError("the SDK's error handler did not answer with a QuartResponse")
        return result.response
