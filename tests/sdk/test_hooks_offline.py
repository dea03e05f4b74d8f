"""The adapter's hooks and SDK set-up, on paths that need no running core."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import supertokens_python.utils
from quart import Quart, abort, request
from supertokens_python import Supertokens
from supertokens_python.querier import Querier
from supertokens_python.recipe.session.asyncio import get_session
from supertokens_python.recipe.session.exceptions import UnauthorisedError

from app import ROOT, create_app
from app.config import ConfigError, Settings
from quart_supertokens import request_user_context
from quart_supertokens.core_client import CoreClientPool, core_client_pool, pooled_api_request
from quart_supertokens.framework import QuartFramework, QuartRequest, QuartResponse
from tests.sdk.test_wrappers import parse_set_cookie


class RecordingSession:
    """A stand-in session whose one response mutator records what it was applied to."""

    def __init__(self) -> None:
        self.applied: list[tuple[QuartResponse, dict[str, Any]]] = []
        self.response_mutators = [self.mutate]

    def mutate(self, response: QuartResponse, user_context: dict[str, Any]) -> None:
        response.set_header("x-session-mutated", "yes")
        self.applied.append((response, user_context))

    # What the error pages read of `current_session` (the SDK's slot now backs it).
    def get_access_token_payload(self) -> dict[str, Any]:
        return {}

    def get_user_id(self) -> str:
        return "user"

    def get_handle(self) -> str:
        return "handle"


def cleared_cookies(headers: list[str]) -> dict[str, dict[str, str | bool]]:
    cleared = {}
    for header in headers:
        name, value, attributes = parse_set_cookie(header)
        if value == "" and attributes.get("expires") == "Thu, 01 Jan 1970 00:00:00 GMT":
            cleared[name] = attributes
    return cleared


def test_framework_registry_patched(offline_app: Quart) -> None:
    assert isinstance(supertokens_python.utils.FRAMEWORKS["flask"], QuartFramework)


async def test_framework_wraps_raw_request(offline_app: Quart) -> None:
    async with offline_app.test_request_context("/"):
        wrapped = QuartFramework().wrap_request(request)
        assert isinstance(wrapped, QuartRequest)
        assert QuartFramework().wrap_request(wrapped) is wrapped


async def test_raw_quart_request_accepted_by_get_session(offline_app: Quart) -> None:
    # Without the registry patch the SDK would wrap it in FlaskRequest and touch flask.g.
    async with offline_app.test_request_context("/"):
        assert await get_session(request, session_required=False) is None  # type: ignore[arg-type]


def test_create_app_can_run_many_times(offline_settings: Settings) -> None:
    create_app(offline_settings)
    second = Settings(
        connection_uri=offline_settings.connection_uri,
        email_sink=offline_settings.email_sink,
        app_name="Second",
    )
    create_app(second)

    assert Supertokens.get_instance().app_info.app_name == "Second"


async def test_healthz(offline_app: Quart) -> None:
    response = await offline_app.test_client().get("/healthz")

    assert response.status_code == 200
    assert await response.get_data() == b"ok"


async def test_whoami_without_session_is_401(offline_app: Quart) -> None:
    response = await offline_app.test_client().get("/whoami")

    assert response.status_code == 401
    assert await response.get_json() == {"userId": None}


async def test_refresh_without_refresh_token_clears_cookies_on_401(offline_app: Quart) -> None:
    client = offline_app.test_client()

    response = await client.post(
        "/auth/session/refresh", headers={"Cookie": "sAccessToken=stale.token.value"}
    )

    assert response.status_code == 401
    assert await response.get_json() == {"message": "unauthorised"}
    cleared = cleared_cookies(response.headers.getlist("Set-Cookie"))
    assert set(cleared) == {"sAccessToken", "sRefreshToken"}
    assert cleared["sRefreshToken"]["path"] == "/auth/session/refresh"
    assert response.headers["front-token"] == "remove"


async def test_refresh_api_not_served_when_disabled(offline_settings: Settings) -> None:
    settings = Settings(
        connection_uri=offline_settings.connection_uri,
        email_sink=offline_settings.email_sink,
        serve_auth_api=False,
    )
    client = create_app(settings).test_client()

    for path in ("/auth/signup", "/auth/signin", "/auth/signout"):
        response = await client.post(path, json={})
        assert response.status_code == 404, path
    # Only the app's GET refresh hop lives at the refresh path; the SDK's POST API is not served.
    assert (await client.post("/auth/session/refresh", json={})).status_code == 405


async def test_sdk_only_answers_its_methods(offline_app: Quart) -> None:
    # The refresh API is POST-only; a GET falls through to the app's server-side refresh hop,
    # which finds no refresh token and sends the browser to sign in.
    response = await offline_app.test_client().get("/auth/session/refresh")

    assert response.status_code == 303
    assert response.headers["Location"] == "/login"


async def test_supertokens_error_in_a_route_mapped_by_the_one_handler(offline_app: Quart) -> None:
    @offline_app.get("/raises-unauthorised")
    async def raises_unauthorised() -> str:
        raise UnauthorisedError("no session here", clear_tokens=True)

    response = await offline_app.test_client().get("/raises-unauthorised")

    assert response.status_code == 401
    assert await response.get_json() == {"message": "unauthorised"}
    assert set(cleared_cookies(response.headers.getlist("Set-Cookie"))) == {
        "sAccessToken",
        "sRefreshToken",
    }


async def test_mutations_applied_to_success_response(offline_app: Quart) -> None:
    session = RecordingSession()

    @offline_app.get("/with-session")
    async def with_session() -> str:
        QuartRequest(request).set_session(session)  # type: ignore[arg-type]
        return "ok"

    response = await offline_app.test_client().get("/with-session")

    assert response.status_code == 200
    assert response.headers["x-session-mutated"] == "yes"


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_mutations_applied_to_aborted_response(offline_app: Quart, status: int) -> None:
    session = RecordingSession()

    @offline_app.get("/aborts")
    async def aborts() -> str:
        QuartRequest(request).set_session(session)  # type: ignore[arg-type]
        abort(status)

    response = await offline_app.test_client().get("/aborts")

    assert response.status_code == status
    assert response.headers["x-session-mutated"] == "yes"


async def test_mutations_applied_to_unhandled_error_response(offline_app: Quart) -> None:
    session = RecordingSession()

    @offline_app.get("/crashes")
    async def crashes() -> str:
        QuartRequest(request).set_session(session)  # type: ignore[arg-type]
        raise RuntimeError("boom")

    response = await offline_app.test_client().get("/crashes")

    assert response.status_code == 500
    assert response.headers["x-session-mutated"] == "yes"


async def test_request_user_context_reused_after_the_request(offline_app: Quart) -> None:
    session = RecordingSession()
    seen: list[dict[str, Any]] = []

    @offline_app.get("/context")
    async def context() -> str:
        seen.append(request_user_context())
        QuartRequest(request).set_session(session)  # type: ignore[arg-type]
        return "ok"

    await offline_app.test_client().get("/context")

    [(_, applied_context)] = session.applied
    assert applied_context is seen[0]
    assert isinstance(applied_context["_default"]["request"], QuartRequest)


async def test_session_not_shared_between_requests(offline_app: Quart) -> None:
    session = RecordingSession()
    second_request_session: list[object] = []

    @offline_app.get("/first")
    async def first() -> str:
        QuartRequest(request).set_session(session)  # type: ignore[arg-type]
        return "ok"

    @offline_app.get("/second")
    async def second() -> str:
        second_request_session.append(QuartRequest(request).get_session())
        return "ok"

    client = offline_app.test_client()
    await client.get("/first")
    response = await client.get("/second")

    assert second_request_session == [None]
    assert "x-session-mutated" not in response.headers


async def test_core_down_at_start_up_logs_and_continues(
    offline_app: Quart, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.sdk.init"):
        async with offline_app.test_app() as test_app:
            response = await test_app.test_client().get("/healthz")

    assert response.status_code == 200
    assert any("JWKS" in record.getMessage() for record in caplog.records)


def test_core_client_is_per_event_loop() -> None:
    pool = CoreClientPool(timeout=2.0)

    async def use_twice() -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
        first, second = pool.client(), pool.client()
        return first, second

    first_loop = asyncio.run(use_twice())
    second_loop = asyncio.run(use_twice())

    assert first_loop[0] is first_loop[1]
    assert second_loop[0] is second_loop[1]
    assert first_loop[0] is not second_loop[0]
    assert pool.clients_created == 2


async def test_core_client_closed_by_aclose() -> None:
    pool = CoreClientPool(timeout=2.0)
    client = pool.client()

    await pool.aclose()

    assert client.is_closed
    assert pool.client() is not client


async def test_core_client_closed_at_app_shutdown(offline_app: Quart) -> None:
    async with offline_app.test_app():
        client = core_client_pool.client()

    assert client.is_closed


def test_querier_uses_the_pooled_client(offline_app: Quart) -> None:
    assert Querier.api_request is pooled_api_request
    assert core_client_pool.timeout == 5.0


def test_create_app_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, offline_settings: Settings
) -> None:
    monkeypatch.setenv("SUPERTOKENS_CONNECTION_URI", offline_settings.connection_uri)
    monkeypatch.setenv("SERVE_AUTH_API", "0")
    monkeypatch.setenv("APP_NAME", "From env")

    app = create_app()

    settings = app.config["SETTINGS"]
    assert settings.serve_auth_api is False
    assert settings.connection_uri == offline_settings.connection_uri
    assert Supertokens.get_instance().app_info.app_name == "From env"


def test_create_app_refuses_unsafe_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOKIE_DOMAIN", ".localhost")

    with pytest.raises(ConfigError, match="localhost"):
        create_app()


def test_template_and_static_folders_are_top_level(offline_app: Quart) -> None:
    assert Path(offline_app.template_folder or "") == ROOT / "templates"
    assert Path(offline_app.static_folder or "") == ROOT / "static"
    assert offline_app.config["SECRET_KEY"]


def test_second_init_outside_testing_keeps_first_settings(
    monkeypatch: pytest.MonkeyPatch,
    offline_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    create_app(offline_settings)
    monkeypatch.setenv("SUPERTOKENS_ENV", "production")
    other = Settings(connection_uri=offline_settings.connection_uri, app_name="Ignored")

    with caplog.at_level(logging.WARNING, logger="app.sdk.init"):
        create_app(other)

    assert Supertokens.get_instance().app_info.app_name == offline_settings.app_name
    assert "already initialised" in caplog.text


def test_tldextract_http_disabled(offline_app: Quart) -> None:
    assert os.environ["SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP"]
