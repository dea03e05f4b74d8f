"""Cross-origin protection: unsafe requests a browser marks as cross-origin are refused (403).

On by default (`QUART_SUPERTOKENS_CROSS_ORIGIN_PROTECTION`); the hook runs before every other
before-request hook, so it also covers the SDK's own `/auth` API. Same-site cookies stop most
cross-site form posts; this stops the rest (sibling sub-domains, old browsers), like Go 1.25's
`CrossOriginProtection`. The refusal is raised as `CrossOriginRequestRefused`, a 403 that the app's
error handlers render.

One SDK route is cross-site by design and exempt: Sign in with Apple's `form_post` callback
(`<api_base>/[<tenant>/]callback/apple`), which Apple's page POSTs from appleid.apple.com. It reads
no cookie and only answers a 303 to the website's own callback page with the form's fields in the
query, where the SDK's state check then applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from quart import Request
from werkzeug.exceptions import Forbidden

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
APPLE_CALLBACK = "/callback/apple"  # the SDK's thirdparty APPLE_REDIRECT_HANDLER


class CrossOriginRequestRefused(Forbidden):
    """An unsafe request that a browser marked as cross-origin (403)."""

    description = "Cross-origin request refused."


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


def is_cross_site_by_design(path: str, api_base_path: str) -> bool:
    """Whether `path` is an SDK route that receives cross-site POSTs (Apple's callback)."""
    base = api_base_path.rstrip("/")
    if not path.startswith(base + "/") or not path.endswith(APPLE_CALLBACK):
        return False
    between = path[len(base) : -len(APPLE_CALLBACK)]  # "" or "/<tenant>"
    return between == "" or (between.count("/") == 1 and len(between) > 1)
