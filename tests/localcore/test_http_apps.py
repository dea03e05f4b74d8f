"""Apps: creation with their own core config, isolation from each other, removal, key rotation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from tests.conftest import RunningCore
from tests.localcore.conftest import CDI_HEADERS
from tests.localcore.helpers import call, create_session, jwt_part, refresh, tokens, verify


@pytest.fixture
async def app_client(localcore: RunningCore) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """Make clients for new apps with the given core config; the apps are removed afterwards."""
    clients: list[httpx.AsyncClient] = []

    def make(**core_config: object) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=localcore.new_app(**core_config), headers=CDI_HEADERS)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
        localcore.remove_app(str(client.base_url).rstrip("/"))


async def test_access_token_validity_may_be_a_string(
    app_client: Callable[..., httpx.AsyncClient],
) -> None:
    http = app_client(access_token_validity="2")

    access_token, _ = tokens(await create_session(http))
    payload = jwt_part(access_token, 1)

    assert payload["exp"] - payload["iat"] == 2


async def test_refresh_token_validity_is_in_minutes(
    app_client: Callable[..., httpx.AsyncClient],
) -> None:
    http = app_client(refresh_token_validity=2)

    created = await create_session(http)

    lifetime = created["refreshToken"]["expiry"] - created["refreshToken"]["createdTime"]
    assert lifetime == 120_000


async def test_users_are_isolated_between_apps(
    app_client: Callable[..., httpx.AsyncClient],
) -> None:
    first, second = app_client(), app_client()
    signup = {"email": "ada@example.com", "password": "pw-123456"}
    await call(first, "POST", "/public/recipe/signup", signup)

    found = await call(second, "GET", "/public/users/by-accountinfo", email="ada@example.com")
    signup_elsewhere = await call(second, "POST", "/public/recipe/signup", signup)

    assert found["users"] == []
    assert signup_elsewhere["status"] == "OK"


async def test_roles_are_isolated_between_apps(
    app_client: Callable[..., httpx.AsyncClient],
) -> None:
    first, second = app_client(), app_client()
    await call(first, "PUT", "/recipe/role", {"role": "admin", "permissions": []})

    assert (await call(second, "GET", "/recipe/roles"))["roles"] == []


async def test_tokens_of_one_app_are_refused_by_another(
    app_client: Callable[..., httpx.AsyncClient],
) -> None:
    first, second = app_client(), app_client()
    access_token, refresh_token = tokens(await create_session(first))

    assert (await verify(second, access_token))["status"] == "TRY_REFRESH_TOKEN"
    assert (await refresh(second, refresh_token))["status"] == "UNAUTHORISED"


async def test_each_app_has_its_own_signing_key(
    app_client: Callable[..., httpx.AsyncClient],
) -> None:
    first, second = app_client(), app_client()

    first_keys = (await call(first, "GET", "/.well-known/jwks.json"))["keys"]
    second_keys = (await call(second, "GET", "/.well-known/jwks.json"))["keys"]

    assert {key["n"] for key in first_keys}.isdisjoint(key["n"] for key in second_keys)


async def test_jwks_shape(app_client: Callable[..., httpx.AsyncClient]) -> None:
    http = app_client()
    access_token, _ = tokens(await create_session(http))

    keys = (await call(http, "GET", "/.well-known/jwks.json"))["keys"]

    assert len(keys) == 1
    assert keys[0]["kid"] == jwt_part(access_token, 0)["kid"]
    assert {keys[0][name] for name in ("kty", "alg", "use")} == {"RSA", "RS256", "sig"}
    assert keys[0]["e"] == "AQAB"


async def test_creating_an_existing_app_merges_its_config(
    base_http: httpx.AsyncClient, localcore: RunningCore
) -> None:
    uri = localcore.new_app(access_token_validity=5)
    app_id = uri.rsplit("/appid-", 1)[1]
    try:
        again = await call(
            base_http,
            "PUT",
            "/recipe/multitenancy/app/v2",
            {"appId": app_id, "coreConfig": {"refresh_token_validity": 1}},
        )
        async with httpx.AsyncClient(base_url=uri, headers=CDI_HEADERS) as http:
            created = await create_session(http)

        assert again == {"status": "OK", "createdNew": False}
        payload = jwt_part(tokens(created)[0], 1)
        assert payload["exp"] - payload["iat"] == 5
        lifetime = created["refreshToken"]["expiry"] - created["refreshToken"]["createdTime"]
        assert lifetime == 60_000
    finally:
        localcore.remove_app(uri)


async def test_removed_app_is_gone(base_http: httpx.AsyncClient, localcore: RunningCore) -> None:
    uri = localcore.new_app()
    app_id = uri.rsplit("/appid-", 1)[1]

    removed = await call(base_http, "POST", "/recipe/multitenancy/app/remove", {"appId": app_id})
    again = await call(base_http, "POST", "/recipe/multitenancy/app/remove", {"appId": app_id})
    response = await base_http.get(f"/appid-{app_id}/recipe/roles")

    assert removed == {"status": "OK", "didExist": True}
    assert again == {"status": "OK", "didExist": False}
    assert response.status_code == 400


async def test_apps_cannot_be_created_under_another_app(http: httpx.AsyncClient) -> None:
    response = await http.put("/recipe/multitenancy/app/v2", json={"appId": "nested"})

    assert response.status_code == 400


async def test_signing_key_rotates_and_old_key_stays_until_its_tokens_expire(
    app_client: Callable[..., httpx.AsyncClient],
) -> None:
    # A new key every 0.0003 h (1.08 s); tokens live 1 s, so a retired key lingers for 1 s.
    http = app_client(
        access_token_validity=1, access_token_dynamic_signing_key_update_interval=0.0003
    )
    first_kid = jwt_part(tokens(await create_session(http))[0], 0)["kid"]
    await asyncio.sleep(1.2)

    second_kid = jwt_part(tokens(await create_session(http))[0], 0)["kid"]
    kids_after_rotation = {
        k["kid"] for k in (await call(http, "GET", "/.well-known/jwks.json"))["keys"]
    }
    await asyncio.sleep(1.2)
    kids_later = {k["kid"] for k in (await call(http, "GET", "/.well-known/jwks.json"))["keys"]}

    assert second_kid != first_kid
    assert kids_after_rotation == {first_kid, second_kid}
    assert first_kid not in kids_later
