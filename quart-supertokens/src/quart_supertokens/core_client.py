"""One keep-alive HTTP client per event loop for the SDK's calls to the core.

`Querier.api_request` opens (and closes) a new `httpx.AsyncClient` for every core call: a new TCP
connection each time, and a fixed 30 s timeout. `install_pooled_core_client` replaces that one
method with one that reuses a keep-alive client per event loop (tests run several loops; an httpx
client must not cross loops) with the extension's core timeout. `close_core_client()` closes the
current loop's client at app shutdown (the extension registers it as an `after_serving` hook).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import httpx
from supertokens_python.querier import Querier


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


def install_pooled_core_client(timeout: float) -> None:
    """Route every core call through the pool, with `timeout` seconds (idempotent)."""
    core_client_pool.timeout = timeout
    Querier.api_request = pooled_api_request  # type: ignore[method-assign]


async def close_core_client() -> None:
    await core_client_pool.aclose()
