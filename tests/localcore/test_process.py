"""`python -m localcore` as a process: CLI contract, API keys, restart persistence, SIGTERM."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from supertokens_python.recipe.emailpassword.asyncio import sign_in, sign_up
from supertokens_python.recipe.emailpassword.interfaces import SignInOkResult, SignUpOkResult
from supertokens_python.recipe.session.asyncio import (
    create_new_session_without_request_response,
    get_session_without_request_response,
)

from tests.localcore.conftest import CDI_HEADERS, SdkApp
from tests.localcore.helpers import jwt_part
from tests.servers import ServerProcess, free_port, localcore_process

API_KEY = "first-key-0123456789"
OTHER_API_KEY = "second-key-0123456789"


@pytest.fixture
def start_core(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start localcore processes on free ports (stopped afterwards)."""
    started: list[ServerProcess] = []

    def start(
        *extra_args: str, database: Path | None = None, env: dict[str, str] | None = None
    ) -> ServerProcess:
        port = free_port()
        server = localcore_process(
            port,
            database or tmp_path / "core.db",
            extra_args,
            env=env,
            log_path=tmp_path / f"core-{port}.log",
        )
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


def base_url(server: ServerProcess) -> str:
    return server.health_url.removesuffix("/hello")


def test_sigterm_stops_with_exit_code_0(start_core: Callable[..., ServerProcess]) -> None:
    server = start_core()

    server.stop()

    assert server.process is not None and server.process.returncode == 0


def test_announces_where_it_listens(
    start_core: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = start_core()
    server.stop()

    assert server.log_path is not None
    assert f"localcore listening on {base_url(server)}" in server.log_path.read_text()


def test_access_token_validity_flag_sets_public_app_default(
    start_core: Callable[..., ServerProcess],
) -> None:
    server = start_core("--access-token-validity", "7")

    created = httpx.post(
        f"{base_url(server)}/public/recipe/session", json={"userId": "u"}, headers=CDI_HEADERS
    ).json()

    payload = jwt_part(created["accessToken"]["token"], 1)
    assert payload["exp"] - payload["iat"] == 7


@pytest.fixture(scope="module")
def keyed_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A core requiring API keys (given through LOCALCORE_API_KEYS); its base URL."""
    directory = tmp_path_factory.mktemp("keyed-core")
    server = localcore_process(
        free_port(),
        directory / "core.db",
        env={"LOCALCORE_API_KEYS": f"{API_KEY}, {OTHER_API_KEY}"},
        log_path=directory / "core.log",
    ).start()
    yield base_url(server)
    server.stop()


@pytest.mark.parametrize(
    "headers",
    [{}, {"api-key": "wrong"}, {"authorization": f"Basic {API_KEY}"}, {"api-key": ""}],
)
@pytest.mark.parametrize("path", ["/apiversion", "/recipe/roles", "/nope"])
def test_request_without_valid_api_key_is_401(
    keyed_core: str, path: str, headers: dict[str, str]
) -> None:
    response = httpx.get(f"{keyed_core}{path}", headers={**CDI_HEADERS, **headers})

    assert response.status_code == 401
    assert isinstance(response.json()["message"], str)


@pytest.mark.parametrize(
    "headers", [{"api-key": API_KEY}, {"authorization": f"Bearer {OTHER_API_KEY}"}]
)
def test_request_with_api_key_is_served(keyed_core: str, headers: dict[str, str]) -> None:
    response = httpx.get(f"{keyed_core}/recipe/roles", headers={**CDI_HEADERS, **headers})

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/hello", "/.well-known/jwks.json"])
def test_health_and_jwks_need_no_api_key(keyed_core: str, path: str) -> None:
    assert httpx.get(f"{keyed_core}{path}").status_code == 200


async def test_sdk_with_api_key_signs_in_and_verifies(
    keyed_core: str, sdk_factory: Callable[..., SdkApp]
) -> None:
    sdk_factory(keyed_core, api_key=API_KEY)
    signed_up = await sign_up("public", "ada@example.com", "pw-123456")
    assert isinstance(signed_up, SignUpOkResult)

    session = await create_new_session_without_request_response("public", signed_up.recipe_user_id)
    verified = await get_session_without_request_response(
        session.get_access_token(), anti_csrf_check=False
    )

    assert verified is not None and verified.get_user_id() == signed_up.user.id


async def test_state_survives_a_restart(
    start_core: Callable[..., ServerProcess],
    sdk_factory: Callable[..., SdkApp],
    tmp_path: Path,
) -> None:
    database = tmp_path / "persistent.db"
    first = start_core(database=database)
    url = base_url(first)
    app_id = "persisted"
    httpx.put(
        f"{url}/recipe/multitenancy/app/v2",
        json={"appId": app_id, "coreConfig": {"access_token_validity": 42}},
        headers=CDI_HEADERS,
    ).raise_for_status()
    app_url = f"{url}/appid-{app_id}"
    sdk_factory(app_url)
    signed_up = await sign_up("public", "ada@example.com", "pw-123456")
    assert isinstance(signed_up, SignUpOkResult)
    session = await create_new_session_without_request_response("public", signed_up.recipe_user_id)
    tokens = session.get_all_session_tokens_dangerously()
    httpx.put(
        f"{app_url}/recipe/user/metadata",
        json={"userId": "u", "metadataUpdate": {"kept": True}},
        headers=CDI_HEADERS,
    ).raise_for_status()
    first.stop()

    second = start_core(database=database)
    new_app_url = f"{base_url(second)}/appid-{app_id}"
    refreshed = httpx.post(
        f"{new_app_url}/recipe/session/refresh",
        json={"refreshToken": tokens["refreshToken"], "enableAntiCsrf": False},
        headers=CDI_HEADERS,
    ).json()
    verified = httpx.post(
        f"{new_app_url}/recipe/session/verify",
        json={
            "accessToken": tokens["accessToken"],
            "doAntiCsrfCheck": False,
            "enableAntiCsrf": False,
            "checkDatabase": True,
        },
        headers=CDI_HEADERS,
    ).json()
    metadata = httpx.get(
        f"{new_app_url}/recipe/user/metadata", params={"userId": "u"}, headers=CDI_HEADERS
    ).json()
    sdk_factory(new_app_url)

    assert verified["status"] == "OK"
    assert refreshed["status"] == "OK"
    payload = jwt_part(refreshed["accessToken"]["token"], 1)
    assert payload["exp"] - payload["iat"] == 42
    assert metadata["metadata"] == {"kept": True}
    assert isinstance(await sign_in("public", "ada@example.com", "pw-123456"), SignInOkResult)
