"""What the guard decides when a view cannot simply render, and the responses that follow.

The guard only decides, by raising one of these; nothing else turns a session check into a
response, so every protected route answers alike:

- `RefreshRequired`: TRY_REFRESH_TOKEN, or UNAUTHORISED while a token cookie is present. A page
  load gets 303 to the refresh hop (`GET <api_base>/session/refresh?redirectBack=...`), an htmx
  XHR gets `HX-Redirect` to it with the htmx auth status (401). Never a 3xx to htmx.
- `LoginRequired`: no session cookie, lifetime over, or a refresh loop: the same, to the login URL.
- `ClaimValidationError`: a claim validator failed. A 403 (werkzeug `Forbidden`), rendered by the
  app's error handlers; or, where the policy names where the claim can be satisfied, a redirect
  there for a page or an htmx request.
- `CoreUnavailableError`: the core is unreachable or failing: a 503 (`ServiceUnavailable`), never
  a sign-out.

The two redirects are handled by the extension; the two errors are HTTP exceptions an app styles
with `@app.errorhandler(ClaimValidationError)` and so on (or its generic HTTPException handler).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import httpx
from werkzeug.exceptions import Forbidden, ServiceUnavailable


class GuardRedirect(Exception):  # noqa: N818 - a decision, not an error
    """The guard could not hand the view a session; the browser goes elsewhere."""

    def __init__(self, reason: str, mutators: Iterable[Any] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.mutators = list(mutators)


class RefreshRequired(GuardRedirect):
    """The access token is expired or unusable but a refresh may still succeed."""


class SessionGone(RefreshRequired):
    """The core no longer has the session: the refresh fails and ends on the login page."""


class LoginRequired(GuardRedirect):
    """No session can be had without signing in."""

    def __init__(
        self, reason: str, clear_cookies: bool = False, mutators: Iterable[Any] = ()
    ) -> None:
        super().__init__(reason, mutators)
        self.clear_cookies = clear_cookies


class ClaimRedirect(GuardRedirect):
    """A failed claim that can be satisfied at `location` (a page or htmx request goes there)."""

    def __init__(self, location: str, claim_ids: list[str], mutators: Iterable[Any]) -> None:
        super().__init__("invalid claim: " + ", ".join(claim_ids), mutators)
        self.location = location
        self.claim_ids = claim_ids


class ClaimValidationError(Forbidden):
    """The session is valid but fails a claim validator (a missing role, an unverified email).

    `claim_ids` lists the failed claims; `current_session` still holds the session, for the
    page's header.
    """

    description = "This page needs a permission your account does not have."

    def __init__(self, claim_ids: list[str]) -> None:
        super().__init__()
        self.claim_ids = claim_ids


class CoreUnavailableError(ServiceUnavailable):
    """The SuperTokens core could not be reached or failed; nobody is signed out for this.

    `retry_url` is the validated path to try again (the page the request came from).
    """

    description = "The sign-in service is unavailable. Please try again in a moment."

    def __init__(self, retry_url: str | None = None) -> None:
        super().__init__(retry_after=5)
        self.retry_url = retry_url


# What supertokens-python raises (plain `Exception`s) when no core answers, or one answers 5xx.
_NO_CORE_MESSAGE = "No SuperTokens core available to query"
_CORE_5XX = re.compile(r"^SuperTokens core threw an error .* with status code: 5\d\d\b", re.S)


def is_core_unavailable(error: BaseException | None) -> bool:
    """Whether `error` (or anything in its cause/context chain) means the core is unreachable,
    timed out or failing, as opposed to a bug in the app (an error handler's question)."""
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
