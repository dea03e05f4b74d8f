"""The /sessions page: listing the user's sessions, revoking one or all others, bad handles."""

from __future__ import annotations

import re
import time

import pytest
from quart import Quart
from quart.testing import QuartClient
from supertokens_python.recipe.session.asyncio import (
    create_new_session_without_request_response,
    get_session_information,
    update_session_data_in_database,
)
from supertokens_python.types import RecipeUserId

from app.sdk.session_payload import CREATED_AT_KEY, MAX_USER_AGENT_LENGTH, USER_AGENT_KEY
from tests.views.conftest import EMAIL, HX, PASSWORD, sign_in, sign_up

UA = {"User-Agent": "TestBrowser/1.0 (Other)"}


async def _other_handle(client: QuartClient) -> str:
    """The handle of the newest session that is not the client's own, read off the page."""
    body = await (await client.get("/sessions")).get_data(as_text=True)
    handles = re.findall(r'hx-delete="/sessions/([^"]+)"', body)
    assert handles, body
    return handles[0]


async def _own_handle(client: QuartClient) -> str:
    body = await (await client.get("/dashboard")).get_data(as_text=True)
    match = re.search(r"Session handle</dt><dd><code>([^<]+)</code>", body)
    assert match, body
    return match.group(1)


async def test_sessions_page_lists_and_marks_current(
    user: QuartClient, second_client: QuartClient
) -> None:
    response = await second_client.post(
        "/login", form={"email": EMAIL, "password": PASSWORD}, headers=UA
    )
    assert response.status_code == 303

    response = await user.get("/sessions")
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in body
    assert "2 active sessions" in body
    assert body.count('aria-current="true"') == 1
    assert "this session" in body
    # Each session shows the browser it was created from (the test client's default, and UA).
    assert ">Quart</span>" in body and "TestBrowser/1.0 (Other)" in body
    assert body.count("<time datetime=") >= 3  # created x2, last refreshed for both
    assert 'action="/sessions/revoke-others"' in body and 'hx-delete="/sessions"' in body


async def test_sessions_fragment(user: QuartClient) -> None:
    response = await user.get("/sessions", headers=HX)
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="sessions-list"') and "<html" not in body
    assert "1 active session<" in body
    assert 'hx-delete="/sessions"' not in body  # nothing else to sign out


async def test_sessions_requires_session(client: QuartClient) -> None:
    page = await client.get("/sessions")
    assert page.status_code == 303
    fragment = await client.delete("/sessions", headers=HX)
    assert fragment.status_code == 401 and "HX-Redirect" in fragment.headers


@pytest.mark.parametrize("htmx", [False, True])
async def test_revoke_one(user: QuartClient, second_client: QuartClient, htmx: bool) -> None:
    await sign_in(second_client)
    handle = await _other_handle(user)

    if htmx:
        response = await user.delete(f"/sessions/{handle}", headers=HX)
    else:
        response = await user.post(f"/sessions/{handle}/revoke")
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Signed out 1 session." in body
    assert handle not in body
    assert ("<html" in body) is not htmx

    assert (await user.get("/sessions")).status_code == 200
    revoked = await second_client.get("/sessions")
    assert revoked.status_code == 303
    assert revoked.headers["Location"].startswith("/auth/session/refresh")


@pytest.mark.parametrize("htmx", [False, True])
async def test_revoke_all_others(app: Quart, user: QuartClient, htmx: bool) -> None:
    others = [app.test_client() for _ in range(2)]
    for other in others:
        await sign_in(other)

    if htmx:
        response = await user.delete("/sessions", headers=HX)
    else:
        response = await user.post("/sessions/revoke-others")
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Signed out 2 other sessions." in body
    assert "1 active session<" in body
    for other in others:
        assert (await other.get("/sessions")).status_code == 303


async def test_revoke_current_session_signs_out(user: QuartClient) -> None:
    handle = await _own_handle(user)
    response = await user.delete(f"/sessions/{handle}", headers=HX)
    assert response.headers["HX-Redirect"] == "/login"
    assert (await user.get("/sessions")).status_code == 303


@pytest.mark.parametrize(
    "handle",
    [
        "not-a-handle",
        "00000000-0000-0000-0000-000000000000",
        "x" * 300,
        "%FF%FE",
        "a%00b",
        "..%2F..%2Fadmin",
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
async def test_unknown_or_malformed_handle_is_404(
    user: QuartClient, handle: str, htmx: bool
) -> None:
    for response in (
        await user.delete(f"/sessions/{handle}", headers=HX if htmx else {}),
        await user.post(f"/sessions/{handle}/revoke", headers=HX if htmx else {}),
    ):
        body = await response.get_data(as_text=True)
        assert response.status_code == 404, body
        assert "Error 404" in body
        assert ("<html" in body) is not htmx


async def test_someone_elses_handle_is_404(user: QuartClient, second_client: QuartClient) -> None:
    await sign_up(second_client, email="bob@example.test")
    bobs_handle = await _own_handle(second_client)

    response = await user.delete(f"/sessions/{bobs_handle}", headers=HX)
    assert response.status_code == 404
    assert (await second_client.get("/sessions")).status_code == 200  # Bob is still signed in


async def test_revoke_with_empty_and_non_utf8_bodies(user: QuartClient) -> None:
    for data in (b"", b"%FF%FE=\xff"):
        response = await user.post(
            "/sessions/revoke-others",
            data=data,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200


async def test_user_agents_stamped_at_sign_in(
    client: QuartClient, second_client: QuartClient
) -> None:
    """Each session carries its browser's User-Agent from creation, before it opens any page."""
    for browser, path, agent in (
        (client, "/signup", "FirstBrowser/1.0"),
        (second_client, "/login", "SecondBrowser/2.0"),
    ):
        response = await browser.post(
            path, form={"email": EMAIL, "password": PASSWORD}, headers={"User-Agent": agent}
        )
        assert response.status_code == 303

    # The first client lists them with another User-Agent: nothing is taken from this request.
    body = await (await client.get("/sessions", headers={"User-Agent": "Later/3.0"})).get_data(
        as_text=True
    )
    assert "2 active sessions" in body
    assert "FirstBrowser/1.0" in body and "SecondBrowser/2.0" in body
    assert "Later/3.0" not in body


async def test_session_data_at_creation(app: Quart, client: QuartClient) -> None:
    long_agent = "A" * 1000
    before = int(time.time() * 1000)
    response = await client.post(
        "/signup",
        form={"email": EMAIL, "password": PASSWORD},
        headers={"User-Agent": long_agent},
    )
    assert response.status_code == 303
    handle = await _own_handle(client)
    info = await get_session_information(handle)
    assert info is not None
    data = info.session_data_in_database
    assert data[USER_AGENT_KEY] == "A" * MAX_USER_AGENT_LENGTH == "A" * 256
    assert before <= data[CREATED_AT_KEY] <= int(time.time() * 1000)

    # Without a request there is no user agent; what the caller passed is kept.
    session = await create_new_session_without_request_response(
        "public", RecipeUserId(info.user_id), {}, {"note": "cli"}
    )
    bare = await get_session_information(session.get_handle())
    assert bare is not None
    assert USER_AGENT_KEY not in bare.session_data_in_database
    assert bare.session_data_in_database["note"] == "cli"
    assert isinstance(bare.session_data_in_database[CREATED_AT_KEY], int)


async def test_new_session_needs_no_write_until_refreshed(user: QuartClient) -> None:
    handle = await _own_handle(user)
    body = await (await user.get("/sessions")).get_data(as_text=True)
    assert body.count("<time datetime=") == 2  # signed in, and last refreshed = signed in
    info = await get_session_information(handle)
    assert info is not None
    assert set(info.session_data_in_database) == {USER_AGENT_KEY, CREATED_AT_KEY}


async def test_old_session_gets_user_agent_recorded(user: QuartClient) -> None:
    """A session from before creation-time stamping (no details) still gets them on a visit."""
    handle = await _own_handle(user)
    await update_session_data_in_database(handle, {})

    body = await (await user.get("/sessions", headers={"User-Agent": "Old/1.0"})).get_data(
        as_text=True
    )
    assert "Old/1.0" in body
    info = await get_session_information(handle)
    assert info is not None
    assert info.session_data_in_database[USER_AGENT_KEY] == "Old/1.0"
    assert isinstance(info.session_data_in_database["lastRefreshed"], int)


async def test_sessions_table_stacks_on_phones_and_keeps_full_user_agent(
    client: QuartClient,
) -> None:
    """The markup app.css needs for the phone layout: labelled cells and the whole UA in title."""
    agent = "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) " + "X" * 150
    await client.post(
        "/signup", form={"email": EMAIL, "password": PASSWORD}, headers={"User-Agent": agent}
    )
    body = await (await client.get("/sessions")).get_data(as_text=True)
    assert '<table class="table-stack" role="table">' in body
    for label in ("Browser", "Signed in", "Last refreshed"):
        assert f'data-label="{label}"' in body
    assert f'<span class="user-agent" title="{agent}">{agent}</span>' in body
