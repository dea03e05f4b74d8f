"""Where a redirect may send the browser: `redirectBack` validation and same-origin URLs.

Fail closed: a value that is not plainly a same-origin relative path becomes the default (`/`).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from quart import request

DEFAULT_REDIRECT = "/"
MAX_REDIRECT_LENGTH = 2048


def _has_forbidden_characters(value: str, allow_space: bool = False) -> bool:
    return any(
        ch == "\\"
        or ord(ch) < 0x20
        or ord(ch) == 0x7F
        or (ch.isspace() and not (allow_space and ch == " "))
        for ch in value
    )


def is_safe_path(value: object) -> bool:
    """Whether `value` is a same-origin relative path (with optional query) a redirect may use.

    Accepted: `/path`, `/path?query`. Rejected: absolute and scheme-relative URLs (`//host`,
    `/\\host`), any backslash, whitespace or control character (raw or percent-encoded, so CR/LF
    never reaches a header), fragments and over-long values.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_REDIRECT_LENGTH:
        return False
    decoded = unquote(value)  # an encoded space is harmless; an encoded CR/LF or `//` is not
    for candidate, allow_space in ((value, False), (decoded, True)):
        if not candidate.startswith("/") or candidate.startswith("//"):
            return False
        if _has_forbidden_characters(candidate, allow_space):
            return False
    parts = urlsplit(value)
    return not (parts.scheme or parts.netloc or parts.fragment or "#" in value)


def safe_redirect_back(
    value: object,
    default: str = DEFAULT_REDIRECT,
    never: Iterable[str] = (),
    never_under: Iterable[str] = (),
) -> str:
    """`value` if `is_safe_path(value)` and it is not a page to never return to, else `default`.

    `never` lists paths (the sign-in page, say) and `never_under` path prefixes (the SDK's API)
    that a successful sign-in or refresh must not go back to: going back there would loop.
    """
    if not is_safe_path(value):
        return default
    assert isinstance(value, str)
    path = urlsplit(value).path.rstrip("/") or "/"
    if path in set(never) or any(f"{path}/".startswith(tree) for tree in never_under):
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


def current_location() -> str:
    """Path and query of the current request."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")
