"""Every page of the app as a full page and, where it has one, as its htmx fragment."""

from __future__ import annotations

import re

import pytest
from quart.testing import QuartClient

from tests.views.conftest import HX, sign_up

PUBLIC_PAGES = ["/", "/login", "/signup", "/forgot-password", "/reset-password?token=abc"]
SIGNED_IN_PAGES = ["/dashboard", "/account", "/sessions"]
# Page -> the element a fragment request for it starts with.
FRAGMENTS = {
    "/login": '<form id="auth-form"',
    "/signup": '<form id="auth-form"',
    "/forgot-password": '<div id="forgot-panel">',
    "/reset-password?token=abc": '<div id="reset-panel">',
    "/dashboard": '<section id="session-card"',
    "/dashboard/session": '<section id="session-card"',
    "/sessions": '<section id="sessions-list"',
}


@pytest.mark.parametrize("path", PUBLIC_PAGES)
async def test_public_pages(client: QuartClient, path: str) -> None:
    response = await client.get(path)
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.startswith("<!doctype html>") and '<main id="main"' in body
    assert 'href="/login"' in body  # signed-out navigation


@pytest.mark.parametrize("path", [p for p in PUBLIC_PAGES if p in FRAGMENTS])
async def test_public_fragments(client: QuartClient, path: str) -> None:
    response = await client.get(path, headers=HX)
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(FRAGMENTS[path]) and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
async def test_signed_in_pages(user: QuartClient, path: str) -> None:
    response = await user.get(path)
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.startswith("<!doctype html>")
    assert 'hx-history="false"' in body and 'action="/logout"' in body
    assert response.headers["Cache-Control"] == "no-store, private"


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/session", "/sessions"])
async def test_signed_in_fragments(user: QuartClient, path: str) -> None:
    response = await user.get(path, headers=HX)
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(FRAGMENTS[path]) and "<html" not in body


@pytest.mark.parametrize("path", ["/dashboard", "/sessions"])
async def test_history_restore_gets_full_page(user: QuartClient, path: str) -> None:
    response = await user.get(path, headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in await response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/forgot-password", "/reset-password?token=abc", "/sessions"])
async def test_fragment_is_part_of_its_page(user: QuartClient, path: str) -> None:
    """One template per page: the fragment is byte for byte inside the full page."""
    fragment = (await (await user.get(path, headers=HX)).get_data(as_text=True)).strip()
    page = await (await user.get(path)).get_data(as_text=True)
    assert fragment in page


async def test_landing_page_signed_in(user: QuartClient) -> None:
    body = await (await user.get("/")).get_data(as_text=True)
    assert 'href="/dashboard"' in body and 'href="/account"' in body


async def test_dashboard_verification_badge_and_send_form(user: QuartClient) -> None:
    body = await (await user.get("/dashboard")).get_data(as_text=True)
    assert 'class="badge badge-unverified">not verified' in body
    assert re.search(r'<form method="post" action="/verify-email/send"', body)


async def test_every_form_field_has_a_label(user: QuartClient, client: QuartClient) -> None:
    for path in ["/account", "/sessions"]:
        body = await (await user.get(path)).get_data(as_text=True)
        for field_id in re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', body):
            assert f'<label for="{field_id}">' in body, (path, field_id)


@pytest.mark.parametrize("path", SIGNED_IN_PAGES + ["/admin"])
async def test_signed_out_pages_go_to_sign_in(client: QuartClient, path: str) -> None:
    page = await client.get(path)
    assert page.status_code == 303 and page.headers["Location"].startswith("/login")
    fragment = await client.get(path, headers=HX)
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"].startswith("/login")


async def test_sign_in_pages_link_the_account_flows(client: QuartClient) -> None:
    body = await (await client.get("/login")).get_data(as_text=True)
    assert 'href="/forgot-password"' in body
    await sign_up(client)
    assert (await client.get("/signup")).headers["Location"] == "/dashboard"
