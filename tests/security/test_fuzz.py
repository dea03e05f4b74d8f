"""Property-based fuzzing of every route: random methods, paths, query strings, headers (the HX-*
ones included), cookies and bodies. Whatever comes in, the app answers without a 5xx (the core is
up, so not even a 503) and never shows a traceback.

One app (and one core app) serves the whole module, started on a module-level event loop; the
hypothesis tests are plain sync functions that run each request with `loop.run_until_complete`,
which keeps them out of pytest-asyncio's way.

Default run: a few hundred derandomized cases (CI-stable). Full run: `pytest -m slow
tests/security/test_fuzz.py` (10,000 cases of the general strategy, random seed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quart import Quart

from app.config import Settings
from tests.conftest import RunningCore
from tests.hostile_urls import HOSTILE_CURRENT_URL, HOSTILE_REDIRECT_BACK
from tests.security.conftest import ACCESS, REFRESH, SignedIn, raw_request, sign_up
from tests.security.routes import SDK_API_PATHS, app_routes

CI = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FULL = settings(CI, derandomize=False, max_examples=10_000)

TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/', "Internal Server Error")


@dataclass
class FuzzApp:
    app: Quart
    loop: asyncio.AbstractEventLoop
    user: SignedIn
    paths: list[str] = field(default_factory=list)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)


@pytest.fixture(scope="module")
def fuzz(localcore: RunningCore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzApp]:
    from app import create_app

    uri = localcore.new_app()
    settings_ = Settings(
        connection_uri=uri, email_sink=Path(tmp_path_factory.mktemp("fuzz")) / "emails.jsonl"
    )
    loop = asyncio.new_event_loop()
    app = create_app(settings_)
    loop.run_until_complete(app.startup())
    try:
        user = loop.run_until_complete(sign_up(app))
        paths = sorted({r.path for r in app_routes(app)} | set(SDK_API_PATHS))
        yield FuzzApp(app, loop, user, paths)
    finally:
        loop.run_until_complete(app.shutdown())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        localcore.remove_app(uri)


# ------------------------------------------------------------------------------ strategies

# Latin-1 printable text without CR/LF/NUL: what an HTTP server would let through in a header.
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=80,
)
# Cookie values: RFC 6265 cookie-octets plus a few characters browsers send anyway.
cookie_text = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=";"),
    max_size=120,
)
any_text = st.text(max_size=60)
flag = st.sampled_from(["true", "false", "", "TRUE", "1", "null"]) | header_text
hostile_url = st.sampled_from(HOSTILE_REDIRECT_BACK + HOSTILE_CURRENT_URL)
url_like = (
    hostile_url
    | st.sampled_from(
        ["http://localhost/dashboard", "http://localhost/", "http://localhost:8000/account"]
    )
    | header_text
)

HX_HEADERS = {
    "HX-Request": flag,
    "HX-Boosted": flag,
    "HX-History-Restore-Request": flag,
    "HX-Current-URL": url_like,
    "HX-Target": header_text,
    "HX-Trigger": header_text,
    "HX-Prompt": header_text,
}
OTHER_HEADERS = {
    "Origin": st.sampled_from(["http://localhost", "http://localhost:8000", "null"]) | url_like,
    "Sec-Fetch-Site": st.sampled_from(["same-origin", "none", "same-site", "cross-site"])
    | header_text,
    "Referer": url_like,
    "Accept": st.sampled_from(["text/html", "application/json", "*/*"]) | header_text,
    "rid": st.sampled_from(["emailpassword", "session", "anti-csrf"]) | header_text,
    "st-auth-mode": st.sampled_from(["cookie", "header"]) | header_text,
    "Authorization": header_text,
    "anti-csrf": header_text,
    "X-Forwarded-For": header_text,
    "Accept-Language": header_text,
}


def _header_safe(value: str) -> bool:
    """What an HTTP server passes on: no CR, LF, NUL or other controls, Latin-1 only."""
    return all(ch == "\t" or 0x20 <= ord(ch) <= 0xFF and ord(ch) != 0x7F for ch in value)


def _headers(pool: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    safe = {name: strategy.filter(_header_safe) for name, strategy in pool.items()}
    return st.fixed_dictionaries({}, optional=safe)


COOKIE_NAMES = [
    ACCESS,
    REFRESH,
    "refreshed",
    "sFrontToken",
    "sIdRefreshToken",
    "st-last-access-token-update",
    "sAntiCsrf",
    "session",
]


@st.composite
def cookies(draw: st.DrawFn, user: SignedIn) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for name in draw(st.lists(st.sampled_from(COOKIE_NAMES), max_size=4, unique=True)):
        chosen[name] = draw(cookie_text)
    mode = draw(st.sampled_from(["none", "valid", "tampered", "random"]))
    if mode == "valid":
        chosen[ACCESS] = user.access
        if draw(st.booleans()):
            chosen[REFRESH] = user.refresh
    elif mode == "tampered":
        access = user.access
        i = draw(st.integers(0, len(access) - 1))
        chosen[ACCESS] = access[:i] + draw(cookie_text.filter(bool)) + access[i + 1 :]
    if "refreshed" in chosen and draw(st.booleans()):
        seconds = draw(st.sampled_from(["0", "9999999999", "1700000000", "-1", ""]))
        chosen["refreshed"] = quote(f"{seconds}|{draw(any_text)}", safe="")
    return chosen


def _quote_path(raw: str) -> str:
    return quote(raw, safe="/%;:@!$'()*+,-._~&=")


@st.composite
def paths(draw: st.DrawFn, known: list[str]) -> str:
    base = draw(st.sampled_from(known))
    kind = draw(st.sampled_from(["known", "known", "suffix", "random", "dots"]))
    if kind == "suffix":
        return base.rstrip("/") + "/" + _quote_path(draw(any_text)).lstrip("/")
    if kind == "random":
        # Not "//...": the test client would read that as a host name (a harness limit, not the
        # app's); the fixed "//dashboard" case below covers a double slash.
        return "/" + _quote_path(draw(any_text)).lstrip("/")
    if kind == "dots":
        return draw(
            st.sampled_from(["/..", "/./dashboard", "//dashboard", "/dashboard/..", "/%2e%2e/"])
        )
    return base


QUERY_KEYS = ["redirectBack", "token", "tenantId", "page", "email", "q", "rid", "x"]
FORM_KEYS = [
    "email",
    "password",
    "redirectBack",
    "display_name",
    "time_zone",
    "token",
    "new_password",
    "current_password",
    "password_confirm",
    "session_handle",
    "handle",
    "role",
    "user_id",
    "formFields",
]
query_value = hostile_url | any_text | st.sampled_from(["/dashboard", "/account", "1", "-1", ""])


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["none", "form", "form", "json", "raw"]))
    if kind == "form":
        keys = draw(st.lists(st.sampled_from(FORM_KEYS) | any_text, max_size=6))
        return {"form": {k: draw(query_value | any_text) for k in keys}}
    if kind == "json":
        value = draw(
            st.recursive(
                st.none() | st.booleans() | st.integers() | any_text,
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(
                        st.sampled_from(["formFields", "id", "value", "x"]), inner, max_size=3
                    )
                ),
                max_leaves=8,
            )
        )
        return {"json": value}
    if kind == "raw":
        content_type = draw(
            st.sampled_from(
                [
                    "application/x-www-form-urlencoded",
                    "application/json",
                    "multipart/form-data; boundary=x",
                    "multipart/form-data",
                    "text/plain",
                ]
            )
            | header_text
        )
        return {"data": draw(st.binary(max_size=300)), "content_type": content_type}
    return {}


@st.composite
def requests(draw: st.DrawFn, fz: FuzzApp, htmx_only: bool = False) -> dict[str, Any]:
    headers = draw(_headers(HX_HEADERS))
    if htmx_only:
        headers.setdefault("HX-Request", "true")
    headers.update(draw(_headers(OTHER_HEADERS)))
    body = draw(bodies())
    content_type = body.pop("content_type", None)
    if content_type is not None:
        headers["Content-Type"] = content_type
    method = draw(
        st.sampled_from(["GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    )
    if method in ("GET", "HEAD", "OPTIONS") and draw(st.booleans()):
        body = {}
    query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS) | any_text, query_value, max_size=3))
    return {
        "method": method,
        "path": draw(paths(fz.paths)),
        "cookies": draw(cookies(fz.user)),
        "headers": headers,
        "query_string": query or None,
        **body,
    }


# ------------------------------------------------------------------------------- the check


async def _check(fz: FuzzApp, case: dict[str, Any]) -> None:
    case = dict(case)
    response = await raw_request(
        fz.app,
        case.pop("method"),
        case.pop("path"),
        case.pop("cookies"),
        case.pop("headers"),
        **case,
    )
    body = await response.get_data(as_text=True)
    assert response.status_code < 500, (response.status_code, body[:500])
    for marker in TRACEBACK_MARKERS:
        assert marker not in body
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location", "")
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    for name in ("Location", "HX-Redirect"):
        value = response.headers.get(name, "")
        assert "\r" not in value and "\n" not in value


@settings(CI, max_examples=150)
@given(data=st.data())
def test_fuzz_every_route(fuzz: FuzzApp, data: st.DataObject) -> None:
    fuzz.run(_check(fuzz, data.draw(requests(fuzz))))


@settings(CI, max_examples=100)
@given(data=st.data())
def test_fuzz_htmx_requests(fuzz: FuzzApp, data: st.DataObject) -> None:
    fuzz.run(_check(fuzz, data.draw(requests(fuzz, htmx_only=True))))


@settings(CI, max_examples=50)
@given(data=st.data())
def test_fuzz_guarded_pages_with_hostile_return_urls(fuzz: FuzzApp, data: st.DataObject) -> None:
    """Refresh and login redirects built from hostile HX-Current-URL / Referer stay on-site."""
    case = {
        "method": "GET",
        "path": data.draw(
            st.sampled_from(["/dashboard", "/dashboard/session", "/account", "/sessions"])
        ),
        "cookies": {ACCESS: data.draw(st.sampled_from(["x.y.z", fuzz.user.access + "x"]))},
        "headers": {
            "HX-Request": data.draw(st.sampled_from(["true", "false"])),
            "HX-Current-URL": data.draw(url_like.filter(_header_safe)),
            "Referer": data.draw(url_like.filter(_header_safe)),
        },
        "query_string": {"redirectBack": data.draw(query_value)},
    }
    fuzz.run(_check(fuzz, case))


@pytest.mark.slow
@FULL
@given(data=st.data())
def test_fuzz_every_route_full(fuzz: FuzzApp, data: st.DataObject) -> None:
    fuzz.run(_check(fuzz, data.draw(requests(fuzz, htmx_only=data.draw(st.booleans())))))
