"""Time N core calls with the SDK's client-per-call and with the app's pooled keep-alive client.

    .venv/bin/python bench/pooled_client.py [--calls 500] [--rounds 3] [--concurrency 1 10]
                                            [--core http://127.0.0.1:3567]

Without --core it starts a throwaway `python -m localcore` on a free loopback port. Each call is
`GET /user/id` through the SDK's Querier (the same path every core call takes); the two modes swap
only `Querier.api_request`, and alternate round by round so drift affects both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP", "1")

from supertokens_python.normalised_url_path import NormalisedURLPath  # noqa: E402
from supertokens_python.querier import Querier  # noqa: E402

from app.config import Settings  # noqa: E402
from app.sdk.init import init_supertokens  # noqa: E402
from quart_supertokens.core_client import core_client_pool, pooled_api_request  # noqa: E402
from tests.servers import free_port, localcore_process  # noqa: E402

SDK_API_REQUEST: Callable[..., Any] = Querier.api_request  # captured before init patches it


@contextmanager
def core_url(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        server = localcore_process(port, Path(directory) / "core.db").start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


async def timed_calls(calls: int, concurrency: int) -> list[float]:
    """Per-call latencies (s) of `calls` GET /user/id, `concurrency` at a time."""
    querier = Querier.get_instance()
    path = NormalisedURLPath("/user/id")

    async def one() -> float:
        start = time.perf_counter()
        await querier.send_get_request(path, {"userId": "bench-missing-user"}, None)
        return time.perf_counter() - start

    latencies: list[float] = []
    for _ in range(calls // concurrency):
        latencies += await asyncio.gather(*(one() for _ in range(concurrency)))
    return latencies


async def run_mode(pooled: bool, calls: int, concurrency: int) -> tuple[float, list[float]]:
    Querier.api_request = pooled_api_request if pooled else SDK_API_REQUEST  # type: ignore[method-assign]
    try:
        await timed_calls(10, 1)  # warm-up: version negotiation, first connection
        start = time.perf_counter()
        latencies = await timed_calls(calls, concurrency)
        return time.perf_counter() - start, latencies
    finally:
        await core_client_pool.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--core", help="core URL; default: start a throwaway localcore")
    args = parser.parse_args()

    with core_url(args.core) as url:
        init_supertokens(Settings(connection_uri=url))
        python = sys.version.split()[0]
        print(f"core {url}, {args.calls} calls x {args.rounds} rounds, Python {python}")
        print("| client | concurrency | calls/s | median ms | p95 ms |")
        print("| --- | --- | --- | --- | --- |")
        for concurrency in args.concurrency:
            results: dict[bool, tuple[list[float], list[float]]] = {False: ([], []), True: ([], [])}
            for _ in range(args.rounds):
                for pooled in (False, True):
                    total, latencies = asyncio.run(run_mode(pooled, args.calls, concurrency))
                    results[pooled][0].append(len(latencies) / total)
                    results[pooled][1].extend(latencies)
            for pooled in (False, True):
                rates, latencies = results[pooled]
                p95 = statistics.quantiles(latencies, n=20)[-1]
                print(
                    f"| {'pooled keep-alive' if pooled else 'new client per call (SDK)'} "
                    f"| {concurrency} | {statistics.median(rates):.0f} "
                    f"| {statistics.median(latencies) * 1000:.2f} | {p95 * 1000:.2f} |"
                )


if __name__ == "__main__":
    main()
