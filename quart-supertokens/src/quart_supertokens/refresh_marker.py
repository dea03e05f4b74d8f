"""The refresh marker: a short-lived cookie that lets the guard tell a refresh loop from a refresh.

Set by the server-side refresh hop on success: "<epoch seconds>|<redirectBack>". A second refresh
demand for that same navigation within the window is a loop (the new token is refused too), and
the guard sends the browser to sign in instead of around again.
"""

from __future__ import annotations

import time
from urllib.parse import quote, unquote

REFRESH_MARKER_COOKIE = "refreshed"


def refresh_marker_value(redirect_back: str) -> str:
    return quote(f"{int(time.time())}|{redirect_back}", safe="")


def parse_refresh_marker(value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    refreshed_at, _, target = unquote(value).partition("|")
    return (int(refreshed_at), target) if refreshed_at.isdigit() else None
