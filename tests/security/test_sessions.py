"""Session cookies, fixation, sign-out replay, refresh-token theft, and tokens kept out of URLs.

Sessions are made through the real forms (POST /signup, POST /login) and the cookies are replayed
by hand, the way an attacker holding a copied cookie would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from quart import Quart, Response

from app.config import Settings
from quart_supertokens import get_current_session, require_session
from tests.security.conftest import (
    ACCESS,
    PASSWORD,
    REFRESH,
    SignedIn,
    payload_of,
    raw_request,
    refresh_hop,
    set_cookie_headers,
    set_cookies,
    sign_up,
)

DB_CHECKED_TEST_ROUTE = "/_security-test/db-checked"


def _add_db_checked_route(app: Quart) -> None:
    """A test-only page behind the real guard with check_database=True."""

    @app.get(DB_CHECKED_TEST_ROUTE)
    @require_session(check_database=True)
    async def db_checked() -> str:
        session = get_current_session()
        assert session is not None
        return f"user {session.get_user_id()}"


@pytest.fixture(name="app")
async def _app(settings: Settings) -> AsyncIterator[Quart]:
    from app import create_app

    app = create_app(settings)
    _add_db_checked_route(app)
    async with app.test_app():
        yield app


def _db_checked_routes(app: Quart) -> list[str]:
    """The test route, plus the app's own check_database pages once they exist."""
    routes = [DB_CHECKED_TEST_ROUTE]
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        policy = getattr(view, "session_policy", None)
        if (
            policy is not None
            and policy.check_database
            and policy.override_global_claim_validators is None  # e.g. /admin needs a role
            and "GET" in (rule.methods or ())
            and not rule.arguments
            and rule.rule != DB_CHECKED_TEST_ROUTE
        ):
            routes.append(rule.rule)
    return routes


async def _refused_to_login(app: Quart, path: str, user: SignedIn, refresh: str | None) -> None:
    """`path` with the stale cookies is refused; following the refresh hop ends at sign-in."""
    response = await raw_request(app, "GET", path, {ACCESS: user.access})
    body = await response.get_data(as_text=True)
    assert response.status_code == 303, (path, response.status_code, body[:200])
    assert user.user_id not in body
    location = response.headers["Location"]
    if location.startswith("/auth/session/refresh"):
        cookies = {REFRESH: refresh} if refresh else {}
        hop = await raw_request(app, "GET", location, cookies)
        assert hop.status_code == 303
        location = hop.headers["Location"]
        cleared = set_cookies(hop)
        assert cleared.get(ACCESS) == "" and cleared.get(REFRESH) == ""
    assert location.startswith("/login"), location


# ------------------------------------------------------------------------- cookie attributes


async def _login(app: Quart, scheme: str = "http", **kwargs: object) -> Response:
    user = await sign_up(app)
    return await raw_request(
        app,
        "POST",
        "/login",
        form={"email": user.email, "password": PASSWORD},
        scheme=scheme,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_sign_in_cookie_attributes_local(app: Quart) -> None:
    response = await _login(app)
    assert response.status_code == 303
    headers = set_cookie_headers(response)
    for name in (ACCESS, REFRESH):
        lowered = headers[name].lower()
        assert "httponly" in lowered
        assert "samesite=lax" in lowered
        assert "; secure" not in lowered
        assert "domain=" not in lowered
    assert "path=/;" in headers[ACCESS].lower() + ";"
    assert "path=/auth/session/refresh" in headers[REFRESH].lower()


@pytest.fixture(name="https_settings")
def _https_settings(core_app: str, email_sink: Path) -> Settings:
    return Settings(
        connection_uri=core_app,
        email_sink=email_sink,
        website_domain="https://app.example.test",
        api_domain="https://app.example.test",
    )


async def test_sign_in_cookies_are_secure_over_https(https_settings: Settings) -> None:
    from app import create_app

    app = create_app(https_settings)
    async with app.test_app():
        response = await _login(app, scheme="https")
        assert response.status_code == 303
        headers = set_cookie_headers(response)
        for name in (ACCESS, REFRESH):
            lowered = headers[name].lower()
            assert "; secure" in lowered
            assert "httponly" in lowered
            assert "samesite=lax" in lowered
            assert "domain=" not in lowered
        assert "path=/auth/session/refresh" in headers[REFRESH].lower()

        # The refresh hop's loop-breaker marker is Secure and HttpOnly too.
        hop = await raw_request(
            app,
            "GET",
            "/auth/session/refresh?redirectBack=%2Fdashboard",
            {REFRESH: set_cookies(response)[REFRESH]},
            scheme="https",
        )
        assert hop.status_code == 303
        marker = set_cookie_headers(hop)["refreshed"].lower()
        assert "; secure" in marker and "httponly" in marker and "samesite=lax" in marker


async def test_cookie_domain_only_when_configured(core_app: str, email_sink: Path) -> None:
    from app import create_app

    settings = Settings(
        connection_uri=core_app,
        email_sink=email_sink,
        website_domain="https://app.example.test",
        api_domain="https://app.example.test",
        cookie_domain=".example.test",
    )
    app = create_app(settings)
    async with app.test_app():
        response = await _login(app, scheme="https")
        headers = set_cookie_headers(response)
        for name in (ACCESS, REFRESH):
            assert "domain=example.test" in headers[name].lower().replace("domain=.", "domain=")


# ----------------------------------------------------------------------------- fixation


@pytest.mark.parametrize("planted", ["attacker session", "junk"])
async def test_planted_session_cookies_are_replaced_at_sign_in(app: Quart, planted: str) -> None:
    attacker = await sign_up(app)
    victim = await sign_up(app)
    cookies = (
        {ACCESS: attacker.access, REFRESH: attacker.refresh}
        if planted == "attacker session"
        else {ACCESS: "planted.by.attacker", REFRESH: "planted-refresh"}
    )
    response = await raw_request(
        app,
        "POST",
        "/login",
        cookies,
        form={"email": victim.email, "password": PASSWORD},
    )
    assert response.status_code == 303
    issued = set_cookies(response)
    assert issued[ACCESS] and issued[ACCESS] != cookies[ACCESS]
    assert issued[REFRESH] and issued[REFRESH] != cookies[REFRESH]
    payload = payload_of(issued[ACCESS])
    assert payload["sub"] == victim.user_id
    assert payload["sessionHandle"] != payload_of(attacker.access)["sessionHandle"]

    # The victim's browser now holds the victim's session, not one the attacker also holds.
    page = await raw_request(app, "GET", "/dashboard", {ACCESS: issued[ACCESS]})
    body = await page.get_data(as_text=True)
    assert page.status_code == 200 and victim.user_id in body and attacker.user_id not in body


# ------------------------------------------------------------------------ sign-out replay


async def test_old_tokens_after_logout_lead_to_login(app: Quart) -> None:
    user = await sign_up(app)
    for path in _db_checked_routes(app):
        ok = await raw_request(app, "GET", path, user.cookies)
        assert ok.status_code == 200, path

    response = await raw_request(
        app, "POST", "/logout", {ACCESS: user.access, REFRESH: user.refresh}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    cleared = set_cookies(response)
    assert cleared[ACCESS] == "" and cleared[REFRESH] == ""

    for path in _db_checked_routes(app):
        await _refused_to_login(app, path, user, user.refresh)

    hop = await refresh_hop(app, user.refresh)
    assert hop.status_code == 303 and hop.headers["Location"].startswith("/login")

    api = await raw_request(app, "POST", "/auth/session/refresh", user.refresh_cookies)
    assert api.status_code == 401


# ------------------------------------------------------------------- refresh-token reuse


async def _rotate(app: Quart, refresh: str, via: str) -> dict[str, str]:
    if via == "hop":
        response = await refresh_hop(app, refresh)
        assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    else:
        response = await raw_request(app, "POST", "/auth/session/refresh", {REFRESH: refresh})
        assert response.status_code == 200, await response.get_data(as_text=True)
    cookies = set_cookies(response)
    assert cookies[ACCESS] and cookies[REFRESH]
    return cookies


@pytest.mark.parametrize("via", ["hop", "sdk-api"])
async def test_refresh_token_reuse_is_theft_and_kills_the_session(app: Quart, via: str) -> None:
    user = await sign_up(app)
    first = await _rotate(app, user.refresh, via)  # R0 -> R1 (R0 still valid until R1 is used)
    second = await _rotate(app, first[REFRESH], via)  # R1 promoted -> R2
    # A render with R2's access token promotes R2: R0 is now two generations old. (R0 just after
    # R1's promotion would still be inside the core's race grace window: localcore's docstring.)
    page = await raw_request(app, "GET", DB_CHECKED_TEST_ROUTE, {ACCESS: second[ACCESS]})
    assert page.status_code == 200

    if via == "hop":
        reuse = await refresh_hop(app, user.refresh)
        assert reuse.status_code == 303 and reuse.headers["Location"].startswith("/login")
    else:
        reuse = await raw_request(app, "POST", "/auth/session/refresh", user.refresh_cookies)
        assert reuse.status_code == 401
    cleared = set_cookies(reuse)
    assert cleared.get(ACCESS) == "" and cleared.get(REFRESH) == ""

    # Every refresh token of the session is dead...
    for refresh in (user.refresh, first[REFRESH], second[REFRESH]):
        hop = await refresh_hop(app, refresh)
        assert hop.status_code == 303 and hop.headers["Location"].startswith("/login"), refresh
    # ...and so is the newest access token wherever the database is checked.
    newest = SignedIn(user.email, user.user_id, second[ACCESS], second[REFRESH], "")
    for path in _db_checked_routes(app):
        await _refused_to_login(app, path, newest, second[REFRESH])


async def test_normal_rotation_is_not_theft(app: Quart) -> None:
    """Control: using each new refresh token once, in order, never trips theft detection."""
    user = await sign_up(app)
    refresh = user.refresh
    for _ in range(4):
        cookies = await _rotate(app, refresh, "hop")
        page = await raw_request(app, "GET", DB_CHECKED_TEST_ROUTE, {ACCESS: cookies[ACCESS]})
        assert page.status_code == 200
        refresh = cookies[REFRESH]


# ------------------------------------------------------------- tokens stay out of URLs


async def test_tokens_never_in_a_url_location_or_body(app: Quart) -> None:
    user = await sign_up(app)
    secrets = {user.access, user.refresh, user.access.split(".")[2]}
    seen: list[Response] = []
    login = await raw_request(
        app,
        "POST",
        "/login?redirectBack=%2Fdashboard",
        form={"email": user.email, "password": PASSWORD},
    )
    seen.append(login)
    issued = set_cookies(login)
    secrets |= {issued[ACCESS], issued[REFRESH]}
    access = {ACCESS: issued[ACCESS]}
    for method, path, cookies, headers in (
        ("GET", "/dashboard", access, {}),
        ("GET", "/dashboard/session", access, {"HX-Request": "true"}),
        ("GET", "/", access, {}),
        ("GET", "/login", access, {}),
        ("GET", "/whoami", access, {}),
        ("GET", "/dashboard", {ACCESS: issued[ACCESS] + "x"}, {}),
        ("GET", "/dashboard/session", {ACCESS: issued[ACCESS] + "x"}, {"HX-Request": "true"}),
        ("GET", "/auth/session/refresh?redirectBack=%2Fdashboard", {REFRESH: issued[REFRESH]}, {}),
        ("POST", "/logout", {**access, REFRESH: issued[REFRESH]}, {}),
    ):
        seen.append(await raw_request(app, method, path, cookies, headers))
    for response in seen:
        exposed = " ".join(
            [
                response.headers.get("Location", ""),
                response.headers.get("HX-Redirect", ""),
                response.headers.get("HX-Location", ""),
                response.headers.get("front-token", ""),
                await response.get_data(as_text=True),
            ]
        )
        for secret in secrets:
            if secret:
                assert secret not in exposed
