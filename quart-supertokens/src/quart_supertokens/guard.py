"""The SSR session guard: every protected render verifies the session here, with the SDK.

`@require_session(...)` wraps a page or fragment view; `await check_session(...)` is the same
check for code paths outside a decorator. Both ask the SDK for the request's session, from its
cookies only, on every call, and either return it or raise a decision (decisions.py):

- a session: the view renders (200);
- TRY_REFRESH_TOKEN, or UNAUTHORISED while a token cookie is present: the refresh flow;
- no session cookie at all, lifetime over, or a refresh loop: the login page;
- a claim validator fails: 403, or a redirect to where the claim can be satisfied;
- the core is unreachable or failing: 503, and nobody is signed out.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from quart import request
from supertokens_python.exceptions import SuperTokensError
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.asyncio import (
    get_session,
    get_session_without_request_response,
)
from supertokens_python.recipe.session.exceptions import (
    InvalidClaimsError,
    SuperTokensSessionError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from supertokens_python.recipe.session.interfaces import SessionClaimValidator
from werkzeug.datastructures import MultiDict

from quart_supertokens.decisions import (
    ClaimRedirect,
    ClaimValidationError,
    CoreUnavailableError,
    GuardRedirect,
    LoginRequired,
    RefreshRequired,
)
from quart_supertokens.framework.middleware import request_user_context
from quart_supertokens.framework.request import QuartRequest
from quart_supertokens.lifetime import enforce_absolute_lifetime
from quart_supertokens.options import current_options
from quart_supertokens.redirects import current_location
from quart_supertokens.refresh_marker import REFRESH_MARKER_COOKIE, parse_refresh_marker
from quart_supertokens.responses import return_location
from quart_supertokens.state import guard_state

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

ClaimOverride = Callable[
    [list[SessionClaimValidator], SessionContainer, dict[str, Any]],
    Awaitable[list[SessionClaimValidator]] | list[SessionClaimValidator],
]

ACCESS_TOKEN_COOKIE = "sAccessToken"  # noqa: S105 - a cookie name
# A pre-v3 session's cookie: the SDK answers any request carrying it with TRY_REFRESH_TOKEN.
LEGACY_ID_REFRESH_COOKIE = "sIdRefreshToken"  # noqa: S105 - a cookie name
_UNSET = object()


def remove_all_claim_validators(
    validators: list[SessionClaimValidator], session: SessionContainer, user_context: dict[str, Any]
) -> list[SessionClaimValidator]:
    """A claim override that skips every global validator (as in the SuperTokens SSR doc)."""
    return []


def add_claim_validators(*extra: SessionClaimValidator) -> ClaimOverride:
    """A claim override that keeps the global validators and adds `extra`."""

    def override(
        validators: list[SessionClaimValidator],
        session: SessionContainer,
        user_context: dict[str, Any],
    ) -> list[SessionClaimValidator]:
        return [*validators, *extra]

    return override


@dataclass(frozen=True)
class SessionPolicy:
    """What one route asks of the guard."""

    optional: bool = False
    check_database: bool = False
    override_global_claim_validators: ClaimOverride | None = None
    # Absolute session lifetime in seconds from sign-in; None: the extension's SESSION_MAX_AGE.
    max_age: int | None = None
    # Where a failed claim can be satisfied, by claim id; merged over CLAIM_REDIRECTS.
    claim_redirects: Mapping[str, str] = field(default_factory=dict)


async def check_session(
    optional: bool = False,
    check_database: bool = False,
    override_global_claim_validators: ClaimOverride | None = None,
    max_age: int | None = None,
    claim_redirects: Mapping[str, str] | None = None,
) -> SessionContainer | None:
    """Verify the request's session; return it (None when optional and there is none).

    Raises a decision (decisions.py) for every outcome that is not "render".
    """
    policy = SessionPolicy(
        optional, check_database, override_global_claim_validators, max_age, claim_redirects or {}
    )
    return await check_session_under(policy)


async def check_session_under(policy: SessionPolicy) -> SessionContainer | None:
    """`check_session` with a prepared policy (what `require_session` calls)."""
    state = guard_state()
    state.guarded = True
    options = current_options()
    user_context = request_user_context()
    cookies = request.cookies
    try:
        session = await _sdk_get_session(policy, cookies, user_context)
    except TryRefreshTokenError as err:
        raise _refresh_or_break_loop(err.response_mutators) from None
    except UnauthorisedError as err:
        if ACCESS_TOKEN_COOKIE in cookies and cookies[ACCESS_TOKEN_COOKIE]:
            # A revoked session whose token cookie is still here: the refresh fails and clears it.
            raise _refresh_or_break_loop(err.response_mutators) from None
        raise LoginRequired("no session", mutators=err.response_mutators) from None
    except InvalidClaimsError as err:
        await _keep_session_for_error_page(user_context)
        claim_ids = [str(e.id_) for e in err.payload or []]
        raise _claim_failed(claim_ids, policy, err.response_mutators) from None
    except SuperTokensSessionError as err:
        raise _refresh_or_break_loop(err.response_mutators) from None
    except SuperTokensError:
        logger.exception("session verification failed inside the SDK")
        raise CoreUnavailableError(retry_url=return_location()) from None
    except Exception:
        # The SDK raises plain exceptions when the core is unreachable or answers non-2xx.
        logger.exception("session verification could not reach the core")
        raise CoreUnavailableError(retry_url=return_location()) from None

    if session is None:
        if not policy.optional:  # pragma: no cover - the SDK raises instead
            raise LoginRequired("no session")
        return None

    max_age = policy.max_age if policy.max_age is not None else options.session_max_age
    try:
        await enforce_absolute_lifetime(session, max_age, user_context)
    except RefreshRequired as decision:
        raise _refresh_or_break_loop(decision.mutators) from None
    except CoreUnavailableError:
        raise CoreUnavailableError(retry_url=return_location()) from None
    state.session = session
    # `in` first: a missing key costs werkzeug an exception inside `get`, on every render.
    if REFRESH_MARKER_COOKIE in cookies and cookies[REFRESH_MARKER_COOKIE]:
        state.clear_refresh_marker = True
    return session


async def _sdk_get_session(
    policy: SessionPolicy, cookies: MultiDict[str, str], user_context: dict[str, Any]
) -> SessionContainer | None:
    """The SDK's session check for this request, cookies only.

    A GET with exactly one access-token cookie (every ordinary render) hands that cookie's token to
    `get_session_without_request_response`: the same recipe check and claim validation as
    `get_session(request)`, without the request-level work that cannot change the outcome here
    (looking for tokens in headers, anti-CSRF, which the SDK skips on GET). As
    `get_session(request)` does, a session whose tokens the check updated is attached to the
    request, so the response carries the new cookies. Anything else (unsafe methods, where the SDK
    applies its anti-CSRF rules; no, duplicate or legacy cookies) goes to `get_session(request)`.
    """
    tokens = cookies.getlist(ACCESS_TOKEN_COOKIE)
    if request.method != "GET" or len(tokens) != 1 or LEGACY_ID_REFRESH_COOKIE in cookies:
        return await get_session(
            QuartRequest(request),
            session_required=not policy.optional,
            check_database=policy.check_database,
            override_global_claim_validators=policy.override_global_claim_validators,
            user_context=user_context,
        )
    session = await get_session_without_request_response(
        tokens[0],
        anti_csrf_check=False,
        session_required=not policy.optional,
        check_database=policy.check_database,
        override_global_claim_validators=policy.override_global_claim_validators,
        user_context=user_context,
    )
    if session is not None:
        await session.attach_to_request_response(QuartRequest(request), "cookie", user_context)
    return session


async def _keep_session_for_error_page(user_context: dict[str, Any]) -> None:
    """The session itself is valid: keep it for the 403 page's header (a local check only)."""
    with contextlib.suppress(Exception):
        guard_state().session = await get_session(
            QuartRequest(request),
            session_required=False,
            override_global_claim_validators=remove_all_claim_validators,
            user_context=user_context,
        )


def _claim_failed(
    claim_ids: list[str], policy: SessionPolicy, mutators: Iterable[Any]
) -> Exception:
    """A redirect to where a failed claim can be satisfied, for a page or htmx; else a 403."""
    redirects = {**current_options().claim_redirects, **policy.claim_redirects}
    target = next((redirects[c] for c in claim_ids if c in redirects), None)
    if target is not None and request.method in ("GET", "HEAD"):
        return ClaimRedirect(target, claim_ids, mutators)
    # An HTTP error the app renders; the response hook applies the SDK's mutators to it.
    guard_state().mutators.extend(mutators)
    return ClaimValidationError(claim_ids)


def _refresh_or_break_loop(mutators: Iterable[Any]) -> GuardRedirect:
    """A refresh demand, unless a refresh just sent this very navigation here (a loop)."""
    marker = parse_refresh_marker(request.cookies.get(REFRESH_MARKER_COOKIE))
    if marker is not None:
        refreshed_at, target = marker
        window = current_options().refresh_loop_window
        if time.time() - refreshed_at < window and target == current_location():
            logger.error(
                "refresh loop broken: %s still needs a refresh right after a successful one",
                target,
            )
            return LoginRequired("refresh loop", clear_cookies=True, mutators=mutators)
    return RefreshRequired("refresh needed", mutators)


def require_session(
    optional: bool = False,
    check_database: bool = False,
    override_global_claim_validators: ClaimOverride | None = None,
    max_age: int | None = None,
    claim_redirects: Mapping[str, str] | None = None,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Decorate a page or fragment view so it runs only after the guard verified the session.

    `optional`: render without a session too (`current_session` is then None).
    `check_database`: also ask the core whether the session was revoked (one core call).
    `override_global_claim_validators`: the SDK's per-route claim override.
    `max_age`: this route's absolute session lifetime in seconds (default SESSION_MAX_AGE).
    `claim_redirects`: where a failed claim can be satisfied, by claim id.
    """
    policy = SessionPolicy(
        optional, check_database, override_global_claim_validators, max_age, claim_redirects or {}
    )

    def decorator(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            await check_session_under(policy)
            return await view(*args, **kwargs)

        wrapper.session_policy = policy  # type: ignore[attr-defined]
        return wrapper

    return decorator
