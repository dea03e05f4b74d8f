"""Shared fixtures of the extension's tests: a real local core, the SDK initialised against it.

The core is the repository's `python -m localcore` (started from the folder above this one, on a
free loopback port, stopped by its PID), unless QUART_SUPERTOKENS_TEST_CORE_URI names one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from supertokens_python import InputAppInfo, SupertokensConfig
from supertokens_python.recipe import emailpassword, emailverification, session
from supertokens_python.recipe.emailpassword.asyncio import sign_up

import quart_supertokens

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(name="core_uri", scope="session")
def _core_uri() -> Iterator[str]:
    """A local core of this module's own, stopped by its PID at the end."""
    given = os.environ.get("QUART_SUPERTOKENS_TEST_CORE_URI")
    if given:
        yield given
        return
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "localcore", "--port", str(port)]
        command += ["--database", str(Path(folder) / "core.db")]
        process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        uri = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{uri}/hello", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            else:
                raise RuntimeError("the local core did not start")
            yield uri
        finally:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(10)


def reset_sdk() -> None:
    """Forget the SDK's singletons so that `init` can run again in this process."""
    from supertokens_python import Supertokens
    from supertokens_python.post_init_callbacks import PostSTInitCallbacks
    from supertokens_python.process_state import ProcessState
    from supertokens_python.recipe.accountlinking.recipe import AccountLinkingRecipe
    from supertokens_python.recipe.dashboard.recipe import DashboardRecipe
    from supertokens_python.recipe.emailpassword.recipe import EmailPasswordRecipe
    from supertokens_python.recipe.emailverification.recipe import EmailVerificationRecipe
    from supertokens_python.recipe.jwt.recipe import JWTRecipe
    from supertokens_python.recipe.multitenancy.recipe import MultitenancyRecipe
    from supertokens_python.recipe.oauth2provider.recipe import OAuth2ProviderRecipe
    from supertokens_python.recipe.openid.recipe import OpenIdRecipe
    from supertokens_python.recipe.passwordless.recipe import PasswordlessRecipe
    from supertokens_python.recipe.session.recipe import SessionRecipe
    from supertokens_python.recipe.thirdparty.recipe import ThirdPartyRecipe
    from supertokens_python.recipe.userroles.recipe import UserRolesRecipe

    Supertokens.reset()  # type: ignore[no-untyped-call]
    for recipe in (
        SessionRecipe,
        EmailPasswordRecipe,
        DashboardRecipe,
        EmailVerificationRecipe,
        AccountLinkingRecipe,
        JWTRecipe,
        OpenIdRecipe,
        MultitenancyRecipe,
        OAuth2ProviderRecipe,
        PasswordlessRecipe,
        ThirdPartyRecipe,
        UserRolesRecipe,
    ):
        recipe.reset()  # type: ignore[no-untyped-call]
    PostSTInitCallbacks.reset()  # type: ignore[no-untyped-call]
    ProcessState.get_instance().reset()  # type: ignore[no-untyped-call]


def init_sdk(
    core_uri: str,
    api_base_path: str = "/auth",
    extra_recipes: list[Any] | None = None,
    recipes: list[Any] | None = None,
    app_info: dict[str, Any] | None = None,
    **session_options: Any,
) -> None:
    """(Re-)initialise the SDK through the extension; `session_options` go to `session.init`.

    `recipes` replaces the default recipes besides Session (EmailPassword and EmailVerification);
    `extra_recipes` adds to them; `app_info` overrides `InputAppInfo` fields.
    """
    os.environ["SUPERTOKENS_ENV"] = "testing"
    os.environ["SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP"] = "1"
    reset_sdk()
    options: dict[str, Any] = {
        "get_token_transfer_method": lambda *_: "cookie",
        "anti_csrf": "NONE",
    }
    options.update(session_options)
    info: dict[str, Any] = {
        "app_name": "ext-tests",
        "api_domain": "http://localhost",
        "website_domain": "http://localhost",
        "api_base_path": api_base_path,
    }
    info.update(app_info or {})
    if recipes is None:
        recipes = [emailpassword.init(), emailverification.init(mode="OPTIONAL")]
    quart_supertokens.init(
        app_info=InputAppInfo(**info),
        supertokens_config=SupertokensConfig(connection_uri=core_uri),
        recipe_list=[session.init(**options), *recipes, *(extra_recipes or [])],
        telemetry=False,
    )


@pytest.fixture(name="sdk")
def _sdk(core_uri: str) -> None:
    """The SDK with cookie sessions and no anti-CSRF (what a same-site SSR app uses)."""
    init_sdk(core_uri)


def new_core_app(core_uri: str, **core_config: Any) -> str:
    """A new app in the core with its own `coreConfig` (e.g. a short access-token lifetime).

    Returns its connection URI (`<core>/appid-<id>`), as the SDK's own tests isolate theirs.
    """
    app_id = f"t{uuid.uuid4().hex[:12]}"
    body = {"appId": app_id, "coreConfig": core_config}
    answer = httpx.put(f"{core_uri}/recipe/multitenancy/app/v2", json=body, timeout=5)
    assert answer.status_code == 200 and answer.json()["createdNew"], answer.text
    return f"{core_uri}/appid-{app_id}"


async def new_user() -> str:
    """A real user in the core (email not verified), by the SDK."""
    result = await sign_up("public", f"{uuid.uuid4().hex}@example.test", "pass-word-1")
    return str(result.user.id)  # type: ignore[union-attr]
