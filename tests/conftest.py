"""Fixtures shared by the whole suite: a running local core, a fresh core app per test, the app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from quart import Quart
from quart.testing import QuartClient

from app.config import Settings
from tests.servers import ServerProcess, free_port, localcore_process

# Set before any test imports the SDK: no HTTP to the public-suffix list, and SDK resets allowed.
os.environ.setdefault("SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP", "1")
os.environ.setdefault("SUPERTOKENS_ENV", "testing")


@dataclass
class RunningCore:
    """A localcore process shared by the session's tests."""

    url: str
    database: Path
    server: ServerProcess

    def new_app(self, **core_config: object) -> str:
        """Create an isolated core app with its own config; return its connection URI."""
        app_id = uuid.uuid4().hex
        response = httpx.put(
            f"{self.url}/recipe/multitenancy/app/v2",
            json={"appId": app_id, "coreConfig": core_config},
            headers={"cdi-version": "5.4"},
        )
        response.raise_for_status()
        assert response.json()["status"] == "OK"
        return f"{self.url}/appid-{app_id}"

    def remove_app(self, connection_uri: str) -> None:
        app_id = connection_uri.rsplit("/appid-", 1)[1]
        httpx.post(
            f"{self.url}/recipe/multitenancy/app/remove",
            json={"appId": app_id},
            headers={"cdi-version": "5.4"},
        )


@pytest.fixture(scope="session")
def localcore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCore]:
    """One `python -m localcore` on a free loopback port for the whole run, stopped by PID."""
    directory = tmp_path_factory.mktemp("localcore")
    port = free_port()
    server = localcore_process(port, directory / "core.db", log_path=directory / "core.log")
    server.start()
    try:
        yield RunningCore(f"http://127.0.0.1:{port}", directory / "core.db", server)
    finally:
        server.stop()


@pytest.fixture(name="own_core")
def _own_core(tmp_path: Path) -> Iterator[ServerProcess]:
    """A local core of the test's own (port, SQLite file), for tests that stop and restart it."""
    port = free_port()
    server = localcore_process(port, tmp_path / "core.db", log_path=tmp_path / "core.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def core_app(localcore: RunningCore) -> Iterator[str]:
    """A fresh, isolated core app (default token lifetimes); yields its connection URI."""
    uri = localcore.new_app()
    yield uri
    localcore.remove_app(uri)


@pytest.fixture(name="email_sink")
def _email_sink(tmp_path: Path) -> Path:
    return tmp_path / "emails.jsonl"


@pytest.fixture(name="settings")
def _settings(core_app: str, email_sink: Path) -> Settings:
    """Local defaults, pointed at this test's own core app."""
    return Settings(connection_uri=core_app, email_sink=email_sink)


@pytest.fixture(name="app")
async def _app(settings: Settings) -> AsyncIterator[Quart]:
    """The app, started (before_serving) and stopped (after_serving) around the test."""
    from app import create_app

    app = create_app(settings)
    async with app.test_app():
        yield app


@pytest.fixture(name="client")
def _client(app: Quart) -> QuartClient:
    return app.test_client()


@pytest.fixture(name="offline_settings")
def _offline_settings(email_sink: Path) -> Settings:
    """Settings whose core URL has nothing listening: for tests that must not reach a core."""
    return Settings(connection_uri=f"http://127.0.0.1:{free_port()}", email_sink=email_sink)


@pytest.fixture(name="offline_app")
def _offline_app(offline_settings: Settings) -> Quart:
    from app import create_app

    return create_app(offline_settings)
