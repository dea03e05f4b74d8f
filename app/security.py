"""Security decisions every route shares: `redirectBack` validation, cross-origin protection.

Both fail closed: a value that is not plainly a same-origin relative path becomes `/`, and an unsafe
request that a browser marks as cross-origin is refused with 403 before any view or SDK API runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from quart import Quart, Request, request
from quart.typing import ResponseReturnValue

DEFAULT_REDIRECT = "/"
MAX_REDIRECT_LENGTH = 2048
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Pages a successful sign-in or refresh must never return to: going back there would loop.
_NON_RETURNABLE_PAGES = ("/login", "/signup", "/logout")
_NON_RETURNABLE_TREE = "/auth/"


def _has_forbidden_characters(value: str, allow_space: bool = False) -> bool:
    return any(
        ch == "\\"
        or ord(ch) < 0x20
        or ord(ch) == 0x7F
        or (ch.isspace() and not (allow_space and ch == " "))
        for ch in value
    )


def safe_redirect_back(value: object, default: str = DEFAULT_REDIRECT) -> str:
    """Return `value` if it is a same-origin relative path (with optional query), else `default`.

    Accepted: `/path`, `/path?query`. Rejected: absolute and scheme-relative URLs (`//host`,
    `/\\host`), any backslash, whitespace or control character (raw or percent-encoded, so CR/LF
    never reaches a header), fragments, over-long values, and the login/refresh paths (a loop).
    """
    if not isinstance(value, str) or not value or len(value) > MAX_REDIRECT_LENGTH:
        return default
    decoded = unquote(value)  # an encoded space is harmless; an encoded CR/LF or `//` is not
    for candidate, allow_space in ((value, False), (decoded, True)):
        if not candidate.startswith("/") or candidate.startswith("//"):
            return default
        if _has_forbidden_characters(candidate, allow_space):
            return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.fragment or "#" in value:
        return default
    path = parts.path.rstrip("/") or "/"
    if path in _NON_RETURNABLE_PAGES or f"{path}/".startswith(_NON_RETURNABLE_TREE):
        return default
    return value


def path_from_same_origin_url(url: object, origin: str) -> str | None:
    """The path and query of an absolute `url` whose origin equals `origin`, else None."""
    if not isinstance(url, str) or not url or len(url) > MAX_REDIRECT_LENGTH:
        return None
    if _has_forbidden_characters(url):
        return None
    parts = urlsplit(url)
    expected = urlsplit(origin)
    if (parts.scheme, parts.netloc.lower()) != (expected.scheme, expected.netloc.lower()):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "") if parts.path else "/"


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_cross_origin(req: Request, trusted_origins: Iterable[str] = ()) -> bool:
    """Whether an unsafe request is cross-origin, by the rules of Go 1.25's CrossOriginProtection.

    `Sec-Fetch-Site` decides when present (only `same-origin` and `none` pass); otherwise an
    `Origin` header must match the request's own host or a trusted origin; a request with neither
    header did not come from a modern browser form or fetch and passes.
    """
    if req.method not in UNSAFE_METHODS:
        return False
    fetch_site = req.headers.get("Sec-Fetch-Site")
    origin = req.headers.get("Origin")
    if origin is not None and origin.lower() in {o.lower() for o in trusted_origins}:
        return False
    if fetch_site is not None:
        return fetch_site.lower() not in {"same-origin", "none"}
    if origin is None:
        return False
    return urlsplit(origin).netloc.lower() != (req.host or "").lower()


def install_cross_origin_protection(app: Quart, trusted_origins: Iterable[str] = ()) -> None:
    """Refuse cross-origin unsafe requests with 403 on every route, the SDK's `/auth` API included.

    Registered as the first before-request hook so it runs before the SDK answers its own routes.
    """
    trusted = tuple(trusted_origins)

    async def refuse_cross_origin() -> ResponseReturnValue | None:
        if is_cross_origin(request, trusted):
            from app.errors import error_response

            return await error_response(403, "Cross-origin request refused.")
        return None

    app.before_request_funcs.setdefault(None, []).insert(0, refuse_cross_origin)
