"""Ending a session wins (quart_supertokens/session_end.py): no response clears and sets a token.

The named regression tests replay issue 11's defect 1 through the real app and a running core:
sign-out right after a refresh, before any render used the new token, used to answer with
Set-Cookie headers that cleared the tokens and then set a freshly promoted access token again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from quart import Quart, Response
from quart.testing import QuartClient

from app import create_app
from app.config import Settings
from quart_supertokens.session_end import end_session_wins
from tests.conftest import RunningCore
from tests.views.conftest import last_token

PASSWORD = "correct-horse-1"
ORIGIN = {"Origin": "http://localhost:8000"}
HTMX = {**ORIGIN, "HX-Request": "true", "HX-Current-URL": "http://localhost:8000/dashboard"}
SET_ACCESS = "sAccessToken=eyJ.new.token; Expires=Fri, 01 Jan 2100 00:00:00 GMT; HttpOnly; Path=/"
CLEAR_ACCESS = "sAccessToken=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/"
CLEAR_REFRESH = (
    "sRefreshToken=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Path=/auth/session/refresh"
)


def response_with(*set_cookies: str, front_token: str | None = None) -> Response:
    response = Response("")
    for header in set_cookies:
        response.headers.add("Set-Cookie", header)
    if front_token is not None:
        response.headers["front-token"] = front_token
    return response


def token_cookies_set(response: Response) -> list[str]:
    """The Set-Cookie headers that give a session token a value."""
    return [
        header
        for header in response.headers.getlist("Set-Cookie")
        if header.split("=", 1)[0] in ("sAccessToken", "sRefreshToken")
        and header.split("=", 1)[1].split(";", 1)[0] not in ("", '""')
    ]


# --- the rule on its own ---


def test_a_set_after_a_clear_is_dropped() -> None:
    response = response_with(CLEAR_ACCESS, CLEAR_REFRESH, SET_ACCESS, front_token="eyJmcm9udA")
    assert end_session_wins(response)
    assert response.headers.getlist("Set-Cookie") == [CLEAR_ACCESS, CLEAR_REFRESH]
    assert response.headers["front-token"] == "remove"


def test_a_set_before_a_clear_is_dropped_too() -> None:
    response = response_with(SET_ACCESS, CLEAR_ACCESS)
    assert end_session_wins(response)
    assert token_cookies_set(response) == []


def test_max_age_zero_is_a_clear() -> None:
    response = response_with("sRefreshToken=x; Max-Age=0; Path=/auth/session/refresh", SET_ACCESS)
    assert end_session_wins(response)
    assert token_cookies_set(response) == ["sRefreshToken=x; Max-Age=0; Path=/auth/session/refresh"]


def test_a_response_that_only_sets_tokens_is_untouched() -> None:
    response = response_with(SET_ACCESS, "other=1; Path=/", front_token="eyJmcm9udA")
    assert not end_session_wins(response)
    assert response.headers.getlist("Set-Cookie") == [SET_ACCESS, "other=1; Path=/"]
    assert response.headers["front-token"] == "eyJmcm9udA"


def test_other_cookies_survive_an_ending() -> None:
    response = response_with(SET_ACCESS, "refreshed=; Max-Age=0; Path=/", CLEAR_ACCESS, "x=1")
    assert end_session_wins(response)
    assert response.headers.getlist("Set-Cookie") == [
        "refreshed=; Max-Age=0; Path=/",
        CLEAR_ACCESS,
        "x=1",
    ]


def test_clearing_the_older_cookie_domain_is_not_an_ending() -> None:
    older_clear = CLEAR_ACCESS + "; Domain=old.example.test"
    response = response_with(older_clear, SET_ACCESS)
    assert not end_session_wins(
        response, cookie_domain=".example.test", older_cookie_domain="old.example.test"
    )
    assert token_cookies_set(response) == [SET_ACCESS]
    # ... but clearing the current domain is, even when an older one is configured.
    current_clear = CLEAR_ACCESS + "; Domain=example.test"
    response = response_with(current_clear, SET_ACCESS)
    assert end_session_wins(
        response, cookie_domain=".example.test", older_cookie_domain="old.example.test"
    )
    assert token_cookies_set(response) == []


# --- issue 11, defect 1, through the real app ---


@pytest.fixture(name="short_app")
async def _short_app(localcore: RunningCore, settings: Settings) -> AsyncIterator[Quart]:
    """The app on a core app with 2 s access tokens (whole seconds: 1-2 s left when issued)."""
    app = create_app(replace(settings, connection_uri=localcore.new_app(access_token_validity=2)))
    async with app.test_app():
        yield app


async def _signed_up_then_refreshed(app: Quart, refresh_via: str) -> QuartClient:
    """A browser whose token expired and was refreshed, with no render since the refresh."""
    client = app.test_client()
    response = await client.post(
        "/signup", form={"email": "sam@example.test", "password": PASSWORD}
    )
    assert response.status_code == 303
    await asyncio.sleep(2.2)
    if refresh_via == "server":
        response = await client.get("/auth/session/refresh?redirectBack=/dashboard")
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/dashboard")
    else:
        response = await client.post("/auth/session/refresh", headers={"rid": "session"})
        assert response.status_code == 200, await response.get_data(as_text=True)
    return client


@pytest.mark.parametrize("refresh_via", ["server", "sdk"])
@pytest.mark.parametrize("sign_out", ["form", "htmx"])
async def test_sign_out_right_after_a_refresh_ends_the_session(
    short_app: Quart, refresh_via: str, sign_out: str
) -> None:
    client = await _signed_up_then_refreshed(short_app, refresh_via)
    response = await client.post("/logout", headers=ORIGIN if sign_out == "form" else HTMX)
    if sign_out == "form":
        assert response.status_code == 303
    else:
        assert response.headers["HX-Redirect"] == "/login"
    assert token_cookies_set(response) == [], response.headers.getlist("Set-Cookie")
    assert response.headers.get("front-token") == "remove"

    dashboard = await client.get("/dashboard")
    assert dashboard.status_code == 303
    assert "/login" in dashboard.headers["Location"]


@pytest.fixture(name="short_lifetime_app")
async def _short_lifetime_app(localcore: RunningCore, settings: Settings) -> AsyncIterator[Quart]:
    """2 s access tokens and a 3 s absolute lifetime."""
    uri = localcore.new_app(access_token_validity=2)
    app = create_app(replace(settings, connection_uri=uri, session_max_age=3))
    async with app.test_app():
        yield app


async def test_lifetime_over_right_after_a_refresh_sets_no_token(
    short_lifetime_app: Quart,
) -> None:
    """The render that finds the lifetime over first promotes the refreshed token (the SDK's
    cookie write), then revokes and clears: the clear must be the response's last word."""
    client = short_lifetime_app.test_client()
    response = await client.post(
        "/signup", form={"email": "lee@example.test", "password": PASSWORD}
    )
    assert response.status_code == 303
    await asyncio.sleep(3.2)
    refreshed = await client.get("/auth/session/refresh?redirectBack=/dashboard")
    assert refreshed.status_code == 303
    over = await client.get("/dashboard")
    assert over.status_code == 303
    assert over.headers["Location"].startswith("/login")
    assert token_cookies_set(over) == [], over.headers.getlist("Set-Cookie")
    assert (await client.get("/dashboard")).headers["Location"].startswith("/login")


async def _reset_password(client: QuartClient, email: str, sink: Path) -> Response:
    await client.post("/forgot-password", form={"email": email})
    token = last_token(sink, "password_reset")
    new = "another-horse-2"
    return await client.post(
        "/reset-password", form={"token": token, "password": new, "password_confirm": new}
    )


async def test_password_reset_signs_out_this_browser_when_it_is_the_account(
    short_app: Quart, settings: Settings
) -> None:
    client = short_app.test_client()
    email = "ray@example.test"
    assert (await client.post("/signup", form={"email": email, "password": PASSWORD})).status_code
    done = await _reset_password(client, email, settings.email_sink)
    assert done.status_code == 200
    cleared = [h for h in done.headers.getlist("Set-Cookie") if h.startswith("sAccessToken=;")]
    assert cleared, done.headers.getlist("Set-Cookie")
    assert token_cookies_set(done) == []
    assert (await client.get("/dashboard")).headers["Location"].startswith("/login")


async def test_password_reset_of_another_account_keeps_this_browser_signed_in(
    short_app: Quart, settings: Settings
) -> None:
    client = short_app.test_client()
    other = short_app.test_client()
    form = {"email": "kim@example.test", "password": PASSWORD}
    assert (await other.post("/signup", form=form)).status_code == 303
    assert (await client.post("/signup", form={**form, "email": "joe@example.test"})).status_code
    done = await _reset_password(client, "kim@example.test", settings.email_sink)
    assert done.status_code == 200
    assert not [h for h in done.headers.getlist("Set-Cookie") if h.startswith("sAccessToken=")]
    assert (await client.get("/dashboard")).status_code == 200
