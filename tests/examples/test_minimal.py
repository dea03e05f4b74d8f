"""examples/minimal runs as its README says: Hypercorn serving main.py against a local core.

The example is a process of its own (the extension installed from the repo, no app/ code), so
these tests see exactly what its users see: sign-up through the SDK's API, the page, the htmx
fragment, both answers without a session, and the server-side refresh after expiry.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import ROOT, ServerProcess, free_port, localcore_process

EXAMPLE = ROOT / "examples" / "minimal"
ACCESS_TOKEN_SECONDS = 2


@pytest.fixture(name="example", scope="module")
def _example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("minimal")
    core_port, app_port = free_port(), free_port()
    core = localcore_process(
        core_port,
        folder / "core.db",
        ["--access-token-validity", str(ACCESS_TOKEN_SECONDS)],
        log_path=folder / "core.log",
    ).start()
    app = ServerProcess(
        [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{app_port}", "main:app"],
        f"http://127.0.0.1:{app_port}/login",
        env={
            "PYTHONPATH": str(EXAMPLE),
            "SUPERTOKENS_CONNECTION_URI": f"http://127.0.0.1:{core_port}",
            "SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP": "1",
        },
        log_path=folder / "app.log",
    ).start()
    try:
        yield f"http://127.0.0.1:{app_port}"
    finally:
        app.stop()
        core.stop()
    assert "Traceback" not in (folder / "app.log").read_text()


def sign_up(client: httpx.Client, email: str) -> None:
    fields = [{"id": "email", "value": email}, {"id": "password", "value": "pass-word-1"}]
    response = client.post("/auth/signup", json={"formFields": fields})
    assert response.status_code == 200 and response.json()["status"] == "OK", response.text


def test_the_readme_quick_start_is_the_example_s_code() -> None:
    readme = (EXAMPLE / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks == [(EXAMPLE / "main.py").read_text()]


def test_without_a_session_the_page_goes_to_login_and_the_fragment_gets_hx_redirect(
    example: str,
) -> None:
    with httpx.Client(base_url=example) as client:
        page = client.get("/")
        assert page.status_code == 303 and page.headers["Location"] == "/login"
        fragment = client.get("/fragment", headers={"HX-Request": "true"})
        assert fragment.status_code == 401
        assert fragment.headers["HX-Redirect"] == "/login"
        assert "Location" not in fragment.headers


def test_signed_up_through_the_sdk_the_page_and_fragment_render(example: str) -> None:
    with httpx.Client(base_url=example) as client:
        sign_up(client, "page@example.test")
        page = client.get("/")
        assert page.status_code == 200 and "Signed in as" in page.text
        assert 'hx-get="/fragment"' in page.text
        fragment = client.get("/fragment", headers={"HX-Request": "true"})
        assert fragment.status_code == 200 and fragment.text.startswith("<span>session ")


def test_an_expired_token_is_refreshed_on_the_server_and_the_page_comes_back(
    example: str,
) -> None:
    with httpx.Client(base_url=example) as client:
        sign_up(client, "refresh@example.test")
        before = client.cookies["sAccessToken"]
        time.sleep(ACCESS_TOKEN_SECONDS + 1)
        page = client.get("/")
        assert page.status_code == 303
        assert page.headers["Location"] == "/auth/session/refresh?redirectBack=%2F"
        hop = client.get(page.headers["Location"])
        assert hop.status_code == 303 and hop.headers["Location"] == "/"
        assert client.cookies["sAccessToken"] != before
        assert client.get("/").status_code == 200
