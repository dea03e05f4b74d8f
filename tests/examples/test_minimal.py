"""examples/minimal runs as its README says: Hypercorn serving app.py against a local core.

The example is a process of its own (the extension installed from the repo, none of app/'s code),
so these tests see what its users see over real HTTP: sign-up through the SDK's own API, the page
and the htmx fragment, the answers without a session, and the server-side refresh once the access
token has expired (the core runs with a short access-token lifetime).
"""

from __future__ import annotations

import ast
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import ROOT, ServerProcess, free_port, localcore_process

EXAMPLE = ROOT / "examples" / "minimal"
EXTENSION_README = ROOT / "quart-supertokens" / "README.md"
# exp is whole seconds: a token lives between ACCESS_TOKEN_SECONDS - 1 and ACCESS_TOKEN_SECONDS.
ACCESS_TOKEN_SECONDS = 3
REFRESH_HOP = "/auth/session/refresh?redirectBack=%2Fdashboard"


@pytest.fixture(name="example", scope="module")
def _example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A localcore and the example in Hypercorn, each on a free loopback port; their base URL."""
    folder: Path = tmp_path_factory.mktemp("minimal")
    core_port, app_port = free_port(), free_port()
    core = localcore_process(
        core_port,
        folder / "core.db",
        ["--access-token-validity", str(ACCESS_TOKEN_SECONDS)],
        log_path=folder / "core.log",
    ).start()
    # The README runs `hypercorn app:app` in examples/minimal; test processes start in the repo
    # root, where `app` is the repo's own package, so Hypercorn gets the file's path instead (it
    # puts the file's folder first on sys.path and imports `app` from there).
    command = [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{app_port}"]
    server = ServerProcess(
        [*command, f"{EXAMPLE / 'app.py'}:app"],
        f"http://127.0.0.1:{app_port}/login",
        env={
            "SUPERTOKENS_CONNECTION_URI": f"http://127.0.0.1:{core_port}",
            "SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP": "1",
        },
        log_path=folder / "app.log",
    )
    try:
        server.start()
        yield f"http://127.0.0.1:{app_port}"
    finally:
        server.stop()
        core.stop()
    assert "Traceback" not in (folder / "app.log").read_text()


def sign_up(client: httpx.Client, email: str) -> None:
    fields = [{"id": "email", "value": email}, {"id": "password", "value": "pass-word-1"}]
    response = client.post("/auth/signup", json={"formFields": fields})
    assert response.status_code == 200 and response.json()["status"] == "OK", response.text
    assert {"sAccessToken", "sRefreshToken"} <= set(client.cookies.keys())


def htmx_headers(base_url: str) -> dict[str, str]:
    """What htmx sends for the page's `hx-get` poll."""
    return {"HX-Request": "true", "HX-Current-URL": f"{base_url}/dashboard"}


def test_the_readme_quick_start_is_the_example_s_code() -> None:
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks == [(EXAMPLE / "app.py").read_text(encoding="utf-8")]


def test_the_extension_readme_quick_start_is_the_example_s_code() -> None:
    readme = EXTENSION_README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert (EXAMPLE / "app.py").read_text(encoding="utf-8") in blocks


def test_the_extension_readme_has_every_public_name_and_option() -> None:
    import quart_supertokens
    import quart_supertokens.framework
    from quart_supertokens.options import CONFIG_PREFIX, OPTION_NAMES, Options

    readme = EXTENSION_README.read_text(encoding="utf-8")
    names = [
        *quart_supertokens.__all__,
        *quart_supertokens.framework.__all__,
        "authenticated_client",
        "create_session_for",
    ]
    entries = set(re.findall(r"^\| `(\w+)", readme, re.M))
    assert [name for name in names if name not in entries] == []
    rows = {
        (name, key, default)
        for name, key, default in re.findall(
            r"^\| `(\w+)` \| `(\w+)` \| `([^`]*)` \|", readme, re.M
        )
    }
    defaults = Options()
    expected = {
        (name, CONFIG_PREFIX + name.upper(), repr(getattr(defaults, name)).replace("'", '"'))
        for name in OPTION_NAMES
    }
    assert expected <= rows


def test_the_example_uses_only_the_extension_s_public_api() -> None:
    import quart_supertokens

    tree = ast.parse((EXAMPLE / "app.py").read_text(encoding="utf-8"))
    imported = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("quart_supertokens")
        for alias in node.names
    }
    assert imported and all(module == "quart_supertokens" for module, _ in imported)
    assert {name for _, name in imported} <= set(quart_supertokens.__all__)
    calls = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "quart_supertokens"
    }
    assert calls == {"init"}


def test_without_a_session_the_page_goes_to_login_with_its_way_back(example: str) -> None:
    with httpx.Client(base_url=example) as client:
        page = client.get("/dashboard")
    assert page.status_code == 303
    assert page.headers["Location"] == "/login?redirectBack=%2Fdashboard"
    assert page.headers["Cache-Control"] == "no-store, private"


def test_without_a_session_the_fragment_gets_hx_redirect_never_a_3xx(example: str) -> None:
    with httpx.Client(base_url=example) as client:
        fragment = client.get("/fragment", headers=htmx_headers(example))
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"] == "/login?redirectBack=%2Fdashboard"
    assert "Location" not in fragment.headers


def test_signed_up_through_the_sdk_the_page_and_the_fragment_render(example: str) -> None:
    with httpx.Client(base_url=example) as client:
        sign_up(client, "page@example.test")
        page = client.get("/dashboard")
        assert page.status_code == 200 and "Signed in as " in page.text
        assert 'hx-get="/fragment"' in page.text
        fragment = client.get("/fragment", headers=htmx_headers(example))
        assert fragment.status_code == 200 and fragment.text.startswith("<span>session ")


def test_an_expired_token_is_refreshed_on_the_server_and_the_page_comes_back(
    example: str,
) -> None:
    with httpx.Client(base_url=example) as client:
        sign_up(client, "refresh@example.test")
        before = client.cookies["sAccessToken"]
        time.sleep(ACCESS_TOKEN_SECONDS + 1)

        fragment = client.get("/fragment", headers=htmx_headers(example))
        assert fragment.status_code == 401 and fragment.headers["HX-Redirect"] == REFRESH_HOP
        page = client.get("/dashboard")
        assert page.status_code == 303 and page.headers["Location"] == REFRESH_HOP

        # The refresh cookie's path is the hop's: the jar sends it there and nowhere else.
        hop = client.get(page.headers["Location"])
        assert hop.status_code == 303 and hop.headers["Location"] == "/dashboard"
        assert client.cookies["sAccessToken"] != before
        assert "refreshed" in client.cookies  # the loop breaker's marker

        back = client.get("/dashboard")
        assert back.status_code == 200 and "Signed in as " in back.text
        assert "refreshed" not in client.cookies  # cleared by the first render that succeeded
