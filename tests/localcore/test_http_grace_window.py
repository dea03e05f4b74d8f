"""Theft detection and the grace window for racing refreshes (HTTP).

The grace-window tests replay what one browser (one cookie jar) does when a page load and an htmx
poll refresh at the same moment (bench/soak.py --race): two refreshes with one token, and requests
that left the browser with the old tokens and reach the core after the new ones were promoted.
"""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import RunningCore
from tests.localcore.helpers import (
    create_session,
    hash2,
    jwt_part,
    outlive_short_grace_window,
    refresh,
    stored_hash2,
    tokens,
    verify,
)


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
