"""What the plain supertokens-python interop tests use besides their fixtures.

`Deployment` is the plain SDK API and one web process of this app on the same core app (with
their logs, quoted by `expect` when a response is not the one expected); `plain_api_process` and
`web_process` make those processes. The rest signs up on the plain API, reads and copies the jar,
waits for an access token to expire, and asks the core whether a session still exists.
"""

from __future__ import annotations

import base64
import copy
import json
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers import ServerProcess, app_process

PASSWORD = "correct-horse-1"
APP_NAME = "SuperTokens Quart SSR"
ACCESS_TOKEN_VALIDITY = 2  # seconds, for the core app both processes share
SHORT_MAX_AGE = 3  # seconds: SESSION_MAX_AGE of the second web process
TOKEN_COOKIES = frozenset({"sAccessToken", "sRefreshToken"})
LOG_TAIL = 6000  # characters of each process log quoted in a failed assertion


@dataclass(frozen=True)
class Deployment:
    """The plain API, one web process in front of the same core app, and their logs."""

    api: str  # http://127.0.0.1:<api port>
    web: str  # http://127.0.0.1:<web port>
    core: str  # the core app's connection URI
    logs: tuple[Path, ...]

    def log_tail(self) -> str:
        """The end of every process log, for assertion messages."""
        parts = []
        for path in self.logs:
            text = path.read_text(errors="replace") if path.exists() else "(no log yet)"
            parts.append(f"--- {path.name} ---\n{text[-LOG_TAIL:]}")
        return "\n".join(parts)

    def expect(self, response: httpx.Response, status: int, location: str | None = None) -> None:
        """Assert the status (and Location), quoting the exchange and the logs otherwise."""
        got_location = response.headers.get("Location")
        ok = response.status_code == status and (location is None or got_location == location)
        assert ok, (
            f"{response.request.method} {response.request.url} -> {response.status_code} "
            f"(expected {status}), Location {got_location!r} (expected {location!r})\n"
            f"{response.text[:800]}\n{self.log_tail()}"
        )


def plain_api_process(port: int, env: dict[str, str], log_path: Path) -> ServerProcess:
    """`python -m tests.interop.plain_sdk_api` on 127.0.0.1:port (not started yet)."""
    return ServerProcess(
        [sys.executable, "-m", "tests.interop.plain_sdk_api"],
        f"http://127.0.0.1:{port}/healthz",
        env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
        log_path=log_path,
    )


def web_process(port: int, env: dict[str, str], log_path: Path) -> ServerProcess:
    """This app as a pages-only web process on 127.0.0.1:port (not started yet)."""
    web_env = {
        **env,
        "WEBSITE_DOMAIN": f"http://127.0.0.1:{port}",
        "SERVE_AUTH_API": "0",
        "EMAIL_SINK": str(log_path.with_suffix(".emails.jsonl")),
    }
    return app_process(port, web_env, log_path)


def sign_up(browser: httpx.Client, deployment: Deployment) -> tuple[str, str]:
    """A new user signed up (and so signed in) on the plain API; returns (user id, handle)."""
    email = f"plain-{uuid.uuid4().hex[:12]}@example.test"
    form = {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": PASSWORD}]}
    response = browser.post(f"{deployment.api}/auth/signup", json=form)
    deployment.expect(response, 200)
    assert response.json()["status"] == "OK", response.text
    assert cookie_names(browser) >= TOKEN_COOKIES, deployment.log_tail()
    me = browser.get(f"{deployment.api}/me")
    deployment.expect(me, 200)
    return str(me.json()["userId"]), str(me.json()["sessionHandle"])


def cookie_names(browser: httpx.Client) -> set[str]:
    return {cookie.name for cookie in browser.cookies.jar}


def tokens(browser: httpx.Client) -> dict[str, str]:
    """The session token cookies in the jar, by name."""
    return {
        cookie.name: cookie.value or ""
        for cookie in browser.cookies.jar
        if cookie.name in TOKEN_COOKIES
    }


def copy_cookies(cookies: httpx.Cookies) -> httpx.Cookies:
    """A separate copy of `cookies` (domain and path kept), to replay them later."""
    fresh = httpx.Cookies()
    for cookie in cookies.jar:
        fresh.jar.set_cookie(copy.copy(cookie))
    return fresh


def access_token_expiry(browser: httpx.Client) -> float:
    """The `exp` claim of the browser's access token (epoch seconds)."""
    token = tokens(browser)["sAccessToken"]
    body = token.split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return float(payload["exp"])


def wait_until_expired(browser: httpx.Client) -> None:
    """Sleep until the browser's access token has expired (a bounded wait)."""
    remaining = access_token_expiry(browser) - time.time()
    assert remaining <= ACCESS_TOKEN_VALIDITY + 1, f"access token lives {remaining:.1f}s more"
    time.sleep(max(0.0, remaining) + 0.3)


def core_has_session(deployment: Deployment, handle: str) -> bool:
    """Whether the core still has the session (CDI GET /recipe/session)."""
    response = httpx.get(
        f"{deployment.core}/recipe/session",
        params={"sessionHandle": handle},
        headers={"cdi-version": "5.4"},
    )
    response.raise_for_status()
    return bool(response.json()["status"] == "OK")


def refresh_location(path: str) -> str:
    return "/auth/session/refresh?redirectBack=" + path.replace("/", "%2F")


def login_location(path: str) -> str:
    return "/login?redirectBack=" + path.replace("/", "%2F")
