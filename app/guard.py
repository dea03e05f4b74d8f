"""The shared server-side session guard: every protected render verifies the session here.

`await verify_session(policy)` asks the SDK for the request's session (cookies only) and either
returns it or raises a `GuardDecision`. `@guarded(...)` wraps a view with the same call. The guard
only decides; `install_guard` registers the one handler that turns each decision into a response:

- a session: the view renders (200);
- TRY_REFRESH_TOKEN, or UNAUTHORISED while a token cookie is present: `RefreshRequired`
  (303 to the refresh route for a page, 401 + `HX-Redirect` to it for htmx);
- no session cookie at all, lifetime over, or a refresh loop: `LoginRequired` (the same, to login);
- a claim validator fails: `ClaimFailed` (403 page or fragment, never a refresh);
- the core is unreachable or failing: `CoreUnavailable` (503 page or fragment, never login).

A 3xx is never sent to an htmx XHR: the browser would follow it and swap the login page into the
fragment. History-restore requests are treated as full page loads (htmx ignores HX-* there).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote, unquote

from quart import Quart, Response, current_app, g, request
from quart.typing import ResponseReturnValue
from supertokens_python.asyncio import get_user
from supertokens_python.exceptions import SuperTokensError
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.asyncio import (
    get_session,
    get_session_information,
    get_session_without_request_response,
    revoke_session,
)
from supertokens_python.recipe.session.cookie_and_header import (
    clear_session_from_all_token_transfer_methods,
)
from supertokens_python.recipe.session.exceptions import (
    InvalidClaimsError,
    SuperTokensSessionError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from supertokens_python.recipe.session.interfaces import SessionClaimValidator
from supertokens_python.recipe.session.recipe import SessionRecipe
from werkzeug.datastructures import MultiDict

from app.errors import core_unavailable_response, error_response
from app.htmx import HtmxDetails, current_location, redirect_to
from app.sdk.access_token import is_number
from app.sdk.hooks import request_user_context
from app.sdk.session_payload import AUTH_AT_CLAIM, EMAIL_CLAIM
from app.sdk.wrappers import QuartRequest, QuartResponse
from app.security import path_from_same_origin_url, safe_redirect_back

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
# Set by the server-side refresh route on success: "<epoch seconds>|<redirectBack>". A second
# refresh demand for that same navigation within the window is a loop, not a reason to refresh.
REFRESH_MARKER_COOKIE = "refreshed"
REFRESH_LOOP_WINDOW = 30
# A guarded response depends on who asks (Cookie) and on how (full page or htmx fragment).
GUARDED_VARY = "Cookie, HX-Request"
# What a failed claim means to a person, by claim id (the id itself is shown too, for support).
CLAIM_DESCRIPTIONS = {
    "st-role": "a role your account does not have",
    "st-perm": "a permission your account does not have",
    "st-ev": "a verified email address",
}


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

    required: bool = True
    check_database: bool = False
    claims: ClaimOverride | None = None
    # Absolute session lifetime in seconds, counted from sign-in; None uses the app's setting.
    max_age: int | None = None


class GuardDecision(Exception):  # noqa: N818 - a decision, not an error
    """The guard could not hand the view a session; the handler turns this into a response."""

    def __init__(self, reason: str, mutators: Iterable[Any] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.mutators = list(mutators)


class RefreshRequired(GuardDecision):
    """The access token is expired or unusable but a refresh may still succeed."""


class LoginRequired(GuardDecision):
    """No session can be had without signing in."""

    def __init__(self, reason: str, clear_cookies: bool = False, mutators: Iterable[Any] = ()):
        super().__init__(reason, mutators)
        self.clear_cookies = clear_cookies


class ClaimFailed(GuardDecision):
    """The session is valid but fails a claim validator (e.g. a missing role)."""

    def __init__(self, claim_ids: list[str], mutators: Iterable[Any] = ()) -> None:
        super().__init__("invalid claim: " + ", ".join(claim_ids), mutators)
        self.claim_ids = claim_ids


class CoreUnavailable(GuardDecision):
    """The SuperTokens core could not be reached or failed; nobody is logged out for this."""


@dataclass(slots=True)
class GuardState:
    """Per-request record of the guard's work, read by the response hooks."""

    guarded: bool = False
    session: SessionContainer | None = None
    clear_refresh_marker: bool = False


def guard_state() -> GuardState:
    state: GuardState | None = g.get("guard_state")
    if state is None:
        state = GuardState()
        g.guard_state = state
    return state


def current_session() -> SessionContainer | None:
    """The session the guard verified for this request, if any."""
    return guard_state().session


def required_session() -> SessionContainer:
    """The session of a view guarded with a required session (always there once it runs)."""
    session = guard_state().session
    assert session is not None, "a guarded view runs with a session"
    return session


def _has_access_token_cookie() -> bool:
    return bool(request.cookies.get(ACCESS_TOKEN_COOKIE))


def _session_max_age(policy: SessionPolicy) -> int:
    if policy.max_age is not None:
        return policy.max_age
    return int(current_app.config["SETTINGS"].session_max_age)


async def verify_session(policy: SessionPolicy = SessionPolicy()) -> SessionContainer | None:
    """Verify the request's session under `policy`; return it (or None when optional).

    Raises a `GuardDecision` for every outcome that is not "render".
    """
    state = guard_state()
    state.guarded = True
    user_context = request_user_context()
    cookies = request.cookies
    try:
        session = await _sdk_get_session(policy, cookies, user_context)
    except TryRefreshTokenError as err:
        raise _refresh_or_break_loop(err.response_mutators) from None
    except UnauthorisedError as err:
        if _has_access_token_cookie():
            # A revoked session whose token cookie is still here: the refresh fails and clears it.
            raise _refresh_or_break_loop(err.response_mutators) from None
        raise LoginRequired("no session", mutators=err.response_mutators) from None
    except InvalidClaimsError as err:
        claim_ids = [str(e.id_) for e in err.payload or []]
        # The session itself is valid: keep it for the 403 page's header (a local check only).
        with contextlib.suppress(Exception):
            state.session = await get_session(
                QuartRequest(request),
                session_required=False,
                override_global_claim_validators=remove_all_claim_validators,
                user_context=user_context,
            )
        raise ClaimFailed(claim_ids, err.response_mutators) from None
    except SuperTokensSessionError as err:
        raise _refresh_or_break_loop(err.response_mutators) from None
    except SuperTokensError:
        logger.exception("session verification failed inside the SDK")
        raise CoreUnavailable("sdk error") from None
    except Exception:
        # The SDK raises plain exceptions when the core is unreachable or answers non-2xx.
        logger.exception("session verification could not reach the core")
        raise CoreUnavailable("core unavailable") from None

    if session is None:
        if policy.required:  # pragma: no cover - the SDK raises instead
            raise LoginRequired("no session")
        return None

    await _enforce_absolute_lifetime(session, policy, user_context)
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
    (looking for tokens in headers the app never accepts, anti-CSRF, which the SDK skips on GET).
    As `get_session(request)` does, a session whose tokens the check updated is attached to the
    request, so the response carries the new cookies. Anything else (unsafe methods, where the SDK
    applies its anti-CSRF rules; no, duplicate or legacy cookies) goes to `get_session(request)`.
    """
    tokens = cookies.getlist(ACCESS_TOKEN_COOKIE)
    if request.method != "GET" or len(tokens) != 1 or LEGACY_ID_REFRESH_COOKIE in cookies:
        return await get_session(
            QuartRequest(request),
            session_required=policy.required,
            check_database=policy.check_database,
            override_global_claim_validators=policy.claims,
            user_context=user_context,
        )
    session = await get_session_without_request_response(
        tokens[0],
        anti_csrf_check=False,
        session_required=policy.required,
        check_database=policy.check_database,
        override_global_claim_validators=policy.claims,
        user_context=user_context,
    )
    if session is not None:
        await session.attach_to_request_response(QuartRequest(request), "cookie", user_context)
    return session


async def _enforce_absolute_lifetime(
    session: SessionContainer, policy: SessionPolicy, user_context: dict[str, Any]
) -> None:
    if time.time() - await _sign_in_time(session, user_context) > _session_max_age(policy):
        await revoke_session(session.get_handle(), user_context)
        guard_state().session = None
        raise LoginRequired("session lifetime over", clear_cookies=True)


async def _sign_in_time(session: SessionContainer, user_context: dict[str, Any]) -> float:
    """When the session began: this app's `authAt` claim, else the core's creation time.

    A session made by another SuperTokens backend sharing the core (supertokens-node, a plain
    supertokens-python API) has no `authAt`, and that is no reason to refuse it: the core knows
    when the session was created. The first render looks it up and stamps it into the payload
    (one core call and a new access token, once per session), so later renders read it locally.
    The core failing during the lookup is a 503, never a sign-out; a session the core no longer
    has goes to the refresh flow, which fails and ends on the sign-in page.
    """
    payload = session.get_access_token_payload(user_context)
    auth_at = payload.get(AUTH_AT_CLAIM)
    if is_number(auth_at):
        return float(auth_at)
    try:
        info = await get_session_information(session.get_handle(), user_context)
    except Exception:
        logger.exception("could not read the session's creation time from the core")
        raise CoreUnavailable("core unavailable") from None
    if info is None:
        raise _refresh_or_break_loop(())
    created_at = info.time_created / 1000
    stamp: dict[str, Any] = {AUTH_AT_CLAIM: int(created_at)}
    if not payload.get(EMAIL_CLAIM):
        stamp.update(await _email_claim(session.get_user_id(), user_context))
    try:
        await session.merge_into_access_token_payload(stamp, user_context)
    except UnauthorisedError:
        raise _refresh_or_break_loop(()) from None
    except Exception:
        # The creation time is known; the stamp is retried on the next render.
        logger.warning("could not stamp the sign-in time into session %s", session.get_handle())
    return created_at


async def _email_claim(user_id: str, user_context: dict[str, Any]) -> dict[str, Any]:
    """The user's email for the page header, when the core has one (best effort)."""
    try:
        user = await get_user(user_id, user_context)
    except Exception:
        return {}
    return {EMAIL_CLAIM: user.emails[0]} if user is not None and user.emails else {}


def _refresh_or_break_loop(mutators: Iterable[Any]) -> GuardDecision:
    """A refresh demand, unless a refresh just sent this very navigation here (a loop)."""
    marker = parse_refresh_marker(request.cookies.get(REFRESH_MARKER_COOKIE))
    if marker is not None:
        refreshed_at, target = marker
        if time.time() - refreshed_at < REFRESH_LOOP_WINDOW and target == current_location():
            logger.error(
                "refresh loop broken: %s still needs a refresh right after a successful one",
                target,
            )
            return LoginRequired("refresh loop", clear_cookies=True, mutators=mutators)
    return RefreshRequired("refresh needed", mutators)


def return_location(htmx: HtmxDetails) -> str:
    """Where the user should come back to after a refresh or sign-in, already validated.

    A full page load returns to itself. A form submission (any other method) returns to the page
    the form was on, the Referer's path (same origin only), else `/`: the hop back is a GET, and
    a GET of the POST's URL would be a 405 at best. An htmx XHR returns to the page it was made
    from: `HX-Current-URL` (same origin only), else the Referer's path, else `/`.
    """
    if not htmx.is_xhr:
        if request.method in ("GET", "HEAD"):
            return safe_redirect_back(current_location())
        return safe_redirect_back(_referer_path())
    candidate = htmx.current_url_abs_path
    return safe_redirect_back(candidate if candidate is not None else _referer_path())


def _referer_path() -> str | None:
    return path_from_same_origin_url(request.headers.get("Referer"), request.host_url.rstrip("/"))


def refresh_url(redirect_back: str) -> str:
    return "/auth/session/refresh?redirectBack=" + quote(safe_redirect_back(redirect_back), safe="")


def login_url(redirect_back: str) -> str:
    target = safe_redirect_back(redirect_back)
    return "/login" if target == "/" else "/login?redirectBack=" + quote(target, safe="")


def guarded(
    required: bool = True,
    check_database: bool = False,
    claims: ClaimOverride | None = None,
    max_age: int | None = None,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Decorate a view so it runs only after the guard verified the session under this policy."""
    policy = SessionPolicy(required, check_database, claims, max_age)

    def decorator(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            await verify_session(policy)
            return await view(*args, **kwargs)

        wrapper.session_policy = policy  # type: ignore[attr-defined]
        return wrapper

    return decorator


async def handle_guard_decision(decision: GuardDecision) -> ResponseReturnValue:
    """The one place where a guard decision becomes a response."""
    htmx = HtmxDetails(request)
    response: Response
    if isinstance(decision, RefreshRequired):
        response = redirect_to(refresh_url(return_location(htmx)), htmx_status=401)
    elif isinstance(decision, LoginRequired):
        response = redirect_to(login_url(return_location(htmx)), htmx_status=401)
        if decision.clear_cookies:
            clear_session_cookies(response)
    elif isinstance(decision, ClaimFailed):
        needs = [CLAIM_DESCRIPTIONS.get(c, "a permission") for c in decision.claim_ids]
        response = await error_response(
            403,
            "This page needs " + (" and ".join(dict.fromkeys(needs)) or "a permission") + ".",
            claim=", ".join(decision.claim_ids),
        )
    else:
        response = await core_unavailable_response(retry_url=return_location(htmx))
    apply_mutators(response, decision.mutators)
    return response


async def _mark_guarded_response(response: Response) -> Response:
    # Async on purpose: Quart runs a sync hook in a worker thread, a costly hop on every response.
    state = g.get("guard_state")
    if state is None or not state.guarded:
        return response
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
    return response


@dataclass(frozen=True)
class CurrentUser:
    """Who the verified session belongs to, read from its access-token payload (no core call)."""

    user_id: str
    session_handle: str
    email: str
    display_name: str
    roles: tuple[str, ...]
    email_verified: bool

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @classmethod
    def from_session(cls, session: SessionContainer) -> CurrentUser:
        payload = session.get_access_token_payload()
        email = str(payload.get("email") or "")
        roles = payload.get("st-role", {}).get("v") or []
        return cls(
            user_id=session.get_user_id(),
            session_handle=session.get_handle(),
            email=email,
            display_name=str(payload.get("name") or email or session.get_user_id()),
            roles=tuple(str(r) for r in roles),
            email_verified=bool(payload.get("st-ev", {}).get("v")),
        )


def current_user() -> CurrentUser | None:
    session = current_session()
    return CurrentUser.from_session(session) if session is not None else None


async def _template_context() -> dict[str, Any]:
    user = current_user()
    return {"current_user": user, "is_admin": bool(user and user.is_admin)}


def install_guard(app: Quart) -> None:
    """Register the decision handler, the response hook and the template's `current_user`."""
    app.register_error_handler(GuardDecision, handle_guard_decision)
    app.after_request(_mark_guarded_response)
    app.context_processor(_template_context)


def refresh_marker_value(redirect_back: str) -> str:
    return quote(f"{int(time.time())}|{redirect_back}", safe="")


def parse_refresh_marker(value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    refreshed_at, _, target = unquote(value).partition("|")
    return (int(refreshed_at), target) if refreshed_at.isdigit() else None


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
