"""`verify_session`, for JSON API routes: the SDK's own decorator, for Quart.

Same signature as supertokens-python's Flask and FastAPI `verify_session`, same answers: the
SDK's 401 (`{"message": "unauthorised"}` or "try refresh token") and 403 (invalid claims) JSON,
with the SDK's cookie clearing. A `SuperTokensError` raised by the verification or by the view
itself goes to the SDK's error handler. For pages and htmx fragments use `require_session`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from quart import request
from quart.typing import ResponseReturnValue
from supertokens_python.exceptions import SuperTokensError
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.interfaces import SessionClaimValidator
from supertokens_python.recipe.session.recipe import SessionRecipe
from supertokens_python.types.base import MaybeAwaitable
from supertokens_python.utils import set_request_in_user_context_if_not_defined

from quart_supertokens.framework.middleware import handle_supertokens_error, request_user_context
from quart_supertokens.framework.request import QuartRequest

P = ParamSpec("P")
R = TypeVar("R", bound=ResponseReturnValue)


def verify_session(
    anti_csrf_check: bool | None = None,
    session_required: bool = True,
    check_database: bool = False,
    override_global_claim_validators: Callable[
        [list[SessionClaimValidator], SessionContainer, dict[str, Any]],
        MaybeAwaitable[list[SessionClaimValidator]],
    ]
    | None = None,
    user_context: dict[str, Any] | None = None,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[ResponseReturnValue]]]:
    """Run the view only with a verified session (`get_session(request)` then gives it)."""

    def decorator(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[ResponseReturnValue]]:
        @functools.wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            wrapped = QuartRequest(request)
            context = (
                set_request_in_user_context_if_not_defined(user_context, wrapped)
                if user_context is not None
                else request_user_context()
            )
            try:
                session = await SessionRecipe.get_instance().verify_session(
                    wrapped,
                    anti_csrf_check,
                    session_required,
                    check_database,
                    override_global_claim_validators,
                    context,
                )
                if session is None:
                    if session_required:  # pragma: no cover - the SDK raises instead
                        raise Exception("Should never come here")
                    wrapped.set_session_as_none()
                else:
                    wrapped.set_session(session)
                return await view(*args, **kwargs)
            except SuperTokensError as error:
                return await handle_supertokens_error(error)

        return wrapper

    return decorator
