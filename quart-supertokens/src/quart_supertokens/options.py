"""The extension's options: keyword arguments, else `QUART_SUPERTOKENS_<NAME>` config keys.

`QuartSuperTokens(app, login_url="/signin")` and `app.config["QUART_SUPERTOKENS_LOGIN_URL"] =
"/signin"` mean the same; a keyword wins over the config key, and the resolved value is written
back to the app's config, so the config shows what is in force. Options are per app: one process
may serve several apps, each with its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from quart import Quart, current_app
from quart.typing import ResponseReturnValue
from supertokens_python.recipe.session import SessionContainer

EXTENSION_KEY = "QUART_SUPERTOKENS"
CONFIG_PREFIX = "QUART_SUPERTOKENS_"

RefreshPage = Callable[[str], Awaitable[ResponseReturnValue]]
ForeignSessionClaims = Callable[[SessionContainer, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Options:
    """Everything an app can set; the defaults suit a same-origin app under `/auth`."""

    # Where a visitor without a session is sent, with `?<redirect_param>=<where they were>`.
    login_url: str = "/login"
    redirect_param: str = "redirectBack"
    # The status of an htmx auth redirect (`HX-Redirect`): 401 lets supertokens-web-js see it.
    htmx_auth_status: int = 401
    # Serve the SDK's own API (sign in/up, sign out, POST refresh...) under the API base path.
    # Off for a pages-only web process beside a separate API server.
    serve_auth_api: bool = True
    # Serve the server-side refresh hop, GET <api_base>/session/refresh?redirectBack=<path>.
    refresh_route: bool = True
    # Absolute session lifetime in seconds from sign-in; None: no limit beyond the core's.
    session_max_age: int | None = None
    # Seconds before a call to the core gives up (the page then answers 503); None keeps what
    # `quart_supertokens.init(core_timeout=...)` set (5 s by default).
    core_timeout: float | None = None
    # Refuse cross-origin unsafe requests (403), the SDK's API included.
    cross_origin_protection: bool = True
    # Origins whose unsafe requests are not cross-origin (the SDK's website domain is added).
    trusted_origins: tuple[str, ...] = ()
    # Paths (besides the login URL and the API base) a redirect back must never go to.
    never_return_to: tuple[str, ...] = ()
    # Where a failed claim can be satisfied, by claim id (e.g. {"st-ev": "/verify-email"}).
    claim_redirects: Mapping[str, str] = field(default_factory=dict)
    # A second refresh demand for one navigation within this many seconds is a loop.
    refresh_loop_window: int = 30
    # What the refresh hop answers when anti-CSRF is VIA_CUSTOM_HEADER (a GET cannot carry the
    # header): a page that refreshes with supertokens-web-js, given the validated return path.
    refresh_page: RefreshPage | None = None
    # Claims to stamp, with the sign-in time, into a session another backend made (one without
    # `authAt`), on its first render: e.g. what the app's own sign-in puts in every payload.
    foreign_session_claims: ForeignSessionClaims | None = None
    # Filled in by init_app from the SDK's config: not options.
    api_base_path: str = "/auth"
    website_origin: str = ""

    @property
    def refresh_path(self) -> str:
        return self.api_base_path.rstrip("/") + "/session/refresh"


DERIVED = ("api_base_path", "website_origin")
OPTION_NAMES = tuple(f.name for f in fields(Options) if f.name not in DERIVED)


def resolve(app: Quart, given: Mapping[str, Any], **derived: Any) -> Options:
    """The app's options: `given` keywords, else config keys, else defaults; written back."""
    unknown = set(given) - set(OPTION_NAMES)
    if unknown:
        raise TypeError(f"unknown QuartSuperTokens option(s): {', '.join(sorted(unknown))}")
    defaults = Options()
    values: dict[str, Any] = {}
    for name in OPTION_NAMES:
        key = CONFIG_PREFIX + name.upper()
        if name in given:
            value = given[name]
        elif key in app.config:
            value = app.config[key]
        else:
            value = getattr(defaults, name)
        if name in ("trusted_origins", "never_return_to"):
            value = tuple(value)
        app.config[key] = value
        values[name] = value
    return Options(**values, **derived)


def current_options() -> Options:
    """The options of the app handling the current request."""
    options: Options = current_app.extensions[EXTENSION_KEY]
    return options
