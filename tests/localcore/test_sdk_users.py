"""Listing and counting users (``GET /{t}/users``, ``GET /{t}/users/count``) through the SDK."""

from __future__ import annotations

import httpx
import pytest
from supertokens_python.asyncio import (
    get_user_count,
    get_users_newest_first,
    get_users_oldest_first,
)
from supertokens_python.recipe.emailpassword.asyncio import sign_up
from supertokens_python.recipe.emailpassword.interfaces import SignUpOkResult
from supertokens_python.types import User

from tests.localcore.conftest import SdkApp

PASSWORD = "correct-horse-1"
EMAILS = ["ada@example.com", "bob@example.com", "ada.l@other.test", "cy_1@example.com", "dee@x.io"]


@pytest.fixture
async def users(sdk: SdkApp) -> list[User]:
    """Five users of this test's app, oldest first."""
    created = []
    for email in EMAILS:
        result = await sign_up("public", email, PASSWORD)
        assert isinstance(result, SignUpOkResult)
        created.append(result.user)
    return sorted(created, key=lambda user: (user.time_joined, user.id))


def ids(listed: list[User]) -> list[str]:
    return [user.id for user in listed]


async def test_users_oldest_and_newest_first(users: list[User]) -> None:
    oldest = await get_users_oldest_first("public")
    newest = await get_users_newest_first("public")

    assert ids(oldest.users) == ids(users)
    assert ids(newest.users) == ids(users)[::-1]
    assert oldest.next_pagination_token is None
    assert oldest.users[0].to_json() == users[0].to_json()


@pytest.mark.parametrize("newest_first", [False, True])
async def test_pages_cover_every_user_once(users: list[User], newest_first: bool) -> None:
    list_users = get_users_newest_first if newest_first else get_users_oldest_first
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = await list_users("public", limit=2, pagination_token=token)
        assert len(page.users) <= 2
        seen += ids(page.users)
        pages += 1
        token = page.next_pagination_token
        if token is None:
            break

    assert pages == 3
    assert seen == (ids(users)[::-1] if newest_first else ids(users))


async def test_email_search_matches_prefixes(users: list[User]) -> None:
    found = await get_users_oldest_first("public", query={"email": "ADA;cy_"})
    wildcard = await get_users_oldest_first("public", query={"email": "%"})

    assert sorted(user.emails[0] for user in found.users) == [
        "ada.l@other.test",
        "ada@example.com",
        "cy_1@example.com",
    ]
    assert wildcard.users == []


async def test_phone_or_provider_search_finds_no_emailpassword_user(users: list[User]) -> None:
    assert (await get_users_oldest_first("public", query={"phone": "+1"})).users == []
    assert (await get_users_oldest_first("public", query={"provider": "google"})).users == []


async def test_include_recipe_ids_filters(users: list[User]) -> None:
    with_ep = await get_users_newest_first("public", include_recipe_ids=["emailpassword"])
    without = await get_users_newest_first("public", include_recipe_ids=["thirdparty"])

    assert len(with_ep.users) == len(users)
    assert without.users == []


async def test_user_count(users: list[User]) -> None:
    assert await get_user_count() == len(users)
    assert await get_user_count(tenant_id="public") == len(users)
    assert await get_user_count(include_recipe_ids=["emailpassword"]) == len(users)
    assert await get_user_count(include_recipe_ids=["passwordless"]) == 0


async def test_empty_app_lists_no_users(sdk: SdkApp) -> None:
    assert (await get_users_newest_first("public")).users == []
    assert await get_user_count() == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "limit must a positive integer with min value 1"),
        ({"limit": "501"}, "max limit allowed is 500"),
        ({"limit": "x"}, "Field name 'limit' must be an integer"),
        ({"timeJoinedOrder": "UP"}, "timeJoinedOrder can be either ASC OR DESC"),
        ({"paginationToken": "not base64!"}, "invalid pagination token"),
        ({"paginationToken": "bm9zZW1p"}, "invalid pagination token"),
        ({"includeRecipeIds": "emailpassword,nope"}, "Unknown recipe ID: nope"),
    ],
)
async def test_bad_list_parameters_are_400(
    http: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    response = await http.get("/public/users", params=params)

    assert response.status_code == 400
    assert response.json() == {"message": message}
