"""The Quart counterpart of the SDK's Flask middleware (framework/flask/flask_middleware.py).

Four hooks plug supertokens-python into every request; `Middleware(app)` registers them on their
own (the adapter alone, as the SDK's Flask `Middleware` does), and `QuartSuperTokens` registers
them together with the guard's:

- before_request (`serve_sdk_api`): builds the request's `user_context` (kept in `g`) and, when the
  app serves the auth API, lets the SDK answer its own routes under the API base path (sign in/up,
  sign out, POST refresh, email verification...). Quart runs after_request even when a
  before_request hook answers, so those responses get their cookies below.
- after_request (`apply_session_mutations`): applies the session's pending response mutations (new
  or cleared cookies, `front-token`) to every response, error responses included, then enforces
  session_end.py: a response that clears the session's cookies never also sets a session token.
- teardown_request (`forget_request_state`): drops the request's session and context, so nothing
  leaks between requests (the SDK's issue #463).
- errorhandler(SuperTokensError) (`handle_supertokens_error`): SDK errors become the SDK's JSON.
"""

from __future__ import annotations

from typing import Any

from quart import Quart, Response, g, request
from supertokens_python import Supertokens
from supertokens_python.exceptions import SuperTokensError
from supertokens_python.recipe.session.exceptions import UnauthorisedError
from supertokens_python.recipe.session.recipe import SessionRecipe
from supertokens_python.supertokens import manage_session_post_response
from supertokens_python.utils import default_user_context

from quart_supertokens.framework.request import SESSION_SLOT, QuartRequest
from quart_supertokens.framework.response import QuartResponse
from quart_supertokens.session_end import end_session_wins

USER_CONTEXT_SLOT = "_quart_supertokens_user_context"
# Set when the SDK's error handler cleared the session's tokens in this request.
TOKENS_CLEARED_SLOT = "_quart_supertokens_tokens_cleared"


def request_user_context() -> dict[str, Any]:
    """The SDK user context of the current request, created on first use (one per request)."""
    user_context: dict[str, Any] | None = g.get(USER_CONTEXT_SLOT)
    if user_context is None:
        user_context = default_user_context(QuartRequest(request))
        setattr(g, USER_CONTEXT_SLOT, user_context)
    return user_context


def has_unresolvable_duplicate_cookies(older_cookie_domain: str | None) -> bool:
    """Two session cookies of one kind with no `older_cookie_domain` to tell them apart.

    The SDK raises a plain Exception (a 500) on a refresh in that case; the adapter fails closed
    instead: the refresh is refused as unauthorised and the cookies it can reach are cleared.
    As in the SDK, cookies do not matter when the app's transfer method is "header".
    """
    from supertokens_python.recipe.session.cookie_and_header import (
        has_multiple_cookies_for_token_type,
    )

    if older_cookie_domain is not None:
        return False
    wrapped = QuartRequest(request)
    config = SessionRecipe.get_instance().config
    if config.get_token_transfer_method(wrapped, False, request_user_context()) == "header":
        return False
    return any(has_multiple_cookies_for_token_type(wrapped, kind) for kind in ("access", "refresh"))


def _empty_json_response() -> Response:
    return Response("{}", status=200, content_type="application/json; charset=utf-8")


async def serve_sdk_api() -> Response | None:
    """Let the SDK answer its own API routes; None for every other request."""
    request_user_context()
    config = SessionRecipe.get_instance().config
    if (
        request.method == "POST"
        and QuartRequest(request).get_path() == config.refresh_token_path.get_as_string_dangerous()
        and has_unresolvable_duplicate_cookies(config.older_cookie_domain)
    ):
        raise UnauthorisedError("duplicate session cookies", clear_tokens=True)
    result = await Supertokens.get_instance().middleware(
        QuartRequest(request), QuartResponse(_empty_json_response()), request_user_context()
    )
    if result is None:
        return None
    if not isinstance(result, QuartResponse):
        raise TypeError(f"the SDK answered with {type(result).__name__}, not QuartResponse")
    return result.response


def apply_session_mutations(response: Response) -> Response:
    """Write the session's pending cookies and headers, then let an ended session win."""
    session = g.get(SESSION_SLOT)
    # A session created or refreshed earlier in a request that then failed as unauthorised must
    # not come back: its pending tokens would land after the error handler's clears.
    if session is not None and session.response_mutators and not g.get(TOKENS_CLEARED_SLOT):
        manage_session_post_response(session, QuartResponse(response), request_user_context())
    config = SessionRecipe.get_instance().config
    end_session_wins(response, config.cookie_domain, config.older_cookie_domain)
    return response


async def forget_request_state(_: BaseException | None = None) -> None:
    g.pop(SESSION_SLOT, None)
    g.pop(USER_CONTEXT_SLOT, None)
    g.pop(TOKENS_CLEARED_SLOT, None)


async def handle_supertokens_error(error: SuperTokensError) -> Response:
    """The SDK's own answer to one of its errors (401/403 JSON, cleared cookies...)."""
    if isinstance(error, UnauthorisedError) and error.clear_tokens:
        setattr(g, TOKENS_CLEARED_SLOT, True)
    result = await Supertokens.get_instance().handle_supertokens_error(
        QuartRequest(request),
        error,
        QuartResponse(_empty_json_response()),
        request_user_context(),
    )
    if not isinstance(result, QuartResponse):
        raise TypeError("the SDK's error handler did not answer with a QuartResponse")
    return result.response


class Middleware:
    """The adapter's hooks on one app, without the guard (what the SDK's Flask `Middleware` is).

    `serve_auth_api=False` leaves the SDK's API to another process.
    """

    def __init__(self, app: Quart, serve_auth_api: bool = True) -> None:
        self.serve_auth_api = serve_auth_api

        async def before() -> Response | None:
            if not self.serve_auth_api:
                request_user_context()
                return None
            return await serve_sdk_api()

        async def after(response: Response) -> Response:
            return apply_session_mutations(response)

        app.before_request(before)
        app.after_request(after)
        app.teardown_request(forget_request_state)
        app.register_error_handler(SuperTokensError, handle_supertokens_error)
