"""Ending a session wins: a response that clears the session's cookies never also sets a token.

Cookies reach a response from several places in one request: the SDK's pending session mutators
(a first verification of a just-refreshed token promotes it in the core and writes the new access
token), the error mutators carried by an SDK exception, and the views that clear the session
(sign-out, failed refresh, lifetime over, theft, password change or reset). Browsers apply
Set-Cookie headers in order, so "clear, then set" leaves a valid token behind, and
`Clear-Site-Data` is ignored by many clients and outside secure contexts.

`end_session_wins(response)` runs last in the response path (framework/middleware.py): one
rule for every response, whoever wrote its headers: when any Set-Cookie clears `sAccessToken` or
`sRefreshToken`, every Set-Cookie that gives either a value is dropped, and the front-token header
says "remove". Two clears are not an ending:
- clearing the *older* cookie domain's duplicates (OLDER_COOKIE_DOMAIN): the session goes on under
  the current domain;
- a switch of transfer method: a response that issues a header session (a non-empty
  `st-access-token` header) and gives no token cookie a value clears the request's stale cookies
  because the tokens now travel in headers (the SDK's `get_token_transfer_method` or
  `st-auth-mode`), not because the session ended.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

from quart import Response

TOKEN_COOKIES = frozenset({"sAccessToken", "sRefreshToken"})
FRONT_TOKEN_HEADER = "front-token"  # noqa: S105 - a header name
# What the SDK would send alongside tokens in header mode; never valid next to a cleared session.
TOKEN_HEADERS = ("st-access-token", "st-refresh-token", "anti-csrf")


@dataclass(frozen=True, slots=True)
class SetCookie:
    """The parts of one Set-Cookie header this rule needs."""

    name: str
    value: str
    domain: str | None
    clears: bool

    @classmethod
    def parse(cls, header: str) -> SetCookie:
        pair, *attributes = header.split(";")
        name, _, value = pair.partition("=")
        value = value.strip().strip('"')
        domain: str | None = None
        clears = value == ""
        for attribute in attributes:
            key, _, attr_value = attribute.strip().partition("=")
            key = key.lower()
            if key == "domain":
                domain = attr_value.strip().lstrip(".").lower() or None
            elif key == "max-age":
                clears = clears or _max_age_over(attr_value.strip())
            elif key == "expires":
                clears = clears or _in_the_past(attr_value.strip())
        return cls(name.strip(), value, domain, clears)


def _max_age_over(value: str) -> bool:
    try:
        return int(value) <= 0
    except ValueError:
        return False


def _in_the_past(http_date: str) -> bool:
    try:
        parsed = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return False
    return parsed.timestamp() <= time.time()


def _normalised(domain: str | None) -> str | None:
    return domain.lstrip(".").lower() if domain else None


def _switches_to_headers(response: Response, cookies: list[SetCookie]) -> bool:
    """The SDK issues header tokens and clears the cookies of the other transfer method."""
    issues_header_token = bool(response.headers.get("st-access-token"))
    sets_token_cookie = any(c.name in TOKEN_COOKIES and not c.clears for c in cookies)
    return issues_header_token and not sets_token_cookie


def end_session_wins(
    response: Response, cookie_domain: str | None = None, older_cookie_domain: str | None = None
) -> bool:
    """Enforce the rule on `response`; return whether the response ends the session."""
    headers = response.headers.getlist("Set-Cookie")
    if not headers:
        return False
    parsed = [SetCookie.parse(header) for header in headers]
    older = _normalised(older_cookie_domain)
    older_only = older is not None and older != _normalised(cookie_domain)
    ends = any(
        cookie.name in TOKEN_COOKIES
        and cookie.clears
        and not (older_only and cookie.domain == older)
        for cookie in parsed
    )
    if not ends or _switches_to_headers(response, parsed):
        return False
    kept = [
        header
        for header, cookie in zip(headers, parsed, strict=True)
        if cookie.name not in TOKEN_COOKIES or cookie.clears
    ]
    if len(kept) != len(headers):
        del response.headers["Set-Cookie"]
        for header in kept:
            response.headers.add("Set-Cookie", header)
    for name in TOKEN_HEADERS:
        # An empty token header is header mode's "clear": keep it; drop any that sets a token.
        if response.headers.get(name):
            response.headers.pop(name)
    response.headers[FRONT_TOKEN_HEADER] = "remove"
    return True
