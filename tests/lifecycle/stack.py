"""The lifecycle suite's live stack: the suite's own core and the app, as real processes.

`Stack` runs `python -m localcore` (short access tokens, its own SQLite file) and the app in
Hypercorn, both on free loopback ports and stopped by PID. The core can be stopped and started
again on the same port and database. The logs of both are read incrementally, so every step can
be checked for tracebacks. `wait_until` sleeps on the wall clock (token expiry).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.servers import ServerProcess, app_process, free_port, localcore_process

# Token times are whole seconds: a 1 s token can be 0 s old-to-expired; 2 s is at least 1 s.
ACCESS_TOKEN_VALIDITY = 2
CDI_HEADERS = {"cdi-version": "5.4"}
REQUEST_TIMEOUT = 15.0


class SharedTransport(httpx.BaseTransport):
    """One keep-alive connection pool for many clients (a new client's TLS set-up costs ~30 ms);
    closing a client leaves it open, `Stack.stop` closes it."""

    def __init__(self) -> None:
        self.transport = httpx.HTTPTransport(verify=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.transport.handle_request(request)

    def close(self) -> None:
        """Clients call this when they close: the pool outlives them."""

    def close_pool(self) -> None:
        self.transport.close()


@dataclass
class Stack:
    """The running core and app of this suite."""

    directory: Path
    core: ServerProcess
    app: ServerProcess
    core_url: str
    url: str
    email_sink: Path
    core_log: Path
    app_log: Path
    transport: SharedTransport = field(default_factory=SharedTransport)
    _log_offsets: dict[Path, int] = field(default_factory=dict)

    @classmethod
    def start(cls, directory: Path, access_token_validity: int = ACCESS_TOKEN_VALIDITY) -> Stack:
        core_port = free_port()
        core_log = directory / "core.log"
        core = localcore_process(
            core_port,
            directory / "core.db",
            extra_args=["--access-token-validity", str(access_token_validity)],
            log_path=core_log,
        )
        core.start()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        email_sink = directory / "emails.jsonl"
        env = {
            "SUPERTOKENS_CONNECTION_URI": f"http://127.0.0.1:{core_port}",
            "WEBSITE_DOMAIN": url,
            "API_DOMAIN": url,
            "EMAIL_SINK": str(email_sink),
            "SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP": "1",
        }
        app_log = directory / "app.log"
        app = app_process(port, env, app_log)
        try:
            app.start()
        except BaseException:
            core.stop()
            raise
        return cls(
            directory,
            core,
            app,
            f"http://127.0.0.1:{core_port}",
            url,
            email_sink,
            core_log,
            app_log,
        )

    def stop(self) -> None:
        try:
            self.app.stop()
        finally:
            self.core.stop()
            self.transport.close_pool()

    def client(self, base_url: str, **options: Any) -> httpx.Client:
        """A client on the shared pool (its own cookie jar)."""
        return httpx.Client(
            base_url=base_url, transport=self.transport, timeout=REQUEST_TIMEOUT, **options
        )

    # ------------------------------------------------------------------ the core, as operator

    def stop_core(self) -> None:
        self.core.stop()

    def start_core(self) -> None:
        self.core.start()

    def core_get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        with self.client(self.core_url) as client:
            response = client.get(path, params=params, headers=CDI_HEADERS)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def session_handles(self, user_id: str) -> set[str]:
        """The handles of the user's live sessions, as the core has them."""
        body = self.core_get("/recipe/session/user", {"userId": user_id})
        assert body["status"] == "OK", body
        return set(body["sessionHandles"])

    # ------------------------------------------------------------------ logs and emails

    def new_log_text(self) -> dict[str, str]:
        """What each log gained since the last call: {"app": ..., "core": ...}."""
        gained: dict[str, str] = {}
        for name, path in (("app", self.app_log), ("core", self.core_log)):
            if not path.exists():
                gained[name] = ""
                continue
            with path.open("rb") as log:
                log.seek(self._log_offsets.get(path, 0))
                data = log.read()
            self._log_offsets[path] = self._log_offsets.get(path, 0) + len(data)
            gained[name] = data.decode("utf-8", errors="replace")
        return gained

    def reset_links(self, email: str) -> list[str]:
        """Every password-reset link written to the email sink for `email`, oldest first."""
        if not self.email_sink.exists():
            return []
        links: list[str] = []
        for line in self.email_sink.read_text(encoding="utf-8").splitlines():
            message = json.loads(line)
            if message["type"] == "password_reset" and message["to"] == email:
                links.append(str(message["link"]))
        return links


def wait_until(deadline_epoch: float, limit: float) -> float:
    """Sleep until `deadline_epoch` (wall clock), at most `limit` seconds; return the slept time."""
    delay = min(max(0.0, deadline_epoch - time.time()), limit)
    if delay > 0:
        time.sleep(delay)
    return delay
