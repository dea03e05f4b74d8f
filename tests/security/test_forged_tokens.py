"""Forged access tokens never render a protected page.

Each forgery is sent as the `sAccessToken` cookie to GET /dashboard (a page: 303) and
GET /dashboard/session (a fragment: 401 + HX-Redirect, and as a page: 303). The only acceptable
answers are a redirect to the refresh hop or to the sign-in page; the signed-in user's id (and the
impersonated victim's) must never appear in the body.

Forgeries come in two kinds:
- outsider: built from the live JWKS (public) or a foreign RSA key;
- insider: signed with the core's real private key (read from the local core's SQLite file), so
  the signature check passes and the claim and algorithm checks behind it are what is tested.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from quart import Quart

from app.config import Settings
from tests.conftest import RunningCore
from tests.security.conftest import (
    ACCESS,
    CoreKeys,
    SignedIn,
    assert_not_rendered,
    b64url,
    b64url_json,
    core_keys,
    header_of,
    payload_of,
    raw_request,
    sign_up,
)


@dataclass
class Material:
    """What a forger works with: a real token of their own, a victim's id, keys."""

    user: SignedIn
    victim_id: str
    keys: CoreKeys
    foreign: rsa.RSAPrivateKey

    @property
    def header(self) -> dict[str, Any]:
        return header_of(self.user.access)

    @property
    def payload(self) -> dict[str, Any]:
        return payload_of(self.user.access)

    @property
    def public_pem(self) -> bytes:
        return self.keys.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def public_pkcs1_pem(self) -> bytes:
        return self.keys.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        )


def _unsigned(header: dict[str, Any], payload: dict[str, Any], signature: str = "") -> str:
    return f"{b64url_json(header)}.{b64url_json(payload)}.{signature}"


def _hs256(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{b64url_json(header)}.{b64url_json(payload)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def _signed(
    m: Material,
    key: rsa.RSAPrivateKey,
    payload: dict[str, Any] | None = None,
    alg: str = "RS256",
    **header: Any,
) -> str:
    full_header = {**m.header, **header}
    full_header.pop("alg", None)
    return jwt.encode(payload if payload is not None else m.payload, key, alg, full_header)


def _victim(m: Material) -> dict[str, Any]:
    return {**m.payload, "sub": m.victim_id, "rsub": m.victim_id}


def _without(claim: str) -> Callable[[Material], str]:
    def forge(m: Material) -> str:
        payload = dict(m.payload)
        payload.pop(claim)
        return _signed(m, m.keys.key, payload)

    return forge


def _alg_none(spelling: str, keep_signature: bool = False) -> Callable[[Material], str]:
    def forge(m: Material) -> str:
        signature = m.user.access.split(".")[2] if keep_signature else ""
        return _unsigned({**m.header, "alg": spelling}, _victim(m), signature)

    return forge


def _embedded_jwk(m: Material) -> str:
    public_jwk = json.loads(RSAAlgorithm.to_jwk(m.foreign.public_key()))
    return _signed(m, m.foreign, _victim(m), jwk=public_jwk)


def _jwk_as_hmac_secret(m: Material) -> str:
    return _hs256({**m.header, "alg": "HS256"}, _victim(m), json.dumps(m.keys.jwks[0]).encode())


def _now() -> int:
    return int(time.time())


OUTSIDER: dict[str, Callable[[Material], str]] = {
    **{f"alg {s}": _alg_none(s) for s in ("none", "None", "NONE", "nOnE")},
    "alg none with the original signature": _alg_none("none", keep_signature=True),
    "HS256 with the public key (SPKI PEM)": lambda m: _hs256(
        {**m.header, "alg": "HS256"}, _victim(m), m.public_pem
    ),
    "HS256 with the public key (PKCS1 PEM)": lambda m: _hs256(
        {**m.header, "alg": "HS256"}, _victim(m), m.public_pkcs1_pem
    ),
    "HS256 with the public JWK": _jwk_as_hmac_secret,
    "HS256 with the JWK modulus": lambda m: _hs256(
        {**m.header, "alg": "HS256"}, _victim(m), m.keys.jwks[0]["n"].encode()
    ),
    "tampered payload, original signature": lambda m: _unsigned(
        m.header, _victim(m), m.user.access.split(".")[2]
    ),
    "tampered header, original signature": lambda m: _unsigned(
        {**m.header, "kid": m.header["kid"] + "x"}, m.payload, m.user.access.split(".")[2]
    ),
    "foreign key, known kid": lambda m: _signed(m, m.foreign, _victim(m)),
    "foreign key, unknown kid": lambda m: _signed(m, m.foreign, _victim(m), kid="d-1"),
    "foreign key, kid path traversal": lambda m: _signed(
        m, m.foreign, _victim(m), kid="../../../etc/passwd"
    ),
    "embedded jwk header": _embedded_jwk,
    "jku header to a foreign JWKS": lambda m: _signed(
        m, m.foreign, _victim(m), jku="http://127.0.0.1:9/jwks.json", kid="attacker"
    ),
    "x5u header": lambda m: _signed(m, m.foreign, _victim(m), x5u="http://127.0.0.1:9/cert"),
    "legacy v2 header, foreign key": lambda m: jwt.encode(
        _victim(m), m.foreign, "RS256", {"typ": "JWT", "version": "2"}
    ),
    "PS256 with a foreign key, known kid": lambda m: _signed(m, m.foreign, _victim(m), "PS256"),
    "RS512 with a foreign key, known kid": lambda m: _signed(m, m.foreign, _victim(m), "RS512"),
    "junk appended": lambda m: m.user.access + "junk",
    "fourth segment appended": lambda m: m.user.access + ".junk",
    "signature truncated": lambda m: m.user.access[:-4],
    "two segments": lambda m: m.user.access.rsplit(".", 1)[0],
    "empty": lambda m: "",
    "header is a JSON list": lambda m: _unsigned([1, 2], m.payload, "x"),  # type: ignore[arg-type]
    "not base64": lambda m: "%%%.%%%.%%%",
}

INSIDER: dict[str, Callable[[Material], str]] = {
    "expired": lambda m: _signed(m, m.keys.key, {**m.payload, "exp": _now() - 5}),
    "exp as a string": lambda m: _signed(m, m.keys.key, {**m.payload, "exp": str(_now() + 3600)}),
    "exp as a float string far ahead": lambda m: _signed(
        m, m.keys.key, {**m.payload, "exp": "9999999999.0"}
    ),
    "nbf in the future": lambda m: _signed(m, m.keys.key, {**m.payload, "nbf": _now() + 3600}),
    "iat in the future": lambda m: _signed(m, m.keys.key, {**m.payload, "iat": _now() + 3600}),
    **{f"missing {c}": _without(c) for c in ("sub", "exp", "iat", "sessionHandle", "tId", "rsub")},
    "missing refreshTokenHash1": _without("refreshTokenHash1"),
    "sub not a string": lambda m: _signed(m, m.keys.key, {**m.payload, "sub": 42}),
    "stt set": lambda m: _signed(m, m.keys.key, {**m.payload, "stt": 1}),
    "version 2 header": lambda m: _signed(m, m.keys.key, version="2"),
    "typ not JWT": lambda m: _signed(m, m.keys.key, typ="JWS"),
}

# The SDK takes `alg` from the token header (recipe/session/access_token.py:
# `algorithms=[parsed_header["alg"]]`), so a token signed by the core's key with another RSA
# algorithm verifies. Only a holder of the core's private key can do this; still the app should
# accept RS256 only. See docs/security.md (finding F1).
ALG_NOT_RS256: dict[str, Callable[[Material], str]] = {
    "RS512 with the core key": lambda m: _signed(m, m.keys.key, alg="RS512"),
    "RS384 with the core key": lambda m: _signed(m, m.keys.key, alg="RS384"),
    "PS256 with the core key": lambda m: _signed(m, m.keys.key, alg="PS256"),
}


@pytest.fixture(scope="module")
def forgery_core(localcore: RunningCore) -> Iterator[str]:
    """One core app for the module, so the users and keys below are made once."""
    uri = localcore.new_app()
    yield uri
    localcore.remove_app(uri)


@pytest.fixture(name="settings")
def _settings(forgery_core: str, email_sink: Path) -> Settings:
    return Settings(connection_uri=forgery_core, email_sink=email_sink)


_MATERIAL: dict[str, Material] = {}


@pytest.fixture(name="material")
async def _material(app: Quart, localcore: RunningCore, forgery_core: str) -> Material:
    if forgery_core not in _MATERIAL:
        victim = await sign_up(app)
        user = await sign_up(app)
        foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        keys = core_keys(localcore, forgery_core)
        _MATERIAL[forgery_core] = Material(user, victim.user_id, keys, foreign)
    return _MATERIAL[forgery_core]


async def _assert_refused(app: Quart, m: Material, token: str) -> None:
    cookies = {ACCESS: token}
    for path, headers in (
        ("/dashboard", {}),
        ("/dashboard/session", {}),
        (
            "/dashboard/session",
            {"HX-Request": "true", "HX-Current-URL": "http://localhost/dashboard"},
        ),
    ):
        response = await raw_request(app, "GET", path, cookies, headers)
        body = await response.get_data(as_text=True)
        assert_not_rendered(response, m.user, body)
        assert m.victim_id not in body
        assert "Traceback" not in body


async def test_the_real_token_renders(app: Quart, material: Material) -> None:
    """Control: the unforged token renders the dashboard, so the refusals below mean something."""
    response = await raw_request(app, "GET", "/dashboard", material.user.cookies)
    assert response.status_code == 200
    assert material.user.user_id in await response.get_data(as_text=True)


@pytest.mark.parametrize("name", list(OUTSIDER))
async def test_outsider_forgery_is_refused(app: Quart, material: Material, name: str) -> None:
    await _assert_refused(app, material, OUTSIDER[name](material))


@pytest.mark.parametrize("name", list(INSIDER))
async def test_insider_forgery_with_bad_claims_is_refused(
    app: Quart, material: Material, name: str
) -> None:
    await _assert_refused(app, material, INSIDER[name](material))


@pytest.mark.parametrize("name", list(ALG_NOT_RS256))
async def test_alg_other_than_rs256_is_refused_even_when_validly_signed(
    app: Quart, material: Material, name: str
) -> None:
    await _assert_refused(app, material, ALG_NOT_RS256[name](material))


async def test_insider_control_token_renders(app: Quart, material: Material) -> None:
    """Control for the insider cases: re-signing the unchanged payload with the core key works."""
    token = _signed(material, material.keys.key)
    response = await raw_request(app, "GET", "/dashboard", {ACCESS: token})
    assert response.status_code == 200
