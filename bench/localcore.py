"""Benchmark the local core over loopback: session creations/s, refreshes/s, verify latency.

Run by hand (not in CI): ``.venv/bin/python bench/localcore.py [--requests N] [--seconds S]``.
It starts its own ``python -m localcore`` on a free port with a throw-away database, then for 1
and 32 concurrent clients (one keep-alive httpx.AsyncClient each) measures:

- ``POST /public/recipe/session`` (create),
- ``POST /recipe/session/refresh``, each client refreshing its own session along the chain
  (every refresh presents the previous child, so each one promotes and rotates),
- ``POST /recipe/session/verify`` with ``checkDatabase: true``.

Each phase stops after ``--requests`` requests or ``--seconds`` seconds, whichever comes first.
The client shares the machine's cores with the server, so the numbers are a lower bound.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, localcore_process  # noqa: E402

HEADERS = {"cdi-version": "5.4"}


@dataclass
class PhaseResult:
    name: str
    concurrency: int
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def row(self) -> str:
        return (
            f"| {self.name} | {self.concurrency} | {self.requests} | {self.per_second:.0f} "
            f"| {statistics.median(self.latencies_ms):.1f} | {self.percentile(0.99):.1f} |"
        )


Operation = Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[None]]


async def run_phase(
    url: str,
    name: str,
    concurrency: int,
    operation: Operation,
    prepare: Callable[[httpx.AsyncClient], Awaitable[dict[str, Any]]],
    max_requests: int,
    max_seconds: float,
) -> PhaseResult:
    # One keep-alive client per simulated caller, like separate app workers: a single httpx pool
    # shared by 32 tasks is itself the bottleneck (it halves throughput and adds 300 ms tails).
    clients = [httpx.AsyncClient(base_url=url, headers=HEADERS) for _ in range(concurrency)]
    try:
        states = [await prepare(client) for client in clients]
        latencies: list[float] = []
        started = time.perf_counter()
        deadline = started + max_seconds

        async def worker(client: httpx.AsyncClient, state: dict[str, Any]) -> None:
            while len(latencies) < max_requests and time.perf_counter() < deadline:
                before = time.perf_counter()
                await operation(client, state)
                latencies.append((time.perf_counter() - before) * 1000)

        await asyncio.gather(*(worker(c, s) for c, s in zip(clients, states, strict=True)))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    return PhaseResult(name, concurrency, len(latencies), elapsed, latencies)


def ok(response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    if body.get("status") != "OK":
        raise RuntimeError(f"unexpected answer: {body}")
    return body


async def new_session(client: httpx.AsyncClient) -> dict[str, Any]:
    body = {
        "userId": "bench-user",
        "userDataInJWT": {"iss": "http://127.0.0.1:8000/auth"},
        "userDataInDatabase": {},
        "useDynamicSigningKey": True,
        "enableAntiCsrf": False,
    }
    created = ok(await client.post("/public/recipe/session", json=body))
    return {
        "accessToken": created["accessToken"]["token"],
        "refreshToken": created["refreshToken"]["token"],
    }


async def create(client: httpx.AsyncClient, state: dict[str, Any]) -> None:
    await new_session(client)


async def refresh(client: httpx.AsyncClient, state: dict[str, Any]) -> None:
    body = {"refreshToken": state["refreshToken"], "enableAntiCsrf": False}
    refreshed = ok(await client.post("/recipe/session/refresh", json=body))
    state["refreshToken"] = refreshed["refreshToken"]["token"]


async def verify(client: httpx.AsyncClient, state: dict[str, Any]) -> None:
    body = {
        "accessToken": state["accessToken"],
        "doAntiCsrfCheck": False,
        "enableAntiCsrf": False,
        "checkDatabase": True,
    }
    ok(await client.post("/recipe/session/verify", json=body))


async def no_state(client: httpx.AsyncClient) -> dict[str, Any]:
    return {}


async def benchmark(url: str, max_requests: int, max_seconds: float) -> list[PhaseResult]:
    results = []
    for concurrency in (1, 32):
        for name, operation, prepare in (
            ("create session", create, no_state),
            ("refresh (rotating chain)", refresh, new_session),
            ("verify, checkDatabase", verify, new_session),
        ):
            result = await run_phase(
                url, name, concurrency, operation, prepare, max_requests, max_seconds
            )
            print(result.row(), flush=True)
            results.append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per phase (default 3000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase (default 10)")
    arguments = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as directory:
        core = localcore_process(port, Path(directory) / "bench.db").start()
        try:
            print(f"# {time.strftime('%Y-%m-%d')} | {platform.uname()} | Python {sys.version}")
            print("| operation | clients | requests | per second | p50 ms | p99 ms |")
            print("| --- | ---: | ---: | ---: | ---: | ---: |")
            asyncio.run(benchmark(url, arguments.requests, arguments.seconds))
        finally:
            core.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
