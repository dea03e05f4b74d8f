"""The app's routes, enumerated from `app.url_map`, and the SDK's own API paths under /auth."""

from __future__ import annotations

from dataclasses import dataclass

from quart import Quart

# Endpoints anyone may load without a session. Everything else registered on the app must refuse
# a request without a session (tests/security/test_routes.py). Adding a public page means adding
# it here, deliberately.
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "healthz",
        "pages.index",
        "pages.whoami",  # JSON: 401 {"userId": null} without a session
        "auth.login_page",
        "auth.login_submit",
        "auth.signup_page",
        "auth.signup_submit",
        "auth.logout",
        "quart_supertokens_refresh",  # the refresh hop, served by the extension
        "account.forgot_password_page",
        "account.forgot_password_submit",
        "account.reset_password_page",
        "account.reset_password_submit",
        "account.verify_email",  # the emailed link: works signed in or not
    }
)

# The SDK answers these itself (before any view), so they are not in `url_map`.
SDK_API_PATHS = (
    "/auth/signin",
    "/auth/signup",
    "/auth/signout",
    "/auth/session/refresh",
    "/auth/signup/email/exists",
    "/auth/emailpassword/email/exists",
    "/auth/user/password/reset/token",
    "/auth/user/password/reset",
    "/auth/user/email/verify/token",
    "/auth/user/email/verify",
    "/auth/user/roles",
)

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    path: str  # the rule with every argument filled in
    methods: frozenset[str]

    @property
    def public(self) -> bool:
        return self.endpoint in PUBLIC_ENDPOINTS


def _fill(rule: str, converters: dict[str, object]) -> str:
    path = rule
    for name, converter in converters.items():
        kind = type(converter).__name__.lower()
        sample = "1" if ("int" in kind or "float" in kind) else "x"
        if "path" in kind:
            sample = "css/app.css" if rule.startswith("/static") else "x"
        path = path.replace(f"<{name}>", sample)
        # <converter:name> and <converter(args):name>
        start = path.find("<")
        while start != -1:
            end = path.find(">", start)
            if path[start:end].endswith(":" + name):
                path = path[:start] + sample + path[end + 1 :]
                break
            start = path.find("<", start + 1)
    return path


def app_routes(app: Quart) -> list[Route]:
    routes = []
    for rule in app.url_map.iter_rules():
        methods = frozenset((rule.methods or set()) - {"HEAD", "OPTIONS"})
        routes.append(Route(rule.endpoint, rule.rule, _fill(rule.rule, rule._converters), methods))
    return sorted(routes, key=lambda r: (r.rule, r.endpoint))
