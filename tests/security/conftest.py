"""Helpers for the security suites: sign-in through the real forms, raw requests, token forging.

Requests here bypass the test client's cookie jar (which sends every cookie on every path) and put
exactly the cookies a test chooses in a `Cookie` header, like a browser (or an attacker) would.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from quart import Quart
from quart.wrappers import Response

from tests.conftest import RunningCore

PASSWORD = "correct-horse-1"
ACCESS = "sAccessToken"
REFRESH = "sRefreshToken"


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.test"


def set_cookies(response: Response) -> dict[str, str]:
    """name -> value of every Set-Cookie on the response (an empty value means cleared)."""
    found: dict[str, str] = {}
    for header in response.headers.getlist("Set-Cookie"):
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            found[name] = morsel.value
    return found


def set_cookie_headers(response: Response) -> dict[str, str]:
    """name -> the raw Set-Cookie header that set it."""
    return {
        header.split("=", 1)[0].strip(): header for header in response.headers.getlist("Set-Cookie")
    }


def cookie_header(cookies: Mapping[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


async def raw_request(
    app: Quart,
    method: str,
    path: str,
    cookies: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Response:
    """One request with exactly `cookies` (no cookie jar)."""
    client = app.test_client()
    client.cookie_jar = None
    all_headers = dict(headers or {})
    if cookies:
        all_headers["Cookie"] = cookie_header(cookies)
    return await client.open(path, method=method, headers=all_headers, **kwargs)


@dataclass
class SignedIn:
    """A user signed in through POST /signup: the cookies the browser would now hold."""

    email: str
    user_id: str
    access: str
    refresh: str
    front_token: str

    @property
    def cookies(self) -> dict[str, str]:
        return {ACCESS: self.access}

    @property
    def refresh_cookies(self) -> dict[str, str]:
        return {REFRESH: self.refresh}


def payload_of(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def header_of(token: str) -> dict[str, Any]:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


async def sign_up(app: Quart, email: str | None = None, **request_kwargs: Any) -> SignedIn:
    email = email or new_email()
    response = await raw_request(
        app,
        "POST",
        "/signup",
        form={"email": email, "password": PASSWORD},
        **request_kwargs,
    )
    assert response.status_code == 303, await response.get_data(as_text=True)
    cookies = set_cookies(response)
    access = cookies[ACCESS]
    return SignedIn(
        email=email,
        user_id=str(payload_of(access)["sub"]),
        access=access,
        refresh=cookies[REFRESH],
        front_token=response.headers.get("front-token", ""),
    )


async def refresh_hop(app: Quart, refresh_token: str) -> Response:
    """GET /auth/session/refresh with only the refresh cookie (what the browser sends there)."""
    return await raw_request(
        app, "GET", "/auth/session/refresh?redirectBack=%2Fdashboard", {REFRESH: refresh_token}
    )


def assert_not_rendered(response: Response, user: SignedIn, body: str) -> None:
    """A protected page was refused: a redirect to refresh/login, never the page."""
    assert response.status_code in (303, 401), (response.status_code, body[:300])
    location = response.headers.get("Location") or response.headers.get("HX-Redirect") or ""
    assert location.startswith(("/auth/session/refresh", "/login")), location
    assert user.user_id not in body


# ---------------------------------------------------------------------------- signing keys


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


@dataclass
class CoreKeys:
    """The live JWKS of a core app, and (read from the local core's database) its private keys."""

    jwks: list[dict[str, str]]
    private: dict[str, rsa.RSAPrivateKey]

    @property
    def kid(self) -> str:
        return self.jwks[0]["kid"]

    @property
    def key(self) -> rsa.RSAPrivateKey:
        return self.private[self.kid]


def core_keys(localcore: RunningCore, connection_uri: str) -> CoreKeys:
    """Read the app's JWKS over HTTP and its signing keys from the local core's SQLite file.

    The private keys let a test mint tokens the SDK's signature check accepts, so the claim checks
    behind it (exp, nbf, iat, structure, alg) are what is being tested.
    """
    jwks = httpx.get(f"{connection_uri}/.well-known/jwks.json").json()["keys"]
    app_id = connection_uri.rsplit("/appid-", 1)[1]
    private = _private_keys(localcore.database, app_id)
    assert jwks, "sign someone in first: the first token creates the signing key"
    return CoreKeys(jwks, private)


def _private_keys(database: Path, app_id: str) -> dict[str, rsa.RSAPrivateKey]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        rows = connection.execute(
            "SELECT app_id, kid, private_key_pem FROM signing_keys"
        ).fetchall()
    finally:
        connection.close()
    keys: dict[str, rsa.RSAPrivateKey] = {}
    for row_app, kid, pem in rows:
        if row_app.replace("-", "") == app_id.replace("-", "").lower():
            key = load_pem_private_key(pem, None)
            assert isinstance(key, rsa.RSAPrivateKey)
            keys[kid] = key
    return keys


@pytest.fixture(scope="session")
def foreign_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
