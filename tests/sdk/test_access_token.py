"""The SDK's access-token check as patched: RS256 only, time claims as PyJWT checks them."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from quart_supertokens.tokens import RS256Only, decode_rs256

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(alg: str = "RS256", key: Any = KEY, **claims: Any) -> str:
    now = int(time.time())
    payload = {"sub": "u", "iat": now, "exp": now + 60, **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, alg, {"kid": "d-1", "version": "5"})


def test_valid_token_returns_payload() -> None:
    assert decode_rs256(token(), KEY.public_key())["sub"] == "u"


def test_shim_matches_pyjwt_for_a_valid_token() -> None:
    raw = token()
    expected = jwt.decode(raw, KEY.public_key(), algorithms=["RS256"])
    assert RS256Only.decode(raw, KEY.public_key(), ["RS256"], {"verify_exp": True}) == expected


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "PS512"])
def test_other_rsa_algorithms_are_refused_even_with_the_right_key(alg: str) -> None:
    with pytest.raises(jwt.InvalidAlgorithmError):
        decode_rs256(token(alg), KEY.public_key())


def test_wrong_key_is_refused() -> None:
    with pytest.raises(jwt.InvalidSignatureError):
        decode_rs256(token(key=OTHER), KEY.public_key())


def test_non_rsa_key_is_refused() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(jwt.DecodeError):
        decode_rs256(token(), ec_key.public_key())


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 1},
        {"exp": "9999999999"},
        {"exp": True},
        {"exp": None},
        {"iat": int(time.time()) + 600},
        {"nbf": int(time.time()) + 600},
        {"iat": "0"},
    ],
)
def test_bad_time_claims_are_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(jwt.InvalidTokenError):
        decode_rs256(token(**claims), KEY.public_key())


def test_expired_token_passes_when_expiry_is_not_checked() -> None:
    raw = token(exp=int(time.time()) - 10)
    assert decode_rs256(raw, KEY.public_key(), {"verify_exp": False})["sub"] == "u"


@pytest.mark.parametrize(
    "raw",
    ["", "a.b", "a.b.c.d", "!!!.e30.e30", token() + "junk", token().replace(".", ".=", 1)],
)
def test_malformed_tokens_are_refused(raw: str) -> None:
    with pytest.raises(jwt.InvalidTokenError):
        decode_rs256(raw, KEY.public_key())


def test_a_remembered_token_still_expires() -> None:
    raw = token(exp=int(time.time()) + 1)
    assert decode_rs256(raw, KEY.public_key())["sub"] == "u"

    time.sleep(1.1)

    with pytest.raises(jwt.ExpiredSignatureError):
        decode_rs256(raw, KEY.public_key())


def test_a_remembered_token_is_checked_again_against_another_key() -> None:
    raw = token()
    public = KEY.public_key()
    assert decode_rs256(raw, public)["sub"] == "u"

    with pytest.raises(jwt.InvalidSignatureError):
        decode_rs256(raw, OTHER.public_key())


def test_callers_get_their_own_payload_copy() -> None:
    raw = token(roles={"v": ["admin"]})
    first = decode_rs256(raw, KEY.public_key())
    first["roles"]["v"].append("intruder")

    assert decode_rs256(raw, KEY.public_key())["roles"] == {"v": ["admin"]}
