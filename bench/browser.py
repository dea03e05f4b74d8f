"""Time to content in Chromium: a full page load of /dashboard with an expired vs a valid token.

    .venv/bin/python bench/browser.py [--repetitions 15] [--warmup 3]

Starts a throwaway `python -m localcore --access-token-validity 2` and the app in Hypercorn on
free loopback ports, signs up in headless Chromium (/usr/bin/chromium), then per repetition:

1. waits until the access token has expired and loads /dashboard: the guard answers 303 to
   GET /auth/session/refresh, which refreshes through the core and answers 303 back;
2. loads /dashboard again at once, with the fresh (valid) token: one request, verified locally.

Both loads are timed by the page's own Navigation Timing entry, from navigation start (before
any redirect) to `responseEnd` of the final document (the server-rendered content is in hand)
and to `domContentLoadedEventEnd` (the page is parsed and its scripts ran); plus the wall clock
around `page.goto(..., wait_until="domcontentloaded")` as seen by the test driver. Medians are
printed as a Markdown table for docs/benchmarks.md. Not run in CI: timing is machine-dependent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP", "1")

from playwright.async_api import BrowserContext, Page, async_playwright  # noqa: E402

from tests.browser.helpers import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PASSWORD,
    cookie_value,
    jwt_payload,
    unique_email,
)
from tests.servers import app_process, free_port, localcore_process  # noqa: E402

NAVIGATION_TIMING = """() => {
    const nav = performance.getEntriesByType("navigation")[0];
    return {response: nav.responseEnd - nav.startTime,
            dcl: nav.domContentLoadedEventEnd - nav.startTime,
            redirects: nav.redirectCount};
}"""


ACCESS_LINE = re.compile(r'"(GET|POST) (\S+) [^"]*" (\d{3}) \S+ (\d+)us')


def server_times(log_text: str, skip: int) -> dict[str, float]:
    """Median server time (ms) of each request in the two loads, from Hypercorn's access log.

    Only the /dashboard and refresh-hop requests after sign-up count; the first `skip` rounds are
    the warm-up.
    """
    steps: dict[str, list[float]] = {}
    rounds = 0
    previous = ""
    for _method, path, status, micros in ACCESS_LINE.findall(log_text):
        if path == "/dashboard" and status == "303":
            step = "expired: GET /dashboard -> 303"
            rounds += 1
        elif path.startswith("/auth/session/refresh"):
            step = "expired: GET /auth/session/refresh -> 303"
        elif path == "/dashboard" and status == "200":
            step = (
                "expired: GET /dashboard (new token) -> 200"
                if previous.startswith("/auth/session/refresh")
                else "valid: GET /dashboard -> 200"
            )
        else:
            continue
        previous = path
        if rounds > skip:
            steps.setdefault(step, []).append(int(micros) / 1000)
    return {step: statistics.median(values) for step, values in steps.items()}


async def load_dashboard(page: Page, base: str) -> dict[str, Any]:
    started = time.perf_counter()
    await page.goto(base + "/dashboard", wait_until="domcontentloaded")
    wall = (time.perf_counter() - started) * 1000
    if page.url != base + "/dashboard":
        raise RuntimeError(f"landed on {page.url}, not the dashboard")
    timing: dict[str, Any] = await page.evaluate(NAVIGATION_TIMING)
    timing["wall"] = wall
    return timing


async def wait_for_expiry(context: BrowserContext) -> None:
    token = await cookie_value(context, "sAccessToken")
    assert token
    await asyncio.sleep(max(0.0, jwt_payload(token)["exp"] - time.time() + 0.3))


async def measure(base: str, repetitions: int, warmup: int) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {"expired": [], "valid": []}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = await browser.new_context(viewport=DESKTOP)
        page = await context.new_page()
        await page.goto(base + "/signup")
        await page.fill("#email", unique_email("bench"))
        await page.fill("#password", PASSWORD)
        await page.click("#auth-form button[type=submit]")
        await page.wait_for_url(base + "/dashboard")
        for index in range(warmup + repetitions):
            await wait_for_expiry(context)
            expired = await load_dashboard(page, base)
            valid = await load_dashboard(page, base)
            if expired["redirects"] != 2 or valid["redirects"] != 0:
                raise RuntimeError(f"unexpected redirects: {expired} / {valid}")
            if index >= warmup:
                results["expired"].append(expired)
                results["valid"].append(valid)
        await browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        core_port, app_port = free_port(), free_port()
        core = localcore_process(
            core_port,
            Path(directory) / "core.db",
            extra_args=["--access-token-validity", "2"],
            log_path=Path(directory) / "core.log",
        )
        base = f"http://127.0.0.1:{app_port}"
        app = app_process(
            app_port,
            {
                "SUPERTOKENS_CONNECTION_URI": f"http://127.0.0.1:{core_port}",
                "WEBSITE_DOMAIN": base,
                "API_DOMAIN": base,
                "EMAIL_SINK": str(Path(directory) / "emails.jsonl"),
            },
            Path(directory) / "app.log",
        )
        core.start()
        try:
            app.start()
            try:
                results = asyncio.run(measure(base, arguments.repetitions, arguments.warmup))
            finally:
                app.stop()
        finally:
            core.stop()
        server = server_times((Path(directory) / "app.log").read_text(), arguments.warmup)

    print(
        f"{arguments.repetitions} repetitions ({arguments.warmup} warm-up), "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {CHROMIUM}"
    )
    print("| /dashboard token | to responseEnd ms | to DOMContentLoaded ms | goto wall ms |")
    print("| --- | --- | --- | --- |")
    medians: dict[str, dict[str, float]] = {}
    for kind in ("valid", "expired"):
        medians[kind] = {
            key: statistics.median(sample[key] for sample in results[kind])
            for key in ("response", "dcl", "wall")
        }
        m = medians[kind]
        print(f"| {kind} | {m['response']:.1f} | {m['dcl']:.1f} | {m['wall']:.1f} |")
    ratio = {key: medians["expired"][key] / medians["valid"][key] for key in medians["valid"]}
    print(
        f"| expired / valid | {ratio['response']:.2f}x | {ratio['dcl']:.2f}x "
        f"| {ratio['wall']:.2f}x |"
    )
    print()
    print("| request (server time, Hypercorn access log) | median ms |")
    print("| --- | --- |")
    for step in sorted(server):
        print(f"| {step} | {server[step]:.1f} |")


if __name__ == "__main__":
    main()
