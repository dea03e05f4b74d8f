"""Access tokens are RS256 only: the SDK's JWT check with the algorithm pinned.

The SDK verifies an access token with PyJWT and `algorithms=[header["alg"]]`
(recipe/session/access_token.py): it trusts the algorithm the token's own header names, so a
token signed with the core's key under RS384, RS512 or PS256 would pass. `RS256Only` stands in for
the `jwt` module inside that SDK module (installed by `quart_supertokens.init`) and calls PyJWT
with `algorithms=["RS256"]`, whatever the caller asks for: any other `alg` fails, and the SDK
answers TRY_REFRESH_TOKEN. The signature, `exp`, `nbf` and `iat` checks are PyJWT's own.

The cost of this check is paid once per token: a browser sends the same access token on every
render until it is refreshed, and the verified-session memo (memo.py) answers the later checks of
that token (its expiry and keys are still checked on every render).
"""

from __future__ import annotations

from typing import Any, TypeGuard

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

ALGORITHMS = ["RS256"]


def is_number(value: object) -> TypeGuard[int | float]:
    """A JSON number, as a time claim must be: `true` is not one, though Python calls it an int."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def decode_rs256(token: str, key: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Verify `token` with the RSA public `key`; return its payload or raise a PyJWT error."""
    if not isinstance(token, str) or not isinstance(key, RSAPublicKey):
        raise jwt.DecodeError("an RS256 token and an RSA public key are required")
    payload: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=ALGORITHMS,
        options=options,  # type: ignore[arg-type]
    )
    # PyJWT checks `exp` only when present and lets some odd time values through; the SDK's
    # tokens always carry `exp`, and every time claim must be a JSON number.
    if (options or {}).get("verify_exp", True) and not is_number(payload.get("exp")):
        raise jwt.DecodeError("exp must be a number")
    for claim in ("nbf", "iat"):
        if claim in payload and not is_number(payload[claim]):
            raise jwt.DecodeError(f"{claim} must be a number")
    return payload


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

    Signing out with an expired token must still revoke the session in the core (its refresh
    token would otherwise stay valid). Signature and algorithm are verified as usual; anything
    that does not verify gives None.
    """
    from supertokens_python.recipe.session.jwks import get_latest_keys
    from supertokens_python.recipe.session.recipe import SessionRecipe

    try:
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str):
            return None
        keys = get_latest_keys(SessionRecipe.get_instance().config, kid)
        payload = decode_rs256(token, keys[0].key, {"verify_exp": False})
    except Exception:
        return None
    handle = payload.get("sessionHandle")
    return handle if isinstance(handle, str) else None
