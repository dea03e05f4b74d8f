"""The lifecycle suite's live stack and its browsers: real processes, real HTTP, real cookie jars.

- `Stack`: the suite's own `python -m localcore` (short access tokens, its own SQLite file) and the
  app in Hypercorn, both on free loopback ports and stopped by PID. The core can be stopped and
  started again on the same port and database. The logs of both are read incrementally, so every
  step can be checked for tracebacks.
- `Browser`: one `httpx.Client` cookie jar, used like a browser without JavaScript plus htmx: page
  loads follow redirects (303/302/301 as GET), htmx requests send `HX-Request`/`HX-Current-URL`
  and never follow a 3xx; an `HX-Redirect` answer makes the browser load that page. Every response
  is checked on arrival (`Checks`): no 5xx unless allowed, no 3xx for an XHR, no `HX-Redirect`
  on a page, every redirect target same-origin.
"""

from __future__ import annotations

import base64
import http.client
import json
import select
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from tests.servers import ServerProcess, app_process, free_port, localcore_process

ACCESS = "sAccessToken"
REFRESH = "sRefreshToken"
# Token times are whole seconds: a 1 s token can be 0 s old-to-expired; 2 s is at least 1 s.
ACCESS_TOKEN_VALIDITY = 2
CDI_HEADERS = {"cdi-version": "5.4"}
MAX_HOPS = 10
REQUEST_TIMEOUT = 15.0
# What supertokens-web-js (supertokens-website) sends on its refresh call, cookie mode.
SDK_REFRESH_HEADERS = {
    "rid": "session",
    "fdi-version": "1.16,1.17,1.18,1.19,2.0,3.0,3.1,4.0,4.1",
    "st-auth-mode": "cookie",
}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class LifecycleError(AssertionError):
    """An invariant of the session lifecycle does not hold."""


class SharedTransport(httpx.BaseTransport):
    """One keep-alive connection pool for many clients (a new client's TLS set-up costs ~30 ms);
    closing a client leaves it open, `Stack.stop` closes it."""

    def __init__(self) -> None:
        self.transport = httpx.HTTPTransport(verify=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.transport.handle_request(request)

    def close(self) -> None:
        """Clients call this when they close: the pool outlives them."""

    def close_pool(self) -> None:
        self.transport.close()


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


@dataclass
class Stack:
    """The running core and app of this suite."""

    directory: Path
    core: ServerProcess
    app: ServerProcess
    core_url: str
    url: str
    email_sink: Path
    core_log: Path
    app_log: Path
    transport: SharedTransport = field(default_factory=SharedTransport)
    _log_offsets: dict[Path, int] = field(default_factory=dict)

    @classmethod
    def start(cls, directory: Path, access_token_validity: int = ACCESS_TOKEN_VALIDITY) -> Stack:
        core_port = free_port()
        core_log = directory / "core.log"
        core = localcore_process(
            core_port,
            directory / "core.db",
            extra_args=["--access-token-validity", str(access_token_validity)],
            log_path=core_log,
        )
        core.start()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        email_sink = directory / "emails.jsonl"
        env = {
            "SUPERTOKENS_CONNECTION_URI": f"http://127.0.0.1:{core_port}",
            "WEBSITE_DOMAIN": url,
            "API_DOMAIN": url,
            "EMAIL_SINK": str(email_sink),
            "SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP": "1",
        }
        app_log = directory / "app.log"
        app = app_process(port, env, app_log)
        try:
            app.start()
        except BaseException:
            core.stop()
            raise
        return cls(
            directory,
            core,
            app,
            f"http://127.0.0.1:{core_port}",
            url,
            email_sink,
            core_log,
            app_log,
        )

    def stop(self) -> None:
        try:
            self.app.stop()
        finally:
            self.core.stop()
            self.transport.close_pool()

    def client(self, base_url: str, **options: Any) -> httpx.Client:
        """A client on the shared pool (its own cookie jar)."""
        return httpx.Client(
            base_url=base_url, transport=self.transport, timeout=REQUEST_TIMEOUT, **options
        )

    # ------------------------------------------------------------------ the core, as operator

    def stop_core(self) -> None:
        self.core.stop()

    def start_core(self) -> None:
        self.core.start()

    def core_get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        with self.client(self.core_url) as client:
            response = client.get(path, params=params, headers=CDI_HEADERS)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def session_handles(self, user_id: str) -> set[str]:
        """The handles of the user's live sessions, as the core has them."""
        body = self.core_get("/recipe/session/user", {"userId": user_id})
        assert body["status"] == "OK", body
        return set(body["sessionHandles"])

    # ------------------------------------------------------------------ logs and emails

    def new_log_text(self) -> dict[str, str]:
        """What each log gained since the last call: {"app": ..., "core": ...}."""
        gained: dict[str, str] = {}
        for name, path in (("app", self.app_log), ("core", self.core_log)):
            if not path.exists():
                gained[name] = ""
                continue
            with path.open("rb") as log:
                log.seek(self._log_offsets.get(path, 0))
                data = log.read()
            self._log_offsets[path] = self._log_offsets.get(path, 0) + len(data)
            gained[name] = data.decode("utf-8", errors="replace")
        return gained

    def reset_links(self, email: str) -> list[str]:
        """Every password-reset link written to the email sink for `email`, oldest first."""
        if not self.email_sink.exists():
            return []
        links: list[str] = []
        for line in self.email_sink.read_text(encoding="utf-8").splitlines():
            message = json.loads(line)
            if message["type"] == "password_reset" and message["to"] == email:
                links.append(str(message["link"]))
        return links


@dataclass
class Checks:
    """The response checks every browser applies, and whether a 503 is allowed right now."""

    origin: str
    allow_503: bool = False
    responses: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def same_origin(self, target: str, what: str, response: httpx.Response) -> None:
        absolute = urljoin(str(response.request.url), target)
        parts = urlsplit(absolute)
        if f"{parts.scheme}://{parts.netloc}".lower() != self.origin.lower():
            raise LifecycleError(f"{what} {target!r} is not same-origin ({_describe(response)})")
        if target.startswith("//") or "\\" in target or unquote(target).startswith("//"):
            raise LifecycleError(f"{what} {target!r} is scheme-relative ({_describe(response)})")

    def check(self, response: httpx.Response, xhr: bool) -> None:
        with self.lock:
            self.responses += 1
        if response.status_code >= 500 and not (self.allow_503 and response.status_code == 503):
            raise LifecycleError(f"5xx: {_describe(response)}\n{response.text[:800]}")
        location = response.headers.get("Location")
        hx_redirect = response.headers.get("HX-Redirect")
        if xhr and response.status_code in REDIRECT_STATUSES:
            raise LifecycleError(
                f"an htmx/fetch request got a {response.status_code}: {_describe(response)}"
            )
        if not xhr and hx_redirect is not None:
            raise LifecycleError(
                f"a page load got HX-Redirect {hx_redirect!r}: {_describe(response)}"
            )
        if location is not None:
            self.same_origin(location, "Location", response)
        if hx_redirect is not None:
            self.same_origin(hx_redirect, "HX-Redirect", response)


def _describe(response: httpx.Response) -> str:
    request = response.request
    extra = ""
    for name in ("Location", "HX-Redirect"):
        if name in response.headers:
            extra += f" {name}: {response.headers[name]}"
    return f"{request.method} {request.url.raw_path.decode()} -> {response.status_code}{extra}"


@dataclass
class Visit:
    """One page load: every response of its redirect chain, the last one final."""

    chain: list[httpx.Response]

    @property
    def final(self) -> httpx.Response:
        return self.chain[-1]

    @property
    def path(self) -> str:
        return self.final.request.url.path

    @property
    def status(self) -> int:
        return self.final.status_code

    @property
    def text(self) -> str:
        return self.final.text

    @property
    def passed_through(self) -> list[str]:
        return [r.request.url.path for r in self.chain]

    def describe(self) -> str:
        return " => ".join(_describe(r) for r in self.chain)


@dataclass
class XhrResult:
    """One htmx request, and the page load its HX-Redirect caused (if any)."""

    response: httpx.Response
    navigation: Visit | None

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def hx_redirect(self) -> str | None:
        value: str | None = self.response.headers.get("HX-Redirect")
        return value

    def describe(self) -> str:
        text = _describe(self.response)
        if self.navigation is not None:
            text += " | navigates: " + self.navigation.describe()
        return text


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


@contextmanager
def allowing_503(checks: Checks) -> Iterator[None]:
    """While the core is down a render may answer 503 (only then, and never another 5xx)."""
    checks.allow_503 = True
    try:
        yield
    finally:
        checks.allow_503 = False


def wait_until(deadline_epoch: float, limit: float) -> float:
    """Sleep until `deadline_epoch` (wall clock), at most `limit` seconds; return the slept time."""
    delay = min(max(0.0, deadline_epoch - time.time()), limit)
    if delay > 0:
        time.sleep(delay)
    return delay


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
