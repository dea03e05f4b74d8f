"""Sessions this app did not create: no `authAt` claim, and still valid (issue 11, defect 2).

Another SuperTokens backend sharing the core (supertokens-node, a plain supertokens-python API)
creates sessions without this app's payload override. Here such a session is made the way those
backends make it, with the core's own `POST /recipe/session` and an empty payload; the real
foreign backends are driven in tests/interop/.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from quart import Quart
from quart.testing import QuartClient

from app import create_app
from app.config import Settings
from tests.security.conftest import payload_of, set_cookies
from tests.servers import ServerProcess

CDI = {"cdi-version": "5.4"}
PASSWORD = "correct-horse-1"
EMAIL = "nodeuser@example.test"


@dataclass(frozen=True)
class ForeignSession:
    handle: str
    access: str
    refresh: str
    created_at_ms: int


def create_foreign_session(connection_uri: str, user_id: str) -> ForeignSession:
    """A session as another backend creates it: straight from the core, no `authAt`."""
    response = httpx.post(
        f"{connection_uri}/recipe/session",
        json={
            "userId": user_id,
            "userDataInJWT": {},
            "userDataInDatabase": {},
            "enableAntiCsrf": False,
            "useDynamicSigningKey": True,
        },
        headers=CDI,
    )
    body = response.json()
    assert body["status"] == "OK", body
    info = httpx.get(
        f"{connection_uri}/recipe/session",
        params={"sessionHandle": body["session"]["handle"]},
        headers=CDI,
    ).json()
    return ForeignSession(
        handle=body["session"]["handle"],
        access=body["accessToken"]["token"],
        refresh=body["refreshToken"]["token"],
        created_at_ms=int(info["timeCreated"]),
    )


def session_exists(connection_uri: str, handle: str) -> bool:
    body = httpx.get(
        f"{connection_uri}/recipe/session", params={"sessionHandle": handle}, headers=CDI
    ).json()
    return bool(body["status"] == "OK")


async def signed_up_user_id(app: Quart) -> str:
    client = app.test_client()
    response = await client.post("/signup", form={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 303
    return str(payload_of(set_cookies(response)["sAccessToken"])["sub"])


def browser_with(app: Quart, session: ForeignSession) -> QuartClient:
    client = app.test_client()
    client.set_cookie("localhost", "sAccessToken", session.access, path="/")
    client.set_cookie("localhost", "sRefreshToken", session.refresh, path="/auth/session/refresh")
    return client


@pytest.fixture(name="started_app")
async def _started_app(settings: Settings) -> AsyncIterator[Quart]:
    app = create_app(settings)
    async with app.test_app():
        yield app


async def test_a_session_without_auth_at_renders_and_is_not_revoked(
    started_app: Quart, settings: Settings
) -> None:
    uri = settings.connection_uri
    foreign = create_foreign_session(uri, await signed_up_user_id(started_app))
    browser = browser_with(started_app, foreign)

    first = await browser.get("/dashboard")
    body = await first.get_data(as_text=True)
    assert first.status_code == 200, body[:300]
    assert EMAIL in body
    assert session_exists(uri, foreign.handle)
    # The sign-in time came from the core, once: it is stamped into the session's payload.
    stamped = payload_of(set_cookies(first)["sAccessToken"])
    assert stamped["authAt"] == foreign.created_at_ms // 1000
    assert stamped["email"] == EMAIL

    second = await browser.get("/dashboard")
    assert second.status_code == 200
    assert "sAccessToken" not in set_cookies(second)
    # A database-checked page and a refresh work for it too.
    assert (await browser.get("/sessions")).status_code == 200
    assert session_exists(uri, foreign.handle)


async def test_the_absolute_lifetime_applies_to_foreign_sessions(
    settings: Settings, tmp_path: Path
) -> None:
    app = create_app(replace(settings, session_max_age=1))
    async with app.test_app():
        foreign = create_foreign_session(settings.connection_uri, await signed_up_user_id(app))
        time.sleep(2.1)  # creation times are milliseconds; over 1 s for sure
        response = await browser_with(app, foreign).get("/dashboard")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")
    assert not session_exists(settings.connection_uri, foreign.handle)


async def test_a_core_failure_during_the_lookup_is_a_503_not_a_sign_out(
    own_core: ServerProcess, email_sink: Path
) -> None:
    uri = own_core.health_url.removesuffix("/hello")
    app = create_app(Settings(connection_uri=uri, email_sink=email_sink, core_timeout=2))
    async with app.test_app():  # the JWKS is fetched at start-up, so tokens verify locally
        foreign = create_foreign_session(uri, await signed_up_user_id(app))
        browser = browser_with(app, foreign)
        own_core.stop()
        try:
            down = await browser.get("/dashboard")
        finally:
            own_core.start()
        assert down.status_code == 503
        assert not {"sAccessToken", "sRefreshToken"} & set(set_cookies(down))
        assert session_exists(uri, foreign.handle)
        assert (await browser.get("/dashboard")).status_code == 200
