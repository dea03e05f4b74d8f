"""Access-token format, refresh rotation, theft detection and the grace window (HTTP).

The grace-window tests replay what one browser (one cookie jar) does when a page load and an htmx
poll refresh at the same moment (bench/soak.py --race): two refreshes with one token, and requests
that left the browser with the old tokens and reach the core after the new ones were promoted.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

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


def stored_hash2(localcore: RunningCore, handle: str) -> str:
    """The hash2 of the session's current refresh token, read from the store."""
    with sqlite3.connect(localcore.database) as database:
        row = database.execute(
            "SELECT refresh_hash2 FROM sessions WHERE handle = ?", (handle,)
        ).fetchone()
    return str(row[0])


def hash2(refresh_token: str) -> str:
    return sha256_hex(sha256_hex(refresh_token))


@pytest.fixture
async def short_grace_http(localcore: RunningCore) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose grace window is 1 s (access_token_validity 1 s)."""
    uri = localcore.new_app(access_token_validity=1)
    async with httpx.AsyncClient(base_url=uri, headers=CDI_HEADERS) as client:
        yield client
    localcore.remove_app(uri)


async def outlive_short_grace_window() -> None:
    await asyncio.sleep(1.1)


async def test_parent_reused_after_the_window_is_theft(
    short_grace_http: httpx.AsyncClient,
) -> None:
    http = short_grace_http
    created = await create_session(http)
    _, parent = tokens(created)
    _, child = tokens(await refresh(http, parent))
    assert (await refresh(http, child))["status"] == "OK"
    await outlive_short_grace_window()

    theft = await refresh(http, parent)

    assert theft == {
        "status": "TOKEN_THEFT_DETECTED",
        "session": {
            "handle": created["session"]["handle"],
            "userId": "user-1",
            "recipeUserId": "user-1",
        },
    }


async def test_token_two_generations_old_is_theft_even_within_the_window(
    http: httpx.AsyncClient,
) -> None:
    _, first = tokens(await create_session(http))
    _, second = tokens(await refresh(http, first))
    _, third = tokens(await refresh(http, second))
    assert (await refresh(http, third))["status"] == "OK"  # third is current, second its parent

    assert (await refresh(http, first))["status"] == "TOKEN_THEFT_DETECTED"
    assert (await refresh(http, second))["status"] == "OK"


async def test_verify_promotes_child_and_returns_token_without_parent(
    http: httpx.AsyncClient, localcore: RunningCore
) -> None:
    created = await create_session(http)
    _, parent = tokens(created)
    access_token, child = tokens(await refresh(http, parent))

    verified = await verify(http, access_token)

    assert verified["status"] == "OK"
    assert jwt_part(verified["accessToken"]["token"], 1)["parentRefreshTokenHash1"] is None
    assert stored_hash2(localcore, created["session"]["handle"]) == hash2(child)


async def test_sibling_from_concurrent_refresh_is_promoted_not_theft(
    http: httpx.AsyncClient,
) -> None:
    _, parent = tokens(await create_session(http))
    first, second = await asyncio.gather(refresh(http, parent), refresh(http, parent))
    _, first_child = tokens(first)
    _, second_child = tokens(second)
    assert (await refresh(http, first_child))["status"] == "OK"

    sibling = await refresh(http, second_child)
    _, grandchild = tokens(sibling)

    assert sibling["status"] == "OK"
    assert (await refresh(http, grandchild))["status"] == "OK"


async def test_parent_of_siblings_is_theft_after_the_window(
    short_grace_http: httpx.AsyncClient,
) -> None:
    http = short_grace_http
    _, parent = tokens(await create_session(http))
    first, second = await asyncio.gather(refresh(http, parent), refresh(http, parent))
    assert (await refresh(http, tokens(first)[1]))["status"] == "OK"
    assert (await refresh(http, tokens(second)[1]))["status"] == "OK"
    await outlive_short_grace_window()

    assert (await refresh(http, parent))["status"] == "TOKEN_THEFT_DETECTED"


async def test_sibling_access_token_verifies_after_other_child_promoted(
    http: httpx.AsyncClient,
) -> None:
    _, parent = tokens(await create_session(http))
    first, second = await asyncio.gather(refresh(http, parent), refresh(http, parent))
    assert "accessToken" in await verify(http, tokens(first)[0])

    verified = await verify(http, tokens(second)[0])

    assert verified["status"] == "OK"
    assert jwt_part(verified["accessToken"]["token"], 1)["parentRefreshTokenHash1"] is None
    assert (await refresh(http, tokens(second)[1]))["status"] == "OK"


async def test_parent_re_presented_after_promotion_mints_a_sibling(
    http: httpx.AsyncClient, localcore: RunningCore
) -> None:
    """The soak's false theft: a poll left the browser with R before the Set-Cookie of R1
    arrived, and reaches the core after the page's next request promoted R1."""
    created = await create_session(http)
    handle = created["session"]["handle"]
    _, parent = tokens(created)
    first_access, first = tokens(await refresh(http, parent))
    assert "accessToken" in await verify(http, first_access)  # promotes first

    late = await refresh(http, parent)

    assert late["status"] == "OK"
    late_access, late_child = tokens(late)
    assert stored_hash2(localcore, handle) == hash2(first)  # the store did not move
    verified = await verify(http, late_access)  # the browser keeps the late sibling: promoted
    assert "accessToken" in verified
    assert stored_hash2(localcore, handle) == hash2(late_child)
    assert (await refresh(http, first))["status"] == "OK"  # the other branch, still in flight
    assert (await refresh(http, late_child))["status"] == "OK"
    assert (await refresh(http, parent))["status"] == "OK"


async def test_both_branches_stay_usable_within_the_window(http: httpx.AsyncClient) -> None:
    """Two refreshes with one token, then every request of either branch, in any order."""
    _, parent = tokens(await create_session(http))
    one, two = await asyncio.gather(refresh(http, parent), refresh(http, parent))
    (one_access, one_token), (two_access, two_token) = tokens(one), tokens(two)

    assert "accessToken" in await verify(http, one_access)  # promotes one
    one_child = await refresh(http, one_token)  # a child of the current token
    assert "accessToken" in await verify(http, two_access)  # promotes two; one lost the race
    nephew = await refresh(http, tokens(one_child)[1])  # a child of the sibling that lost
    assert nephew["status"] == "OK"  # ... and now current: two is an uncle
    late = [  # requests of either branch still in flight
        await verify(http, one_access),
        await verify(http, two_access),
        await refresh(http, two_token),
        await refresh(http, one_token),
        await refresh(http, tokens(one_child)[1]),
        await verify(http, tokens(one_child)[0]),
    ]
    assert [result["status"] for result in late] == ["OK"] * 6
    late_refreshes = [tokens(result) for result in late if "refreshToken" in result]
    for access_token, refresh_token in late_refreshes:  # each one promotable
        assert "accessToken" in await verify(http, access_token)
        assert (await refresh(http, refresh_token))["status"] == "OK"


async def test_sibling_kept_by_an_idle_browser_is_accepted_after_the_window(
    short_grace_http: httpx.AsyncClient,
) -> None:
    """The jar may end a race with the sibling that was not promoted; the browser then idles."""
    http = short_grace_http
    _, parent = tokens(await create_session(http))
    one, two = await asyncio.gather(refresh(http, parent), refresh(http, parent))
    assert (await verify(http, tokens(one)[0]))["status"] == "OK"  # promotes one
    _, child = tokens(await refresh(http, tokens(one)[1]))
    _, late = tokens(await refresh(http, parent))  # a sibling minted from the re-presented parent
    await outlive_short_grace_window()

    assert (await refresh(http, tokens(two)[1]))["status"] == "OK"  # minted with one
    assert (await refresh(http, child))["status"] == "OK"  # a nephew: now current
    assert (await refresh(http, tokens(one)[1]))["status"] == "OK"  # the parent, just retired


async def test_losing_branch_is_theft_after_the_window(
    short_grace_http: httpx.AsyncClient,
) -> None:
    http = short_grace_http
    _, parent = tokens(await create_session(http))
    one, two = await asyncio.gather(refresh(http, parent), refresh(http, parent))
    _, one_child = tokens(await refresh(http, tokens(one)[1]))  # promotes one
    assert (await refresh(http, one_child))["status"] == "OK"  # promotes one_child: two is an uncle
    await outlive_short_grace_window()

    assert (await refresh(http, tokens(two)[1]))["status"] == "TOKEN_THEFT_DETECTED"
    assert (await refresh(http, tokens(one)[1]))["status"] == "TOKEN_THEFT_DETECTED"


async def test_sibling_minted_outside_grace_window_is_theft(
    short_grace_http: httpx.AsyncClient,
) -> None:
    http = short_grace_http
    _, parent = tokens(await create_session(http))
    _, early_child = tokens(await refresh(http, parent))
    await asyncio.sleep(1.2)
    _, late_child = tokens(await refresh(http, parent))
    assert (await refresh(http, early_child))["status"] == "OK"

    assert (await refresh(http, late_child))["status"] == "TOKEN_THEFT_DETECTED"


async def test_many_concurrent_refreshes_of_one_token_all_succeed(
    http: httpx.AsyncClient,
) -> None:
    _, parent = tokens(await create_session(http))

    results = await asyncio.gather(*(refresh(http, parent) for _ in range(20)))

    assert {result["status"] for result in results} == {"OK"}
    assert len({tokens(result)[1] for result in results}) == 20


async def test_concurrent_refreshes_with_one_unpromoted_child_all_succeed(
    http: httpx.AsyncClient, localcore: RunningCore
) -> None:
    created = await create_session(http)
    _, parent = tokens(created)
    _, child = tokens(await refresh(http, parent))

    results = await asyncio.gather(*(refresh(http, child) for _ in range(20)))

    assert {result["status"] for result in results} == {"OK"}
    assert stored_hash2(localcore, created["session"]["handle"]) == hash2(child)


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
