"""Behind TLS proxies (TRUST_PROXY_HEADERS=N): X-Forwarded-* decide scheme and host, so htmx's
https HX-Current-URL is recognised as same-origin and sign-in returns to the page it came from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from quart import Quart

from app.config import Settings
from tests.views.conftest import HX

SITE = "https://app.example.test"
FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "app.example.test",
    "X-Forwarded-For": "203.0.113.7",
}
FROM_SESSIONS_PAGE = {**HX, "HX-Current-URL": f"{SITE}/sessions"}


async def _app(core_app: str, email_sink: Path, hops: int) -> AsyncIterator[Quart]:
    from app import create_app

    settings = Settings(
        connection_uri=core_app,
        email_sink=email_sink,
        website_domain=SITE,
        api_domain=SITE,
        trusted_proxy_hops=hops,
    )
    app = create_app(settings)
    async with app.test_app():
        yield app


@pytest.fixture(name="proxied_app")
async def _proxied_app(core_app: str, email_sink: Path) -> AsyncIterator[Quart]:
    async for app in _app(core_app, email_sink, hops=1):
        yield app


@pytest.fixture(name="direct_app")
async def _direct_app(core_app: str, email_sink: Path) -> AsyncIterator[Quart]:
    async for app in _app(core_app, email_sink, hops=0):
        yield app


async def test_htmx_sign_in_returns_to_the_https_page(proxied_app: Quart) -> None:
    response = await proxied_app.test_client().get(
        "/sessions", headers={**FORWARDED, **FROM_SESSIONS_PAGE}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?redirectBack=%2Fsessions"


async def test_only_the_proxys_own_value_counts(proxied_app: Quart) -> None:
    """With one trusted proxy only the last value (the one it appended) counts: a client's own
    X-Forwarded-Host claiming our public host is ignored."""
    response = await proxied_app.test_client().get(
        "/sessions",
        headers={
            **FROM_SESSIONS_PAGE,
            "X-Forwarded-Proto": "https, https",
            "X-Forwarded-Host": "app.example.test, other.example.test",
            "X-Forwarded-For": "198.51.100.1, 203.0.113.7",
        },
    )
    assert response.headers["HX-Redirect"] == "/login"  # the host is other.example.test


async def test_forwarded_headers_ignored_by_default(direct_app: Quart) -> None:
    response = await direct_app.test_client().get(
        "/sessions", headers={**FORWARDED, **FROM_SESSIONS_PAGE}
    )
    assert response.status_code == 401
    # The app sees http://localhost: the https HX-Current-URL is another origin, so back to `/`.
    assert response.headers["HX-Redirect"] == "/login"


async def test_same_origin_form_post_behind_the_proxy(proxied_app: Quart) -> None:
    """The cross-origin check sees the public host, so the browser's own Origin passes."""
    response = await proxied_app.test_client().post(
        "/login",
        form={"email": "nobody@example.test", "password": "wrong-pass-1"},
        headers={**FORWARDED, "Origin": SITE, "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 422
