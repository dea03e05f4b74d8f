"""Helpers for the view tests: sign up through the app's own forms, read the dev email sink."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from quart import Quart
from quart.testing import QuartClient

from app.sdk.email import token_from_link

EMAIL = "ada@example.test"
PASSWORD = "correct-horse-1"
HX = {"HX-Request": "true"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def sign_up(client: QuartClient, email: str = EMAIL, password: str = PASSWORD) -> None:
    response = await client.post("/signup", form={"email": email, "password": password})
    assert response.status_code == 303, await response.get_data(as_text=True)


async def sign_in(client: QuartClient, email: str = EMAIL, password: str = PASSWORD) -> None:
    response = await client.post("/login", form={"email": email, "password": password})
    assert response.status_code == 303, await response.get_data(as_text=True)


def emails(sink: Path, kind: str | None = None) -> list[dict[str, str]]:
    if not sink.exists():
        return []
    messages = [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()]
    return [m for m in messages if kind is None or m["type"] == kind]


def last_token(sink: Path, kind: str) -> str:
    """The token of the newest `kind` email, percent-decoded as a browser's query parser would."""
    from urllib.parse import unquote

    return unquote(token_from_link(emails(sink, kind)[-1]["link"]))


def text(body: bytes) -> str:
    return body.decode("utf-8")


@pytest.fixture(name="user")
async def _user(client: QuartClient) -> QuartClient:
    """The test client, signed up and signed in as EMAIL."""
    await sign_up(client)
    return client


@pytest.fixture(name="second_client")
def _second_client(app: Quart) -> QuartClient:
    """Another browser (its own cookie jar) on the same app."""
    return app.test_client()
