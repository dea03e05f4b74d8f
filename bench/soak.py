"""Soak: N simulated browsers against hypercorn (2 workers) + localcore, 5-second access tokens.

Run by hand (loopback only, bounded in time and count):

    .venv/bin/python bench/soak.py --users 20 --seconds 60

Each user is an httpx client with a cookie jar doing what a browser does:
- sign up once through POST /signup (the form), then loop until the time is up:
- full page loads (GET /dashboard, /, and /account, /sessions when the app has them) follow 303s,
  through GET /auth/session/refresh and back, like a browser navigation;
- fragment polls (GET /dashboard/session with HX-Request) that get 401 + HX-Redirect to the refresh
  route do what supertokens-web-js does: POST /auth/session/refresh (the jar sends the refresh
  cookie, whose Path is that route) and replay the request once;
- sometimes a page load and a poll race each other (two tabs, or a poll during navigation), so
  two refreshes with the same refresh token happen concurrently.

Reported: requests, errors by kind, refreshes, false theft detections (refresh failures and
sign-outs nobody asked for: must be 0), p50/p99 latency, and the RSS of the hypercorn processes and
localcore at start and end (VmRSS from /proc/<pid>/status).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import ServerProcess, free_port, localcore_process  # noqa: E402

PASSWORD = "correct-horse-1"  # noqa: S105 - a throwaway test account
MAX_USERS = 200
MAX_SECONDS = 600


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _is_helper(pid: int) -> bool:
    """multiprocessing's resource tracker is a child of the master too; it is no worker."""
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def memory(app_pid: int, core_pid: int) -> dict[str, int]:
    workers = [pid for pid in sorted(children(app_pid)) if not _is_helper(pid)]
    return {
        "hypercorn_master": rss_kib(app_pid),
        **{f"hypercorn_worker_{i}": rss_kib(pid) for i, pid in enumerate(workers)},
        "localcore": rss_kib(core_pid),
    }


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    sign_up_latencies: list[float] = field(default_factory=list)
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    refreshes: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    false_theft: int = 0
    samples: list[str] = field(default_factory=list)


class User:
    def __init__(self, base: str, stats: Stats, pages: list[str], race: float = 0.1) -> None:
        self.race = race
        self.base = base
        self.stats = stats
        self.pages = pages
        self.client = httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False)
        self.email = f"soak-{uuid.uuid4().hex[:12]}@example.test"
        self.relogin = False

    async def request(self, method: str, url: str, **kwargs: object) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await self.client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as error:
            self.stats.errors[f"transport:{type(error).__name__}"] += 1
            return None
        finally:
            self.stats.requests += 1
        self.stats.latencies.append(time.perf_counter() - started)
        if response.status_code >= 500:
            self.stats.errors[f"http_{response.status_code}"] += 1
        return response

    def signed_out(self, where: str, response: httpx.Response) -> None:
        """The app sent a signed-in user to the login page: a false sign-out (theft or not).

        The user signs in again (as a person would) so one event is counted once.
        """
        self.stats.errors[f"signed_out:{where}"] += 1
        self.stats.false_theft += 1
        if len(self.stats.samples) < 5:
            sent = response.request.headers.get("cookie", "")
            names = sorted(part.split("=", 1)[0].strip() for part in sent.split(";") if part)
            self.stats.samples.append(
                f"{where}: {response.request.method} {response.request.url.raw_path.decode()} "
                f"-> {response.status_code} {response.headers.get('Location') or ''}"
                f"{response.headers.get('HX-Redirect') or ''} cookies sent={names} "
                f"set={response.headers.get_list('set-cookie')} body={response.text[:80]!r}"
            )
        self.relogin = True

    async def sign_up(self) -> bool:
        response = await self.request(
            "POST", "/signup", data={"email": self.email, "password": PASSWORD}
        )
        # Sign-up hashes a password in the core: reported apart from the steady-state requests.
        if response is not None:
            self.stats.sign_up_latencies.append(self.stats.latencies.pop())
        ok = response is not None and response.status_code == 303
        if not ok:
            self.stats.errors["sign_up_failed"] += 1
        return ok

    async def page(self, path: str) -> None:
        """A browser navigation: follow up to 5 same-site 303s."""
        self.stats.actions["page"] += 1
        url = path
        for _ in range(5):
            response = await self.request("GET", url)
            if response is None:
                return
            if response.status_code != 303:
                if response.status_code != 200:
                    self.stats.errors[f"page_status_{response.status_code}"] += 1
                return
            location = response.headers["Location"]
            if url.startswith("/auth/session/refresh"):
                if location.startswith("/login"):
                    self.signed_out("refresh_hop", response)
                    return
                self.stats.refreshes["hop"] += 1
            elif location.startswith("/login"):
                self.signed_out("page", response)
                return
            url = location
        self.stats.errors["redirect_loop"] += 1

    async def fragment(self) -> None:
        """An htmx poll, with web-js's refresh-and-replay on a 401."""
        self.stats.actions["fragment"] += 1
        headers = {"HX-Request": "true", "HX-Current-URL": f"{self.base}/dashboard"}
        for attempt in range(2):
            response = await self.request("GET", "/dashboard/session", headers=headers)
            if response is None:
                return
            if response.status_code == 200:
                return
            target = response.headers.get("HX-Redirect", "")
            if response.status_code != 401 or not target:
                self.stats.errors[f"fragment_status_{response.status_code}"] += 1
                return
            if target.startswith("/login"):
                self.signed_out("fragment", response)
                return
            if attempt == 1:
                self.stats.errors["fragment_still_401_after_refresh"] += 1
                return
            refreshed = await self.request("POST", "/auth/session/refresh")
            if refreshed is None:
                return
            if refreshed.status_code != 200:
                self.signed_out(f"refresh_api_{refreshed.status_code}", refreshed)
                return
            self.stats.refreshes["api"] += 1

    async def run(self, until: float) -> None:
        try:
            if not await self.sign_up():
                return
            while time.monotonic() < until:
                if self.relogin:
                    self.relogin = False
                    await self.request(
                        "POST", "/login", data={"email": self.email, "password": PASSWORD}
                    )
                roll = random.random()
                if roll < self.race:
                    self.stats.actions["race"] += 1
                    await asyncio.gather(self.page("/dashboard"), self.fragment())
                elif roll < self.race + 0.45:
                    await self.fragment()
                else:
                    await self.page(random.choice(self.pages))
                await asyncio.sleep(random.uniform(0.05, 0.25))
        finally:
            await self.client.aclose()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def drive(
    base: str, users: int, seconds: float, pages: list[str], race: float = 0.1
) -> Stats:
    stats = Stats()
    until = time.monotonic() + seconds
    crowd = [User(base, stats, pages, race) for _ in range(users)]
    await asyncio.gather(*(user.run(until) for user in crowd))
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--access-token-validity", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--race", type=float, default=0.1, help="share of steps where a page load and a poll race"
    )
    args = parser.parse_args()
    if not 0 < args.users <= MAX_USERS or not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--users in 1..{MAX_USERS}, --seconds in 1..{MAX_SECONDS}")
    random.seed(args.seed)

    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    core_port, app_port = free_port(), free_port()
    core_url = f"http://127.0.0.1:{core_port}"
    site = f"http://localhost:{app_port}"
    core = localcore_process(
        core_port,
        workdir / "core.db",
        extra_args=["--access-token-validity", str(args.access_token_validity)],
        log_path=workdir / "core.log",
    )
    env = {
        "SUPERTOKENS_CONNECTION_URI": core_url,
        "WEBSITE_DOMAIN": site,
        "API_DOMAIN": site,
        "SECRET_KEY": uuid.uuid4().hex,
        "EMAIL_SINK": str(workdir / "emails.jsonl"),
        "SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP": "1",
        "SUPERTOKENS_ENV": "",  # never the SDK's testing mode
    }
    app_log = workdir / "app.log"
    # Not hypercorn.toml: no access log, whose 30,000+ lines a run would cost the workers.
    app = ServerProcess(
        [
            sys.executable,
            "-m",
            "hypercorn",
            "--workers",
            str(args.workers),
            "--worker-class",
            "asyncio",
            "--bind",
            f"127.0.0.1:{app_port}",
            "--error-logfile",
            "-",
            "app:create_app()",
        ],
        f"http://127.0.0.1:{app_port}/healthz",
        env=env,
        log_path=app_log,
    )
    try:
        core.start(timeout=30)
        app.start(timeout=30)
        assert app.process is not None and core.process is not None
        app_pid, core_pid = app.process.pid, core.process.pid
        time.sleep(1.0)  # let every worker finish its start-up (JWKS warm-up)
        pages = ["/dashboard", "/"]
        for extra in ("/account", "/sessions"):
            if httpx.get(f"http://127.0.0.1:{app_port}{extra}").status_code != 404:
                pages.append(extra)
        memory_start = memory(app_pid, core_pid)
        started = time.monotonic()
        stats = asyncio.run(drive(site, args.users, args.seconds, pages, args.race))
        elapsed = time.monotonic() - started
        memory_end = memory(app_pid, core_pid)
    finally:
        app.stop(timeout=15)
        core.stop(timeout=15)

    log = app_log.read_text(errors="replace")
    theft_logged = log.count("refresh token reuse")
    tracebacks = log.count("Traceback")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}"
    )
    print(
        f"users={args.users} seconds={args.seconds} workers={args.workers} "
        f"access_token_validity={args.access_token_validity}s race={args.race} pages={pages}"
    )
    print(f"elapsed: {elapsed:.1f} s")
    print(f"requests: {stats.requests} ({stats.requests / elapsed:.0f}/s)")
    print(f"actions: {dict(stats.actions)}")
    print(f"refreshes: {dict(stats.refreshes)} total={sum(stats.refreshes.values())}")
    print(f"errors: {dict(stats.errors) or 0}")
    print(
        f"false theft detections / sign-outs: {stats.false_theft}; "
        f"theft warnings in app log: {theft_logged}; tracebacks in app log: {tracebacks}"
    )
    lat = stats.latencies
    print(
        f"latency ms: p50={percentile(lat, 0.5) * 1000:.1f} p99={percentile(lat, 0.99) * 1000:.1f} "
        f"max={max(lat) * 1000:.1f} mean={statistics.fmean(lat) * 1000:.1f}"
    )
    signups = stats.sign_up_latencies
    print(
        f"sign-up latency ms (not in the above): p50={percentile(signups, 0.5) * 1000:.0f} "
        f"max={max(signups) * 1000:.0f}"
    )
    for sample in stats.samples:
        print(f"  sample sign-out: {sample}")
    print("RSS KiB (start -> end):")
    for name in memory_start:
        print(f"  {name}: {memory_start[name]} -> {memory_end.get(name, 0)}")
    print(f"logs: {workdir}")


if __name__ == "__main__":
    main()
