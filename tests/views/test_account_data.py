"""`/account/data` needs a verified email: a failed claim that names where it is satisfied.

An unverified user is sent to the verify-email page (303 for a page, `HX-Redirect` for htmx,
never a 403 and never a refresh); after verifying, the page renders. A request that cannot follow
a redirect (a form POST to a claim-guarded route) stays a 403: see tests/guard/.
"""

from __future__ import annotations

from pathlib import Path

from quart.testing import QuartClient

from tests.views.conftest import HX, last_token, text


async def test_an_unverified_page_load_goes_to_the_verify_email_page(user: QuartClient) -> None:
    response = await user.get("/account/data")
    assert response.status_code == 303
    assert response.headers["Location"] == "/verify-email?redirectBack=%2Faccount%2Fdata"
    assert "Set-Cookie" not in response.headers  # the session is untouched
    landing = await user.get(response.headers["Location"])
    assert landing.status_code == 200
    assert 'hx-post="/verify-email/send"' in text(await landing.get_data())


async def test_an_unverified_htmx_request_gets_hx_redirect_not_a_3xx(user: QuartClient) -> None:
    response = await user.get(
        "/account/data", headers={**HX, "HX-Current-URL": "http://localhost/account"}
    )
    assert response.status_code == 200  # not 401: there is nothing to refresh
    assert response.headers["HX-Redirect"] == "/verify-email?redirectBack=%2Faccount"
    assert "Location" not in response.headers


async def test_a_verified_user_sees_the_data(user: QuartClient, email_sink: Path) -> None:
    await user.post("/verify-email/send")
    verified = await user.get(f"/verify-email?token={last_token(email_sink, 'email_verification')}")
    assert verified.status_code == 200
    response = await user.get("/account/data")
    assert response.status_code == 200, response.headers.get("Location")
    body = text(await response.get_data())
    assert "Your data" in body and "ada@example.test" in body


async def test_signed_out_it_is_the_sign_in_page_as_for_any_page(client: QuartClient) -> None:
    response = await client.get("/account/data")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?redirectBack=%2Faccount%2Fdata"
