"""The lifecycle suite's harness in one import: the live stack, its browsers, the response checks.

- `stack.py`: `Stack`, the suite's own `python -m localcore` (short access tokens, its own SQLite
  file) and the app in Hypercorn, on free loopback ports and stopped by PID; the core can be
  stopped and started again on the same port and database; both logs are read incrementally.
- `browser.py`: `Browser`, one cookie jar used like a browser without JavaScript plus htmx (page
  loads follow redirects, htmx requests never follow a 3xx, an `HX-Redirect` is then loaded);
  `Tokens`, `LateResponse`, and requests with exactly the cookies given (`raw_request`).
- `responses.py`: `Checks`, applied to every response on arrival (no 5xx unless allowed, no 3xx
  for an XHR, no `HX-Redirect` on a page, every redirect target same-origin), `Visit`, `XhrResult`.
"""

from __future__ import annotations

from tests.lifecycle.browser import (
    ACCESS,
    MAX_HOPS,
    REFRESH,
    SDK_REFRESH_HEADERS,
    Browser,
    LateResponse,
    Tokens,
    jwt_payload,
    raw_request,
    replay_refresh,
)
from tests.lifecycle.responses import (
    REDIRECT_STATUSES,
    Checks,
    LifecycleError,
    Visit,
    XhrResult,
    allowing_503,
)
from tests.lifecycle.stack import (
    ACCESS_TOKEN_VALIDITY,
    CDI_HEADERS,
    REQUEST_TIMEOUT,
    SharedTransport,
    Stack,
    wait_until,
)

__all__ = [
    "ACCESS",
    "ACCESS_TOKEN_VALIDITY",
    "CDI_HEADERS",
    "MAX_HOPS",
    "REDIRECT_STATUSES",
    "REFRESH",
    "REQUEST_TIMEOUT",
    "SDK_REFRESH_HEADERS",
    "Browser",
    "Checks",
    "LateResponse",
    "LifecycleError",
    "SharedTransport",
    "Stack",
    "Tokens",
    "Visit",
    "XhrResult",
    "allowing_503",
    "jwt_payload",
    "raw_request",
    "replay_refresh",
    "wait_until",
]
