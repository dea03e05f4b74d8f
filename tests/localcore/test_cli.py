"""Command-line defaults and environment variables of `python -m localcore`."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcore.__main__ import base_config, parse_arguments

ENVIRONMENT = ("LOCALCORE_HOST", "LOCALCORE_PORT", "LOCALCORE_DATABASE", "LOCALCORE_API_KEYS")


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_bind_loopback_on_3567(clean_environment: pytest.MonkeyPatch) -> None:
    arguments = parse_arguments([])

    assert (arguments.host, arguments.port) == ("127.0.0.1", 3567)
    assert arguments.database == Path("var/localcore.db")
    assert arguments.api_keys == ""


def test_environment_variables_set_defaults(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("LOCALCORE_HOST", "127.0.0.2")
    clean_environment.setenv("LOCALCORE_PORT", "4000")
    clean_environment.setenv("LOCALCORE_DATABASE", "/tmp/core.db")
    clean_environment.setenv("LOCALCORE_API_KEYS", "a,b")

    arguments = parse_arguments([])

    assert (arguments.host, arguments.port) == ("127.0.0.2", 4000)
    assert arguments.database == Path("/tmp/core.db")
    assert arguments.api_keys == "a,b"


def test_flags_win_over_environment(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("LOCALCORE_PORT", "4000")

    assert parse_arguments(["--port", "5000"]).port == 5000


def test_validity_flags_set_base_config(clean_environment: pytest.MonkeyPatch) -> None:
    config = base_config(
        parse_arguments(["--access-token-validity", "60", "--refresh-token-validity", "1.5"])
    )

    assert config.access_token_validity_ms == 60_000
    assert config.refresh_token_validity_ms == 90_000
    assert config.signing_key_interval_ms == 168 * 3_600_000
