"""Sessions made by a plain supertokens-python API are this app's sessions too (issue 11, point 3a).

The API process is tests/interop/plain_sdk_api.py: Flask with the SDK's own Flask integration and
none of this app's overrides, so its sessions carry no `authAt` or `email` claim and no session
data in the database. Beside it runs this app as a pages-only web process (`SERVE_AUTH_API=0`),
both on the same core app, whose access tokens live 2 s. Both listen on 127.0.0.1: cookies are
scoped by host, not port, so one `httpx.Client` is one browser on one site, sending the API's
cookies to the pages and the pages' cookies to the API.

What must hold, in both directions: a session created by the plain API renders the app's pages
and stays alive; it can be refreshed by the app's GET refresh hop or by the API's POST refresh,
and the other side accepts the rotated tokens; a sign-out on either side ends it for both; and the
app's absolute session lifetime (`SESSION_MAX_AGE`) applies to it as to the app's own sessions.

The fixtures are here; `Deployment`, the process factories and the helpers are in python_helpers.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningCore
from tests.interop.python_helpers import (
    ACCESS_TOKEN_VALIDITY,
    APP_NAME,
    SHORT_MAX_AGE,
    TOKEN_COOKIES,
    Deployment,
    cookie_names,
    copy_cookies,
    core_has_session,
    login_location,
    plain_api_process,
    refresh_location,
    sign_up,
    tokens,
    wait_until_expired,
    web_process,
)
from tests.servers import free_port


@pytest.fixture(scope="module")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("python_backend")


@pytest.fixture(scope="module")
def short_core_app(localcore: RunningCore) -> Iterator[str]:
    """A core app whose access tokens live ACCESS_TOKEN_VALIDITY seconds."""
    uri = localcore.new_app(access_token_validity=ACCESS_TOKEN_VALIDITY)
    yield uri
    localcore.remove_app(uri)


@pytest.fixture(scope="module")
def shared_env(short_core_app: str) -> dict[str, str]:
    """The app info both processes share (the web process sets its own WEBSITE_DOMAIN too)."""
    web_port, api_port = free_port(), free_port()
    return {
        "SUPERTOKENS_CONNECTION_URI": short_core_app,
        "APP_NAME": APP_NAME,
        "API_DOMAIN": f"http://127.0.0.1:{api_port}",
        "WEBSITE_DOMAIN": f"http://127.0.0.1:{web_port}",
        "API_BASE_PATH": "/auth",
        "SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP": "1",
    }


def _port_of(url: str) -> int:
    port = httpx.URL(url).port
    assert port is not None
    return port


@pytest.fixture(scope="module")
def plain_api(shared_env: dict[str, str], logs_dir: Path) -> Iterator[str]:
    """The plain SDK API process, stopped by PID at the end of the module."""
    api = shared_env["API_DOMAIN"]
    server = plain_api_process(_port_of(api), shared_env, logs_dir / "plain_api.log")
    server.start()
    try:
        yield api
    finally:
        server.stop()


@pytest.fixture(scope="module")
def deployment(plain_api: str, shared_env: dict[str, str], logs_dir: Path) -> Iterator[Deployment]:
    """The plain API and this app's web process (default SESSION_MAX_AGE)."""
    web = shared_env["WEBSITE_DOMAIN"]
    log = logs_dir / "web.log"
    server = web_process(_port_of(web), shared_env, log)
    server.start()
    try:
        yield Deployment(
            plain_api,
            web,
            shared_env["SUPERTOKENS_CONNECTION_URI"],
            (logs_dir / "plain_api.log", log),
        )
    finally:
        server.stop()


@pytest.fixture(scope="module")
def short_lived(
    deployment: Deployment, shared_env: dict[str, str], logs_dir: Path
) -> Iterator[Deployment]:
    """The plain API and a second web process on the same core app, SESSION_MAX_AGE=3."""
    port = free_port()
    log = logs_dir / "web_short.log"
    server = web_process(port, {**shared_env, "SESSION_MAX_AGE": str(SHORT_MAX_AGE)}, log)
    server.start()
    try:
        yield Deployment(
            deployment.api, f"http://127.0.0.1:{port}", deployment.core, (deployment.logs[0], log)
        )
    finally:
        server.stop()


def test_plain_api_session_renders_app_pages(deployment: Deployment) -> None:
    with httpx.Client() as browser:
        user_id, handle = sign_up(browser, deployment)

        page = browser.get(f"{deployment.web}/dashboard")
        deployment.expect(page, 200)
        assert user_id in page.text, deployment.log_tail()
        # Rendering again (with whatever token the first render handed back) works the same.
        again = browser.get(f"{deployment.web}/dashboard")
        deployment.expect(again, 200)
        assert user_id in again.text

        # The render did not sign the session out: the core has it, the plain API accepts it.
        assert cookie_names(browser) >= TOKEN_COOKIES, deployment.log_tail()
        assert core_has_session(deployment, handle), deployment.log_tail()
        checked = browser.get(f"{deployment.api}/me/checked")
        deployment.expect(checked, 200)
        assert checked.json() == {"userId": user_id, "sessionHandle": handle}


def test_app_refresh_hop_rotates_a_plain_api_session(deployment: Deployment) -> None:
    with httpx.Client() as browser:
        user_id, handle = sign_up(browser, deployment)
        deployment.expect(browser.get(f"{deployment.web}/dashboard"), 200)
        before = tokens(browser)
        wait_until_expired(browser)

        page = browser.get(f"{deployment.web}/dashboard")
        deployment.expect(page, 303, refresh_location("/dashboard"))
        hop = browser.get(f"{deployment.web}{page.headers['Location']}")
        deployment.expect(hop, 303, "/dashboard")
        after = tokens(browser)
        assert after.keys() == TOKEN_COOKIES, deployment.log_tail()
        assert after["sAccessToken"] != before["sAccessToken"]
        assert after["sRefreshToken"] != before["sRefreshToken"]

        page = browser.get(f"{deployment.web}/dashboard")
        deployment.expect(page, 200)
        assert user_id in page.text
        # The plain API accepts the tokens the app's refresh issued: same user, same session.
        for route in ("/me", "/me/checked"):
            me = browser.get(f"{deployment.api}{route}")
            deployment.expect(me, 200)
            assert me.json() == {"userId": user_id, "sessionHandle": handle}


def test_plain_api_refresh_is_accepted_by_the_app(deployment: Deployment) -> None:
    with httpx.Client() as browser:
        user_id, handle = sign_up(browser, deployment)
        deployment.expect(browser.get(f"{deployment.web}/dashboard"), 200)
        wait_until_expired(browser)
        page = browser.get(f"{deployment.web}/dashboard")
        deployment.expect(page, 303, refresh_location("/dashboard"))
        before = tokens(browser)

        refresh = browser.post(f"{deployment.api}/auth/session/refresh")
        deployment.expect(refresh, 200)
        after = tokens(browser)
        assert after["sAccessToken"] != before["sAccessToken"], deployment.log_tail()
        assert after["sRefreshToken"] != before["sRefreshToken"]

        page = browser.get(f"{deployment.web}/dashboard")
        deployment.expect(page, 200)
        assert user_id in page.text
        me = browser.get(f"{deployment.api}/me")
        deployment.expect(me, 200)
        assert me.json() == {"userId": user_id, "sessionHandle": handle}


def test_sign_out_on_the_app_ends_the_session_for_the_plain_api(deployment: Deployment) -> None:
    with httpx.Client() as browser:
        _, handle = sign_up(browser, deployment)
        deployment.expect(browser.get(f"{deployment.web}/dashboard"), 200)
        signed_in = copy_cookies(browser.cookies)

        logout = browser.post(f"{deployment.web}/logout", headers={"Origin": deployment.web})
        deployment.expect(logout, 303, "/login")
        assert not cookie_names(browser) & TOKEN_COOKIES, deployment.log_tail()
        deployment.expect(
            browser.get(f"{deployment.web}/dashboard"), 303, login_location("/dashboard")
        )

    assert not core_has_session(deployment, handle), deployment.log_tail()
    # The tokens from before the sign-out are worth nothing to the plain API now.
    with httpx.Client(cookies=signed_in) as stale:
        deployment.expect(stale.get(f"{deployment.api}/me/checked"), 401)
        deployment.expect(stale.post(f"{deployment.api}/auth/session/refresh"), 401)


def test_sign_out_on_the_plain_api_ends_the_session_for_the_app(deployment: Deployment) -> None:
    with httpx.Client() as browser:
        _, handle = sign_up(browser, deployment)
        deployment.expect(browser.get(f"{deployment.web}/dashboard"), 200)
        sessions = browser.get(f"{deployment.web}/sessions")
        deployment.expect(sessions, 200)
        assert handle in sessions.text, deployment.log_tail()
        signed_in = copy_cookies(browser.cookies)

        deployment.expect(browser.post(f"{deployment.api}/auth/signout"), 200)
        assert not cookie_names(browser) & TOKEN_COOKIES, deployment.log_tail()
        deployment.expect(
            browser.get(f"{deployment.web}/dashboard"), 303, login_location("/dashboard")
        )
        assert not core_has_session(deployment, handle), deployment.log_tail()

    # A browser that kept the old cookies: /sessions asks the core, which has no such session;
    # the refresh hop then fails and lands on the sign-in page, with the cookies cleared.
    with httpx.Client(cookies=copy_cookies(signed_in)) as stale:
        page = stale.get(f"{deployment.web}/sessions")
        deployment.expect(page, 303, refresh_location("/sessions"))
        hop = stale.get(f"{deployment.web}{page.headers['Location']}")
        deployment.expect(hop, 303, login_location("/sessions"))
        assert not cookie_names(stale) & TOKEN_COOKIES, deployment.log_tail()

    with httpx.Client(cookies=copy_cookies(signed_in)) as stale:
        # Until it expires, the revoked session's access token still renders pages that do not
        # ask the core (the SDK's stateless verification): why /sessions checks the database.
        deployment.expect(stale.get(f"{deployment.web}/dashboard"), 200)
        wait_until_expired(stale)
        page = stale.get(f"{deployment.web}/dashboard")
        deployment.expect(page, 303, refresh_location("/dashboard"))
        hop = stale.get(f"{deployment.web}{page.headers['Location']}")
        deployment.expect(hop, 303, login_location("/dashboard"))
        assert not cookie_names(stale) & TOKEN_COOKIES, deployment.log_tail()
        deployment.expect(
            stale.get(f"{deployment.web}/dashboard"), 303, login_location("/dashboard")
        )


def test_absolute_lifetime_applies_to_plain_api_sessions(
    deployment: Deployment, short_lived: Deployment
) -> None:
    """With SESSION_MAX_AGE=3, a plain-API session older than 3 s is sent to login and revoked.

    Two sessions show both ways the guard learns the sign-in time: one rendered by the app while
    young (the app stamped the core's creation time into its token), one never rendered before
    (the app reads the creation time from the core). A third, rendered by the default web process,
    shows the same age is fine there: it is the lifetime setting, not the refresh, that ends them.
    """
    short = short_lived
    clients = [httpx.Client() for _ in range(3)]
    try:
        stamped, unseen, control = clients
        started = time.time()
        stamped_user, stamped_handle = sign_up(stamped, short)
        _, unseen_handle = sign_up(unseen, short)
        control_user, control_handle = sign_up(control, deployment)
        page = stamped.get(f"{short.web}/dashboard")
        short.expect(page, 200)
        assert stamped_user in page.text

        # Past the lifetime (and so past the access tokens' expiry): fresh tokens from the API.
        time.sleep(max(0.0, started + SHORT_MAX_AGE + 0.5 - time.time()))
        for browser in clients:
            short.expect(browser.post(f"{deployment.api}/auth/session/refresh"), 200)

        for browser, handle in ((stamped, stamped_handle), (unseen, unseen_handle)):
            signed_in = copy_cookies(browser.cookies)
            page = browser.get(f"{short.web}/dashboard")
            short.expect(page, 303, login_location("/dashboard"))
            assert not cookie_names(browser) & TOKEN_COOKIES, short.log_tail()
            assert not core_has_session(deployment, handle), short.log_tail()
            with httpx.Client(cookies=signed_in) as stale:
                short.expect(stale.get(f"{deployment.api}/me/checked"), 401)

        page = control.get(f"{deployment.web}/dashboard")
        deployment.expect(page, 200)
        assert control_user in page.text
        assert core_has_session(deployment, control_handle)
    finally:
        for browser in clients:
            browser.close()
