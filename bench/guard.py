"""Benchmark the SSR guard (by hand, loopback only, bounded): `python bench/guard.py [seconds]`.

Starts a local core and the app under Hypercorn (one worker) on free loopback ports, signs a user
up, then loads a protected Jinja page (`/dashboard`, guarded) and the same template rendered
without the guard (`/bench/unprotected`) in 10 pairs of short rounds, the order alternating, with
8 keep-alive connections from a bare asyncio client. Reports:
- throughput of each, and the median of the pairs' ratios (target >= 0.92), the last line;
- server CPU per request of each (the app process's user + system time), and their ratio;
- guard CPU per render (process time inside `verify_session`, measured in a phase of its own so
  the timer does not tax the throughput rounds; target median <= 0.25 ms);
- core calls per steady-state render (target 0) and on the first render after a refresh (target 1);
- the event loop's worst stall while serving (the JWKS is fetched off the loop at start-up).

The served app is this file run with `serve PORT CORE_URI`: the real create_app() plus bench-only
routes, so the guard under test is the real one.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def serve(port: int, core_uri: str) -> None:
    """Run the app with bench instrumentation (a child process of the benchmark)."""
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config
    from quart import Response, jsonify
    from supertokens_python.querier import Querier

    from app import create_app
    from app.config import Settings
    from app.views import pages

    # This file also runs against the app before the extension existed (for before/after runs).
    if (ROOT / "app" / "rendering.py").exists():
        import quart_supertokens.guard as guard
        from app.current_user import CurrentUser
        from app.rendering import render

        timed_name = "check_session_under"  # what require_session calls on every render
    else:
        import app.guard as guard  # type: ignore[no-redef]
        from app.guard import CurrentUser  # type: ignore[no-redef]
        from app.htmx import render  # type: ignore[no-redef]

        timed_name = "verify_session"

    stats: dict[str, Any] = {
        "guard_cpu_ns": [],
        "core_calls": 0,
        "jwks_fetches": 0,
        "max_loop_lag_ms": 0.0,
    }

    original_verify = getattr(guard, timed_name)

    async def timed_verify(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time_ns()
        try:
            return await original_verify(*args, **kwargs)
        finally:
            stats["guard_cpu_ns"].append(time.process_time_ns() - started)

    app = create_app(Settings(connection_uri=core_uri, email_sink=Path("/tmp/bench-emails.jsonl")))
    # After create_app, which installs the pooled client on the same method.
    original_request = Querier.api_request

    async def counted_request(self: Any, *args: Any, **kwargs: Any) -> Any:
        stats["core_calls"] += 1
        return await original_request(self, *args, **kwargs)

    Querier.api_request = counted_request  # type: ignore[method-assign]

    # The SDK fetches the JWKS with a blocking requests.get: count those fetches.
    import supertokens_python.recipe.session.jwks as sdk_jwks

    blocking_get = sdk_jwks.requests.get

    def counted_get(*args: Any, **kwargs: Any) -> Any:
        stats["jwks_fetches"] += 1
        return blocking_get(*args, **kwargs)

    sdk_jwks.requests.get = counted_get  # type: ignore[assignment]
    card = pages.SessionCard("bench-user", "bench-handle", 3600, "2026-01-01T00:00:00+00:00", 0)

    @app.get("/bench/unprotected")
    async def unprotected() -> Response:
        user = CurrentUser("bench-user", "bench-handle", "b@example.test", "B", (), False)
        return await render(
            "pages/dashboard.html", "session_card", card=card, current_user=user, is_admin=False
        )

    @app.get("/bench/stats")
    async def bench_stats() -> Response:
        cpu = stats["guard_cpu_ns"]
        return jsonify(
            {
                "renders": len(cpu),
                "guard_cpu_median_ms": statistics.median(cpu) / 1e6 if cpu else None,
                "guard_cpu_p99_ms": sorted(cpu)[int(len(cpu) * 0.99)] / 1e6 if cpu else None,
                "core_calls": stats["core_calls"],
                "jwks_fetches": stats["jwks_fetches"],
                "max_loop_lag_ms": stats["max_loop_lag_ms"],
            }
        )

    @app.post("/bench/timing/<state>")
    async def bench_timing(state: str) -> Response:
        # Off while throughput is measured: the timer would tax the protected page alone.
        setattr(guard, timed_name, timed_verify if state == "on" else original_verify)
        return jsonify({})

    @app.post("/bench/reset")
    async def bench_reset() -> Response:
        stats["guard_cpu_ns"].clear()
        stats["core_calls"] = 0
        stats["jwks_fetches"] = 0
        stats["max_loop_lag_ms"] = 0.0
        return jsonify({})

    async def watch_loop_lag() -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            lag = (time.perf_counter() - started - 0.01) * 1000
            stats["max_loop_lag_ms"] = max(stats["max_loop_lag_ms"], lag)

    @app.before_serving
    async def start_watch() -> None:
        app.add_background_task(watch_loop_lag)

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    asyncio.run(hypercorn_serve(app, config))  # type: ignore[arg-type]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(port: int, path: str, cookie: str, seconds: float, concurrency: int) -> int:
    """Requests completed on `path` in `seconds` by `concurrency` keep-alive connections.

    A bare asyncio client (one pre-built request, responses framed by Content-Length) so that the
    load generator costs the two shared cores as little as possible and the server is the
    bottleneck: httpx spends about as much CPU per request as the server does.
    """
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/html\r\n"
        f"Cookie: {cookie}\r\n\r\n"
    ).encode()
    done = 0
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                writer.write(request)
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    # Hypercorn closes a keep-alive connection after 1,000 requests: reconnect.
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                status = head[9:12]
                if status != b"200":
                    raise RuntimeError(f"{path} answered {status.decode()}")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                done += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return done


async def run(seconds: float) -> None:
    import httpx

    from tests.servers import ServerProcess, free_port, localcore_process

    workdir = Path("/tmp/bench-guard")
    workdir.mkdir(exist_ok=True)
    (workdir / "core.db").unlink(missing_ok=True)
    core_port, app_port = free_port(), free_port()
    core = localcore_process(core_port, workdir / "core.db").start()
    core_uri = f"http://127.0.0.1:{core_port}"
    app = ServerProcess(
        [sys.executable, __file__, "serve", str(app_port), core_uri],
        f"http://127.0.0.1:{app_port}/healthz",
        env={"SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP": "1"},
    ).start()
    base = f"http://127.0.0.1:{app_port}"
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            signup = await client.post(
                "/signup", data={"email": "bench@example.test", "password": "bench-pass-1"}
            )
            assert signup.status_code == 303, signup.text
            cookie = f"sAccessToken={client.cookies['sAccessToken']}"
            assert (await client.get("/dashboard")).status_code == 200
            await client.post("/bench/reset")

            # Throughput: pairs of short rounds, the order alternating, so that the drift of a
            # shared machine hits both pages alike; the ratio is the median of the pairs' ratios.
            rounds: dict[str, list[float]] = {"protected": [], "unprotected": []}
            # Server CPU per request (user + system time of the app process), per round.
            cpu_per_request: dict[str, list[float]] = {"protected": [], "unprotected": []}
            pages = [("protected", "/dashboard"), ("unprotected", "/bench/unprotected")]
            pairs = 10
            per_round = seconds * 0.8 / (2 * pairs)
            protected_renders = 0
            for pair in range(pairs):
                for name, path in pages if pair % 2 == 0 else pages[::-1]:
                    cpu_before = process_cpu_seconds(app.process.pid)  # type: ignore[union-attr]
                    count = await load(app_port, path, cookie, per_round, concurrency=8)
                    cpu_used = process_cpu_seconds(app.process.pid) - cpu_before  # type: ignore[union-attr]
                    rounds[name].append(count / per_round)
                    cpu_per_request[name].append(cpu_used / max(count, 1))
                    protected_renders += count if name == "protected" else 0
            steady = (await client.get("/bench/stats")).json()

            # Guard CPU, timed on its own afterwards.
            await client.post("/bench/timing/on")
            await load(app_port, "/dashboard", cookie, seconds * 0.2, concurrency=8)
            timed = (await client.get("/bench/stats")).json()

            # The first render after a refresh verifies with the core once (promotes the token).
            refreshed = await client.post("/auth/session/refresh")
            assert refreshed.status_code == 200, refreshed.text
            await client.post("/bench/reset")
            await client.get("/dashboard")
            after_refresh = (await client.get("/bench/stats")).json()
            await client.get("/dashboard")
            second = (await client.get("/bench/stats")).json()
    finally:
        app.stop()
        core.stop()

    protected = statistics.median(rounds["protected"])
    unprotected = statistics.median(rounds["unprotected"])
    pair_ratios = [p / u for p, u in zip(rounds["protected"], rounds["unprotected"], strict=True)]
    print(f"machine: {os.uname().sysname} {os.uname().release}, {os.cpu_count()} cpus")
    print(f"protected /dashboard:       {protected:8.1f} req/s (median of {len(pair_ratios)})")
    print(f"unprotected same template:  {unprotected:8.1f} req/s (median of {len(pair_ratios)})")
    print(f"pair ratios: {', '.join(f'{r:.3f}' for r in pair_ratios)}")
    print(
        f"steady-state renders: {protected_renders}, core calls: {steady['core_calls']}, "
        f"JWKS fetches on the event loop: {steady['jwks_fetches']}"
    )
    print(
        f"guard CPU per render ({timed['renders']} timed): "
        f"median {timed['guard_cpu_median_ms']:.3f} ms, p99 {timed['guard_cpu_p99_ms']:.3f} ms"
    )
    print(f"core calls on the first render after a refresh: {after_refresh['core_calls']}")
    print(
        f"core calls on the render after that: {second['core_calls'] - after_refresh['core_calls']}"
    )
    print(f"worst event-loop stall while serving: {steady['max_loop_lag_ms']:.1f} ms")
    cpu_ratios = [
        u / p
        for p, u in zip(cpu_per_request["protected"], cpu_per_request["unprotected"], strict=True)
    ]
    cpu_ms = {name: statistics.median(values) * 1e3 for name, values in cpu_per_request.items()}
    print(
        f"server CPU per request: protected {cpu_ms['protected']:.3f} ms, "
        f"unprotected {cpu_ms['unprotected']:.3f} ms"
    )
    print(f"server CPU ratio unprotected/protected: {statistics.median(cpu_ratios):.3f}")
    print(f"ratio protected/unprotected: {statistics.median(pair_ratios):.3f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        asyncio.run(run(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0))
