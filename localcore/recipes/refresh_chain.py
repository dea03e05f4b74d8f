"""The refresh-token chain of a stored session: its state, and how a presented token stands.


Refresh-token rotation follows the official core's legacy flow (CDI <= 5.4), with a grace window
for the requests of one browser that race each other (docs/security.md F4).

Every refresh token carries, sealed, its session handle, its parent's hash1 and its mint time.
Tokens form a tree; the *generation* of a token is its depth in it. Per session the store keeps
``refresh_hash2`` = sha256(sha256(current token)), the current token's generation, the mint
time of the first token promoted to that generation (``refresh_minted_at``), and a bounded
history (``refresh_history``, at most 8 entries) of tokens that were current and were displaced,
each with its generation and the time it was displaced. On every promotion the displaced token
joins the history and entries older than the parent generation are dropped, so the history
holds only the current generation's displaced siblings and the parent generation.

The grace window is ``min(30 s, access_token_validity)``. ``refresh(R)``:

1. R is current: mint a child of R; the store does not change, so concurrent refreshes with R
   all succeed, each with its own child.
2. R is a child of the current token: promote R (it becomes current, the session expiry is
   extended), then go on as in 1.
3. **Re-presented parent.** R was current in the parent generation (the parent of the current
   token, or a sibling of the parent displaced by it) and was displaced less than the window ago:
   a request that left the browser before the Set-Cookie of the refresh that replaced R arrived.
   Mint a child of R (a sibling of the current token); the store does not change.
4. **Siblings.** R is of the current generation and either was current before (a sibling that
   lost a race and comes back) or is a child of a parent-generation token in the history and was
   minted within the window of the generation's first promoted token, or after its parent was
   displaced (so by rule 3, within the window). Promote R; the current token joins the history.
   This does not expire: a browser whose cookie jar ended the race with the sibling that was not
   promoted may come back after any idle time.
5. **Nephews.** R is a child of a sibling that lost the race (a current-generation token in the
   history): promote R, as a child.
6. Anything else that decrypts under the app's key is ``TOKEN_THEFT_DETECTED``: a parent-
   generation token re-presented after the window, a token two or more generations older than
   the current one, a sibling minted outside the window, an unknown branch.

The session handlers (session.py) act on these verdicts. Verify applies rules 2, 4 and 5 to the
refresh token named by an access token that has a parent
(``refreshTokenHash1``/``parentRefreshTokenHash1``; the mint time is judged by the token's ``iat``,
whole seconds) and then returns a new access token without a parent; it never reports theft.

Trade-off: a thief who replays a just-rotated token within the window gets a branch of their own
(as with the official core's CDI 5.6 grace period). The branches compete until one of them
advances a generation; the other is then theft as soon as its window has passed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from localcore.clock import now_ms
from localcore.core import RequestContext
from localcore.inputs import JsonObject
from localcore.storage import Database
from localcore.tokens import (
    sha256_hex,
)

SIBLING_GRACE_MS = 30_000
HISTORY_LIMIT = 8
SESSION_COLUMNS = (
    "handle, user_id, recipe_user_id, tenant_id, refresh_hash2, previous_refresh_hash2,"
    " refresh_minted_at, refresh_generation, refresh_history, expires_at, created_at,"
    " jwt_payload, db_data, use_static_key"
)


@dataclass
class Retired:
    """A refresh token that was current and no longer is."""

    hash2: str
    generation: int
    retired_at: int


@dataclass
class StoredSession:
    handle: str
    user_id: str
    recipe_user_id: str
    tenant_id: str
    refresh_hash2: str
    previous_refresh_hash2: str | None
    refresh_minted_at: int
    refresh_generation: int
    refresh_history: list[Retired]
    expires_at: int
    created_at: int
    jwt_payload: dict[str, Any]
    db_data: dict[str, Any]
    use_static_key: bool

    def summary(self) -> JsonObject:
        """The session object ``S`` of create, verify, refresh and regenerate responses."""
        return {
            "handle": self.handle,
            "userId": self.user_id,
            "recipeUserId": self.recipe_user_id,
            "userDataInJWT": self.jwt_payload,
            "tenantId": self.tenant_id,
        }

    def retired(self, hash2: str) -> Retired | None:
        return next((entry for entry in self.refresh_history if entry.hash2 == hash2), None)


def load_session(database: Database, app_id: str, handle: str) -> StoredSession | None:
    """The session if it exists and has not expired."""
    row = database.one(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE app_id = ? AND handle = ?",  # noqa: S608
        (app_id, handle),
    )
    if row is None or row["expires_at"] < now_ms():
        return None
    return StoredSession(
        handle=row["handle"],
        user_id=row["user_id"],
        recipe_user_id=row["recipe_user_id"],
        tenant_id=row["tenant_id"],
        refresh_hash2=row["refresh_hash2"],
        previous_refresh_hash2=row["previous_refresh_hash2"],
        refresh_minted_at=row["refresh_minted_at"],
        refresh_generation=row["refresh_generation"],
        refresh_history=[Retired(*entry) for entry in json.loads(row["refresh_history"])],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        jwt_payload=json.loads(row["jwt_payload"]),
        db_data=json.loads(row["db_data"]),
        use_static_key=bool(row["use_static_key"]),
    )


class Standing(Enum):
    """Where a presented refresh token stands relative to the session's current one."""

    CURRENT = "current"
    RECENT = "recent"  # a parent-generation token retired within the window: mint, no change
    PROMOTE = "promote"  # a child, sibling, nephew or displaced sibling: make it current
    STALE = "stale"  # anything else: theft


@dataclass(frozen=True)
class Verdict:
    standing: Standing
    generation: int = 0  # the generation of the token to promote


def grace_ms(ctx: RequestContext) -> int:
    return min(SIBLING_GRACE_MS, ctx.app.config.access_token_validity_ms)


def standing(
    ctx: RequestContext,
    session: StoredSession,
    token_hash2: str,
    parent_hash1: str | None,
    minted_at: int,
    slack_ms: int = 0,
) -> Verdict:
    """Classify a presented token (rules 1-6 of the module docstring).

    ``minted_at`` may be ``slack_ms`` too early (an access token's ``iat`` has whole seconds).
    """
    now = now_ms()
    grace = grace_ms(ctx)
    generation = session.refresh_generation
    if token_hash2 == session.refresh_hash2:
        return Verdict(Standing.CURRENT)
    seen = session.retired(token_hash2)
    if seen is not None and seen.generation == generation:
        return Verdict(Standing.PROMOTE, generation)  # rule 4: a displaced sibling
    if seen is not None and seen.generation == generation - 1 and now - seen.retired_at <= grace:
        return Verdict(Standing.RECENT)  # rule 3: the parent (or an uncle), re-presented
    if parent_hash1 is None:
        return Verdict(Standing.STALE)
    parent_hash2 = sha256_hex(parent_hash1)
    if parent_hash2 == session.refresh_hash2:
        return Verdict(Standing.PROMOTE, generation + 1)  # rule 2: a child
    parent = session.retired(parent_hash2)
    if parent is None:
        return Verdict(Standing.STALE)
    if parent.generation == generation:
        return Verdict(Standing.PROMOTE, generation + 1)  # rule 5: a nephew
    if parent.generation == generation - 1 and (
        abs(minted_at - session.refresh_minted_at) <= grace + slack_ms
        or minted_at + slack_ms >= parent.retired_at
    ):
        return Verdict(Standing.PROMOTE, generation)  # rule 4: a sibling
    return Verdict(Standing.STALE)


def promote(
    ctx: RequestContext,
    session: StoredSession,
    verdict: Verdict,
    token_hash2: str,
    parent_hash1: str | None,
    minted_at: int,
) -> None:
    """Make the presented token current, remember the displaced one, and extend the session."""
    now = now_ms()
    generation = verdict.generation
    history = [
        entry
        for entry in session.refresh_history
        if entry.hash2 != token_hash2 and entry.generation >= generation - 1
    ]
    history.append(Retired(session.refresh_hash2, session.refresh_generation, now))
    history = history[-HISTORY_LIMIT:]
    if generation != session.refresh_generation:
        session.refresh_minted_at = minted_at
    if parent_hash1 is not None:
        session.previous_refresh_hash2 = sha256_hex(parent_hash1)
    session.refresh_hash2 = token_hash2
    session.refresh_generation = generation
    session.refresh_history = history
    session.expires_at = now + ctx.app.config.refresh_token_validity_ms
    ctx.database.execute(
        "UPDATE sessions SET refresh_hash2 = ?, previous_refresh_hash2 = ?,"
        " refresh_minted_at = ?, refresh_generation = ?, refresh_history = ?, expires_at = ?"
        " WHERE app_id = ? AND handle = ?",
        (
            token_hash2,
            session.previous_refresh_hash2,
            session.refresh_minted_at,
            generation,
            json.dumps([[e.hash2, e.generation, e.retired_at] for e in history]),
            session.expires_at,
            ctx.app_id,
            session.handle,
        ),
    )
