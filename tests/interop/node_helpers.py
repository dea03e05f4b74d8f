"""What the Node interop tests use besides their fixtures: the stack's shape, and their requests.

`Stack` is the running Node API, the Quart web process and their core app (with the logs they
write); `explained` fails a test with those logs. The rest signs up and in on either side, reads
the jar (`Tokens`), sends requests with exactly the cookies given, and asserts what a session
looks like to both backends (`assert_node_accepts`, `assert_session_over`, ...).
"""

from __future__ import annotations

import base64
import functools
import json
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, ParamSpec
from urllib.parse import quote

import httpx
import pytest

from tests.servers import ROOT

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
