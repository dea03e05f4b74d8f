"""`CurrentUser`: who the verified session belongs to, as this app's pages show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from supertokens_python.recipe.session import SessionContainer
from werkzeug.exceptions import HTTPException

from quart_supertokens import GuardRedirect, check_session, get_current_session


@dataclass(frozen=True)
class CurrentUser:
    """Read from the session's access-token payload (no core call)."""

    user_id: str
    session_handle: str
    email: str
    display_name: str
    roles: tuple[str, ...]
    email_verified: bool

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @classmethod
    def from_session(cls, session: SessionContainer) -> CurrentUser:
        payload = session.get_access_token_payload()
        email = str(payload.get("email") or "")
        roles = payload.get("st-role", {}).get("v") or []
        return cls(
            user_id=session.get_user_id(),
            session_handle=session.get_handle(),
            email=email,
            display_name=str(payload.get("name") or email or session.get_user_id()),
            roles=tuple(str(r) for r in roles),
            email_verified=bool(payload.get("st-ev", {}).get("v")),
        )


def current_user() -> CurrentUser | None:
    session = get_current_session()
    return CurrentUser.from_session(session) if session is not None else None


async def current_user_context() -> dict[str, Any]:
    """The templates' `current_user` and `is_admin`."""
    user = current_user()
    return {"current_user": user, "is_admin": bool(user and user.is_admin)}


def required_session() -> SessionContainer:
    """The session of a view guarded with a required session (always there once it runs)."""
    session = get_current_session()
    assert session is not None, "a guarded view runs with a session"
    return session


async def optional_session() -> SessionContainer | None:
    """The request's session if it verifies as is; a needed refresh is not worth a detour here."""
    try:
        return await check_session(optional=True)
    except (GuardRedirect, HTTPException):
        return None
