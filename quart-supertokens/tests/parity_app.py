"""The app the parity tests drive (the SDK's test app, for Quart) and their small helpers."""

from __future__ import annotations

from http.cookies import Morsel, SimpleCookie
from typing import Any

from quart import Quart, Response, jsonify, request
from quart.testing import QuartClient
from supertokens_python.recipe.emailverification import EmailVerificationClaim
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.asyncio import create_new_session, get_session
from supertokens_python.recipe.session.exceptions import UnauthorisedError
from supertokens_python.types import RecipeUserId

from quart_supertokens import QuartSuperTokens, add_claim_validators, verify_session
from quart_supertokens.framework import QuartRequest

PASSWORD = "pass-word-1"


def api_app(name: str = "api", **options: Any) -> Quart:
    """The SDK's test app, for Quart: SDK API served, JSON routes with `verify_session`."""
    app = Quart(name)
    QuartSuperTokens(app, **options)

    @app.post("/create")
    async def create() -> Response:
        user_id = (await request.get_json())["userId"]
        await create_new_session(QuartRequest(request), "public", RecipeUserId(user_id))
        return jsonify({})

    @app.post("/create-then-fail")
    async def create_then_fail() -> Response:
        user_id = (await request.get_json())["userId"]
        await create_new_session(QuartRequest(request), "public", RecipeUserId(user_id))
        raise UnauthorisedError("after creating", clear_tokens=True)

    @app.route("/info", methods=["GET", "POST", "OPTIONS"])
    @verify_session()
    async def info() -> Response:
        session = await _session()
        return jsonify({"userId": session.get_user_id() if session else None})

    @app.route("/optional", methods=["GET", "OPTIONS"])
    @verify_session(session_required=False)
    async def optional() -> Response:
        session = await _session()
        return jsonify({"userId": session.get_user_id() if session else None})

    @app.get("/admin")
    @verify_session(
        override_global_claim_validators=add_claim_validators(
            EmailVerificationClaim.validators.is_verified()  # type: ignore[attr-defined]
        )
    )
    async def admin() -> Response:
        return jsonify({"ok": True})

    @app.get("/handle")
    async def handle() -> Response:
        session = await get_session(QuartRequest(request), session_required=False)
        return jsonify({"userId": session.get_user_id() if session else None})

    return app


async def _session() -> SessionContainer | None:
    return QuartRequest(request).get_session()


def set_cookies(response: Response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie header of a response, parsed, by cookie name."""
    parsed: dict[str, SimpleCookie] = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            parsed[name] = cookie
    return parsed


async def sign_up(
    client: QuartClient, email: str, headers: dict[str, str] | None = None
) -> Response:
    fields = [{"id": "email", "value": email}, {"id": "password", "value": PASSWORD}]
    response = await client.post("/auth/signup", json={"formFields": fields}, headers=headers)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return response


def jar(client: QuartClient, name: str) -> str | None:
    return next((c.value for c in client.cookie_jar if c.name == name), None)


def _email(tag: str) -> str:
    import uuid

    return f"{tag}-{uuid.uuid4().hex[:8]}@example.test"


EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def morsels(response: Response) -> dict[str, Morsel[str]]:
    """Each Set-Cookie of a response as a Morsel, by cookie name (the last one wins)."""
    found: dict[str, Morsel[str]] = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        found.update(cookie)
    return found


def extract_info(response: Response) -> dict[str, Any]:
    """What the SDK's tests read off a response: tokens from cookies and from headers."""
    cookies = morsels(response)

    def cookie(name: str) -> str | None:
        return cookies[name].value if name in cookies else None

    return {
        "status": response.status_code,
        "accessToken": cookie("sAccessToken"),
        "refreshToken": cookie("sRefreshToken"),
        "antiCsrf": response.headers.get("anti-csrf"),
        "frontToken": response.headers.get("front-token"),
        "accessTokenFromHeader": response.headers.get("st-access-token"),
        "refreshTokenFromHeader": response.headers.get("st-refresh-token"),
        "cookies": cookies,
    }


def cookie_header(**cookies: str) -> dict[str, str]:
    """A raw `Cookie` request header with these cookies."""
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


def cookie_pairs(*pairs: tuple[str, str]) -> dict[str, str]:
    """A raw `Cookie` header that may carry one name twice, as a browser sends duplicates."""
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in pairs)}
