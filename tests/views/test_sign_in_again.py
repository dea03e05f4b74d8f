"""Signing in again over a session ends the browser's previous session (finding F8)."""

from __future__ import annotations

from quart import Quart
from quart.testing import QuartClient
from supertokens_python.recipe.session.asyncio import get_all_session_handles_for_user

from tests.security.conftest import payload_of
from tests.views.conftest import PASSWORD


async def _signed_in(client: QuartClient, path: str, email: str) -> tuple[str, str]:
    response = await client.post(path, form={"email": email, "password": PASSWORD})
    assert response.status_code == 303, await response.get_data(as_text=True)
    token = next(c.value for c in client.cookie_jar if c.name == "sAccessToken")  # type: ignore[union-attr]
    payload = payload_of(token)
    return str(payload["sub"]), str(payload["sessionHandle"])


async def test_sign_up_and_sign_in_over_a_session(app: Quart, client: QuartClient) -> None:
    first_user, first = await _signed_in(client, "/signup", "one@example.test")
    second_user, second = await _signed_in(client, "/signup", "two@example.test")
    assert await get_all_session_handles_for_user(first_user) == []
    assert await get_all_session_handles_for_user(second_user) == [second]
    again_user, again = await _signed_in(client, "/login", "one@example.test")
    assert again_user == first_user
    assert await get_all_session_handles_for_user(first_user) == [again]
    assert await get_all_session_handles_for_user(second_user) == []
    assert (await client.get("/dashboard")).status_code == 200
