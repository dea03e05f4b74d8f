"""The per-request record of the extension's work, kept in `g` and read by its response hook."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quart import g
from supertokens_python.recipe.session import SessionContainer
from werkzeug.local import LocalProxy

from quart_supertokens.framework.request import SESSION_SLOT

STATE_SLOT = "_quart_supertokens"


@dataclass(slots=True)
class GuardState:
    """What the guard did in this request."""

    guarded: bool = False
    session: SessionContainer | None = None
    # The view ended the session (forget_current_session): nothing renders as signed in after.
    session_forgotten: bool = False
    clear_refresh_marker: bool = False
    # SDK response mutators carried by a decision (cookie clears, front-token), applied last.
    mutators: list[Any] = field(default_factory=list)


def guard_state() -> GuardState:
    state: GuardState | None = g.get(STATE_SLOT)
    if state is None:
        state = GuardState()
        setattr(g, STATE_SLOT, state)
    return state


def get_current_session() -> SessionContainer | None:
    """The session verified for this request, if any: by the guard, else by `verify_session`."""
    state: GuardState | None = g.get(STATE_SLOT)
    if state is not None and (state.guarded or state.session_forgotten):
        return state.session
    sdk_session: SessionContainer | None = g.get(SESSION_SLOT)
    return sdk_session


# The session verified for this request (None without one); also in templates.
current_session: SessionContainer | None = LocalProxy(get_current_session)  # type: ignore[assignment]


def forget_current_session() -> None:
    """Let the rest of this request render as signed out (after the view ended the session)."""
    state = guard_state()
    state.session = None
    state.session_forgotten = True
