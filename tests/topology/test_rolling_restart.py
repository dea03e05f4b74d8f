"""A rolling restart under load: no failed request, no lost session, no false sign-out.

Signed-in clients (httpx over TLS through nginx, loopback only) browse the dashboard and its
htmx fragment, following the refresh hop and HX-Redirect as a browser and htmx do, while web1 is
stopped with SIGTERM and started again, then web2. Access tokens last 3 s, so sessions refresh
throughout. The whole load is bounded to LOAD_LIMIT seconds. The figures are printed (run with
-s) and recorded in docs/benchmarks.md ("Rolling restart").
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.browser.helpers import PASSWORD, jwt_payload, unique_email
from tests.servers import ServerProcess
from tests.topology.clients import site_client
from tests.topology.stack import API, WWW, Topology, worker_pids

pytestmark = [pytest.mark.topology, pytest.mark.asyncio(loop_scope="session")]

CLIENTS = 8
LOAD_LIMIT = 60.0  # seconds, the whole load included
WARM_UP = 3.0
# nginx keeps an instance out of rotation for fail_timeout (2 s) after its last failed connect,
# counted in whole seconds, so up to 3 s: the refused connects of a restarting instance go on
# until it listens. Only then may the other one go (docs/deploy.md, "Rolling restarts").
BACK_IN_ROTATION = 4.0
MAX_HOPS = 6


@dataclass
class Tally:
    requests: int = 0
    pages: int = 0
    refresh_hops: int = 0
    failures: list[str] = field(default_factory=list)
    sign_outs: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)


@dataclass
class Browsing:
    client: httpx.AsyncClient
    email: str
    user_id: str
    handle: str


async def signed_in(topology: Topology) -> Browsing:
    client = site_client(topology)
    email = unique_email("load")
    answer = await client.post(
        f"{API}/auth/signup",
        json={
            "formFields": [
                {"id": "email", "value": email},
                {"id": "password", "value": PASSWORD},
            ]
        },
    )
    assert answer.json()["status"] == "OK", answer.text
    token = client.cookies.get("sAccessToken", domain=".example.test")
    assert token
    payload = jwt_payload(token)
    return Browsing(client, email, payload["sub"], payload["sessionHandle"])


async def visit(browsing: Browsing, path: str, fragment: bool, tally: Tally) -> None:
    """One page or fragment, with every hop a browser would follow after it."""
    url = f"{WWW}{path}"
    headers = {"HX-Request": "true", "HX-Current-URL": f"{WWW}/dashboard"} if fragment else {}
    for _ in range(MAX_HOPS):
        tally.requests += 1
        try:
            answer = await browsing.client.get(url, headers=headers)
        except httpx.TransportError as error:
            tally.failures.append(f"GET {url}: {error!r}")
            return
        tally.statuses[answer.status_code] += 1
        target = answer.headers.get("HX-Redirect") or answer.headers.get("Location")
        if answer.status_code == 200:
            if browsing.user_id not in answer.text and browsing.email not in answer.text:
                tally.failures.append(f"GET {url}: 200 without the user's data")
            tally.pages += 1
            return
        if target is None or answer.status_code not in (301, 302, 303, 307, 401):
            tally.failures.append(f"GET {url}: {answer.status_code}")
            return
        url = urljoin(url, target)
        headers = {}  # htmx follows HX-Redirect with a full page load
        hop = urlsplit(url).path
        if hop == "/login":
            tally.sign_outs.append(f"{path} -> {url}")
            return
        if hop == "/auth/session/refresh":
            tally.refresh_hops += 1
    tally.failures.append(f"{path}: more than {MAX_HOPS} hops")


async def browse(browsing: Browsing, stop: asyncio.Event, tally: Tally) -> None:
    while not stop.is_set():
        await visit(browsing, "/dashboard", False, tally)
        await visit(browsing, "/dashboard/session", True, tally)


@dataclass
class Restart:
    name: str
    workers: list[int]
    exit_code: int | None
    stop_seconds: float
    start_seconds: float


def restart(name: str, server: ServerProcess) -> Restart:
    workers = worker_pids(server)
    began = time.monotonic()
    server.stop(timeout=20)
    stopped = time.monotonic()
    assert server.process is not None
    exit_code = server.process.returncode
    server.start(timeout=60)
    return Restart(name, workers, exit_code, stopped - began, time.monotonic() - stopped)


async def test_a_rolling_restart_under_load_loses_nothing(topology: Topology) -> None:
    browsers = await asyncio.gather(*(signed_in(topology) for _ in range(CLIENTS)))
    tally = Tally()
    stop = asyncio.Event()
    began = time.monotonic()
    load = [asyncio.create_task(browse(b, stop, tally)) for b in browsers]
    restarts: list[Restart] = []
    try:
        await asyncio.sleep(WARM_UP)
        for name, server in zip(("web1", "web2"), topology.webs, strict=True):
            restarts.append(await asyncio.to_thread(restart, name, server))
            await asyncio.sleep(BACK_IN_ROTATION)
        await asyncio.sleep(WARM_UP)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*load), timeout=30)
    elapsed = time.monotonic() - began

    # Every session is still there, and still this client's.
    lost = []
    for browsing in browsers:
        if browsing.handle not in topology.session_handles(browsing.user_id):
            lost.append(browsing.email)
        after = Tally()
        await visit(browsing, "/dashboard", False, after)
        if after.pages != 1:
            lost.append(f"{browsing.email}: {after.failures or after.sign_outs}")
        await browsing.client.aclose()

    print(
        f"\nrolling restart: {CLIENTS} clients, {elapsed:.1f} s, {tally.requests} requests "
        f"({tally.pages} pages/fragments, {tally.refresh_hops} refresh hops), "
        f"statuses {dict(sorted(tally.statuses.items()))}; failed {len(tally.failures)}, "
        f"false sign-outs {len(tally.sign_outs)}, sessions lost {len(lost)}"
    )
    for r in restarts:
        print(
            f"  {r.name}: SIGTERM to exit {r.stop_seconds:.2f} s (code {r.exit_code}), "
            f"start to healthy {r.start_seconds:.2f} s, workers {r.workers}"
        )

    assert elapsed <= LOAD_LIMIT
    assert tally.failures == []
    assert tally.sign_outs == []
    assert lost == []
    assert tally.refresh_hops > 0 and tally.pages > 100
    for r in restarts:
        assert r.exit_code == 0, r
        assert len(r.workers) == 2, r
        log = topology.log_text(r.name)
        for pid in r.workers:
            assert f"worker {pid} stopped cleanly" in log, (r.name, pid)
        if "Traceback" in log:
            start = log.index("Traceback")
            pytest.fail(f"{r.name} logged a traceback:\n{log[max(0, start - 600) : start + 4000]}")
