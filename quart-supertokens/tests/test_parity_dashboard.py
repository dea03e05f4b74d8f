"""The SDK's dashboard tests (query strings and `Authorization` through the adapter), for Quart.

tests/Flask/test_flask.py's `test_dashboard_search_tags` and its seven user-search tests: the
dashboard API is the SDK's, served by the extension's middleware; the search goes to the core's
`GET /users` with the query the dashboard built from the request's query string.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import init_sdk
from quart import Quart
from quart.testing import QuartClient
from supertokens_python.recipe import dashboard
from supertokens_python.recipe.emailpassword.asyncio import sign_up

from quart_supertokens import QuartSuperTokens

API_KEY = "dashboard-key-for-tests"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(name="client")
async def _client(core_uri: str) -> AsyncIterator[QuartClient]:
    init_sdk(core_uri, extra_recipes=[dashboard.init(api_key=API_KEY)])
    app = Quart("dashboard")
    QuartSuperTokens(app)
    async with app.test_app():
        for email in ("iresh@example.test", "ireshx@example.test", "john@example.test"):
            await sign_up("public", email, "pass-word-1")
        yield app.test_client()


async def _search(client: QuartClient, query: str) -> list[str]:
    response = await client.get(f"/auth/dashboard/api/users?limit=10&{query}", headers=AUTH)
    assert response.status_code == 200, await response.get_data(as_text=True)
    body = await response.get_json()
    return sorted(u["emails"][0] for u in body["users"])


async def test_dashboard_search_tags(client: QuartClient) -> None:
    response = await client.get("/auth/dashboard/api/search/tags", headers=AUTH)
    assert response.status_code == 200
    assert set((await response.get_json())["tags"]) >= {"email", "phone", "provider"}


async def test_dashboard_api_needs_the_api_key(client: QuartClient) -> None:
    response = await client.get("/auth/dashboard/api/search/tags")
    assert response.status_code == 401


async def test_search_with_email_t(client: QuartClient) -> None:
    emails = await _search(client, "email=j")
    assert emails == ["john@example.test"]


async def test_search_with_multiple_email_search_terms(client: QuartClient) -> None:
    emails = await _search(client, "email=iresh%3Bjohn")
    assert {"iresh@example.test", "john@example.test"} <= set(emails)


async def test_search_with_email_iresh(client: QuartClient) -> None:
    emails = await _search(client, "email=iresh")
    assert emails[:2] == ["iresh@example.test", "ireshx@example.test"]


async def test_search_with_phone_plus_one(client: QuartClient) -> None:
    assert await _search(client, "phone=%2B1") == []  # no EmailPassword user has a phone


async def test_search_with_phone_one_bracket(client: QuartClient) -> None:
    assert await _search(client, "phone=1%28") == []


async def test_search_with_provider_google(client: QuartClient) -> None:
    assert await _search(client, "provider=google") == []


async def test_search_with_provider_google_and_phone_one(client: QuartClient) -> None:
    assert await _search(client, "provider=google&phone=1") == []
