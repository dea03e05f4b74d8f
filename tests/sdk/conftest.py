"""Fixtures for the adapter tests: an app wired to a fresh core app, and its test client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from quart import Quart
from quart.testing import QuartClient

from app import create_app
from app.config import Settings
from tests.servers import free_port


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
    return create_app(offline_settings)
