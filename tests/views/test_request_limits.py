"""Request size limits: 1 MiB app-wide, 16 KiB and 20 parts for every form, 413 page or fragment."""

from __future__ import annotations

import pytest
from quart import Quart
from quart.testing import QuartClient

from tests.views.conftest import FORM, HX

HTMX_CASES = [pytest.param(False, id="page"), pytest.param(True, id="fragment")]
TWO_MIB = 2 * 1024 * 1024


def _assert_413(body: str, htmx: bool) -> None:
    assert "Error 413" in body and "too large" in body
    if htmx:
        assert body.lstrip().startswith('<section class="card error-panel"')
        assert "<html" not in body
    else:
        assert "<html" in body


def test_limits_are_configured(app: Quart) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.config["MAX_FORM_MEMORY_SIZE"] == 16 * 1024
    assert app.config["MAX_FORM_PARTS"] == 20


@pytest.mark.parametrize("path", ["/login", "/signup", "/logout"])
@pytest.mark.parametrize("htmx", HTMX_CASES)
async def test_oversized_auth_form_is_413(client: QuartClient, path: str, htmx: bool) -> None:
    """Far below the app-wide 1 MiB, far above what a sign-in form needs."""
    response = await client.post(
        path,
        data=b"email=" + b"a" * 40_000 + b"%40example.test&password=x",
        headers={**FORM, **(HX if htmx else {})},
    )
    assert response.status_code == 413
    _assert_413(await response.get_data(as_text=True), htmx)


@pytest.mark.parametrize("htmx", HTMX_CASES)
async def test_too_many_multipart_parts_is_413(client: QuartClient, htmx: bool) -> None:
    boundary = "b0undary"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n'
        for i in range(25)
    )
    response = await client.post(
        "/login",
        data=(parts + f"--{boundary}--\r\n").encode(),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            **(HX if htmx else {}),
        },
    )
    assert response.status_code == 413
    _assert_413(await response.get_data(as_text=True), htmx)


async def test_normal_sign_in_form_still_works(client: QuartClient) -> None:
    response = await client.post(
        "/login", form={"email": "nobody@example.test", "password": "wrong-pass-1"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/login", "application/x-www-form-urlencoded"),
        ("POST", "/auth/signin", "application/json"),  # the SDK's JSON API
        ("POST", "/auth/session/refresh", "application/json"),
        ("POST", "/", "application/x-www-form-urlencoded"),  # no POST route: still 413
        ("POST", "/no/such/page", "application/octet-stream"),
        ("PUT", "/healthz", "application/octet-stream"),
    ],
)
async def test_two_mib_anywhere_is_413(
    client: QuartClient, method: str, path: str, content_type: str
) -> None:
    response = await client.open(
        path,
        method=method,
        data=b"{" + b" " * TWO_MIB + b"}",
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 413
    _assert_413(await response.get_data(as_text=True), htmx=False)


async def test_two_mib_htmx_is_413_fragment(client: QuartClient) -> None:
    response = await client.post("/sessions", data=b"x" * TWO_MIB, headers={**FORM, **HX})
    assert response.status_code == 413
    _assert_413(await response.get_data(as_text=True), htmx=True)
