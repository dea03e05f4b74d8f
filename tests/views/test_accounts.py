"""Password reset and email verification, as pages and as htmx fragments."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from quart import Quart
from quart.testing import QuartClient

from app.config import Settings
from tests.conftest import RunningCore
from tests.views.conftest import EMAIL, FORM, HX, PASSWORD, emails, last_token, sign_in, sign_up

NEW_PASSWORD = "brand-new-pass-2"


async def test_forgot_password_page(client: QuartClient) -> None:
    response = await client.get("/forgot-password")
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in body and 'action="/forgot-password"' in body
    assert '<label for="email">' in body


async def test_forgot_password_same_answer_for_known_and_unknown(
    client: QuartClient, email_sink: Path
) -> None:
    await sign_up(client)
    client.cookie_jar.clear()  # type: ignore[union-attr]

    known = await client.post("/forgot-password", form={"email": EMAIL})
    unknown = await client.post("/forgot-password", form={"email": "nobody@example.test"})

    known_body = (await known.get_data(as_text=True)).replace(EMAIL, "X")
    unknown_body = (await unknown.get_data(as_text=True)).replace("nobody@example.test", "X")
    assert known.status_code == unknown.status_code == 200
    assert known_body == unknown_body
    assert "If an account exists" in known_body
    sent = emails(email_sink, "password_reset")
    assert [m["to"] for m in sent] == [EMAIL]
    assert sent[0]["link"].startswith("http://localhost:8000/reset-password?token=")


async def test_forgot_password_htmx_fragment(client: QuartClient) -> None:
    response = await client.post("/forgot-password", form={"email": "x@example.test"}, headers=HX)
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="forgot-panel">')
    assert "<html" not in body


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "x" * 300 + "@example.test"])
@pytest.mark.parametrize("htmx", [False, True])
async def test_forgot_password_invalid_email_inline(
    client: QuartClient, email: str, htmx: bool
) -> None:
    response = await client.post(
        "/forgot-password", form={"email": email}, headers=HX if htmx else {}
    )
    body = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-error"' in body and 'aria-invalid="true"' in body
    assert ("<html" in body) is not htmx


async def test_forgot_password_non_utf8_body(client: QuartClient) -> None:
    response = await client.post("/forgot-password", data=b"email=%FF%FE@x.test", headers=FORM)
    assert response.status_code == 422
    assert 'id="email-error"' in await response.get_data(as_text=True)


async def test_reset_password_full_flow(client: QuartClient, email_sink: Path) -> None:
    await sign_up(client)
    client.cookie_jar.clear()  # type: ignore[union-attr]
    await client.post("/forgot-password", form={"email": EMAIL})
    token = last_token(email_sink, "password_reset")

    page = await client.get(f"/reset-password?token={token}")
    page_body = await page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'name="token" value="{token}"' in page_body

    done = await client.post(
        "/reset-password",
        form={"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert done.status_code == 200
    assert "Your password has been changed" in await done.get_data(as_text=True)

    await sign_in(client, password=NEW_PASSWORD)
    client.cookie_jar.clear()  # type: ignore[union-attr]
    wrong = await client.post("/login", form={"email": EMAIL, "password": PASSWORD})
    assert wrong.status_code == 422

    # Single use: the same token again is refused inline, with a way to get a new one.
    reused = await client.post(
        "/reset-password",
        form={"token": token, "password": "another-pass-3", "password_confirm": "another-pass-3"},
        headers=HX,
    )
    body = await reused.get_data(as_text=True)
    assert reused.status_code == 422
    assert "invalid, has expired or was already used" in body
    assert 'href="/forgot-password"' in body
    assert body.lstrip().startswith('<div id="reset-panel">')


async def test_reset_password_expired_token(
    localcore: object, client: QuartClient, email_sink: Path, settings: object
) -> None:
    """An unknown (e.g. expired and purged) token reads the same as a used one."""
    response = await client.post(
        "/reset-password",
        form={"token": "A" * 64, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    body = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert "invalid, has expired or was already used" in body


@pytest.mark.parametrize(
    "query", ["", "?token=", "?token=" + "a" * 600, "?token=a%20b", "?token=%00"]
)
async def test_reset_password_page_bad_token(client: QuartClient, query: str) -> None:
    response = await client.get("/reset-password" + query)
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "invalid, has expired or was already used" in body
    assert 'href="/forgot-password"' in body


@pytest.mark.parametrize(
    ("password", "confirm", "field"),
    [
        ("short1", "short1", "password-error"),
        ("nodigitshere", "nodigitshere", "password-error"),
        ("x" * 200 + "1", "x" * 200 + "1", "password-error"),
        (NEW_PASSWORD, "something-else-1", "password_confirm-error"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
async def test_reset_password_field_errors(
    client: QuartClient, password: str, confirm: str, field: str, htmx: bool
) -> None:
    response = await client.post(
        "/reset-password",
        form={"token": "T" * 40, "password": password, "password_confirm": confirm},
        headers=HX if htmx else {},
    )
    body = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}"' in body
    assert ("<html" in body) is not htmx


async def test_reset_password_non_utf8_and_empty_bodies(client: QuartClient) -> None:
    for data in (
        b"",
        b"token=%FF&password=%FF%FE1aaaaaaa&password_confirm=%FF",
        b"token=%FF%FE&password=good-pass-12&password_confirm=good-pass-12",
    ):
        response = await client.post("/reset-password", data=data, headers=FORM)
        assert response.status_code == 422


async def test_verify_email_send_and_follow_link(user: QuartClient, email_sink: Path) -> None:
    dashboard = await user.get("/dashboard")
    body = await dashboard.get_data(as_text=True)
    assert "not verified" in body and 'hx-post="/verify-email/send"' in body

    sent = await user.post("/verify-email/send", headers=HX)
    fragment = await sent.get_data(as_text=True)
    assert sent.status_code == 200
    assert fragment.lstrip().startswith('<section id="verification-card"')
    assert "We sent a verification link" in fragment
    message = emails(email_sink, "email_verification")[-1]
    assert message["to"] == EMAIL
    assert message["link"].startswith("http://localhost:8000/verify-email?token=")

    token = last_token(email_sink, "email_verification")
    verified = await user.get(f"/verify-email?token={token}")
    assert verified.status_code == 200
    assert "Your email address is verified" in await verified.get_data(as_text=True)

    # The claim was refreshed in this browser's session: the badge flips without signing in again.
    after = await user.get("/dashboard")
    after_body = await after.get_data(as_text=True)
    assert 'badge-verified">verified' in after_body
    assert "not verified" not in after_body

    again = await user.get(f"/verify-email?token={token}")
    assert again.status_code == 400
    assert "already used" in await again.get_data(as_text=True)


async def test_verify_email_send_without_js_renders_account_page(user: QuartClient) -> None:
    response = await user.post("/verify-email/send")
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in body and "Your account" in body and "We sent a verification link" in body


async def test_verify_email_link_in_another_browser(
    user: QuartClient, second_client: QuartClient, email_sink: Path
) -> None:
    await user.post("/verify-email/send")
    token = last_token(email_sink, "email_verification")
    response = await second_client.get(f"/verify-email?token={token}")
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your email address is verified" in body and 'href="/login"' in body


async def test_verify_email_already_verified(user: QuartClient, email_sink: Path) -> None:
    await user.post("/verify-email/send")
    token = last_token(email_sink, "email_verification")
    await user.get(f"/verify-email?token={token}")
    response = await user.post("/verify-email/send", headers=HX)
    assert "already verified" in await response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["?token=", "?token=nope", "?token=%FF", "?token=" + "z" * 900])
async def test_verify_email_bad_token(client: QuartClient, query: str) -> None:
    response = await client.get("/verify-email" + query)
    body = await response.get_data(as_text=True)
    assert response.status_code == 400
    assert "invalid, has expired or was already used" in body


async def test_verify_email_without_token(client: QuartClient) -> None:
    anonymous = await client.get("/verify-email")
    assert anonymous.status_code == 200
    assert "sign in" in await anonymous.get_data(as_text=True)
    await sign_up(client)
    signed_in = await client.get("/verify-email")
    assert 'id="verification-card"' in await signed_in.get_data(as_text=True)


async def test_verify_email_send_requires_session(client: QuartClient) -> None:
    page = await client.post("/verify-email/send")
    assert page.status_code == 303
    assert page.headers["Location"].startswith("/login")
    htmx = await client.post("/verify-email/send", headers=HX)
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"].startswith("/login")


@pytest.mark.parametrize("path", ["/login", "/signup"])
async def test_signed_in_user_skips_sign_in_pages(user: QuartClient, path: str) -> None:
    response = await user.get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard"


async def test_duplicate_email_sign_up(client: QuartClient) -> None:
    await sign_up(client)
    client.cookie_jar.clear()  # type: ignore[union-attr]
    response = await client.post("/signup", form={"email": EMAIL, "password": PASSWORD}, headers=HX)
    body = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-error"' in body and "<html" not in body


async def test_wrong_password_sign_in(client: QuartClient) -> None:
    await sign_up(client)
    client.cookie_jar.clear()  # type: ignore[union-attr]
    response = await client.post("/login", form={"email": EMAIL, "password": "wrong-pass-9"})
    assert response.status_code == 422
    assert "Incorrect email or password" in await response.get_data(as_text=True)


async def test_oversized_body_is_413(client: QuartClient) -> None:
    response = await client.post("/forgot-password", data=b"email=" + b"a" * 40_000, headers=FORM)
    assert response.status_code == 413
    assert "too large" in await response.get_data(as_text=True)


@pytest.fixture(name="short_token_app")
async def _short_token_app(localcore: RunningCore, email_sink: Path) -> AsyncIterator[Quart]:
    """The app on a core app whose access tokens live 2 s, so token-only pages re-check soon."""
    from app import create_app

    # Whole-second token times: a 2 s token has 1-2 s left when issued, and is gone after 2.1 s.
    uri = localcore.new_app(access_token_validity=2)
    app = create_app(Settings(connection_uri=uri, email_sink=email_sink))
    try:
        async with app.test_app():
            yield app
    finally:
        localcore.remove_app(uri)


async def _follow_to_login(client: QuartClient, path: str) -> str:
    """Follow a page load's redirects (the refresh hop included); return where it ends."""
    location = path
    for _ in range(4):
        response = await client.get(location)
        if response.status_code != 303:
            return location
        location = response.headers["Location"]
    return location


async def test_password_reset_signs_out_every_session(
    short_token_app: Quart, email_sink: Path
) -> None:
    first, second, anonymous = (short_token_app.test_client() for _ in range(3))
    await sign_up(first)
    assert (await first.get("/dashboard")).status_code == 200
    await sign_in(second)

    await anonymous.post("/forgot-password", form={"email": EMAIL})
    token = last_token(email_sink, "password_reset")
    done = await anonymous.post(
        "/reset-password",
        form={"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert done.status_code == 200
    assert "signed out everywhere" in await done.get_data(as_text=True)

    # Pages that check the database know at once; token-only pages once the access token expires
    # (2 s here): the refresh then fails, so both end at the sign-in page.
    for client in (first, second):
        assert (await _follow_to_login(client, "/account")) == "/login?redirectBack=%2Faccount"
    await asyncio.sleep(2.1)
    for client in (first, second):
        assert (await _follow_to_login(client, "/dashboard")) == "/login?redirectBack=%2Fdashboard"

    await sign_in(second, password=NEW_PASSWORD)
    assert (await second.get("/dashboard")).status_code == 200


async def test_reset_password_for_deleted_account_is_invalid_link(
    client: QuartClient, email_sink: Path
) -> None:
    from supertokens_python.asyncio import delete_user

    await sign_up(client)
    user_id = str((await (await client.get("/whoami")).get_json())["userId"])
    await client.post("/forgot-password", form={"email": EMAIL})
    token = last_token(email_sink, "password_reset")
    await delete_user(user_id)

    response = await client.post(
        "/reset-password",
        form={"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert response.status_code == 422
    assert "invalid, has expired or was already used" in await response.get_data(as_text=True)
