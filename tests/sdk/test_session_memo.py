"""Remembered verifications (quart_supertokens/memo.py), through the real SDK and localcore.

Each test shows one rule the memory keeps: what it skips (the signature check, the core) and
what it never skips (expiry, a changed or stale JWKS, database checks, claim validators).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
import supertokens_python.recipe.session.jwks as sdk_jwks
from quart import Quart
from quart.testing import QuartClient
from supertokens_python.querier import Querier
from supertokens_python.recipe.session.asyncio import (
    get_session_without_request_response,
    revoke_session,
)

from app import create_app
from app.config import Settings
from quart_supertokens.memo import VerifiedTokenMemo, verified_tokens
from quart_supertokens.tokens import RS256Only
from tests.conftest import RunningCore

PASSWORD = "correct-horse-1"


@pytest.fixture(name="signature_checks")
def _signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every access token the SDK checks the signature and times of (its `jwt.decode` calls)."""
    checked: list[str] = []
    decode = RS256Only.decode

    def counted(token: str, key: Any, algorithms: Any = None, options: Any = None) -> Any:
        checked.append(token)
        return decode(token, key, algorithms, options)

    monkeypatch.setattr(RS256Only, "decode", staticmethod(counted))
    return checked


@pytest.fixture(name="core_calls")
def _core_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The path of every call the SDK makes to the core."""
    calls: list[str] = []
    request = Querier.api_request

    async def counted(self: Querier, url: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(url)
        return await request(self, url, *args, **kwargs)

    monkeypatch.setattr(Querier, "api_request", counted)
    return calls


@pytest.fixture(name="short_app")
async def _short_app(localcore: RunningCore, settings: Settings) -> AsyncIterator[Quart]:
    """The app on a core app of its own with 2 s access tokens."""
    app = create_app(replace(settings, connection_uri=localcore.new_app(access_token_validity=2)))
    async with app.test_app():
        yield app


@pytest.fixture(autouse=True)
def _forget_remembered_tokens() -> Iterator[None]:
    verified_tokens.clear()
    yield
    verified_tokens.clear()


async def signed_up(client: QuartClient, email: str = "ada@example.test") -> str:
    """Sign up through the form; return the access token the browser now holds."""
    response = await client.post("/signup", form={"email": email, "password": PASSWORD})
    assert response.status_code == 303
    assert client.cookie_jar is not None
    return next(c.value for c in client.cookie_jar if c.name == "sAccessToken")


async def test_a_second_render_of_a_token_skips_its_signature_check(
    client: QuartClient, signature_checks: list[str]
) -> None:
    token = await signed_up(client)

    first = await client.get("/dashboard")
    second = await client.get("/dashboard")

    assert first.status_code == second.status_code == 200
    assert signature_checks == [token]
    assert len(verified_tokens) == 1


async def test_a_remembered_token_that_expires_asks_for_a_refresh(short_app: Quart) -> None:
    client = short_app.test_client()
    await signed_up(client)
    assert (await client.get("/dashboard")).status_code == 200
    await asyncio.sleep(2.1)

    response = await client.get("/dashboard")

    assert response.status_code == 303
    assert response.headers["Location"].startswith("/auth/session/refresh?")


async def remembered_with_keys(client: QuartClient) -> tuple[str, sdk_jwks.CachedKeys]:
    """Sign up and render once (the token is remembered); return it and the SDK's JWKS cache."""
    token = await signed_up(client)
    assert (await client.get("/dashboard")).status_code == 200
    assert sdk_jwks.cached_keys is not None
    return token, sdk_jwks.cached_keys


async def test_a_refetched_jwks_verifies_the_token_afresh(
    client: QuartClient, signature_checks: list[str]
) -> None:
    token, current = await remembered_with_keys(client)
    # What a refetch leaves behind: the same keys in a new cache object.
    sdk_jwks.cached_keys = sdk_jwks.CachedKeys(current.keys, current.refresh_interval_sec)

    response = await client.get("/dashboard")

    assert response.status_code == 200
    assert signature_checks == [token, token]


async def test_a_stale_jwks_cache_is_not_trusted(
    client: QuartClient, signature_checks: list[str]
) -> None:
    token, current = await remembered_with_keys(client)
    current.last_refresh_time -= current.refresh_interval_sec * 1000 + 1

    response = await client.get("/dashboard")

    assert response.status_code == 200
    assert signature_checks == [token, token]
    assert sdk_jwks.cached_keys is not current  # the SDK fetched the keys again


async def test_database_checks_are_never_answered_from_memory(
    app: Quart, client: QuartClient
) -> None:
    token = await signed_up(client)
    assert (await client.get("/dashboard")).status_code == 200
    async with app.app_context():
        session = await get_session_without_request_response(token, anti_csrf_check=False)
        assert session is not None
        await revoke_session(session.get_handle())

    sessions_page = await client.get("/sessions")  # guarded with check_database

    assert sessions_page.status_code == 303
    # Documented limit: a page without a database check sees revocation at token expiry.
    assert (await client.get("/dashboard")).status_code == 200


async def test_claim_validators_still_run_on_a_remembered_token(client: QuartClient) -> None:
    await signed_up(client)
    assert (await client.get("/dashboard")).status_code == 200

    response = await client.get("/admin")

    assert response.status_code == 403


async def test_each_check_gets_its_own_payload(app: Quart, client: QuartClient) -> None:
    token = await signed_up(client)
    async with app.app_context():
        first = await get_session_without_request_response(token, anti_csrf_check=False)
        assert first is not None
        first.get_access_token_payload()["email"] = "mallory@example.test"
        first.get_access_token_payload()["st-role"]["v"].append("admin")

        second = await get_session_without_request_response(token, anti_csrf_check=False)

    assert second is not None and second is not first
    assert second.get_access_token_payload()["email"] == "ada@example.test"
    assert second.get_access_token_payload()["st-role"]["v"] == []


async def test_a_refreshed_token_is_promoted_by_the_core_once_then_remembered(
    client: QuartClient, core_calls: list[str]
) -> None:
    await signed_up(client)
    refreshed = await client.post("/auth/session/refresh")
    assert refreshed.status_code == 200
    core_calls.clear()

    first = await client.get("/dashboard")
    promoted_calls = list(core_calls)
    second = await client.get("/dashboard")

    assert first.status_code == second.status_code == 200
    assert [call.rsplit("/", 2)[-2:] for call in promoted_calls] == [["session", "verify"]]
    assert core_calls == promoted_calls  # the second render needs no core call
    # The promoted token reaches the browser from the page render itself.
    assert any(c.startswith("sAccessToken=") for c in first.headers.getlist("Set-Cookie"))
    assert not any(c.startswith("sAccessToken=") for c in second.headers.getlist("Set-Cookie"))


async def test_anti_csrf_checks_are_never_answered_from_memory(
    app: Quart, client: QuartClient, signature_checks: list[str]
) -> None:
    token = await signed_up(client)
    await client.get("/dashboard")

    async with app.app_context():
        await get_session_without_request_response(token, anti_csrf_check=None)

    assert signature_checks == [token, token]


async def test_the_memory_is_bounded(app: Quart) -> None:
    memo = VerifiedTokenMemo(size=2)
    tokens = [await signed_up(app.test_client(), f"user{n}@example.test") for n in range(3)]
    async with app.app_context():
        for token in tokens:
            checked = await get_session_without_request_response(token, anti_csrf_check=False)
            assert checked is not None
            memo.remember(token, checked, sdk_jwks.cached_keys)

    assert len(memo) == 2
    assert memo.recall(tokens[0]) is None
    assert memo.recall(tokens[2]) is not None
