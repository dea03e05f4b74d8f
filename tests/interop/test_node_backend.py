"""Interop with the SSR guide's own stack: express + supertokens-node beside a Quart web process.

Three real processes share one core app (2 s access tokens): the local core, the Node API server
of tests/interop/node_api/server.js (EmailPassword + Session, cookie transfer, anti-CSRF NONE,
SameSite=Lax, the SDK's /auth API plus `GET /me` and the database-checked `GET /me/checked`), and
this app in Hypercorn as a pages-only web process (SERVE_AUTH_API=0), with the same app info.
Both listen on 127.0.0.1 on different ports. Cookies are host-scoped, not port-scoped, so one
httpx cookie jar used against both behaves like a browser on one site: whatever one backend sets,
the other receives.

What "rejects" means after a sign-out or a detected theft, for a stateless JWT: an access token
stays verifiable where only its signature and `exp` are checked, until it expires. So the tests
assert the strongest true things: the sign-out response leaves no session token in the jar, the
core has no such session any more, every database-checked route on both sides refuses the old
tokens at once, a refresh with the old refresh token fails on both sides (and clears the cookies),
and once the old access token has expired nothing accepts it and nothing can extend it.

The fixtures are here; `Stack`, `explained` and the requests and assertions are in node_helpers.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import RunningCore
from tests.interop.node_helpers import (
    ACCESS,
    ACCESS_TOKEN_VALIDITY,
    API_BASE_PATH,
    APP_NAME,
    LOG_TAIL,
    NODE_SERVER,
    REFRESH,
    TIMEOUT,
    Stack,
    Tokens,
    _node_executable,
    assert_cookie_scopes,
    assert_expired_token_accepted_nowhere,
    assert_node_accepts,
    assert_renders_dashboard,
    assert_session_over,
    cleared_cookies,
    cookie_header,
    core_has_session,
    describe,
    explained,
    jar_names,
    login_page,
    new_email,
    node_sign_in,
    node_sign_up,
    quart_sign_up,
    refresh_hop,
    wait_past_expiry,
)
from tests.servers import ROOT, ServerProcess, app_process, free_port

# --- the three processes ---------------------------------------------------------------------


def _start(server: ServerProcess, name: str) -> None:
    try:
        server.start()
    except RuntimeError as error:
        log = server.log_path.read_text(errors="replace") if server.log_path else ""
        pytest.fail(f"the {name} did not start: {error}\n--- {name} log ---\n{log[-LOG_TAIL:]}")


@pytest.fixture(scope="module")
def servers(localcore: RunningCore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The Node API and the Quart web process on free loopback ports, stopped by PID."""
    node = _node_executable()
    directory = tmp_path_factory.mktemp("node-interop")
    core = localcore.new_app(access_token_validity=ACCESS_TOKEN_VALIDITY)
    node_port, web_port = free_port(), free_port()
    node_url, web_url = f"http://127.0.0.1:{node_port}", f"http://127.0.0.1:{web_port}"
    app_info = {
        "SUPERTOKENS_CONNECTION_URI": core,
        "APP_NAME": APP_NAME,
        "API_DOMAIN": node_url,
        "WEBSITE_DOMAIN": web_url,
        "API_BASE_PATH": API_BASE_PATH,
    }
    logs = {
        "node": directory / "node.log",
        "web": directory / "web.log",
        "core": localcore.server.log_path or directory / "core.log",
    }
    node_api = ServerProcess(
        [node, str(NODE_SERVER)],
        f"{node_url}/healthz",
        env={**app_info, "HOST": "127.0.0.1", "PORT": str(node_port)},
        log_path=logs["node"],
    )
    web = app_process(
        web_port,
        {**app_info, "SERVE_AUTH_API": "0", "EMAIL_SINK": str(directory / "emails.jsonl")},
        logs["web"],
    )
    try:
        _start(node_api, "Node API server")
        _start(web, "Quart web process")
        yield Stack(core, node_url, web_url, logs)
    finally:
        web.stop()
        node_api.stop()
        localcore.remove_app(core)


@pytest.fixture
def stack(servers: Stack) -> Stack:
    return servers.from_now()


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """One cookie jar for both origins, as a browser on 127.0.0.1; redirects are not followed."""
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        yield client


# --- the SDK ---------------------------------------------------------------------------------


def test_installed_supertokens_node_speaks_cdi_5_4(localcore: RunningCore) -> None:
    """The Node SDK in node_modules speaks CDI 5.4, as the local core and supertokens-python do."""
    node = _node_executable()
    script = (
        "const v = require('supertokens-node/lib/build/version');"
        "console.log(JSON.stringify({version: v.version, cdi: v.cdiSupported}))"
    )
    result = subprocess.run(
        [node, "-e", script], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["version"].startswith("24."), info
    assert "5.4" in info["cdi"], info
    core_versions = httpx.get(f"{localcore.url}/apiversion", timeout=TIMEOUT).json()["versions"]
    assert "5.4" in core_versions, core_versions


# --- sign-in on one side, pages and API on the other ------------------------------------------


@explained
def test_node_sign_in_renders_quart_dashboard(stack: Stack, browser: httpx.Client) -> None:
    email = new_email()
    with httpx.Client(timeout=TIMEOUT) as elsewhere:
        node_sign_up(elsewhere, stack, email)
    user_id = node_sign_in(browser, stack, email)
    assert_cookie_scopes(browser)
    handle = Tokens.of(browser).handle
    assert "authAt" not in Tokens.of(browser).claims  # a session this app did not create

    assert_renders_dashboard(browser, stack, user_id)
    # Rendering did not end the session: the core still has it, for both sides.
    assert core_has_session(stack, handle)
    sessions = browser.get(f"{stack.web}/sessions")  # checked against the core
    assert sessions.status_code == 200, describe(sessions)
    assert handle in sessions.text, describe(sessions)
    assert_node_accepts(browser, stack, user_id, handle)
    assert_renders_dashboard(browser, stack, user_id)  # and again, with whatever Node sent back


@explained
def test_quart_session_is_accepted_by_node(stack: Stack, browser: httpx.Client) -> None:
    user_id = quart_sign_up(browser, stack, new_email())
    assert_cookie_scopes(browser)
    handle = Tokens.of(browser).handle

    assert_node_accepts(browser, stack, user_id, handle)
    rotated = browser.post(f"{stack.node}/auth/session/refresh")
    assert rotated.status_code == 200, describe(rotated)
    assert_renders_dashboard(browser, stack, user_id)
    assert_node_accepts(browser, stack, user_id, handle)


# --- a refresh on one side, the new token on the other -----------------------------------------


@explained
def test_node_refresh_then_quart_renders_with_the_new_token(
    stack: Stack, browser: httpx.Client
) -> None:
    user_id = node_sign_up(browser, stack, new_email())
    assert_renders_dashboard(browser, stack, user_id)
    expired = Tokens.of(browser)
    wait_past_expiry(expired.access)

    page = browser.get(f"{stack.web}/dashboard")
    assert page.status_code == 303, describe(page)
    assert page.headers["Location"] == refresh_hop("/dashboard"), describe(page)

    refreshed = browser.post(f"{stack.node}/auth/session/refresh")
    assert refreshed.status_code == 200, describe(refreshed)
    assert_cookie_scopes(browser)
    new = Tokens.of(browser)
    assert new.access != expired.access and new.refresh != expired.refresh
    assert new.handle == expired.handle

    assert_renders_dashboard(browser, stack, user_id)
    assert_node_accepts(browser, stack, user_id, expired.handle)


@explained
def test_quart_refresh_then_node_accepts_the_new_token(stack: Stack, browser: httpx.Client) -> None:
    user_id = node_sign_up(browser, stack, new_email())
    assert_renders_dashboard(browser, stack, user_id)
    expired = Tokens.of(browser)
    wait_past_expiry(expired.access)

    me = browser.get(f"{stack.node}/me")
    assert me.status_code == 401, describe(me)
    assert me.json() == {"message": "try refresh token"}, describe(me)

    hop = browser.get(f"{stack.web}{refresh_hop('/dashboard')}")
    assert hop.status_code == 303, describe(hop)
    assert hop.headers["Location"] == "/dashboard", describe(hop)
    assert_cookie_scopes(browser)
    new = Tokens.of(browser)
    assert new.access != expired.access and new.refresh != expired.refresh
    assert new.handle == expired.handle

    assert_node_accepts(browser, stack, user_id, expired.handle)
    assert_renders_dashboard(browser, stack, user_id)


# --- sign-out on one side, rejected by both ----------------------------------------------------


@explained
def test_node_sign_out_ends_the_session_for_both(stack: Stack, browser: httpx.Client) -> None:
    user_id = node_sign_up(browser, stack, new_email())
    assert_renders_dashboard(browser, stack, user_id)
    before = Tokens.of(browser)
    assert_node_accepts(browser, stack, user_id, before.handle)

    signed_out = browser.post(f"{stack.node}/auth/signout")
    assert signed_out.status_code == 200, describe(signed_out)
    assert signed_out.json() == {"status": "OK"}, describe(signed_out)
    assert not jar_names(browser) & {ACCESS, REFRESH}, describe(signed_out)

    page = browser.get(f"{stack.web}/dashboard")
    assert page.status_code == 303, describe(page)
    assert page.headers["Location"] == login_page("/dashboard"), describe(page)
    me = browser.get(f"{stack.node}/me")
    assert me.status_code == 401, describe(me)

    assert_session_over(stack, before)
    assert_expired_token_accepted_nowhere(stack, before)


@explained
def test_quart_sign_out_ends_the_session_for_both(stack: Stack, browser: httpx.Client) -> None:
    user_id = node_sign_up(browser, stack, new_email())
    assert_renders_dashboard(browser, stack, user_id)
    before = Tokens.of(browser)
    assert_node_accepts(browser, stack, user_id, before.handle)

    signed_out = browser.post(f"{stack.web}/logout", headers={"Origin": stack.web})
    assert signed_out.status_code == 303, describe(signed_out)
    assert signed_out.headers["Location"] == "/login", describe(signed_out)
    assert not jar_names(browser) & {ACCESS, REFRESH}, describe(signed_out)

    me = browser.get(f"{stack.node}/me")
    assert me.status_code == 401, describe(me)
    page = browser.get(f"{stack.web}/dashboard")
    assert page.status_code == 303, describe(page)
    assert page.headers["Location"] == login_page("/dashboard"), describe(page)

    assert_session_over(stack, before)
    assert_expired_token_accepted_nowhere(stack, before)


# --- a replayed, rotated-out refresh token: theft, for both ------------------------------------


@explained
@pytest.mark.parametrize("replayed_on", ["node", "quart"])
def test_replayed_refresh_token_ends_the_session_for_both(
    stack: Stack, browser: httpx.Client, replayed_on: str
) -> None:
    user_id = node_sign_up(browser, stack, new_email())
    first = Tokens.of(browser)

    # Rotate across both backends: R0 -> R1 on Node, R1 (promoted) -> R2 on Quart, and a request
    # with R2's access token on Node promotes R2. R0 is now two generations old, outside the
    # core's grace window for racing refreshes (localcore/recipes/refresh_chain.py).
    rotated = browser.post(f"{stack.node}/auth/session/refresh")
    assert rotated.status_code == 200, describe(rotated)
    hop = browser.get(f"{stack.web}{refresh_hop('/dashboard')}")
    assert hop.status_code == 303 and hop.headers["Location"] == "/dashboard", describe(hop)
    assert_node_accepts(browser, stack, user_id, first.handle)
    current = Tokens.of(browser)
    assert current.refresh != first.refresh
    assert core_has_session(stack, first.handle)

    # The thief replays R0 from another client. (A merely failed refresh would not remove the
    # session from the core; theft detection does, which assert_session_over checks.)
    stolen = cookie_header(sAccessToken=first.access, sRefreshToken=first.refresh)
    if replayed_on == "node":
        replay = httpx.post(f"{stack.node}/auth/session/refresh", headers=stolen)
        assert replay.status_code == 401, describe(replay)
        assert replay.json() == {"message": "token theft detected"}, describe(replay)
    else:
        replay = httpx.get(f"{stack.web}{refresh_hop('/dashboard')}", headers=stolen)
        assert replay.status_code == 303, describe(replay)
        assert replay.headers["Location"] == login_page("/dashboard"), describe(replay)
    assert {ACCESS, REFRESH} <= cleared_cookies(replay), describe(replay)

    # The session is over for the legitimate browser too, on both sides.
    assert_session_over(stack, current)
