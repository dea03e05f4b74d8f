"""A split deployment's API process: CORS for WEBSITE_DOMAIN only, and the pages' web-js settings.

Pages on https://www.example.test call the API on https://api.example.test (the web-js refresh);
the browser side of this runs in tests/topology/test_browser.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from quart import Quart

from app.config import Settings

WWW = "https://www.example.test"
API = "https://api.example.test"
PREFLIGHT = {
    "Origin": WWW,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,rid,fdi-version,st-auth-mode",
}


async def _started(settings: Settings) -> AsyncIterator[Quart]:
    from app import create_app

    app = create_app(settings)
    async with app.test_app():
        yield app


def _split(core_app: str, email_sink: Path, serve_auth_api: bool) -> Settings:
    return Settings(
        connection_uri=core_app,
        email_sink=email_sink,
        website_domain=WWW,
        api_domain=API,
        cookie_domain=".example.test",
        serve_auth_api=serve_auth_api,
    )


@pytest.fixture(name="api_app")
async def _api_app(core_app: str, email_sink: Path) -> AsyncIterator[Quart]:
    async for app in _started(_split(core_app, email_sink, serve_auth_api=True)):
        yield app


@pytest.fixture(name="web_app")
async def _web_app(core_app: str, email_sink: Path) -> AsyncIterator[Quart]:
    async for app in _started(_split(core_app, email_sink, serve_auth_api=False)):
        yield app


async def test_the_api_answers_the_website_s_preflight_with_the_sdk_s_headers(
    api_app: Quart,
) -> None:
    response = await api_app.test_client().options(
        "/auth/session/refresh", headers={**PREFLIGHT, "Host": "api.example.test"}
    )

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == WWW
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    allow_headers = response.headers["Access-Control-Allow-Headers"].split(",")
    allowed = {header.strip().lower() for header in allow_headers}
    assert {"content-type", "rid", "fdi-version", "st-auth-mode"} <= allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


async def test_the_api_s_answer_is_readable_by_the_website_and_only_by_it(api_app: Quart) -> None:
    client = api_app.test_client()
    signed_out = await client.post(
        "/auth/signout", headers={"Origin": WWW, "Host": "api.example.test", "rid": "session"}
    )
    assert signed_out.headers["Access-Control-Allow-Origin"] == WWW
    assert signed_out.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in signed_out.headers["Vary"]

    for origin in ("https://evil.example", "https://www.example.test.evil.example", "null"):
        preflight = await client.options(
            "/auth/session/refresh", headers={**PREFLIGHT, "Origin": origin}
        )
        assert "Access-Control-Allow-Origin" not in preflight.headers, origin
    page = await client.get("/login", headers={"Origin": WWW})
    assert "Access-Control-Allow-Origin" not in page.headers  # only the API base path


async def test_no_cors_where_the_pages_and_the_api_share_an_origin_or_the_api_is_elsewhere(
    app: Quart, web_app: Quart
) -> None:
    for quart_app in (app, web_app):
        response = await quart_app.test_client().options("/auth/session/refresh", headers=PREFLIGHT)
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_split_pages_tell_web_js_the_api_domain_and_the_shared_cookie_domain(
    web_app: Quart, app: Quart
) -> None:
    page = await (await web_app.test_client().get("/login")).get_data(as_text=True)
    assert f'data-api-domain="{API}"' in page
    assert 'data-session-token-backend-domain=".example.test"' in page

    local = await (await app.test_client().get("/login")).get_data(as_text=True)
    assert "data-api-domain" not in local
    assert "data-session-token-backend-domain" not in local
