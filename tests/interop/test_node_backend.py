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
"""

from __future__ import annotations

import base64
import functools
import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, ParamSpec
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import RunningCore
from tests.servers import ROOT, ServerProcess, app_process, free_port

NODE_SERVER = ROOT / "tests" / "interop" / "node_api" / "server.js"
SUPERTOKENS_NODE = ROOT / "node_modules" / "supertokens-node"
APP_NAME = "SuperTokens Quart SSR interop"
API_BASE_PATH = "/auth"
# Short enough to wait out in a test; token times are whole seconds, so a token lives 1-2 s.
ACCESS_TOKEN_VALIDITY = 2
PASSWORD = "correct-horse-1"
ACCESS = "sAccessToken"
REFRESH = "sRefreshToken"
CDI = {"cdi-version": "5.4"}
LOG_TAIL = 8_000
TIMEOUT = 10.0

P = ParamSpec("P")


# --- the three processes ---------------------------------------------------------------------


@dataclass
class Stack:
    """The running Node API and Quart web process, their core app, and their logs."""

    core: str  # connection URI of the core app both use
    node: str  # http://127.0.0.1:<node port>, the API domain
    web: str  # http://127.0.0.1:<app port>, the website domain
    logs: dict[str, Path]
    offsets: dict[str, int] = field(default_factory=dict)

    def from_now(self) -> Stack:
        """This stack, whose `log_text` covers only what the processes log from now on."""
        sizes = {
            name: path.stat().st_size if path.exists() else 0 for name, path in self.logs.items()
        }
        return replace(self, offsets=sizes)

    def log_text(self) -> str:
        parts = []
        for name, path in self.logs.items():
            if not path.exists():
                parts.append(f"--- {name} log: missing ({path})")
                continue
            with path.open("rb") as log:
                log.seek(self.offsets.get(name, 0))
                text = log.read().decode("utf-8", "replace")
            if len(text) > LOG_TAIL:
                text = "[...]\n" + text[-LOG_TAIL:]
            parts.append(f"--- {name} log ({path}) ---\n{text}")
        return "\n".join(parts)


def explained(test: Callable[P, None]) -> Callable[P, None]:
    """Fail `test` with the processes' logs (since it began) in the message, whatever went wrong.

    A failed assertion keeps its message; any other error (a missing cookie, a connection
    refused) becomes an assertion failure naming it. The original stays chained.
    """

    @functools.wraps(test)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            test(*args, **kwargs)
        except Exception as error:
            stack = kwargs.get("stack")
            logs = stack.log_text() if isinstance(stack, Stack) else "(no stack)"
            what = str(error) if isinstance(error, AssertionError) else repr(error)
            raise AssertionError(f"{what}\n\n{logs}") from error

    return wrapper


def _node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the interop tests need Node.js (scripts/setup)")
    if not SUPERTOKENS_NODE.is_dir():
        pytest.fail(f"{SUPERTOKENS_NODE} is missing: run `npm ci` (scripts/setup does)")
    return node


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


# --- helpers ---------------------------------------------------------------------------------


def new_email() -> str:
    return f"node-{uuid.uuid4().hex[:12]}@example.test"


def form_fields(email: str) -> dict[str, object]:
    return {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": PASSWORD}]}


def describe(response: httpx.Response) -> str:
    return (
        f"{response.request.method} {response.request.url} -> {response.status_code}"
        f" {dict(response.headers)} {response.text[:500]!r}"
    )


def node_sign_up(client: httpx.Client, stack: Stack, email: str) -> str:
    """Sign up through supertokens-node's API; return the user id."""
    response = client.post(
        f"{stack.node}/auth/signup", json=form_fields(email), headers={"rid": "emailpassword"}
    )
    assert response.status_code == 200 and response.json()["status"] == "OK", describe(response)
    return str(response.json()["user"]["id"])


def node_sign_in(client: httpx.Client, stack: Stack, email: str) -> str:
    """Sign in through supertokens-node's API; return the user id."""
    response = client.post(
        f"{stack.node}/auth/signin", json=form_fields(email), headers={"rid": "emailpassword"}
    )
    assert response.status_code == 200 and response.json()["status"] == "OK", describe(response)
    assert {ACCESS, REFRESH} <= jar_names(client), describe(response)
    return str(response.json()["user"]["id"])


def quart_sign_up(client: httpx.Client, stack: Stack, email: str) -> str:
    """Sign up through this app's own form; return the user id (from /whoami)."""
    response = client.post(
        f"{stack.web}/signup",
        data={"email": email, "password": PASSWORD, "redirectBack": "/dashboard"},
        headers={"Origin": stack.web},
    )
    assert response.status_code == 303, describe(response)
    assert response.headers["Location"] == "/dashboard", describe(response)
    whoami = client.get(f"{stack.web}/whoami")
    assert whoami.status_code == 200, describe(whoami)
    return str(whoami.json()["userId"])


def jar_names(client: httpx.Client) -> set[str]:
    return {cookie.name for cookie in client.cookies.jar}


def assert_cookie_scopes(client: httpx.Client) -> None:
    """Both backends scope the tokens alike: host-only 127.0.0.1, refresh token on its path only."""
    scopes = {
        cookie.name: (cookie.domain, cookie.path)
        for cookie in client.cookies.jar
        if cookie.name in {ACCESS, REFRESH}
    }
    assert scopes == {
        ACCESS: ("127.0.0.1", "/"),
        REFRESH: ("127.0.0.1", f"{API_BASE_PATH}/session/refresh"),
    }, scopes


@dataclass(frozen=True)
class Tokens:
    """The session tokens a cookie jar holds at one moment."""

    access: str
    refresh: str

    @classmethod
    def of(cls, client: httpx.Client) -> Tokens:
        return cls(access=client.cookies[ACCESS], refresh=client.cookies[REFRESH])

    @property
    def claims(self) -> dict[str, Any]:
        return claims_of(self.access)

    @property
    def handle(self) -> str:
        return str(self.claims["sessionHandle"])


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def cookie_header(**cookies: str) -> dict[str, str]:
    """A `Cookie` header with exactly these cookies (for requests made without the jar)."""
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


def cleared_cookies(response: httpx.Response) -> set[str]:
    """Names of the cookies a response clears (empty value)."""
    cleared = set()
    for header in response.headers.get_list("set-cookie"):
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        cleared |= {name for name, morsel in parsed.items() if morsel.value == ""}
    return cleared


def wait_past_expiry(access_token: str) -> None:
    """Sleep until the token's `exp` (whole seconds) has passed on both SDKs' clocks."""
    delay = float(claims_of(access_token)["exp"]) - time.time() + 0.15
    assert delay <= ACCESS_TOKEN_VALIDITY + 1, f"token expires in {delay:.1f} s, not ~2 s"
    if delay > 0:
        time.sleep(delay)


def core_has_session(stack: Stack, handle: str) -> bool:
    response = httpx.get(
        f"{stack.core}/recipe/session",
        params={"sessionHandle": handle},
        headers={**CDI, "rid": "session"},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return bool(response.json()["status"] == "OK")


def refresh_hop(redirect_back: str) -> str:
    """The Quart web process's server-side refresh route for a page load."""
    return f"/auth/session/refresh?redirectBack={quote(redirect_back, safe='')}"


def login_page(redirect_back: str) -> str:
    return f"/login?redirectBack={quote(redirect_back, safe='')}"


def assert_renders_dashboard(client: httpx.Client, stack: Stack, user_id: str) -> None:
    page = client.get(f"{stack.web}/dashboard")
    assert page.status_code == 200, describe(page)
    assert user_id in page.text, describe(page)


def assert_node_accepts(client: httpx.Client, stack: Stack, user_id: str, handle: str) -> None:
    for route in ("/me", "/me/checked"):
        me = client.get(f"{stack.node}{route}")
        assert me.status_code == 200, describe(me)
        assert me.json() == {"userId": user_id, "sessionHandle": handle}, describe(me)


def assert_session_over(stack: Stack, before: Tokens) -> None:
    """The session of `before` has ended for both backends, as far as a stateless JWT allows.

    `before` stands for any copy of the cookies from before the end: another tab's request in
    flight, or a browser that never got the clearing response.
    """
    assert not core_has_session(stack, before.handle)

    # Database-checked routes on both sides refuse the old access token at once.
    checked = httpx.get(
        f"{stack.node}/me/checked", headers=cookie_header(sAccessToken=before.access)
    )
    assert checked.status_code == 401, describe(checked)
    sessions = httpx.get(f"{stack.web}/sessions", headers=cookie_header(sAccessToken=before.access))
    assert sessions.status_code == 303, describe(sessions)
    assert sessions.headers["Location"] == refresh_hop("/sessions"), describe(sessions)

    # A refresh with the old refresh token fails on both sides, and clears the cookies.
    both = cookie_header(sAccessToken=before.access, sRefreshToken=before.refresh)
    node_refresh = httpx.post(f"{stack.node}/auth/session/refresh", headers=both)
    assert node_refresh.status_code == 401, describe(node_refresh)
    assert {ACCESS, REFRESH} <= cleared_cookies(node_refresh), describe(node_refresh)
    hop = httpx.get(f"{stack.web}{refresh_hop('/sessions')}", headers=both)
    assert hop.status_code == 303, describe(hop)
    assert hop.headers["Location"] == login_page("/sessions"), describe(hop)
    assert {ACCESS, REFRESH} <= cleared_cookies(hop), describe(hop)


def assert_expired_token_accepted_nowhere(stack: Stack, before: Tokens) -> None:
    """Once the old access token has expired, no route on either side takes it."""
    wait_past_expiry(before.access)
    only_access = cookie_header(sAccessToken=before.access)
    me = httpx.get(f"{stack.node}/me", headers=only_access)
    assert me.status_code == 401, describe(me)
    page = httpx.get(f"{stack.web}/dashboard", headers=only_access)
    assert page.status_code == 303, describe(page)
    assert page.headers["Location"] == refresh_hop("/dashboard"), describe(page)


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
