"""The adapter's request and response wrappers, one test per member of the SDK's contract.

The Quart counterparts of the SDK's wrapper tests (Django's `DjangoRequestTest` and
`DjangoResponseTest`, Flask's `test_remove_header_works`), written anew. No core needed.
"""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart, Response, request

from quart_supertokens.framework import QuartFramework, QuartRequest, QuartResponse


@pytest.fixture(name="app")
def _app() -> Quart:
    return Quart("wrappers")


async def test_get_original_url(app: Quart) -> None:
    async with app.test_request_context("/a/b?x=1"):
        assert QuartRequest(request).get_original_url() == "http://localhost/a/b?x=1"


async def test_get_query_param_and_default(app: Quart) -> None:
    async with app.test_request_context("/p?name=ada"):
        wrapped = QuartRequest(request)
        assert wrapped.get_query_param("name") == "ada"
        assert wrapped.get_query_param("missing") is None
        assert wrapped.get_query_param("missing", "d") == "d"


async def test_get_query_params(app: Quart) -> None:
    async with app.test_request_context("/p?a=1&b=2"):
        assert QuartRequest(request).get_query_params() == {"a": "1", "b": "2"}


async def test_json_object_body(app: Quart) -> None:
    async with app.test_request_context("/p", method="POST", json={"formFields": []}):
        assert await QuartRequest(request).json() == {"formFields": []}


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b"", b"42"])
async def test_json_that_is_not_an_object_reads_as_empty(app: Quart, body: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    async with app.test_request_context("/p", method="POST", data=body, headers=headers):
        assert await QuartRequest(request).json() == {}


async def test_form_data(app: Quart) -> None:
    async with app.test_request_context("/p", method="POST", form={"code": "c", "state": "s"}):
        assert await QuartRequest(request).form_data() == {"code": "c", "state": "s"}


async def test_method(app: Quart) -> None:
    async with app.test_request_context("/p", method="PUT"):
        assert QuartRequest(request).method() == "PUT"


async def test_get_cookie(app: Quart) -> None:
    async with app.test_request_context("/p", headers={"Cookie": "sAccessToken=abc"}):
        wrapped = QuartRequest(request)
        assert wrapped.get_cookie("sAccessToken") == "abc"
        assert wrapped.get_cookie("sRefreshToken") is None


async def test_get_header_is_case_insensitive(app: Quart) -> None:
    async with app.test_request_context("/p", headers={"rid": "session"}):
        wrapped = QuartRequest(request)
        assert wrapped.get_header("RID") == "session"
        assert wrapped.get_header("missing") is None


async def test_get_session_is_none_until_set(app: Quart) -> None:
    async with app.test_request_context("/p"):
        assert QuartRequest(request).get_session() is None


async def test_set_session_is_one_slot_per_request(app: Quart) -> None:
    marker: Any = object()
    async with app.test_request_context("/p"):
        QuartRequest(request).set_session(marker)
        assert QuartRequest(request).get_session() is marker  # another wrapper, same slot
    async with app.test_request_context("/p"):
        assert QuartRequest(request).get_session() is None  # nothing leaks to the next request


async def test_set_session_as_none(app: Quart) -> None:
    marker: Any = object()
    async with app.test_request_context("/p"):
        wrapped = QuartRequest(request)
        wrapped.set_session(marker)
        wrapped.set_session_as_none()
        assert wrapped.get_session() is None


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"json": {"a": 1}}, {"a": 1}),
        ({"form": {"a": "1"}}, {"a": "1"}),
    ],
)
async def test_get_json_or_form_data_picks_by_content_type(
    app: Quart, kwargs: dict[str, Any], expected: dict[str, Any]
) -> None:
    async with app.test_request_context("/p", method="POST", **kwargs):
        assert await QuartRequest(request).get_json_or_form_data() == expected


async def test_get_path_includes_the_mount_point(app: Quart) -> None:
    async with app.test_request_context("/auth/signin", root_path="/mounted"):
        assert QuartRequest(request).get_path() == "/mounted/auth/signin"


async def test_wrapper_used_and_framework_wrap_request(app: Quart) -> None:
    async with app.test_request_context("/p"):
        wrapped = QuartFramework().wrap_request(request)
        assert isinstance(wrapped, QuartRequest) and wrapped.wrapper_used
        assert QuartFramework().wrap_request(wrapped) is wrapped


def test_set_cookie_converts_epoch_ms_and_keeps_attributes() -> None:
    response = QuartResponse(Response(""))
    response.set_cookie(
        "sAccessToken",
        "v%3D1",
        expires=4102444800000,
        path="/auth",
        domain=".example.test",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    header = response.response.headers["Set-Cookie"]
    assert header.startswith("sAccessToken=v%3D1;")
    assert "Expires=Fri, 01 Jan 2100 00:00:00 GMT" in header
    assert "Path=/auth" in header and "Domain=example.test" in header
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Strict" in header


def test_set_header_and_get_header() -> None:
    response = QuartResponse(Response(""))
    response.set_header("front-token", "abc")
    assert response.get_header("front-token") == "abc"
    assert response.get_header("missing") is None


def test_remove_header_works() -> None:
    response = QuartResponse(Response(""))
    response.set_header("st-access-token", "x")
    response.remove_header("st-access-token")
    assert response.get_header("st-access-token") is None
    response.remove_header("never-set")  # removing an absent header is no error


def test_status_code_is_first_write_wins() -> None:
    response = QuartResponse(Response(""))
    response.set_status_code(401)
    response.set_status_code(200)
    assert response.response.status_code == 401 and response.status_code == 401


async def test_json_content_is_first_write_wins() -> None:
    response = QuartResponse(Response(""))
    response.set_json_content({"status": "OK", "é": 1})
    response.set_json_content({"status": "LATER"})
    assert response.response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert await response.response.get_data(as_text=True) == '{"status":"OK","é":1}'


async def test_html_content() -> None:
    response = QuartResponse(Response(""))
    response.set_html_content("<p>hi</p>")
    assert response.response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert await response.response.get_data(as_text=True) == "<p>hi</p>"


async def test_redirect() -> None:
    response = QuartResponse(Response("body"))
    assert response.redirect("https://example.test/callback") is response
    assert response.response.status_code == 302
    assert response.response.headers["Location"] == "https://example.test/callback"
    assert await response.response.get_data() == b""
