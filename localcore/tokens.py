"""Access tokens (RS256 JWT, format v5) and opaque refresh tokens.

Access token header: ``{"alg": "RS256", "typ": "JWT", "kid": ..., "version": "5"}``. Payload: the
session's custom claims, then ``sub``, ``rsub``, ``tId``, ``sessionHandle``, ``exp``/``iat`` in
seconds, ``refreshTokenHash1``, ``parentRefreshTokenHash1`` and ``antiCsrfToken`` (both nullable,
always present).

A refresh token is ``<base64url(nonce + AES-GCM(payload))>.lc1`` under a per-app secret key,
like the official core's encrypted tokens. The encryption matters: the token names its parent by
hash, and the parent's hash1 is visible in access tokens, so an unauthenticated format would let
anyone who saw an access token forge a child of the current refresh token. The core stores only
``sha256(sha256(token))`` per session.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from localcore.clock import now_ms
from localcore.keys import SigningKey

PROTECTED_CLAIMS = frozenset(
    {
        "sub",
        "iat",
        "exp",
        "sessionHandle",
        "parentRefreshTokenHash1",
        "refreshTokenHash1",
        "antiCsrfToken",
        "rsub",
        "tId",
        "stt",
    }
)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
REFRESH_TOKEN_SUFFIX = ".lc1"  # noqa: S105 (a format marker, not a secret)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def refresh_hash2(refresh_token: str) -> str:
    """What the store keeps for a refresh token: sha256 of its sha256 hex."""
    return sha256_hex(sha256_hex(refresh_token))


def custom_claims(payload: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in payload.items() if name not in PROTECTED_CLAIMS}


@dataclass(frozen=True)
class AccessTokenClaims:
    """The session fields an access token carries besides the custom claims."""

    user_id: str
    recipe_user_id: str
    tenant_id: str
    session_handle: str
    refresh_token_hash1: str
    parent_refresh_token_hash1: str | None
    anti_csrf_token: str | None


def _base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _json_base64url(value: dict[str, Any]) -> str:
    return _base64url(json.dumps(value, separators=(",", ":")).encode())


def sign_access_token(
    key: SigningKey,
    claims: AccessTokenClaims,
    user_data: dict[str, Any],
    issued_at: int,
    expires_at: int,
) -> str:
    """A signed v5 access token; ``issued_at``/``expires_at`` are epoch seconds."""
    payload = {
        **custom_claims(user_data),
        "sub": claims.user_id,
        "rsub": claims.recipe_user_id,
        "tId": claims.tenant_id,
        "sessionHandle": claims.session_handle,
        "exp": expires_at,
        "iat": issued_at,
        "refreshTokenHash1": claims.refresh_token_hash1,
        "parentRefreshTokenHash1": claims.parent_refresh_token_hash1,
        "antiCsrfToken": claims.anti_csrf_token,
    }
    header = {"alg": "RS256", "typ": "JWT", "kid": key.kid, "version": "5"}
    signing_input = f"{_json_base64url(header)}.{_json_base64url(payload)}"
    signature = key.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_base64url(signature)}"


class InvalidAccessTokenError(Exception):
    """The token is malformed, signed by an unknown key, or badly signed."""


class ExpiredAccessTokenError(InvalidAccessTokenError):
    pass


@dataclass(frozen=True)
class ParsedAccessToken:
    """An access token split into its parts; nothing verified yet."""

    kid: str
    signing_input: bytes
    signature: bytes
    payload_segment: str


def _decode_segment(segment: str) -> bytes:
    if not _BASE64URL.fullmatch(segment):
        raise InvalidAccessTokenError("malformed token segment")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidAccessTokenError("malformed token segment") from None


def _decode_json_segment(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_decode_segment(segment))
    except ValueError:
        raise InvalidAccessTokenError("malformed token segment") from None
    if not isinstance(value, dict):
        raise InvalidAccessTokenError("malformed token segment")
    return value


def parse_access_token(token: str) -> ParsedAccessToken:
    """Split a v5 token and check its header (RS256, typ JWT, version 5, a kid)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidAccessTokenError("not a JWT")
    header = _decode_json_segment(parts[0])
    kid = header.get("kid")
    if (
        header.get("alg") != "RS256"
        or header.get("typ") != "JWT"
        or str(header.get("version")) != "5"
        or not isinstance(kid, str)
    ):
        raise InvalidAccessTokenError("not a v5 RS256 access token")
    signing_input = f"{parts[0]}.{parts[1]}".encode()
    return ParsedAccessToken(kid, signing_input, _decode_segment(parts[2]), parts[1])


def decode_access_token(
    token: ParsedAccessToken, key: SigningKey, *, verify_expiry: bool
) -> dict[str, Any]:
    """The verified payload, with the session fields type-checked."""
    try:
        key.public_key.verify(
            token.signature, token.signing_input, padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        raise InvalidAccessTokenError("invalid signature") from None
    payload = _decode_json_segment(token.payload_segment)
    for name in ("exp", "iat"):
        if not isinstance(payload.get(name), int) or isinstance(payload[name], bool):
            raise InvalidAccessTokenError(f"access token lacks {name}")
    for name in ("sub", "rsub", "tId", "sessionHandle", "refreshTokenHash1"):
        if not isinstance(payload.get(name), str):
            raise InvalidAccessTokenError(f"access token lacks {name}")
    for name in ("parentRefreshTokenHash1", "antiCsrfToken"):
        if payload.get(name) is not None and not isinstance(payload[name], str):
            raise InvalidAccessTokenError(f"access token has a malformed {name}")
    if verify_expiry and payload["exp"] * 1000 <= now_ms():
        raise ExpiredAccessTokenError("access token expired")
    return payload


@dataclass(frozen=True)
class RefreshTokenPayload:
    session_handle: str
    parent_hash1: str | None
    minted_at: int  # ms
    anti_csrf_token: str | None


class RefreshTokenCodec:
    """Mints and opens the refresh tokens of one app."""

    def __init__(self, secret_key: bytes) -> None:
        self._aead = AESGCM(secret_key)

    @staticmethod
    def new_secret_key() -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def mint(self, payload: RefreshTokenPayload) -> str:
        plaintext = json.dumps(
            {
                "h": payload.session_handle,
                "p": payload.parent_hash1,
                "t": payload.minted_at,
                "a": payload.anti_csrf_token,
                "n": secrets.token_hex(8),
            },
            separators=(",", ":"),
        ).encode()
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, plaintext, None)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode() + REFRESH_TOKEN_SUFFIX

    def open(self, token: str) -> RefreshTokenPayload | None:
        """The payload of a token this codec minted, else None."""
        if not token.endswith(REFRESH_TOKEN_SUFFIX):
            return None
        encoded = token[: -len(REFRESH_TOKEN_SUFFIX)]
        try:
            sealed = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            plaintext = self._aead.decrypt(sealed[:12], sealed[12:], None)
            fields = json.loads(plaintext)
        except (binascii.Error, ValueError, InvalidTag):
            return None
        return RefreshTokenPayload(fields["h"], fields["p"], fields["t"], fields["a"])
