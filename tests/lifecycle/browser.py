"""The lifecycle suite's browsers: one cookie jar each, used like a browser plus htmx.

`Browser` is one `httpx.Client` jar on the stack's shared pool: page loads follow redirects
(303/302/301 as GET), htmx requests send `HX-Request`/`HX-Current-URL` and never follow a 3xx; an
`HX-Redirect` answer makes the browser load that page; every response goes through `Checks`.
`Tokens` reads the session the jar holds. `LateResponse` delays an answer on its way back;
`raw_request` and `replay_refresh` send exactly the cookies given, with no jar.
"""

from __future__ import annotations

import base64
import http.client
import json
import select
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from tests.lifecycle.responses import REDIRECT_STATUSES, Checks, LifecycleError, Visit, XhrResult
from tests.lifecycle.stack import REQUEST_TIMEOUT, Stack

ACCESS = "sAccessToken"
REFRESH = "sRefreshToken"
MAX_HOPS = 10
# What supertokens-web-js (supertokens-website) sends on its refresh call, cookie mode.
SDK_REFRESH_HEADERS = {
    "rid": "session",
    "fdi-version": "1.16,1.17,1.18,1.19,2.0,3.0,3.1,4.0,4.1",
    "st-auth-mode": "cookie",
}


def jwt_payload(token: str) -> dict[str, Any]:
    """The (unverified) payload of a JWT."""
    body = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded


@dataclass(frozen=True)
class Tokens:
    """The session cookies a jar holds (None: absent)."""

    access: str | None
    refresh: str | None

    def __repr__(self) -> str:
        access = "none" if self.access is None else f"session {self.handle}, exp {self.expires_at}"
        refresh = "none" if self.refresh is None else f"...{self.refresh[-8:]}"
        return f"Tokens(access: {access}; refresh: {refresh})"

    @property
    def any(self) -> bool:
        return self.access is not None or self.refresh is not None

    @property
    def handle(self) -> str | None:
        if self.access is None:
            return None
        try:
            return str(jwt_payload(self.access)["sessionHandle"])
        except (ValueError, KeyError, IndexError):
            return None

    @property
    def expires_at(self) -> float | None:
        if self.access is None:
            return None
        try:
            return float(jwt_payload(self.access)["exp"])
        except (ValueError, KeyError, IndexError):
            return None


class Browser:
    """One browser: a cookie jar, page loads that follow redirects, htmx requests, fetches."""

    def __init__(self, name: str, stack: Stack, checks: Checks) -> None:
        self.name = name
        self.stack = stack
        self.checks = checks
        self.client = stack.client(
            stack.url,
            follow_redirects=False,
            headers={"User-Agent": f"LifecycleBrowser/{name} (model-based test)"},
        )

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ the jar

    def tokens(self) -> Tokens:
        found: dict[str, str] = {}
        for cookie in self.client.cookies.jar:
            if cookie.name in (ACCESS, REFRESH) and cookie.value:
                if cookie.name in found:
                    raise LifecycleError(f"{self.name}: two {cookie.name} cookies in the jar")
                found[cookie.name] = cookie.value
        return Tokens(found.get(ACCESS), found.get(REFRESH))

    # ------------------------------------------------------------------ requests

    def _unsafe_headers(self) -> dict[str, str]:
        return {"Origin": self.stack.url, "Sec-Fetch-Site": "same-origin"}

    def navigate(
        self,
        path: str,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
        from_page: str | None = None,
    ) -> Visit:
        """A page load (or a form submitted on `from_page`, sent as the Referer): follow
        redirects like a browser, checking each."""
        chain: list[httpx.Response] = []
        url = path
        for _ in range(MAX_HOPS):
            headers = self._unsafe_headers() if method != "GET" else {}
            if from_page is not None and not chain:
                headers["Referer"] = self.stack.url + from_page
            response = self.client.request(method, url, data=data, headers=headers)
            self.checks.check(response, xhr=False)
            chain.append(response)
            if response.status_code not in REDIRECT_STATUSES:
                return Visit(chain)
            url = urljoin(str(response.request.url), response.headers["Location"])
            if response.status_code in (301, 302, 303):
                method, data = "GET", None
        raise LifecycleError(
            f"{self.name}: more than {MAX_HOPS} redirects: " + Visit(chain).describe()
        )

    def htmx(
        self,
        method: str,
        path: str,
        current_path: str,
        data: Mapping[str, str] | None = None,
        follow_hx_redirect: bool = True,
    ) -> XhrResult:
        """An htmx request from the page at `current_path`; an HX-Redirect is then loaded."""
        headers = {"HX-Request": "true", "HX-Current-URL": self.stack.url + current_path}
        if method != "GET":
            headers.update(self._unsafe_headers())
        response = self.client.request(method, path, data=data, headers=headers)
        self.checks.check(response, xhr=True)
        target = response.headers.get("HX-Redirect")
        navigation = self.navigate(target) if target is not None and follow_hx_redirect else None
        return XhrResult(response, navigation)

    def send_late(self, method: str, path: str, headers: Mapping[str, str]) -> LateResponse:
        """Send a request with the jar's cookies now; its answer reaches the browser only when
        `LateResponse.arrive()` is called (a response delayed on the way back, as on any network
        where two connections race)."""
        request = self.client.build_request(
            method, path, headers={**headers, "Connection": "close"}
        )
        return LateResponse.send(self, request)

    def sdk_refresh(self) -> httpx.Response:
        """POST /auth/session/refresh as supertokens-web-js does (the refresh cookie, no body)."""
        headers = {**SDK_REFRESH_HEADERS, **self._unsafe_headers()}
        response = self.client.post("/auth/session/refresh", headers=headers)
        self.checks.check(response, xhr=True)
        return response


class LateResponse:
    """A request on a raw socket whose response is read (and its cookies stored) later."""

    def __init__(self, browser: Browser, request: httpx.Request, sock: socket.socket) -> None:
        self.browser = browser
        self.request = request
        self.sock = sock

    @classmethod
    def send(cls, browser: Browser, request: httpx.Request) -> LateResponse:
        url = request.url
        sock = socket.create_connection((url.host, url.port or 80), timeout=REQUEST_TIMEOUT)
        lines = [f"{request.method} {url.raw_path.decode()} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in request.headers.multi_items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.read())
        return cls(browser, request, sock)

    def wait_answered(self, timeout: float = REQUEST_TIMEOUT) -> None:
        """Wait until the server has answered (the bytes are here, unread)."""
        readable, _, _ = select.select([self.sock], [], [], timeout)
        if not readable:
            raise LifecycleError(f"no answer to {self.request.method} {self.request.url}")

    def arrive(self) -> httpx.Response:
        """Read the answer now, and store its cookies in the browser's jar."""
        raw = http.client.HTTPResponse(self.sock, method=self.request.method)
        try:
            raw.begin()
            body = raw.read()
        finally:
            raw.close()
            self.sock.close()
        response = httpx.Response(
            raw.status, headers=raw.getheaders(), content=body, request=self.request
        )
        self.browser.client.cookies.extract_cookies(response)
        self.browser.checks.check(response, xhr=self.request.headers.get("HX-Request") == "true")
        return response


def replay_refresh(stack: Stack, checks: Checks, refresh_token: str) -> httpx.Response:
    """An SDK refresh (as supertokens-web-js sends it) carrying exactly this refresh token."""
    return raw_request(
        stack,
        checks,
        "POST",
        "/auth/session/refresh",
        {REFRESH: refresh_token},
        SDK_REFRESH_HEADERS,
        xhr=True,
    )


def raw_request(
    stack: Stack,
    checks: Checks,
    method: str,
    path: str,
    cookies: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
    xhr: bool = False,
) -> httpx.Response:
    """One request with exactly these cookies and no jar (an attacker, or a token on its own)."""
    all_headers = dict(headers or {})
    all_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    if method != "GET":
        all_headers.setdefault("Origin", stack.url)
    with stack.client(stack.url) as client:
        response = client.request(method, path, headers=all_headers)
    checks.check(response, xhr=xhr)
    return response
