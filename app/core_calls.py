"""Calls to the core from this app's views: a failure is the 503 page, never a 500."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from werkzeug.exceptions import HTTPException

from quart_supertokens import CoreUnavailableError, GuardRedirect

logger = logging.getLogger(__name__)

T = TypeVar("T")

TENANT = "public"
# SDK tokens are ~128 URL-safe characters; anything far longer or odd never reaches the core.
MAX_TOKEN_LENGTH = 512


async def core_call(call: Awaitable[T]) -> T:
    """Await an SDK call; a core failure becomes the guard's 503 page/fragment, never a 500."""
    try:
        return await call
    except (GuardRedirect, HTTPException):
        raise
    except Exception:
        logger.exception("a core call failed")
        raise CoreUnavailableError() from None


def plausible_token(token: str | None) -> bool:
    """Whether a link token is worth asking the core about (short, printable ASCII, no spaces)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    return all(0x21 <= ord(ch) < 0x7F for ch in token)
