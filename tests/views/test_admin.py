"""/admin behind the `admin` role claim, and `python -m app create-admin`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from quart.testing import QuartClient

from app.__main__ import create_admin
from tests.views.conftest import EMAIL, HX, PASSWORD, sign_in, sign_up

ROOT = Path(__file__).resolve().parents[2]


async def _admin_client(client: QuartClient) -> QuartClient:
    await sign_up(client)
    await create_admin(EMAIL, None)
    # Roles are in the access token, fetched at sign-in: sign in again to carry the new one.
    client.cookie_jar.clear()  # type: ignore[union-attr]
    await sign_in(client)
    return client


@pytest.mark.parametrize("htmx", [False, True])
async def test_admin_forbidden_without_role(user: QuartClient, htmx: bool) -> None:
    response = await user.get("/admin", headers=HX if htmx else {})
    body = await response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Error 403" in body and "<code>st-role</code>" in body
    assert ("<html" in body) is not htmx


async def test_admin_requires_session(client: QuartClient) -> None:
    response = await client.get("/admin")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?redirectBack=%2Fadmin"


async def test_existing_session_gets_role_after_signing_in_again(user: QuartClient) -> None:
    await create_admin(EMAIL, None)
    assert (await user.get("/admin")).status_code == 403  # the token still says no role
    user.cookie_jar.clear()  # type: ignore[union-attr]
    await sign_in(user)
    assert (await user.get("/admin")).status_code == 200


async def test_role_reaches_existing_session_within_a_minute(
    user: QuartClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import supertokens_python.recipe.session.claim_base_classes.primitive_array_claim as claims

    from app.views.admin import ROLE_MAX_AGE

    await create_admin(EMAIL, None)
    assert (await user.get("/admin")).status_code == 403
    real_now = claims.get_timestamp_ms
    monkeypatch.setattr(claims, "get_timestamp_ms", lambda: real_now() + ROLE_MAX_AGE * 1000 + 1)
    assert (await user.get("/admin")).status_code == 200  # re-fetched, and the token updated
    monkeypatch.setattr(claims, "get_timestamp_ms", real_now)
    assert (await user.get("/admin")).status_code == 200


async def test_admin_page_lists_users_and_roles(
    client: QuartClient, second_client: QuartClient
) -> None:
    await sign_up(second_client, email="bob@example.test")
    admin = await _admin_client(client)

    response = await admin.get("/admin")
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in body and 'href="/admin"' in body  # nav shows the Admin link
    assert EMAIL in body and 'badge-current">admin' in body
    # The local core lists users (GET /users): everyone is on the page, Bob without a role.
    assert "cannot list every user" not in body
    assert "bob@example.test" in body and "none</span>" in body

    found = await admin.get("/admin?email=BOB@example.test", headers=HX)
    fragment = await found.get_data(as_text=True)
    assert found.status_code == 200
    assert fragment.lstrip().startswith('<section id="users-table"') and "<html" not in fragment
    assert "bob@example.test" in fragment and "none</span>" in fragment


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("query", ["?email=not-an-email", "?email=%FF%FE", "?email=" + "a" * 400])
async def test_admin_search_bad_input(client: QuartClient, query: str, htmx: bool) -> None:
    admin = await _admin_client(client)
    response = await admin.get("/admin" + query, headers=HX if htmx else {})
    body = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="search-email-error"' in body
    assert ("<html" in body) is not htmx


@pytest.mark.parametrize(
    "query", ["?page=%FF", "?page=" + "p" * 900, "?page=bogus-token", "?email="]
)
async def test_admin_bad_page_token_never_500(client: QuartClient, query: str) -> None:
    admin = await _admin_client(client)
    response = await admin.get("/admin" + query)
    assert response.status_code == 200
    assert EMAIL in await response.get_data(as_text=True)


async def test_create_admin_reports(client: QuartClient) -> None:
    await sign_up(client)
    first = await create_admin(EMAIL, None)
    assert first.startswith("created the admin role; found ada@example.test; granted admin")
    second = await create_admin(EMAIL, None)
    assert second.startswith("admin role exists; found ada@example.test; already an admin")


async def test_create_admin_needs_password_for_new_account(client: QuartClient) -> None:
    from app.__main__ import CommandError

    with pytest.raises(CommandError, match="--password"):
        await create_admin("new@example.test", None)
    with pytest.raises(CommandError, match="Password refused"):
        await create_admin("new@example.test", "short")


def _run_cli(core_app: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SUPERTOKENS_CONNECTION_URI": core_app,
        "EMAIL_SINK": str(tmp_path / "cli-emails.jsonl"),
        "SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP": "1",
    }
    env.pop("ADMIN_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


async def test_cli_creates_first_admin(core_app: str, tmp_path: Path, client: QuartClient) -> None:
    result = _run_cli(
        core_app, tmp_path, "create-admin", "Carol@Example.test", "--password", PASSWORD
    )
    assert result.returncode == 0, result.stderr
    assert "created the admin role; signed up carol@example.test; granted admin" in result.stdout

    await sign_in(client, email="carol@example.test")
    response = await client.get("/admin")
    assert response.status_code == 200
    assert "carol@example.test" in await response.get_data(as_text=True)


def test_cli_errors(core_app: str, tmp_path: Path) -> None:
    missing = _run_cli(core_app, tmp_path, "create-admin", "dan@example.test")
    assert missing.returncode == 1 and "--password" in missing.stderr
    bad_email = _run_cli(core_app, tmp_path, "create-admin", "not-an-email")
    assert bad_email.returncode == 2 and "valid email" in bad_email.stderr
    usage = _run_cli(core_app, tmp_path)
    assert usage.returncode == 2
