"""Access-token signature and time checks for the SDK: RS256 only, done with `cryptography`.

The SDK verifies every access token with PyJWT, trusting the algorithm the token's own header
names. This module stands in for the `jwt` module inside `recipe/session/access_token.py`
(installed by app/sdk/framework.py) and differs in two ways:
- the algorithm is pinned: the header must say RS256 and the signature must be RSASSA-PKCS1-v1_5
  with SHA-256, whatever the caller asks for;
- it is cheaper: PyJWT checks base64url input one character at a time in Python (~0.25 ms a
  token, most of the guard's cost per render); here a compiled regex does it.
Time claims are checked as PyJWT does with no leeway: `exp` must be a number in the future, and
`nbf`/`iat`, when present, numbers not in the future.

A browser sends the same access token on every render until it is refreshed, so a token whose
signature was verified with a given key object is remembered (a bounded LRU of raw payloads):
the next render of that token skips the RSA check and the base64 work, but its time claims are
checked again every time, and a different key object (a re-fetched JWKS) verifies afresh.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections import OrderedDict
from typing import Any, TypeGuard

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
VERIFIED_CACHE_SIZE = 4096
# token -> (the key object it was verified with, its raw JSON payload)
_verified: OrderedDict[str, tuple[RSAPublicKey, bytes]] = OrderedDict()


def _segment(value: str) -> bytes:
    if not _BASE64URL.fullmatch(value):
        raise jwt.DecodeError("invalid base64url segment")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as err:
        raise jwt.DecodeError("invalid base64url segment") from err


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as err:
        raise jwt.DecodeError("invalid JSON segment") from err
    if not isinstance(value, dict):
        raise jwt.DecodeError("a JWT segment must be a JSON object")
    return value


def is_number(value: object) -> TypeGuard[int | float]:
    """A JSON number, as a time claim must be: `true` is not one, though Python calls it an int."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_time_claims(payload: dict[str, Any], now: float, verify_exp: bool = True) -> None:
    if verify_exp:
        exp = payload.get("exp")
        if not is_number(exp):
            raise jwt.DecodeError("exp must be a number")
        if exp <= now:
            raise jwt.ExpiredSignatureError("Signature has expired")
    for claim in ("nbf", "iat"):
        if claim in payload:
            value = payload[claim]
            if not is_number(value):
                raise jwt.DecodeError(f"{claim} must be a number")
            if value > now:
                raise jwt.ImmatureSignatureError(f"The token is not yet valid ({claim})")


def decode_rs256(token: str, key: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Verify `token` with the RSA public `key`; return its payload or raise a PyJWT error."""
    if not isinstance(token, str) or not isinstance(key, RSAPublicKey):
        raise jwt.DecodeError("an RS256 token and an RSA public key are required")
    cached = _verified.get(token)
    if cached is not None and cached[0] is key:
        _verified.move_to_end(token)
        raw_payload = cached[1]
    else:
        raw_payload = _verify_signature(token, key)
        _verified[token] = (key, raw_payload)
        if len(_verified) > VERIFIED_CACHE_SIZE:
            _verified.popitem(last=False)
    payload = _json_object(raw_payload)  # a fresh dict each time: callers may change it
    verify_exp = bool((options or {}).get("verify_exp", True))
    check_time_claims(payload, time.time(), verify_exp)
    return payload


def _verify_signature(token: str, key: RSAPublicKey) -> bytes:
    parts = token.split(".")
    if len(parts) != 3:
        raise jwt.DecodeError("not enough segments")
    header = _json_object(_segment(parts[0]))
    if header.get("alg") != "RS256":
        raise jwt.InvalidAlgorithmError("only RS256 access tokens are accepted")
    raw_payload = _segment(parts[1])
    _json_object(raw_payload)
    try:
        key.verify(
            _segment(parts[2]),
            f"{parts[0]}.{parts[1]}".encode("ascii"),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature as err:
        raise jwt.InvalidSignatureError("Signature verification failed") from err
    return raw_payload


class RS256Only:
    """The stand-in for the `jwt` module that the SDK's access-token check calls."""

    DecodeError = jwt.DecodeError

    @staticmethod
    def decode(
        token: str, key: Any, algorithms: list[str] | None = None, options: Any = None
    ) -> dict[str, Any]:
        return decode_rs256(token, key, options)


def session_handle_of_expired_token(token: str) -> str | None:
    """The session handle of an access token whose signature checks out but which has expired.

    Sign-out uses it so that a user whose token lapsed still has the session revoked in the core
    (the refresh token would otherwise stay valid). Signature and algorithm are verified as usual.
    """
    from supertokens_python.recipe.session.jwks import get_latest_keys
    from supertokens_python.recipe.session.recipe import SessionRecipe

    try:
        header = _json_object(_segment(token.split(".")[0]))
        kid = header.get("kid")
        if not isinstance(kid, str):
            return None
        keys = get_latest_keys(SessionRecipe.get_instance().config, kid)
        payload = decode_rs256(token, keys[0].key, {"verify_exp": False})
    except Exception:
        return None
    handle = payload.get("sessionHandle")
    return handle if isinstance(handle, str) else None
