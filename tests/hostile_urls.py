"""Hostile `redirectBack` / `HX-Current-URL` values shared by the unit and end-to-end tables."""

from __future__ import annotations

# Each must never survive as a redirect target: the safe result is "/".
HOSTILE_REDIRECT_BACK = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "//evil.example/path",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%5Cevil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "/dashboard\r\nSet-Cookie: sAccessToken=x",
    "/dashboard%0d%0aSet-Cookie:%20x=y",
    "/dashboard%0aLocation:%20https://evil.example",
    "/dash\tboard",
    "/dash board",
    "/dashboard\x00",
    "/dashboard%00",
    "/dashboard\x7f",
    "dashboard",
    "evil.example/dashboard",
    "",
    " /dashboard",
    "/dashboard#frag",
    "/login",
    "/login?redirectBack=/login",
    "/signup",
    "/logout",
    "/auth/session/refresh?redirectBack=/dashboard",
    "/auth/signout",
    "/" + "a" * 3000,
    "https:/evil.example",
    "http:\\\\evil.example",
    "/\u2028dashboard",
    "/\u00a0dashboard",
]

# HX-Current-URL values that are not on the app's own origin (or not URLs at all).
HOSTILE_CURRENT_URL = [
    "https://evil.example/dashboard",
    "http://evil.example:8000/dashboard",
    "http://localhost.evil.example/dashboard",
    "http://localhost:9999/dashboard",
    "https://localhost/dashboard",
    "//localhost/dashboard",
    "/dashboard",
    "javascript:alert(1)",
    "http://localhost/dash\r\nboard",
    "not a url",
]


def app_safe_redirect_back(value: object) -> str:
    """The app's `redirectBack` rule: the extension's, with this app's pages never to return to."""
    from quart_supertokens.redirects import safe_redirect_back

    return safe_redirect_back(
        value, never=("/login", "/signup", "/logout"), never_under=("/auth/",)
    )
