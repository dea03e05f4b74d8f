"""The /account page: profile edited in place, password change signing out other sessions."""

from __future__ import annotations

import re

import pytest
from quart.testing import QuartClient
from supertokens_python.asyncio import delete_user
from supertokens_python.recipe.usermetadata.asyncio import get_user_metadata

from tests.views.conftest import EMAIL, FORM, HX, PASSWORD, sign_in

NEW_PASSWORD = "changed-pass-77"


async def _user_id(client: QuartClient) -> str:
    response = await client.get("/whoami")
    return str((await response.get_json())["userId"])


async def test_account_page(user: QuartClient) -> None:
    response = await user.get("/account")
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in body
    for card in ('id="profile-card"', 'id="password-card"', 'id="verification-card"'):
        assert card in body
    assert '<label for="display_name">' in body and '<label for="time_zone">' in body
    assert "<option selected>UTC</option>" in body


async def test_account_requires_session(client: QuartClient) -> None:
    page = await client.get("/account")
    assert page.status_code == 303
    assert page.headers["Location"] == "/login?redirectBack=%2Faccount"
    fragment = await client.post("/account/profile", form={}, headers=HX)
    assert fragment.status_code == 401 and "HX-Redirect" in fragment.headers


@pytest.mark.parametrize("htmx", [False, True])
async def test_profile_save(user: QuartClient, htmx: bool) -> None:
    response = await user.post(
        "/account/profile",
        form={"display_name": "  Ada   Lovelace ", "time_zone": "Europe/London"},
        headers=HX if htmx else {},
    )
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Profile saved." in body
    assert 'value="Ada Lovelace"' in body
    assert "<option selected>Europe/London</option>" in body
    if htmx:
        assert body.lstrip().startswith('<form id="profile-card"') and "<html" not in body
    else:
        assert "<html" in body

    metadata = await get_user_metadata(await _user_id(user))
    assert metadata.metadata == {"displayName": "Ada Lovelace", "timeZone": "Europe/London"}

    # The name is in the access token now: the header shows it with no metadata lookup.
    dashboard = await user.get("/dashboard")
    assert 'class="nav-user-name"' in (page := await dashboard.get_data(as_text=True))
    assert "Ada Lovelace</span>" in page


async def test_profile_save_updates_header_name_out_of_band(user: QuartClient) -> None:
    """The htmx answer carries the header's name too, so the new name shows at once."""
    page = await (await user.get("/account")).get_data(as_text=True)
    assert page.count('id="nav-user-name"') == 1  # the header's, and no out-of-band copy
    assert "hx-swap-oob" not in page

    response = await user.post(
        "/account/profile",
        form={"display_name": "Grace <Hopper>", "time_zone": "UTC"},
        headers=HX,
    )
    assert response.status_code == 422  # "<" is refused: no header update on an error
    assert 'id="nav-user-name"' not in await response.get_data(as_text=True)

    response = await user.post(
        "/account/profile", form={"display_name": "Grace Hopper", "time_zone": "UTC"}, headers=HX
    )
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<form id="profile-card"')
    oob = re.search(r'<span class="nav-user-name" id="nav-user-name"[^>]*>(.*?)</span>\s*$', body)
    assert oob, body
    assert 'hx-swap-oob="true"' in oob.group(0)
    assert f'title="{EMAIL}"' in oob.group(0)
    assert oob.group(1).endswith("Grace Hopper")

    # Without htmx the whole page re-renders with the new name in its one header.
    page = await (
        await user.post("/account/profile", form={"display_name": "Ada L", "time_zone": "UTC"})
    ).get_data(as_text=True)
    assert page.count('id="nav-user-name"') == 1 and "hx-swap-oob" not in page
    assert "Ada L</span>" in page


@pytest.mark.parametrize(
    ("fields", "error_id"),
    [
        ({"display_name": "", "time_zone": "UTC"}, "display_name-error"),
        ({"display_name": "   ", "time_zone": "UTC"}, "display_name-error"),
        ({"display_name": "x" * 51, "time_zone": "UTC"}, "display_name-error"),
        ({"display_name": "bell\x07", "time_zone": "UTC"}, "display_name-error"),
        ({"display_name": "<script>", "time_zone": "UTC"}, "display_name-error"),
        ({"display_name": "Ada", "time_zone": "Mars/Olympus"}, "time_zone-error"),
        ({"display_name": "Ada", "time_zone": ""}, "time_zone-error"),
        ({"display_name": "Ada"}, "time_zone-error"),
        ({}, "display_name-error"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
async def test_profile_errors_inline(
    user: QuartClient, fields: dict[str, str], error_id: str, htmx: bool
) -> None:
    response = await user.post("/account/profile", form=fields, headers=HX if htmx else {})
    body = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{error_id}"' in body and 'aria-invalid="true"' in body
    assert ("<html" in body) is not htmx
    assert "&lt;script&gt;" in body or "<script>" not in body.split('id="profile-card"')[1]


async def test_profile_accepts_unicode_names(user: QuartClient) -> None:
    response = await user.post(
        "/account/profile", form={"display_name": "Zoë O'Brien-Łukasz 2", "time_zone": "Asia/Tokyo"}
    )
    assert response.status_code == 200


async def test_profile_non_utf8_body(user: QuartClient) -> None:
    response = await user.post(
        "/account/profile", data=b"display_name=%FF%FE&time_zone=UTC", headers=FORM
    )
    assert response.status_code == 422
    assert 'id="display_name-error"' in await response.get_data(as_text=True)


async def test_profile_raw_invalid_bytes_body(user: QuartClient) -> None:
    response = await user.post("/account/profile", data=b"display_name=\xff\xfe", headers=FORM)
    assert response.status_code == 422


async def test_profile_oversized_body(user: QuartClient) -> None:
    response = await user.post(
        "/account/profile", data=b"display_name=" + b"a" * 20_000, headers={**FORM, **HX}
    )
    assert response.status_code == 413
    assert "<html" not in await response.get_data(as_text=True)


async def test_password_change_signs_out_other_sessions(
    user: QuartClient, second_client: QuartClient, app: object
) -> None:
    await sign_in(second_client)
    from quart import Quart

    assert isinstance(app, Quart)
    third = app.test_client()
    await sign_in(third)

    response = await user.post(
        "/account/password",
        form={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=HX,
    )
    body = await response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert body.lstrip().startswith('<form id="password-card"')
    assert "Password changed. 2 other sessions were signed out." in body

    # This browser stays signed in; the others are sent to sign in again.
    assert (await user.get("/account")).status_code == 200
    other = await second_client.get("/account")
    assert other.status_code == 303
    assert other.headers["Location"].startswith("/auth/session/refresh")

    third.cookie_jar.clear()  # type: ignore[union-attr]
    await sign_in(third, password=NEW_PASSWORD)


async def test_password_change_without_js_and_no_other_sessions(user: QuartClient) -> None:
    response = await user.post(
        "/account/password", form={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in body and "No other session was signed in." in body


@pytest.mark.parametrize(
    ("fields", "error_id"),
    [
        ({"current_password": "wrong-pass-1", "new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": "", "new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": "x" * 500, "new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD, "new_password": "short1"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "lettersonly"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password"),
        ({}, "current_password"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
async def test_password_change_errors(
    user: QuartClient, fields: dict[str, str], error_id: str, htmx: bool
) -> None:
    response = await user.post("/account/password", form=fields, headers=HX if htmx else {})
    body = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{error_id}-error"' in body
    assert ("<html" in body) is not htmx
    # The password is unchanged.
    user.cookie_jar.clear()  # type: ignore[union-attr]
    await sign_in(user)


async def test_password_change_non_utf8(user: QuartClient) -> None:
    response = await user.post(
        "/account/password", data=b"current_password=%FF&new_password=%FF%FEabc12345", headers=FORM
    )
    assert response.status_code == 422


async def test_deleted_user_is_sent_to_sign_in(user: QuartClient) -> None:
    user_id = await _user_id(user)
    await delete_user(user_id)

    page = await user.get("/account")
    assert page.status_code == 303
    # The refresh hop fails (the session is gone), clears the cookies and lands on sign-in.
    hop = await user.get(page.headers["Location"])
    assert hop.status_code == 303
    assert hop.headers["Location"] == "/login?redirectBack=%2Faccount"
    assert (await user.get(hop.headers["Location"])).status_code == 200
    again = await user.get("/sessions")
    assert again.status_code == 303
    assert again.headers["Location"] == "/login?redirectBack=%2Fsessions"
    fragment = await user.post(
        "/account/profile", form={"display_name": "Ghost", "time_zone": "UTC"}, headers=HX
    )
    assert fragment.status_code == 401 and "HX-Redirect" in fragment.headers


async def test_deleted_user_htmx_fragment_with_old_cookies(user: QuartClient) -> None:
    await delete_user(await _user_id(user))
    fragment = await user.post(
        "/account/profile", form={"display_name": "Ghost", "time_zone": "UTC"}, headers=HX
    )
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"].startswith("/auth/session/refresh")


async def test_deleted_user_dashboard_never_500(user: QuartClient) -> None:
    await delete_user(await _user_id(user))
    for path in ("/", "/dashboard", "/dashboard/session", "/admin", "/verify-email"):
        response = await user.get(path)
        assert response.status_code < 500, path
