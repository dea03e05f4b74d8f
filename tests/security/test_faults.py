"""Faults in the SuperTokens core: stopped, restarted, and hanging.

These tests start their OWN local core process (its own port and SQLite file), so stopping it
touches no other test. While the core is down, pages that need it answer the 503 variants (a full
error page, or an error fragment for htmx), never the sign-in page and never a 500; the session
cookies are kept. When the core comes back on the same database, the same cookies work again.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from quart import Quart, Response

from app.config import Settings
from tests.security.conftest import (
    ACCESS,
    PASSWORD,
    REFRESH,
    SignedIn,
    raw_request,
    refresh_hop,
    set_cookies,
    sign_up,
)
from tests.security.test_sessions import DB_CHECKED_TEST_ROUTE, _add_db_checked_route
from tests.servers import ServerProcess

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/dashboard"}


def _core_url(server: ServerProcess) -> str:
    return server.health_url.removesuffix("/hello")


@pytest.fixture(name="fault_app")
async def _fault_app(own_core: ServerProcess, email_sink: Path) -> AsyncIterator[Quart]:
    from app import create_app

    app = create_app(
        Settings(connection_uri=_core_url(own_core), email_sink=email_sink, core_timeout=2)
    )
    _add_db_checked_route(app)
    async with app.test_app():
        yield app


async def _assert_unavailable(response: Response, fragment: bool) -> None:
    body = await response.get_data(as_text=True)
    assert response.status_code == 503, (response.status_code, body[:300])
    assert response.headers.get("Retry-After")
    assert "Location" not in response.headers and "HX-Redirect" not in response.headers
    assert "Traceback" not in body
    assert ("<html" in body.lower()) is not fragment
    # Nobody is signed out for a core outage.
    cleared = {name for name, value in set_cookies(response).items() if value == ""}
    assert not cleared & {ACCESS, REFRESH}, cleared


async def test_core_stopped_then_restarted(fault_app: Quart, own_core: ServerProcess) -> None:
    user = await sign_up(fault_app)
    other = await sign_up(fault_app)
    assert (
        await raw_request(fault_app, "GET", DB_CHECKED_TEST_ROUTE, user.cookies)
    ).status_code == 200

    own_core.stop()
    started = time.monotonic()

    # Pages and fragments that must ask the core: the 503 variants.
    page = await raw_request(fault_app, "GET", DB_CHECKED_TEST_ROUTE, user.cookies)
    await _assert_unavailable(page, fragment=False)
    fragment = await raw_request(fault_app, "GET", DB_CHECKED_TEST_ROUTE, user.cookies, HTMX)
    await _assert_unavailable(fragment, fragment=True)
    # The refresh hop cannot refresh: 503, the refresh cookie is kept.
    hop = await refresh_hop(fault_app, user.refresh)
    await _assert_unavailable(hop, fragment=False)
    # Signing in needs the core as well: 503, not a 500 and not "wrong password".
    login = await raw_request(
        fault_app, "POST", "/login", form={"email": other.email, "password": PASSWORD}
    )
    await _assert_unavailable(login, fragment=False)
    login_htmx = await raw_request(
        fault_app, "POST", "/login", None, HTMX, form={"email": other.email, "password": PASSWORD}
    )
    await _assert_unavailable(login_htmx, fragment=True)
    # Pages verified from the access token alone keep working (no core call).
    dashboard = await raw_request(fault_app, "GET", "/dashboard", user.cookies)
    assert dashboard.status_code == 200
    assert time.monotonic() - started < 10  # a refused connection fails fast

    # Same database, same port: the app recovers without a restart and nobody was signed out.
    own_core.start()
    page = await raw_request(fault_app, "GET", DB_CHECKED_TEST_ROUTE, user.cookies)
    assert page.status_code == 200 and user.user_id in await page.get_data(as_text=True)
    hop = await refresh_hop(fault_app, user.refresh)
    assert hop.status_code == 303 and hop.headers["Location"] == "/dashboard"
    rotated = set_cookies(hop)
    again = await raw_request(fault_app, "GET", DB_CHECKED_TEST_ROUTE, {ACCESS: rotated[ACCESS]})
    assert again.status_code == 200
    login = await raw_request(
        fault_app, "POST", "/login", form={"email": other.email, "password": PASSWORD}
    )
    assert login.status_code == 303


async def test_core_stopped_while_sessions_refresh(
    fault_app: Quart, own_core: ServerProcess
) -> None:
    """A token that needs a core call to settle (the first use after a refresh) while the core is
    down: 503, then fine once it is back."""
    user = await sign_up(fault_app)
    rotated = set_cookies(await refresh_hop(fault_app, user.refresh))
    fresh = SignedIn(user.email, user.user_id, rotated[ACCESS], rotated[REFRESH], "")

    own_core.stop()
    page = await raw_request(fault_app, "GET", "/dashboard", fresh.cookies)
    await _assert_unavailable(page, fragment=False)
    fragment = await raw_request(fault_app, "GET", "/dashboard/session", fresh.cookies, HTMX)
    await _assert_unavailable(fragment, fragment=True)

    own_core.start()
    page = await raw_request(fault_app, "GET", "/dashboard", fresh.cookies)
    assert page.status_code == 200


# --------------------------------------------------------------------------- a hanging core


@pytest.fixture(name="hanging_core")
def _hanging_core() -> Iterator[str]:
    """A loopback port whose connections complete (kernel backlog) but never get an answer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture(name="hanging_app")
def _hanging_app(hanging_core: str, email_sink: Path) -> Quart:
    """Not started: start-up would spend the SDK's own 10 s JWKS timeout on the warm-up."""
    from app import create_app

    return create_app(Settings(connection_uri=hanging_core, email_sink=email_sink, core_timeout=1))


BOUND = 5.0  # core_timeout (1 s) plus a generous margin


async def test_hanging_core_sign_in_is_bounded(hanging_app: Quart) -> None:
    for headers, fragment in (({}, False), (HTMX, True)):
        started = time.monotonic()
        response = await raw_request(
            hanging_app,
            "POST",
            "/login",
            None,
            headers,
            form={"email": "someone@example.test", "password": PASSWORD},
        )
        elapsed = time.monotonic() - started
        await _assert_unavailable(response, fragment=fragment)
        assert elapsed < BOUND, elapsed


async def test_hanging_core_refresh_hop_is_bounded(hanging_app: Quart) -> None:
    started = time.monotonic()
    response = await refresh_hop(hanging_app, "some-refresh-token")
    await _assert_unavailable(response, fragment=False)
    assert time.monotonic() - started < BOUND


async def test_hanging_core_session_check_is_bounded(
    hanging_app: Quart, foreign_key: rsa.RSAPrivateKey
) -> None:
    """A well-formed token whose key is not cached yet makes the SDK fetch the JWKS.

    Measured: 10.0 s, during which the worker's event loop serves nothing else.
    """
    now = int(time.time())
    claims = {
        "sub": "u",
        "rsub": "u",
        "tId": "public",
        "sessionHandle": "h",
        "refreshTokenHash1": "x",
        "parentRefreshTokenHash1": None,
        "antiCsrfToken": None,
        "iat": now,
        "exp": now + 600,
    }
    token = jwt.encode(claims, foreign_key, "RS256", {"kid": "d-1", "version": "5"})
    started = time.monotonic()
    response = await raw_request(hanging_app, "GET", "/dashboard", {ACCESS: token})
    elapsed = time.monotonic() - started
    assert response.status_code in (303, 503)
    assert elapsed < BOUND, elapsed
