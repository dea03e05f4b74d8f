"""Make the SDK's session check cheap for an access token it has already verified here.

A browser sends the same access token on every render until it is refreshed, and every render
asks the SDK for the session (guard.py). This is the extension's one verified-token memo. Done
from scratch, the SDK's recipe `get_session` parses the JWT, checks its signature, builds a
front-token (JSON + base64), and claim validation JSON-encodes the payload twice to see whether it
changed: most of the guard's cost per render.
Two Session recipe overrides (the SDK's documented extension point: the SDK's own functions still
call them, and claim validation and cookie writing around them still run) remove the repeated work.
`quart_supertokens.init` applies them to the Session recipe after the SDK's own init, on top of
whatever overrides the app passed:

1. `remember_verified_sessions` overrides `get_session`. A token the SDK verified locally (no core
   call, not updated, no parent refresh token left for the core to promote) is remembered with
   what the SDK derived from it. The next check of the very same token string is answered from
   memory only when all of these hold; otherwise the SDK does the whole check again:
   - no anti-CSRF check and no database check was asked for;
   - the SDK's JWKS cache is the same object that held the keys then, and still fresh (a refetch,
     e.g. after a key rotation, verifies afresh);
   - the token's `exp` is still in the future (checked on every call, as the SDK does).
   Each answer is a new `Session` with its own payload dict, so a view that changes it changes
   nothing remembered. Revocation is not seen, exactly as with the SDK's own local check: routes
   that must see it at once use `check_database`, which is never answered from memory.
2. `skip_empty_claim_validation` overrides `validate_claims`: with no validators there is nothing
   to fetch or check, so the SDK's two `json.dumps` of the payload (to detect an update that cannot
   happen) are skipped. With validators the SDK's own function runs.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import supertokens_python.recipe.session.jwks as sdk_jwks
from supertokens_python.recipe.session.interfaces import (
    ClaimsValidationResult,
    RecipeInterface,
    SessionClaimValidator,
    SessionContainer,
)
from supertokens_python.recipe.session.session_class import Session
from supertokens_python.types import RecipeUserId

from quart_supertokens.tokens import is_number

REMEMBERED_SESSIONS = 4096


@dataclass(frozen=True)
class VerifiedToken:
    """What the SDK derived from one access token it verified locally."""

    jwks: object  # the SDK's CachedKeys object that held the verifying key
    expires_at: float  # the token's `exp`, epoch seconds
    payload_json: str
    front_token: str
    session_handle: str
    user_id: str
    recipe_user_id: str
    tenant_id: str


class VerifiedTokenMemo:
    """A bounded LRU of locally verified access tokens, by token string."""

    def __init__(self, size: int = REMEMBERED_SESSIONS) -> None:
        self.size = size
        self._entries: OrderedDict[str, VerifiedToken] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def remember(self, token: str, session: SessionContainer, jwks: object) -> None:
        payload = session.get_access_token_payload()
        expires_at = payload.get("exp")
        if not is_number(expires_at):
            return
        self._entries[token] = VerifiedToken(
            jwks=jwks,
            expires_at=float(expires_at),
            payload_json=json.dumps(payload),
            front_token=session.front_token,
            session_handle=session.get_handle(),
            user_id=session.get_user_id(),
            recipe_user_id=session.get_recipe_user_id().get_as_string(),
            tenant_id=session.get_tenant_id(),
        )
        self._entries.move_to_end(token)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def recall(self, token: str) -> VerifiedToken | None:
        """The remembered verification of `token`, if its keys are current and it is unexpired."""
        entry = self._entries.get(token)
        if entry is None:
            return None
        jwks = sdk_jwks.cached_keys
        if entry.jwks is not jwks or jwks is None or not jwks.is_fresh():  # type: ignore[no-untyped-call]
            del self._entries[token]
            return None
        if entry.expires_at <= time.time():
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return entry


verified_tokens = VerifiedTokenMemo()

ClaimOverride = Callable[..., Any]


def remember_verified_sessions(original: RecipeInterface) -> RecipeInterface:
    """A Session recipe override: answer `get_session` for an already verified token from memory."""
    get_session = original.get_session
    config = original.config  # type: ignore[attr-defined]  # the SDK's RecipeImplementation has it

    async def get_session_remembered(
        access_token: str | None,
        anti_csrf_token: str | None = None,
        anti_csrf_check: bool | None = None,
        session_required: bool | None = None,
        check_database: bool | None = None,
        override_global_claim_validators: ClaimOverride | None = None,
        user_context: dict[str, Any] | None = None,
    ) -> SessionContainer | None:
        # The token, when this check may be answered from memory (and remembered afterwards).
        token = access_token if anti_csrf_check is False and not check_database else None
        if token is not None:
            entry = verified_tokens.recall(token)
            if entry is not None:
                return Session(
                    original,
                    config,
                    token,
                    entry.front_token,
                    None,
                    anti_csrf_token,
                    entry.session_handle,
                    entry.user_id,
                    RecipeUserId(entry.recipe_user_id),
                    json.loads(entry.payload_json),
                    None,
                    False,
                    entry.tenant_id,
                )
        session = await get_session(
            access_token,
            anti_csrf_token,
            anti_csrf_check,
            session_required,
            check_database,
            override_global_claim_validators,
            user_context,
        )
        jwks = sdk_jwks.cached_keys
        if (
            token is not None
            and session is not None
            and jwks is not None
            and not session.access_token_updated
            and session.get_access_token() == token
            # A token with a parent refresh token is promoted by the core on its first check.
            and session.get_access_token_payload().get("parentRefreshTokenHash1") is None
        ):
            verified_tokens.remember(token, session, jwks)
        return session

    original.get_session = get_session_remembered  # type: ignore[method-assign]
    return original


def skip_empty_claim_validation(original: RecipeInterface) -> RecipeInterface:
    """A Session recipe override: `validate_claims` with no validators has nothing to do."""
    validate_claims = original.validate_claims

    async def validate_claims_if_any(
        user_id: str,
        recipe_user_id: RecipeUserId,
        access_token_payload: dict[str, Any],
        claim_validators: list[SessionClaimValidator],
        user_context: dict[str, Any],
    ) -> ClaimsValidationResult:
        if not claim_validators:
            return ClaimsValidationResult(invalid_claims=[], access_token_payload_update=None)
        return await validate_claims(
            user_id, recipe_user_id, access_token_payload, claim_validators, user_context
        )

    original.validate_claims = validate_claims_if_any  # type: ignore[method-assign]
    return original
