"""The documented deployment is the tested one.

deploy/compose.yaml, rendered with the tested site's values the way `docker compose` substitutes
them, must give every app service exactly the environment tests/topology runs with (only the
core's address, file paths and secrets may differ), the same worker count, and the proxy the same
nginx template with a value for each of its settings. deploy/.env.example names every variable
compose needs. docs/deploy.md points at these files. No processes are started here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import ROOT
from tests.topology.stack import (
    PER_DEPLOYMENT,
    ROLE_SETTINGS,
    SITE_TEMPLATE,
    SITE_VARIABLES,
    TESTED_SETTINGS,
    WORKERS,
    template_variables,
)

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
SERVICE_ROLES = {"web1": "web", "web2": "web", "api": "api"}
# ${NAME}, ${NAME:-default}, ${NAME:?message}: compose's interpolation forms used in the file.
_INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, kind, rest = match.group(1), match.group(2), match.group(3)
        if variables.get(name):
            return variables[name]
        if kind == ":-":
            return rest or ""
        raise KeyError(f"compose would stop: {name} is unset ({rest})")

    return _INTERPOLATION.sub(substitute, value)


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def environment_under_test(role: str) -> dict[str, str]:
    return {**TESTED_SETTINGS, **ROLE_SETTINGS[role]}


@pytest.mark.parametrize("service", sorted(SERVICE_ROLES))
def test_each_app_service_runs_with_the_tested_settings(service: str) -> None:
    declared = compose_services()[service]["environment"]
    secrets = {"SECRET_KEY": "s", "SUPERTOKENS_API_KEY": "k"}
    rendered = {
        name: interpolate(str(value), {**SITE_VARIABLES, **secrets})
        for name, value in declared.items()
    }

    assert set(rendered) == set(environment_under_test(SERVICE_ROLES[service])) | set(
        PER_DEPLOYMENT
    )
    agreeing = {name: value for name, value in rendered.items() if name not in PER_DEPLOYMENT}
    assert agreeing == environment_under_test(SERVICE_ROLES[service])


@pytest.mark.parametrize("service", sorted(SERVICE_ROLES))
def test_each_app_service_has_the_tested_worker_count(service: str) -> None:
    command: list[str] = compose_services()[service]["command"]
    assert command[command.index("--workers") + 1] == str(WORKERS)
    assert command[-1] == "app:create_app()"


def test_the_proxy_mounts_the_tested_template_and_sets_each_of_its_settings() -> None:
    proxy = compose_services()["proxy"]
    assert proxy["image"].startswith("nginx:")
    mounts = [volume.split(":")[:2] for volume in proxy["volumes"]]
    assert ["./nginx/site.conf.template", "/etc/nginx/templates/default.conf.template"] in mounts
    assert (DEPLOY / "nginx" / "site.conf.template").resolve() == SITE_TEMPLATE
    assert set(proxy["environment"]) == template_variables(SITE_TEMPLATE.read_text())
    upstreams = {proxy["environment"][f"{name}_UPSTREAM"] for name in ("WEB1", "WEB2", "API")}
    assert upstreams == {f"{service}:8000" for service in SERVICE_ROLES}


def test_env_example_names_every_variable_compose_needs() -> None:
    needed = {
        match.group(1)
        for match in _INTERPOLATION.finditer(COMPOSE.read_text())
        if match.group(2) != ":-"
    }
    example = {
        line.split("=", 1)[0].strip()
        for line in ENV_EXAMPLE.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    assert needed <= example, needed - example


def test_the_deploy_guide_points_at_the_tested_files() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for path in ("deploy/nginx/site.conf.template", "deploy/compose.yaml", "tests/topology"):
        assert path in guide, path
    assert not (DEPLOY / "Caddyfile").exists()  # one proxy configuration: the tested one
    assert all(Path(DEPLOY, name).exists() for name in ("Dockerfile", ".env.example"))
