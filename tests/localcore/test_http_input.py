"""Routing and hostile input: every refusal is a 4xx JSON message, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.localcore.helpers import call

BAD_BODIES: list[tuple[str, str, Any]] = [
    ("POST", "/public/recipe/session", b"not json"),
    ("POST", "/public/recipe/session", b"[1, 2]"),
    ("POST", "/public/recipe/session", b"\xff\xfe{}"),
    ("POST", "/public/recipe/session", {"userDataInJWT": {}}),
    ("POST", "/public/recipe/session", {"userId": 5}),
    ("POST", "/public/recipe/session", {"userId": "u", "userDataInJWT": "x"}),
    ("POST", "/public/recipe/session", {"userId": "u", "userDataInJWT": {"sub": "me"}}),
    ("POST", "/public/recipe/session", {"userId": "u", "enableAntiCsrf": "yes"}),
    ("POST", "/recipe/session/verify", {}),
    ("POST", "/recipe/session/verify", {"accessToken": "x", "checkDatabase": "yes"}),
    ("POST", "/recipe/session/refresh", {"refreshToken": 1}),
    ("POST", "/recipe/session/regenerate", {"accessToken": "x", "userDataInJWT": [1]}),
    ("POST", "/recipe/session/remove", {"sessionHandles": "h"}),
    ("POST", "/recipe/session/remove", {"sessionHandles": [1]}),
    ("PUT", "/recipe/session/data", {"sessionHandle": "h"}),
    ("PUT", "/recipe/jwt/data", {"sessionHandle": "h", "userDataInJWT": None}),
    ("POST", "/public/recipe/signup", {"email": "a@b.c", "password": ""}),
    ("POST", "/public/recipe/signup", {"email": "a@b.c"}),
    ("POST", "/public/recipe/signup", {"email": ["a@b.c"], "password": "pw"}),
    ("POST", "/public/recipe/signin", {"password": "pw"}),
    ("PUT", "/recipe/user", {"recipeUserId": "u"}),
    ("POST", "/public/recipe/user/password/reset/token/consume", {}),
    ("POST", "/public/recipe/user/email/verify", {"method": "magic", "token": "t"}),
    ("PUT", "/recipe/user/metadata", {"userId": "u", "metadataUpdate": [1]}),
    ("PUT", "/recipe/role", {"role": ""}),
    ("PUT", "/recipe/role", {"role": "r", "permissions": "read"}),
    ("PUT", "/public/recipe/user/role", {"userId": "u"}),
    ("PUT", "/recipe/multitenancy/app/v2", {"appId": "bad id!"}),
    ("PUT", "/recipe/multitenancy/app/v2", {"appId": "x", "coreConfig": []}),
    (
        "PUT",
        "/recipe/multitenancy/app/v2",
        {"appId": "x", "coreConfig": {"access_token_validity": "soon"}},
    ),
    (
        "PUT",
        "/recipe/multitenancy/app/v2",
        {"appId": "x", "coreConfig": {"access_token_validity": 2.5}},
    ),
    (
        "PUT",
        "/recipe/multitenancy/app/v2",
        {"appId": "x", "coreConfig": {"refresh_token_validity": -1}},
    ),
    ("PUT", "/recipe/multitenancy/app/v2", {"appId": "x", "emailPasswordEnabled": True}),
    ("POST", "/recipe/multitenancy/app/remove", {"appId": "public"}),
]

BAD_QUERIES: list[tuple[str, dict[str, str]]] = [
    ("/user/id", {}),
    ("/recipe/session", {}),
    ("/recipe/user/email/verify", {"userId": "u"}),
    ("/public/recipe/session/user", {"userId": "u", "fetchAcrossAllTenants": "maybe"}),
    ("/public/users/by-accountinfo", {"email": "a@b.c", "doUnionOfAccountInfo": "1"}),
    ("/recipe/role/permissions", {}),
]

UNROUTABLE: list[tuple[str, str, int]] = [
    ("GET", "/nope", 404),
    ("GET", "/recipe/nope", 404),
    ("GET", "/public/recipe/nope", 404),
    ("POST", "/public/recipe/session/verify", 404),
    ("GET", "/recipe/public/roles", 404),
    ("DELETE", "/apiversion", 405),
    ("GET", "/recipe/session/verify", 405),
    ("PUT", "/public/recipe/signup", 405),
    ("GET", "/other-tenant/recipe/user/roles?userId=u", 400),
    ("GET", "/appid-no-such-app/recipe/roles", 400),
    ("GET", "/appid-bad!id/recipe/roles", 400),
]


def is_json_message(response: httpx.Response) -> bool:
    return isinstance(response.json().get("message"), str)


@pytest.mark.parametrize(("method", "path", "body"), BAD_BODIES)
async def test_bad_body_is_400(http: httpx.AsyncClient, method: str, path: str, body: Any) -> None:
    if isinstance(body, bytes):
        response = await http.request(method, path, content=body)
    else:
        response = await http.request(method, path, json=body)

    assert response.status_code == 400
    assert is_json_message(response)


@pytest.mark.parametrize(("path", "params"), BAD_QUERIES)
async def test_bad_query_is_400(http: httpx.AsyncClient, path: str, params: dict[str, str]) -> None:
    response = await http.get(path, params=params)

    assert response.status_code == 400
    assert is_json_message(response)


@pytest.mark.parametrize(("method", "path", "status"), UNROUTABLE)
async def test_unroutable_request_is_refused(
    base_http: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await base_http.request(method, path)

    assert response.status_code == status
    assert is_json_message(response)


async def test_body_over_one_mebibyte_is_413(http: httpx.AsyncClient) -> None:
    body = b'{"userId": "' + b"a" * (1 << 20) + b'"}'

    response = await http.post("/public/recipe/session", content=body)

    assert response.status_code == 413
    assert is_json_message(response)


async def test_streamed_body_over_limit_is_413(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65536

    response = await http.post("/public/recipe/session", content=chunks())

    assert response.status_code == 413


async def test_unsupported_cdi_version_is_400(http: httpx.AsyncClient) -> None:
    response = await http.get("/recipe/roles", headers={"cdi-version": "2.7"})

    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/hello", "/", "/hello/"])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
async def test_hello_answers_every_method(
    base_http: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await base_http.request(method, path)

    assert (response.status_code, response.text) == (200, "Hello")


async def test_hello_under_app_prefix(http: httpx.AsyncClient) -> None:
    assert (await http.get("/hello")).text == "Hello"


async def test_apiversion_lists_5_4(base_http: httpx.AsyncClient) -> None:
    versions = await call(base_http, "GET", "/apiversion", apiDomain="http://a", websiteDomain="b")

    assert "5.4" in versions["versions"]


async def test_tenant_segment_is_optional_for_tenant_scoped_routes(
    http: httpx.AsyncClient,
) -> None:
    created = await call(http, "POST", "/recipe/session", {"userId": "u"})

    assert created["session"]["tenantId"] == "public"
