"""The process-wide patches the Quart adapter applies to supertokens-python, in one place.

1. Framework name. supertokens-python 0.31.x validates `init(framework=...)` against
   "fastapi" | "flask" | "django" (a pydantic Literal), and ships no Quart adapter. We therefore
   init with framework="flask" and always hand the SDK a `QuartRequest`, whose `wrapper_used=True`
   makes the SDK skip its framework lookup. As a guard for any code path that still looks a
   framework up, `supertokens_python.utils.FRAMEWORKS["flask"]` is replaced by `QuartFramework`:
   the session modules imported that same dict object, so they see the change. Without it a raw
   Quart request would reach `FlaskRequest` and touch `flask.g` (a 500: "Working outside of
   application context").

2. Pooled core client. `Querier.api_request` opens (and closes) a new `httpx.AsyncClient` for every
   core call: a new TCP connection each time, and a fixed 30 s timeout. We replace that one method
   with one that reuses a keep-alive client per event loop (tests run several loops; an httpx client
   must not cross loops) with timeout CORE_TIMEOUT. `close_core_client()` closes the current loop's
   client at app shutdown. bench/pooled_client.py measures the difference.

3. Access tokens are RS256 only. The SDK verifies a token with the algorithm its own header names
   (`algorithms=[header["alg"]]` in recipe/session/access_token.py), so a token signed with the
   core's key under RS384/RS512/PS256 would pass. The module's `jwt` is swapped for
   app/sdk/access_token.py, which accepts RS256 only (anything else: TRY_REFRESH_TOKEN) and is
   cheaper than PyJWT. tests/security/test_forged_tokens.py proves it.

4. JWKS fetch bounded by CORE_TIMEOUT. The SDK fetches an unknown `kid`'s keys with a blocking
   `requests.get` on the event loop, with its own 10 s timeout; a forged `kid` would stall the
   worker that long. `JWKSConfig["request_timeout"]` is set from CORE_TIMEOUT (the start-up fetch
   runs off the loop: app/sdk/init.py).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import httpx
import supertokens_python.recipe.session.access_token as sdk_access_token
import supertokens_python.recipe.session.jwks as sdk_jwks
import supertokens_python.utils
from supertokens_python.framework.types import Framework
from supertokens_python.querier import Querier

from app.sdk.access_token import RS256Only
from app.sdk.wrappers import QuartRequest


class QuartFramework(Framework):
    """Registry entry the SDK falls back to when it is given an unwrapped request."""

    def wrap_request(self, unwrapped: Any) -> QuartRequest:
        if isinstance(unwrapped, QuartRequest):
            return unwrapped
        return QuartRequest(unwrapped)


class CoreClientPool:
    """One keep-alive `httpx.AsyncClient` per event loop, for every call to the core."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.clients_created = 0
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def client(self) -> httpx.AsyncClient:
        """The current loop's client, created on first use."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(timeout=self.timeout)
            self._clients[loop] = client
            self.clients_created += 1
        return client

    async def aclose(self) -> None:
        """Close the current loop's client, if any (the next call opens a new one)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


core_client_pool = CoreClientPool()


async def pooled_api_request(
    self: Querier,
    url: str,
    method: str,
    attempts_remaining: int,
    *args: Any,
    **kwargs: Any,
) -> httpx.Response:
    # Same signature and contract as Querier.api_request; the SDK passes headers/params/json.
    if attempts_remaining == 0:
        raise Exception("Retry request failed")
    if method not in ("GET", "POST", "PUT", "DELETE"):
        raise Exception("Shouldn't come here")
    client = core_client_pool.client()
    return await client.request(method, url, *args, timeout=core_client_pool.timeout, **kwargs)


def install_sdk_patches(core_timeout: float) -> None:
    """Apply the patches; idempotent, so every `create_app()` may call it."""
    supertokens_python.utils.FRAMEWORKS["flask"] = QuartFramework()
    core_client_pool.timeout = core_timeout
    Querier.api_request = pooled_api_request  # type: ignore[method-assign]
    setattr(sdk_access_token, "jwt", RS256Only)  # noqa: B010 - not an exported name
    sdk_jwks.JWKSConfig["request_timeout"] = int(core_timeout * 1000)


async def close_core_client() -> None:
    await core_client_pool.aclose()
