"""403, 404, 500 and 503: each renders as a full page, and as a fragment for htmx requests."""

from __future__ import annotations

import pytest
from quart import Quart
from quart.testing import QuartClient

from tests.views.conftest import HX

HTMX_CASES = [pytest.param(False, id="page"), pytest.param(True, id="fragment")]


def _assert_error(body: str, status: int, htmx: bool) -> None:
    assert f"Error {status}" in body
    assert 'role="alert"' in body
    if htmx:
        assert body.lstrip().startswith('<section class="card error-panel"')
        assert "<html" not in body and f'<h2 id="error-{status}-title">' in body
    else:
        assert "<html" in body and f'<h1 id="error-{status}-title">' in body


@pytest.mark.parametrize("htmx", HTMX_CASES)
async def test_404(client: QuartClient, htmx: bool) -> None:
    response = await client.get("/no/such/page", headers=HX if htmx else {})
    body = await response.get_data(as_text=True)
    assert response.status_code == 404
    _assert_error(body, 404, htmx)
    assert 'href="/"' in body


@pytest.mark.parametrize("htmx", HTMX_CASES)
async def test_403_cross_origin(client: QuartClient, htmx: bool) -> None:
    response = await client.post(
        "/forgot-password",
        form={"email": "a@example.test"},
        headers={"Origin": "https://evil.example", **(HX if htmx else {})},
    )
    body = await response.get_data(as_text=True)
    assert response.status_code == 403
    _assert_error(body, 403, htmx)


@pytest.mark.parametrize("htmx", HTMX_CASES)
async def test_403_missing_claim(user: QuartClient, htmx: bool) -> None:
    response = await user.get("/admin", headers=HX if htmx else {})
    body = await response.get_data(as_text=True)
    assert response.status_code == 403
    _assert_error(body, 403, htmx)
    assert "st-role" in body


@pytest.mark.parametrize("htmx", HTMX_CASES)
async def test_500(
    app: Quart, client: QuartClient, monkeypatch: pytest.MonkeyPatch, htmx: bool
) -> None:
    async def broken() -> str:
        raise RuntimeError("boom: secret internals")

    monkeypatch.setitem(app.view_functions, "account.forgot_password_page", broken)
    response = await client.get("/forgot-password", headers=HX if htmx else {})
    body = await response.get_data(as_text=True)
    assert response.status_code == 500
    _assert_error(body, 500, htmx)
    assert "secret internals" not in body and "Traceback" not in body


@pytest.mark.parametrize("htmx", HTMX_CASES)
async def test_503_core_unreachable(offline_app: Quart, htmx: bool) -> None:
    client = offline_app.test_client()
    response = await client.post(
        "/forgot-password", form={"email": "a@example.test"}, headers=HX if htmx else {}
    )
    body = await response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    _assert_error(body, 503, htmx)


@pytest.mark.parametrize("htmx", HTMX_CASES)
async def test_405_and_413_use_the_same_panel(client: QuartClient, htmx: bool) -> None:
    wrong_method = await client.put("/sessions", headers=HX if htmx else {})
    assert wrong_method.status_code == 405
    _assert_error(await wrong_method.get_data(as_text=True), 405, htmx)
    too_large = await client.post(
        "/forgot-password",
        data=b"email=" + b"x" * 100_000,
        headers={"Content-Type": "application/x-www-form-urlencoded", **(HX if htmx else {})},
    )
    assert too_large.status_code == 413
    _assert_error(await too_large.get_data(as_text=True), 413, htmx)
