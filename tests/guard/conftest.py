"""Fixtures and helpers of the guard tests: an app with per-route test policies, short tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from quart import Quart, Response
from quart.testing import QuartClient
from supertokens_python.recipe.userroles import UserRoleClaim

from app import create_app
from app.config import Settings
from quart_supertokens import (
    add_claim_validators,
    check_session,
    get_current_session,
    remove_all_claim_validators,
    require_session,
)
from tests.conftest import RunningCore

PASSWORD = "correct-horse-1"
ORIGIN = "http://localhost"

PAGE: dict[str, str] = {}
FRAGMENT = {"HX-Request": "true", "HX-Current-URL": f"{ORIGIN}/dashboard?tab=1"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true", "HX-Current-URL": f"{ORIGIN}/"}
HISTORY_RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
KINDS = {"page": PAGE, "fragment": FRAGMENT, "boosted": BOOSTED, "history": HISTORY_RESTORE}
# Where each kind of request returns to after a refresh or sign-in, for GET /dashboard/session.
RETURNS_TO = {
    "page": "/dashboard/session",
    "fragment": "/dashboard?tab=1",
    "boosted": "/",
    "history": "/dashboard/session",
}
REFRESH_MARKER_COOKIE = "refreshed"
XHR_KINDS = {"fragment", "boosted"}


def add_test_routes(app: Quart) -> None:
    """Routes exercising per-route policies; the guard under test is the real one."""

    @app.get("/t/db")
    @require_session(check_database=True)
    async def checks_database() -> str:
        return f"db ok {get_current_session().get_user_id()}"  # type: ignore[union-attr]

    @app.get("/t/admin")
    @require_session(
        override_global_claim_validators=add_claim_validators(
            UserRoleClaim.validators.includes("admin")
        )
    )
    async def needs_admin() -> str:
        return "admin ok"

    @app.get("/t/no-claims")
    @require_session(
        override_global_claim_validators=lambda validators, session, ctx: (
            remove_all_claim_validators(
                [*validators, UserRoleClaim.validators.includes("admin")], session, ctx
            )
        )
    )
    async def no_claims() -> str:
        return "no claims ok"

    @app.get("/t/short-lived")
    @require_session(max_age=3)
    async def short_lived() -> str:
        return "short ok"

    @app.get("/t/optional")
    async def optional() -> str:
        session = await check_session(optional=True)
        return "anonymous" if session is None else f"user {session.get_user_id()}"


async def started_app(settings: Settings) -> AsyncIterator[Quart]:
    app = create_app(settings)
    add_test_routes(app)
    async with app.test_app():
        yield app


@pytest.fixture(name="guard_app")
async def _guard_app(settings: Settings) -> AsyncIterator[Quart]:
    async for app in started_app(settings):
        yield app


@pytest.fixture(name="short_settings")
def _short_settings(localcore: RunningCore, settings: Settings) -> Settings:
    """Short access tokens, in a core app of their own.

    Token times are whole seconds, so a 2 s token has 1-2 s left when issued: long enough for the
    renders right after a sign-in or refresh, and surely expired after `wait_for_expiry` (2.1 s).
    """
    return replace(settings, connection_uri=localcore.new_app(access_token_validity=2))


@pytest.fixture(name="short_app")
async def _short_app(short_settings: Settings) -> AsyncIterator[Quart]:
    async for app in started_app(short_settings):
        yield app


async def sign_up(client: QuartClient, email: str = "ada@example.test") -> None:
    response = await client.post("/signup", form={"email": email, "password": PASSWORD})
    assert response.status_code == 303, await response.get_data(as_text=True)


def cookie(client: QuartClient, name: str) -> str | None:
    assert client.cookie_jar is not None
    return next((c.value for c in client.cookie_jar if c.name == name), None)


def set_cookie(client: QuartClient, name: str, value: str, path: str = "/") -> None:
    client.set_cookie("localhost", name, value, path=path)


def redirect_back_of(location: str) -> str | None:
    values = parse_qs(urlsplit(location).query).get("redirectBack")
    return values[0] if values else None


def target_of(response: Response) -> str:
    """Where a guard answer sends the browser: Location (page) or HX-Redirect (htmx)."""
    return response.headers.get("HX-Redirect") or response.headers["Location"]


async def wait_for_expiry() -> None:
    await asyncio.sleep(2.1)


def revoke(app: Quart, handle: str) -> None:
    uri = app.config["SETTINGS"].connection_uri
    response = httpx.post(
        f"{uri}/recipe/session/remove",
        json={"sessionHandles": [handle]},
        headers={"cdi-version": "5.4", "rid": "session"},
    )
    assert response.json()["sessionHandlesRevoked"] == [handle]
