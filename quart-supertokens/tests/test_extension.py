"""The extension object and the SSR guard through small apps: options, several apps, testing.

Self-contained: a real local core (the repository's `python -m localcore`) for this module, the
real SDK, and apps built here with the public API only.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import init_sdk, new_core_app, new_user, reset_sdk
from quart import Quart, render_template_string, request
from supertokens_python.recipe.emailverification import EmailVerificationClaim
from supertokens_python.recipe.session.asyncio import (
    create_new_session_without_request_response,
    get_session_information,
)
from supertokens_python.types import RecipeUserId

import quart_supertokens
from quart_supertokens import (
    QuartSuperTokens,
    add_claim_validators,
    current_session,
    forget_current_session,
    get_current_session,
    require_session,
    verify_session,
)
from quart_supertokens.testing import authenticated_client, create_session_for

HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/page"}


def make_app(name: str = "ext", **options: Any) -> Quart:
    """A small app: one protected page, one fragment, one claim-guarded page and form."""
    app = Quart(name)
    QuartSuperTokens(app, **options)

    @app.get("/page")
    @require_session()
    async def page() -> str:
        return await render_template_string("user {{ current_session.get_user_id() }}")

    @app.get("/optional")
    @require_session(optional=True)
    async def optional() -> str:
        return "anonymous" if not current_session else "signed in"

    verified = add_claim_validators(EmailVerificationClaim.validators.is_verified())  # type: ignore[attr-defined]

    @app.route("/verified", methods=["GET", "POST"])
    @require_session(
        override_global_claim_validators=verified, claim_redirects={"st-ev": "/verify"}
    )
    async def verified_only() -> str:
        return "verified " + request.method

    return app


@pytest.fixture(name="app")
async def _app(sdk: None) -> AsyncIterator[Quart]:
    app = make_app()
    async with app.test_app():
        yield app


def test_importing_the_package_starts_nothing() -> None:
    code = (
        "import quart_supertokens, quart_supertokens.testing, quart_supertokens.framework\n"
        "import supertokens_python.utils as u\n"
        "from supertokens_python import Supertokens\n"
        "from supertokens_python.querier import Querier\n"
        "assert type(u.FRAMEWORKS['flask']).__name__ == 'FlaskFramework'\n"
        "assert Querier.api_request.__module__ == 'supertokens_python.querier'\n"
        "try:\n    Supertokens.get_instance()\nexcept Exception:\n    print('not initialised')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "not initialised"


def test_init_app_before_the_sdk_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERTOKENS_ENV", "testing")
    reset_sdk()
    with pytest.raises(RuntimeError, match=r"quart_supertokens\.init"):
        QuartSuperTokens(Quart("early"))


def test_options_come_from_keywords_then_config_keys(sdk: None) -> None:
    app = Quart("configured")
    app.config["QUART_SUPERTOKENS_LOGIN_URL"] = "/from-config"
    app.config["QUART_SUPERTOKENS_HTMX_AUTH_STATUS"] = 403
    QuartSuperTokens(app, htmx_auth_status=418)
    options = app.extensions["QUART_SUPERTOKENS"]
    assert options.login_url == "/from-config"
    assert options.htmx_auth_status == 418  # the keyword wins
    assert app.config["QUART_SUPERTOKENS_HTMX_AUTH_STATUS"] == 418  # written back
    assert app.config["QUART_SUPERTOKENS_REDIRECT_PARAM"] == "redirectBack"  # defaults too


def test_an_unknown_option_is_refused(sdk: None) -> None:
    with pytest.raises(TypeError, match="loginurl"):
        QuartSuperTokens(Quart("typo"), loginurl="/x")


async def test_without_a_session_a_page_goes_to_login_and_htmx_gets_hx_redirect(
    app: Quart,
) -> None:
    client = app.test_client()
    page = await client.get("/page")
    assert page.status_code == 303
    assert page.headers["Location"] == "/login?redirectBack=%2Fpage"
    assert page.headers["Cache-Control"] == "no-store, private"
    fragment = await client.get("/page", headers=HX)
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"] == "/login?redirectBack=%2Fpage"
    assert "Location" not in fragment.headers


async def test_several_apps_in_one_process_keep_their_own_options(sdk: None) -> None:
    first = make_app("first", login_url="/first-login", htmx_auth_status=401)
    second = make_app("second", login_url="/second-login", redirect_param="next")
    second.config["QUART_SUPERTOKENS_HTMX_AUTH_STATUS"] = 200
    async with first.test_app(), second.test_app():
        one = await first.test_client().get("/page")
        two = await second.test_client().get("/page")
        assert one.headers["Location"] == "/first-login?redirectBack=%2Fpage"
        assert two.headers["Location"] == "/second-login?next=%2Fpage"
        # The config key was read at init_app; it stays what init_app resolved (401).
        assert (await second.test_client().get("/page", headers=HX)).status_code == 401


async def test_authenticated_client_signs_in_for_the_block_and_revokes_after(app: Quart) -> None:
    client = app.test_client()
    user_id = await new_user()
    async with authenticated_client(client, user_id) as signed_in:
        response = await signed_in.get("/page")
        assert response.status_code == 200
        assert await response.get_data(as_text=True) == f"user {user_id}"
        assert await (await signed_in.get("/optional")).get_data(as_text=True) == "signed in"
        handle = await _handle_of(signed_in)
    assert (await client.get("/page")).status_code == 303
    assert await get_session_information(handle) is None


async def _handle_of(client: Any) -> str:
    app = client.app
    token = next(c.value for c in client.cookie_jar if c.name == "sAccessToken")
    async with app.test_request_context("/", headers={"Cookie": f"sAccessToken={token}"}):
        session = await quart_supertokens.check_session()
        assert session is not None and get_current_session() is session
        return session.get_handle()


async def test_a_failed_claim_redirects_where_it_can_be_satisfied_else_403(app: Quart) -> None:
    async with authenticated_client(app.test_client(), await new_user()) as client:
        page = await client.get("/verified")
        assert page.status_code == 303
        assert page.headers["Location"] == "/verify?redirectBack=%2Fverified"
        fragment = await client.get("/verified", headers=HX)
        assert fragment.status_code == 200 and "Location" not in fragment.headers
        assert fragment.headers["HX-Redirect"] == "/verify?redirectBack=%2Fpage"
        # A form submission cannot be redirected to satisfy the claim: it stays a 403.
        post = await client.post("/verified")
        assert post.status_code == 403


async def test_serving_the_auth_api_can_be_turned_off(sdk: None) -> None:
    on, off = make_app("on"), make_app("off", serve_auth_api=False)
    async with on.test_app(), off.test_app():
        body = {"formFields": []}
        answered = await on.test_client().post("/auth/session/refresh", json=body)
        assert answered.status_code == 401  # the SDK's own answer: no refresh token
        assert (await off.test_client().post("/auth/session/refresh", json=body)).status_code in (
            404,
            405,
        )


async def test_cross_origin_protection_is_on_by_default_and_can_be_turned_off(sdk: None) -> None:
    guarded, open_app = make_app("guarded"), make_app("open", cross_origin_protection=False)
    foreign = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    async with guarded.test_app(), open_app.test_app():
        assert (await guarded.test_client().post("/verified", headers=foreign)).status_code == 403
        # Without the protection the request reaches the guard (no session: sign in).
        response = await open_app.test_client().post("/verified", headers=foreign)
        assert response.status_code == 303


async def test_the_refresh_hop_is_registered_and_refuses_a_browser_without_tokens(
    app: Quart,
) -> None:
    response = await app.test_client().get("/auth/session/refresh?redirectBack=/page")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?redirectBack=%2Fpage"


async def test_create_session_for_makes_a_real_session(sdk: None) -> None:
    user_id = await new_user()
    session = await create_session_for(user_id, {"custom": 1})
    info = await get_session_information(session.get_handle())
    assert info is not None and info.user_id == user_id
    assert session.get_access_token_payload()["custom"] == 1
    assert "authAt" in session.get_access_token_payload()  # stamped by the extension


async def test_the_refresh_hop_keeps_redirect_back_and_its_marker_lives_the_loop_window(
    core_uri: str,
) -> None:
    # `redirect_param` names the login page's parameter; the hop's is fixed by its route
    # (`?redirectBack=`). The marker must outlive a loop window longer than a minute.
    init_sdk(new_core_app(core_uri, access_token_validity=1))
    app = make_app("hop", redirect_param="next", refresh_loop_window=120)
    async with app.test_app():
        session = await create_new_session_without_request_response(
            "public", RecipeUserId(await new_user()), {}
        )
        tokens = session.get_all_session_tokens_dangerously()
        client = app.test_client()
        client.set_cookie("localhost", "sAccessToken", tokens["accessToken"])
        client.set_cookie(
            "localhost", "sRefreshToken", tokens["refreshToken"], path="/auth/session/refresh"
        )
        await asyncio.sleep(1.5)
        page = await client.get("/page")
        assert page.status_code == 303
        assert page.headers["Location"] == "/auth/session/refresh?redirectBack=%2Fpage"
        hop = await client.get(page.headers["Location"])
        assert hop.status_code == 303 and hop.headers["Location"] == "/page"
        marker = next(h for h in hop.headers.getlist("Set-Cookie") if h.startswith("refreshed="))
        assert "Max-Age=125" in marker
        assert (await client.get("/page")).status_code == 200
        login = await app.test_client().get("/page")
        assert login.headers["Location"] == "/login?next=%2Fpage"


async def test_current_session_is_the_verify_session_session_in_a_json_view(sdk: None) -> None:
    app = Quart("api")
    QuartSuperTokens(app)

    @app.get("/api/me")
    @verify_session()
    async def me() -> dict[str, Any]:
        return {"user": current_session.get_user_id() if current_session else None}

    @app.get("/api/forget")
    @verify_session()
    async def forget() -> dict[str, Any]:
        forget_current_session()
        return {"session": get_current_session() is not None}

    async with app.test_app():
        user_id = await new_user()
        async with authenticated_client(app.test_client(), user_id) as client:
            assert await (await client.get("/api/me")).get_json() == {"user": user_id}
            assert await (await client.get("/api/forget")).get_json() == {"session": False}
        assert (await app.test_client().get("/api/me")).status_code == 401
