"""Both deployment shapes, as real Hypercorn processes started with `app:create_app()`.

(a) one process serves the pages and the /auth API;
(b) a web process that only renders pages beside an API process, sharing the session cookies
    through COOKIE_DOMAIN=.example.test. The *.example.test names resolve to loopback inside the
    test's httpx transport, so httpx's real cookie jar applies the Domain and Path rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import app_process, free_port

PASSWORD = "correct-horse-1"


def credentials(email: str) -> dict[str, object]:
    return {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": PASSWORD}]}


class LoopbackTransport(httpx.HTTPTransport):
    """Sends requests for *.example.test to 127.0.0.1, keeping the URL (and Host) the client saw.

    The request is copied rather than edited: httpx extracts cookies against `response.request`,
    which must keep the original host for the Domain rules to apply.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host.endswith(".example.test"):
            request = httpx.Request(
                request.method,
                request.url.copy_with(host="127.0.0.1"),
                headers=request.headers,
                stream=request.stream,
                extensions=request.extensions,
            )
        return super().handle_request(request)


def cookie_names(client: httpx.Client) -> set[str]:
    return {cookie.name for cookie in client.cookies.jar}


@pytest.fixture(name="single_process")
def _single_process(core_app: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    site = f"http://localhost:{port}"
    server = app_process(
        port,
        {
            "SUPERTOKENS_CONNECTION_URI": core_app,
            "WEBSITE_DOMAIN": site,
            "API_DOMAIN": site,
            "EMAIL_SINK": str(tmp_path / "emails.jsonl"),
        },
        tmp_path / "app.log",
    )
    server.start()
    try:
        yield site
    finally:
        server.stop()


def test_single_process_serves_pages_and_auth_api(single_process: str) -> None:
    with httpx.Client(base_url=single_process) as client:
        sign_up = client.post("/auth/signup", json=credentials("one@example.test"))
        assert sign_up.json()["status"] == "OK"
        user_id = sign_up.json()["user"]["id"]
        assert cookie_names(client) >= {"sAccessToken", "sRefreshToken"}

        assert client.get("/whoami").json() == {"userId": user_id}

        refresh = client.post("/auth/session/refresh")
        assert refresh.status_code == 200
        assert client.get("/whoami").json() == {"userId": user_id}

        assert client.post("/auth/signout").status_code == 200
        assert client.get("/whoami").status_code == 401


@pytest.fixture(name="split_processes")
def _split_processes(core_app: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    web_port, api_port = free_port(), free_port()
    web, api = f"http://app.example.test:{web_port}", f"http://api.example.test:{api_port}"
    shared = {
        "SUPERTOKENS_CONNECTION_URI": core_app,
        "WEBSITE_DOMAIN": web,
        "API_DOMAIN": api,
        "COOKIE_DOMAIN": ".example.test",
        "EMAIL_SINK": str(tmp_path / "emails.jsonl"),
    }
    api_server = app_process(api_port, shared, tmp_path / "api.log")
    web_server = app_process(web_port, {**shared, "SERVE_AUTH_API": "0"}, tmp_path / "web.log")
    api_server.start()
    try:
        web_server.start()
        try:
            yield web, api
        finally:
            web_server.stop()
    finally:
        api_server.stop()


def test_web_process_verifies_sessions_issued_by_api_process(
    split_processes: tuple[str, str],
) -> None:
    web, api = split_processes
    with httpx.Client(transport=LoopbackTransport()) as client:
        sign_up = client.post(f"{api}/auth/signup", json=credentials("two@example.test"))
        assert sign_up.json()["status"] == "OK"
        user_id = sign_up.json()["user"]["id"]
        domains = {cookie.name: cookie.domain for cookie in client.cookies.jar}
        assert domains["sAccessToken"] == domains["sRefreshToken"] == ".example.test"

        # The page process has no auth API of its own (only the GET refresh hop for pages)...
        assert client.post(f"{web}/auth/session/refresh").status_code == 405
        assert client.post(f"{web}/auth/signout").status_code == 404
        # ...but verifies the shared cookie on every render.
        assert client.get(f"{web}/whoami").json() == {"userId": user_id}
        dashboard = client.get(f"{web}/dashboard")
        assert dashboard.status_code == 200
        assert user_id in dashboard.text

        refresh = client.post(f"{api}/auth/session/refresh")
        assert refresh.status_code == 200
        assert client.get(f"{web}/whoami").json() == {"userId": user_id}

        assert client.post(f"{api}/auth/signout").status_code == 200
        assert client.get(f"{web}/whoami").status_code == 401


def test_cookie_domain_does_not_leak_outside(split_processes: tuple[str, str]) -> None:
    web, api = split_processes
    outside = web.replace("app.example.test", "127.0.0.1")
    with httpx.Client(transport=LoopbackTransport()) as client:
        client.post(f"{api}/auth/signup", json=credentials("three@example.test"))

        assert client.get(f"{web}/whoami").status_code == 200
        assert client.get(f"{outside}/whoami").status_code == 401
