"""QuartRequest and QuartResponse against the SDK's BaseRequest/BaseResponse contract."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any

import pytest
from quart import Quart, Response, request
from supertokens_python.recipe.session.interfaces import SessionContainer

from quart_supertokens.framework import QuartRequest, QuartResponse


@pytest.fixture(name="app")
def _app() -> Quart:
    """A bare Quart app: the wrappers need request contexts, not the SDK."""
    return Quart(__name__)


class FakeSession:
    """Stands in for a SessionContainer in the request slot."""


def fake_session() -> SessionContainer:
    session: Any = FakeSession()
    return session  # type: ignore[no-any-return]


def set_cookie_headers(response: Response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def parse_set_cookie(header: str) -> tuple[str, str, dict[str, str | bool]]:
    """(name, raw value, {attribute (lower-case): value or True}) of one Set-Cookie header."""
    name_value, *attributes = (part.strip() for part in header.split(";"))
    name, _, value = name_value.partition("=")
    parsed: dict[str, str | bool] = {}
    for attribute in attributes:
        key, sep, attr_value = attribute.partition("=")
        parsed[key.lower()] = attr_value if sep else True
    return name, value, parsed


# ---- QuartRequest ----


async def test_original_url_includes_query(app: Quart) -> None:
    async with app.test_request_context("/auth/signin", query_string={"a": "1", "b": "x y"}):
        assert QuartRequest(request).get_original_url() == "http://localhost/auth/signin?a=1&b=x+y"


async def test_query_params(app: Quart) -> None:
    async with app.test_request_context("/", query_string={"token": "abc", "tenantId": "public"}):
        wrapped = QuartRequest(request)

        assert wrapped.get_query_param("token") == "abc"
        assert wrapped.get_query_param("missing") is None
        assert wrapped.get_query_param("missing", "fallback") == "fallback"
        assert wrapped.get_query_params() == {"token": "abc", "tenantId": "public"}


async def test_json_object(app: Quart) -> None:
    async with app.test_request_context("/", method="POST", json={"formFields": []}):
        assert await QuartRequest(request).json() == {"formFields": []}


async def test_json_parsed_whatever_the_content_type(app: Quart) -> None:
    async with app.test_request_context(
        "/", method="POST", data='{"a": 1}', headers={"Content-Type": "text/plain"}
    ):
        assert await QuartRequest(request).json() == {"a": 1}


@pytest.mark.parametrize("body", ["", "{not json", "[1, 2]", '"text"', "null", "\xff"])
async def test_json_failure_is_empty_object(app: Quart, body: str) -> None:
    async with app.test_request_context(
        "/", method="POST", data=body, headers={"Content-Type": "application/json"}
    ):
        assert await QuartRequest(request).json() == {}


async def test_form_data(app: Quart) -> None:
    async with app.test_request_context("/", method="POST", form={"email": "a@b.c", "x": "1"}):
        assert await QuartRequest(request).form_data() == {"email": "a@b.c", "x": "1"}


async def test_json_or_form_data_picks_by_content_type(app: Quart) -> None:
    async with app.test_request_context("/", method="POST", json={"k": "json"}):
        assert await QuartRequest(request).get_json_or_form_data() == {"k": "json"}
    async with app.test_request_context("/", method="POST", form={"k": "form"}):
        assert await QuartRequest(request).get_json_or_form_data() == {"k": "form"}


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "OPTIONS"])
async def test_method(app: Quart, method: str) -> None:
    async with app.test_request_context("/", method=method):
        assert QuartRequest(request).method() == method


async def test_cookie_raw_value(app: Quart) -> None:
    headers = {"Cookie": "sAccessToken=a%2Bb.c; other=1"}
    async with app.test_request_context("/", headers=headers):
        wrapped = QuartRequest(request)

        assert wrapped.get_cookie("sAccessToken") == "a%2Bb.c"
        assert wrapped.get_cookie("sRefreshToken") is None


async def test_header_case_insensitive(app: Quart) -> None:
    async with app.test_request_context("/", headers={"St-Auth-Mode": "cookie"}):
        wrapped = QuartRequest(request)

        assert wrapped.get_header("st-auth-mode") == "cookie"
        assert wrapped.get_header("ST-AUTH-MODE") == "cookie"
        assert wrapped.get_header("rid") is None


async def test_raw_cookie_header_readable(app: Quart) -> None:
    # The SDK reads the raw header to detect duplicate session cookies.
    async with app.test_request_context("/", headers={"Cookie": "sAccessToken=a; sAccessToken=b"}):
        assert QuartRequest(request).get_header("cookie") == "sAccessToken=a; sAccessToken=b"


async def test_path(app: Quart) -> None:
    async with app.test_request_context("/auth/session/refresh", query_string={"q": "1"}):
        assert QuartRequest(request).get_path() == "/auth/session/refresh"


async def test_path_includes_root_path(app: Quart) -> None:
    async with app.test_request_context("/auth/signin", root_path="/mounted"):
        assert QuartRequest(request).get_path() == "/mounted/auth/signin"


async def test_session_slot(app: Quart) -> None:
    session = fake_session()
    async with app.test_request_context("/"):
        wrapped = QuartRequest(request)
        assert wrapped.get_session() is None

        wrapped.set_session(session)
        assert wrapped.get_session() is session
        # Another wrapper of the same request sees the same slot.
        assert QuartRequest(request).get_session() is session

        wrapped.set_session_as_none()
        assert wrapped.get_session() is None


async def test_session_slot_is_per_request(app: Quart) -> None:
    async with app.test_request_context("/"):
        QuartRequest(request).set_session(fake_session())
    async with app.test_request_context("/"):
        assert QuartRequest(request).get_session() is None


async def test_wrapper_marker(app: Quart) -> None:
    async with app.test_request_context("/"):
        assert QuartRequest(request).wrapper_used is True
    assert QuartResponse(Response("")).wrapper_used is True


# ---- QuartResponse ----

YEAR_3000_MS = 32503680000000  # 3000-01-01T00:00:00Z


def test_set_cookie_every_attribute() -> None:
    response = Response("")

    QuartResponse(response).set_cookie(
        "sAccessToken",
        "eyJ.a%2Bb.c-_",
        expires=YEAR_3000_MS,
        path="/",
        domain=".example.test",
        secure=True,
        httponly=True,
        samesite="lax",
    )

    [header] = set_cookie_headers(response)
    name, value, attributes = parse_set_cookie(header)
    assert (name, value) == ("sAccessToken", "eyJ.a%2Bb.c-_")
    assert attributes == {
        "expires": "Wed, 01 Jan 3000 00:00:00 GMT",
        "path": "/",
        # werkzeug drops the leading dot; RFC 6265 §5.2.3 ignores it, so the scope is the same.
        "domain": "example.test",
        "secure": True,
        "httponly": True,
        "samesite": "Lax",
    }


def test_set_cookie_expires_keeps_seconds() -> None:
    response = Response("")

    QuartResponse(response).set_cookie("c", "v", expires=1_700_000_123_999)

    attributes = parse_set_cookie(set_cookie_headers(response)[0])[2]
    assert attributes["expires"] == "Tue, 14 Nov 2023 22:15:23 GMT"


def test_set_cookie_defaults_host_only_insecure() -> None:
    response = Response("")

    QuartResponse(response).set_cookie("c", "v", expires=YEAR_3000_MS)

    attributes = parse_set_cookie(set_cookie_headers(response)[0])[2]
    assert attributes == {
        "expires": "Wed, 01 Jan 3000 00:00:00 GMT",
        "path": "/",
        "samesite": "Lax",
    }


def test_clearing_cookie_expires_at_epoch() -> None:
    response = Response("")

    QuartResponse(response).set_cookie(
        "sRefreshToken", "", expires=0, path="/auth/session/refresh", httponly=True
    )

    name, value, attributes = parse_set_cookie(set_cookie_headers(response)[0])
    assert (name, value) == ("sRefreshToken", "")
    assert attributes["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert attributes["path"] == "/auth/session/refresh"


@pytest.mark.parametrize(("samesite", "rendered"), [("strict", "Strict"), ("none", "None")])
def test_set_cookie_samesite(samesite: Any, rendered: str) -> None:
    response = Response("")

    QuartResponse(response).set_cookie(
        "c", "v", expires=YEAR_3000_MS, secure=True, samesite=samesite
    )

    assert parse_set_cookie(set_cookie_headers(response)[0])[2]["samesite"] == rendered


def test_set_cookie_parsed_by_a_cookie_jar() -> None:
    response = Response("")
    wrapped = QuartResponse(response)
    wrapped.set_cookie("sAccessToken", "a.b.c", expires=YEAR_3000_MS, httponly=True)
    wrapped.set_cookie("sRefreshToken", "r", expires=YEAR_3000_MS, path="/auth/session/refresh")

    jar: SimpleCookie = SimpleCookie()
    for header in set_cookie_headers(response):
        jar.load(header)

    assert jar["sAccessToken"].value == "a.b.c"
    assert jar["sRefreshToken"]["path"] == "/auth/session/refresh"


def test_headers_set_get_remove() -> None:
    wrapped = QuartResponse(Response(""))

    wrapped.set_header("front-token", "abc")
    assert wrapped.get_header("Front-Token") == "abc"

    wrapped.set_header("front-token", "remove")
    assert wrapped.response.headers.getlist("front-token") == ["remove"]

    wrapped.remove_header("FRONT-TOKEN")
    assert wrapped.get_header("front-token") is None
    wrapped.remove_header("front-token")  # absent: no error
    assert wrapped.get_header("missing") is None


def test_sdk_style_header_append() -> None:
    wrapped = QuartResponse(Response(""))

    wrapped.set_header("Access-Control-Expose-Headers", "front-token")
    previous = wrapped.get_header("Access-Control-Expose-Headers")
    wrapped.set_header("Access-Control-Expose-Headers", f"{previous}, anti-csrf")

    assert wrapped.get_header("Access-Control-Expose-Headers") == "front-token, anti-csrf"


def test_status_first_write_wins() -> None:
    wrapped = QuartResponse(Response("", status=200))

    wrapped.set_status_code(401)
    wrapped.set_status_code(500)

    assert wrapped.response.status_code == 401
    assert wrapped.status_code == 401


async def test_json_content_compact_and_first_write_wins() -> None:
    wrapped = QuartResponse(Response(""))

    wrapped.set_json_content({"status": "OK", "name": "Zoë"})
    wrapped.set_json_content({"status": "IGNORED"})
    wrapped.set_html_content("<p>ignored</p>")

    assert wrapped.response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = await wrapped.response.get_data()
    assert body == '{"status":"OK","name":"Zoë"}'.encode()
    assert json.loads(body) == {"status": "OK", "name": "Zoë"}


async def test_html_content_first_write_wins() -> None:
    wrapped = QuartResponse(Response(""))

    wrapped.set_html_content("<p>hi</p>")
    wrapped.set_json_content({"status": "IGNORED"})

    assert wrapped.response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert await wrapped.response.get_data() == b"<p>hi</p>"


async def test_redirect() -> None:
    wrapped = QuartResponse(Response("body"))

    result = wrapped.redirect("/login")
    wrapped.set_json_content({"ignored": True})
    wrapped.set_status_code(200)

    assert result is wrapped
    assert wrapped.response.status_code == 302
    assert wrapped.response.headers["Location"] == "/login"
    assert await wrapped.response.get_data() == b""
