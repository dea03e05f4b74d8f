"""Access-token format, refresh rotation, anti-CSRF, expiry and regeneration (HTTP).

Theft detection and the grace window for racing refreshes are in test_http_grace_window.py.
"""

from __future__ import annotations

import asyncio
import sqlite3

import httpx
import pytest

from tests.conftest import RunningCore
from tests.localcore.conftest import CDI_HEADERS
from tests.localcore.helpers import (
    call,
    create_session,
    jwt_part,
    refresh,
    sha256_hex,
    tokens,
    verify,
)


async def test_access_token_has_v5_header(http: httpx.AsyncClient) -> None:
    access_token, _ = tokens(await create_session(http))

    header = jwt_part(access_token, 0)

    assert header["alg"] == "RS256"
    assert header["typ"] == "JWT"
    assert header["version"] == "5"
    assert header["kid"].startswith("d-")


async def test_access_token_has_every_v5_payload_field(http: httpx.AsyncClient) -> None:
    created = await create_session(http, userDataInJWT={"iss": "http://x/auth", "role": "a"})
    access_token, refresh_token = tokens(created)

    payload = jwt_part(access_token, 1)

    assert payload["sub"] == payload["rsub"] == "user-1"
    assert payload["tId"] == "public"
    assert payload["sessionHandle"] == created["session"]["handle"]
    assert payload["refreshTokenHash1"] == sha256_hex(refresh_token)
    assert payload["parentRefreshTokenHash1"] is None
    assert payload["antiCsrfToken"] is None
    assert payload["exp"] - payload["iat"] == 3600
    assert payload["exp"] * 1000 == created["accessToken"]["expiry"]
    assert (payload["iss"], payload["role"]) == ("http://x/auth", "a")


async def test_refresh_token_is_stored_only_as_double_hash(
    http: httpx.AsyncClient, localcore: RunningCore
) -> None:
    created = await create_session(http)
    _, refresh_token = tokens(created)

    with sqlite3.connect(localcore.database) as database:
        row = database.execute(
            "SELECT * FROM sessions WHERE handle = ?", (created["session"]["handle"],)
        ).fetchone()

    assert sha256_hex(sha256_hex(refresh_token)) in row
    assert not any(isinstance(value, str) and refresh_token in value for value in row)


async def test_refresh_with_current_token_leaves_it_usable(http: httpx.AsyncClient) -> None:
    _, refresh_token = tokens(await create_session(http))

    first = await refresh(http, refresh_token)
    second = await refresh(http, refresh_token)

    assert first["status"] == second["status"] == "OK"
    assert tokens(first)[1] != tokens(second)[1]


async def test_refreshed_access_token_names_its_parent(http: httpx.AsyncClient) -> None:
    _, refresh_token = tokens(await create_session(http))

    access_token, child = tokens(await refresh(http, refresh_token))
    payload = jwt_part(access_token, 1)

    assert payload["parentRefreshTokenHash1"] == sha256_hex(refresh_token)
    assert payload["refreshTokenHash1"] == sha256_hex(child)


async def test_anti_csrf_token_is_required_when_enabled(http: httpx.AsyncClient) -> None:
    created = await create_session(http, enableAntiCsrf=True)
    _, refresh_token = tokens(created)
    anti_csrf = created["antiCsrfToken"]

    wrong = await refresh(http, refresh_token, enableAntiCsrf=True, antiCsrfToken="nope")
    right = await refresh(http, refresh_token, enableAntiCsrf=True, antiCsrfToken=anti_csrf)

    assert wrong["status"] == "UNAUTHORISED"
    assert right["status"] == "OK"
    assert right["antiCsrfToken"] != anti_csrf
    assert jwt_part(tokens(right)[0], 1)["antiCsrfToken"] == right["antiCsrfToken"]


async def test_a_token_minted_without_anti_csrf_refreshes_with_it_enabled(
    http: httpx.AsyncClient,
) -> None:
    # As the official core: the check applies only to tokens that carry an anti-CSRF value (a
    # header-mode session later refreshed from a cookie under VIA_TOKEN).
    _, refresh_token = tokens(await create_session(http, enableAntiCsrf=False))

    refreshed = await refresh(http, refresh_token, enableAntiCsrf=True)

    assert refreshed["status"] == "OK"
    assert refreshed["antiCsrfToken"]


async def test_verify_checks_anti_csrf_when_asked(http: httpx.AsyncClient) -> None:
    created = await create_session(http, enableAntiCsrf=True)
    body = {
        "accessToken": tokens(created)[0],
        "doAntiCsrfCheck": True,
        "enableAntiCsrf": True,
        "checkDatabase": False,
    }

    missing = await call(http, "POST", "/recipe/session/verify", body)
    given = await call(
        http,
        "POST",
        "/recipe/session/verify",
        {**body, "antiCsrfToken": created["antiCsrfToken"]},
    )

    assert missing["status"] == "TRY_REFRESH_TOKEN"
    assert given["status"] == "OK"


@pytest.mark.parametrize("garbage", ["", "abc", "abc.lc1", "a" * 200 + ".lc1"])
async def test_garbage_refresh_token_is_unauthorised(http: httpx.AsyncClient, garbage: str) -> None:
    assert (await refresh(http, garbage))["status"] == "UNAUTHORISED"


async def test_expired_access_token_asks_for_refresh(short_grace_http: httpx.AsyncClient) -> None:
    access_token, _ = tokens(await create_session(short_grace_http))
    await asyncio.sleep(1.1)

    assert (await verify(short_grace_http, access_token))["status"] == "TRY_REFRESH_TOKEN"


async def test_regenerate_keeps_expiry_and_refresh_hashes(http: httpx.AsyncClient) -> None:
    access_token, _ = tokens(await create_session(http, userDataInJWT={"a": 1}))

    regenerated = await call(
        http,
        "POST",
        "/recipe/session/regenerate",
        {"accessToken": access_token, "userDataInJWT": {"b": 2}},
    )
    old, new = jwt_part(access_token, 1), jwt_part(regenerated["accessToken"]["token"], 1)

    assert regenerated["session"]["userDataInJWT"] == {"b": 2}
    assert new["b"] == 2 and "a" not in new
    for name in ("exp", "refreshTokenHash1", "parentRefreshTokenHash1", "sessionHandle"):
        assert new[name] == old[name]


async def test_expired_session_cannot_refresh(localcore: RunningCore) -> None:
    uri = localcore.new_app(refresh_token_validity=0.001)  # 60 ms
    try:
        async with httpx.AsyncClient(base_url=uri, headers=CDI_HEADERS) as http:
            _, refresh_token = tokens(await create_session(http))
            await asyncio.sleep(0.1)

            assert (await refresh(http, refresh_token))["status"] == "UNAUTHORISED"
    finally:
        localcore.remove_app(uri)
