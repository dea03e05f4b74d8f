"""What the lifecycle model knows, and how it reads the app's answers.

The model tracks, per account, its current password (and the passwords it had), and per browser
whose session its cookie jar holds (`Holder.handle`, None once the jar is empty). Which sessions
the core still has is one set (`Model.live`), so "signed in" is `handle in live` and "revoked
elsewhere" is a handle the jar still holds that the core no longer has.

A jar's access token is judged by its own `exp` (the SDK's test too) with a margin, so the model
never guesses: `FRESH` (it verifies for at least `FRESH_MARGIN` more), `EXPIRED`, or `EDGE`
(in between: either outcome is right, and the model follows what happened). A fresh token of a
revoked session still renders routes without `check_database` until it expires (a stateless
JWT), except a token minted by a refresh and not yet used: its first verification asks the core
(to promote the new refresh token) and finds the session gone.
"""

from __future__ import annotations

import enum
import re
import time
from dataclasses import dataclass, field

from tests.lifecycle.harness import Tokens, Visit, jwt_payload

# Longer than any one step's requests take between reading the clock and the app verifying.
FRESH_MARGIN = 0.3
CHECK_DATABASE_PAGES = frozenset({"/sessions", "/account"})
SESSION_ROW = re.compile(r'<tr id="session-([^"]+)" role="row"( aria-current="true")?')


class Freshness(enum.Enum):
    FRESH = "fresh"
    EDGE = "edge"
    EXPIRED = "expired"


def freshness(tokens: Tokens, now: float | None = None) -> Freshness:
    """How the jar's access token stands against the clock (EXPIRED when there is none)."""
    expires_at = tokens.expires_at
    if expires_at is None:
        return Freshness.EXPIRED
    now = time.time() if now is None else now
    if expires_at - now > FRESH_MARGIN:
        return Freshness.FRESH
    if now >= expires_at + 0.02:
        return Freshness.EXPIRED
    return Freshness.EDGE


def awaits_promotion(tokens: Tokens) -> bool:
    """A token minted by a refresh and not yet verified: its first use goes to the core."""
    if tokens.access is None:
        return False
    return bool(jwt_payload(tokens.access).get("parentRefreshTokenHash1"))


@dataclass
class Account:
    email: str
    password: str
    user_id: str
    stale_passwords: list[str] = field(default_factory=list)


@dataclass
class Holder:
    """The model of one browser's jar: whose session it holds, if any."""

    account: Account | None = None
    handle: str | None = None

    def clear(self) -> None:
        self.account = None
        self.handle = None


@dataclass
class Model:
    accounts: list[Account] = field(default_factory=list)
    holders: list[Holder] = field(default_factory=list)
    # handle -> user id of every session the core should still have.
    live: dict[str, str] = field(default_factory=dict)

    def is_live(self, holder: Holder) -> bool:
        return holder.handle is not None and holder.handle in self.live

    def is_revoked(self, holder: Holder) -> bool:
        return holder.handle is not None and holder.handle not in self.live

    def handles_of(self, account: Account) -> set[str]:
        return {handle for handle, user in self.live.items() if user == account.user_id}

    def revoke(self, handles: set[str]) -> None:
        for handle in handles:
            self.live.pop(handle, None)


class Outcome(enum.Enum):
    """How a page load ended."""

    RENDERED = "rendered"  # the page, for the jar's session
    LOGIN = "login"  # the sign-in page
    UNAVAILABLE = "unavailable"  # 503 (the core down)
    OTHER = "other"


def page_outcome(visit: Visit, path: str, holder: Holder) -> Outcome:
    """Classify a page load that asked for `path` while the jar held `holder`'s session."""
    if visit.status == 503:
        return Outcome.UNAVAILABLE
    if visit.status == 200 and visit.path == "/login" and 'id="auth-form"' in visit.text:
        return Outcome.LOGIN
    if (
        visit.status == 200
        and visit.path == path.split("?")[0]
        and holder.account is not None
        and renders_for(visit.text, holder, fragment=False)
    ):
        return Outcome.RENDERED
    return Outcome.OTHER


def renders_for(body: str, holder: Holder, fragment: bool) -> bool:
    """Whether a protected page or the session card shows `holder`'s account and session."""
    assert holder.account is not None
    if fragment:
        return (
            f"<code>{holder.account.user_id}</code>" in body
            and f"<code>{holder.handle}</code>" in body
            and "<html" not in body
        )
    return holder.account.email in body and 'class="nav-user-name"' in body


def session_rows(body: str) -> tuple[set[str], set[str]]:
    """The handles listed on /sessions, and which of them are marked as this session."""
    rows: set[str] = set()
    current: set[str] = set()
    for handle, marked in SESSION_ROW.findall(body):
        rows.add(handle)
        if marked:
            current.add(handle)
    return rows, current
