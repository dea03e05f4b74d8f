"""What the lifecycle browsers receive, and the checks every response passes on arrival.

`Checks`: no 5xx unless allowed (`allowing_503`, while the core is down), no 3xx for an XHR, no
`HX-Redirect` on a page, every redirect target same-origin. `Visit` is one page load (its redirect
chain), `XhrResult` one htmx request and the page load its `HX-Redirect` caused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

import httpx

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class LifecycleError(AssertionError):
    """An invariant of the session lifecycle does not hold."""


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


@contextmanager
def allowing_503(checks: Checks) -> Iterator[None]:
    """While the core is down a render may answer 503 (only then, and never another 5xx)."""
    checks.allow_503 = True
    try:
        yield
    finally:
        checks.allow_503 = False
