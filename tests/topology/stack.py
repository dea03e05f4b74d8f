"""The production shape as loopback processes: localcore, an API process, two web instances, nginx.

    Chromium / httpx ──https, h2──> nginx (deploy/nginx/site.conf.template, rendered here)
        https://www.example.test ──> web1, web2   (pages only, SERVE_AUTH_API=0, 2 workers each)
        https://api.example.test ──> api          (the SDK's /auth API, 2 workers)
                                       └──http + api key──> localcore (3 s access tokens)

`TESTED_SETTINGS` is the environment every app process gets; deploy/compose.yaml must say the
same (tests/topology/test_deploy_config.py). Certificates come from a throwaway trustme CA; the
browser maps both names to the proxy's loopback port and ignores certificate errors for that one
leaf key only. Every process is started on a free loopback port and stopped by its PID.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.servers import (
    ROOT,
    ServerProcess,
    app_process,
    free_port,
    localcore_process,
    stop_by_pid,
)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"  # Debian's package (scripts/setup)
SITE_TEMPLATE = ROOT / "deploy" / "nginx" / "site.conf.template"
WWW_HOST = "www.example.test"
API_HOST = "api.example.test"
WWW = f"https://{WWW_HOST}"
API = f"https://{API_HOST}"
ACCESS_TOKEN_VALIDITY = 3  # seconds: refreshes happen during every test
WORKERS = 2

# The deployment's own values, as deploy/.env would give them to compose.
SITE_VARIABLES = {
    "WWW_HOST": WWW_HOST,
    "API_HOST": API_HOST,
    "COOKIE_DOMAIN": ".example.test",
    "OLDER_COOKIE_DOMAIN": WWW_HOST,  # the release before used Domain=www.example.test
}

# Every app process's environment, but for the per-process values `app_environment` adds.
TESTED_SETTINGS = {
    "APP_ENV": "production",
    "WEBSITE_DOMAIN": WWW,
    "API_DOMAIN": API,
    "COOKIE_DOMAIN": SITE_VARIABLES["COOKIE_DOMAIN"],
    "OLDER_COOKIE_DOMAIN": SITE_VARIABLES["OLDER_COOKIE_DOMAIN"],
    "COOKIE_SAME_SITE": "lax",
    "CORE_TIMEOUT": "5",
    "TRUST_PROXY_HEADERS": "1",
    "SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP": "1",
}
ROLE_SETTINGS = {"web": {"SERVE_AUTH_API": "0"}, "api": {"SERVE_AUTH_API": "1"}}
# Where compose and this harness may differ: the core's address, file paths and the secrets.
PER_DEPLOYMENT = ("SUPERTOKENS_CONNECTION_URI", "EMAIL_SINK", "SECRET_KEY", "SUPERTOKENS_API_KEY")

_TEMPLATE_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")


def render_template(text: str, values: dict[str, str]) -> str:
    """envsubst as the nginx image runs it: `${NAME}` from `values`; nginx's `$name` untouched."""
    missing = sorted(set(_TEMPLATE_VARIABLE.findall(text)) - values.keys())
    if missing:
        raise KeyError(f"no value for {missing}")
    return _TEMPLATE_VARIABLE.sub(lambda match: values[match.group(1)], text)


def template_variables(text: str) -> set[str]:
    return set(_TEMPLATE_VARIABLE.findall(text))


def spki_fingerprint(certificate_pem: bytes) -> str:
    """base64(sha256(SubjectPublicKeyInfo)), as --ignore-certificate-errors-spki-list wants it."""
    leaf = x509.load_pem_x509_certificate(certificate_pem)
    der = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@dataclass
class Nginx:
    """nginx in the foreground with the rendered site config, under its own prefix folder."""

    directory: Path
    site_values: dict[str, str]
    https_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def main_config(self) -> Path:
        return self.directory / "nginx.conf"

    def write_config(self) -> None:
        site = render_template(SITE_TEMPLATE.read_text(), self.site_values)
        (self.directory / "site.conf").write_text(site)
        # The wrapper the official image provides; here only pid, logs and temp folders differ.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        temp = "\n".join(
            f"    {kind}_temp_path {self.directory / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        self.main_config.write_text(
            f"{user}daemon off;\nworker_processes 2;\npid {self.directory / 'nginx.pid'};\n"
            f"error_log {self.directory / 'error.log'} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"    access_log {self.directory / 'access.log'};\n{temp}\n"
            f"    include {self.directory / 'site.conf'};\n"
            "}\n"
        )

    def start(self, timeout: float = 15.0) -> None:
        self.write_config()
        command = [NGINX, "-p", str(self.directory), "-c", str(self.main_config)]
        check = subprocess.run(
            [*command, "-t", "-e", str(self.directory / "error.log")],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        self.process = subprocess.Popen(
            [*command, "-e", str(self.directory / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not listen in time")

    def stop(self, timeout: float = 10.0) -> None:
        stop_by_pid(self.process, timeout)

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def worker_pids(server: ServerProcess) -> list[int]:
    """The Hypercorn workers of a running server (its children but multiprocessing's helper)."""
    assert server.process is not None
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    workers = []
    for child in map(int, children):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"resource_tracker" not in command:
            workers.append(child)
    return workers


@dataclass
class Topology:
    """Every process of the deployment, and what a test needs to reach them."""

    directory: Path
    ca: trustme.CA
    ca_file: Path
    spki: str
    api_key: str
    core_url: str
    core: ServerProcess
    api: ServerProcess
    webs: list[ServerProcess]
    nginx: Nginx
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def proxy_port(self) -> int:
        return self.nginx.https_port

    @property
    def http_port(self) -> int:
        return int(self.nginx.site_values["HTTP_LISTEN"].rsplit(":", 1)[1])

    def chromium_args(self) -> list[str]:
        """Both names to the proxy (port 443 to its loopback port); only our leaf key trusted."""
        rules = ", ".join(
            f"MAP {host}:443 127.0.0.1:{self.proxy_port}" for host in (WWW_HOST, API_HOST)
        )
        return [
            f"--host-resolver-rules={rules}, EXCLUDE localhost",
            f"--ignore-certificate-errors-spki-list={self.spki}",
        ]

    def core_call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Call the core directly (CDI 5.4, with the deployment's API key), as an operator would."""
        answer = httpx.request(
            method,
            self.core_url + path,
            headers={"cdi-version": "5.4", "api-key": self.api_key},
            timeout=10,
            **kwargs,
        )
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    def session_handles(self, user_id: str) -> list[str]:
        handles: list[str] = self.core_call(
            "GET", "/recipe/session/user", params={"userId": user_id}
        )["sessionHandles"]
        return handles

    def revoke_session(self, handle: str) -> None:
        body = self.core_call("POST", "/recipe/session/remove", json={"sessionHandles": [handle]})
        assert body["sessionHandlesRevoked"] == [handle], body

    def log_text(self, name: str) -> str:
        path = self.logs[name]
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        self.nginx.stop()
        for server in (*self.webs, self.api, self.core):
            server.stop()


def app_environment(
    role: str, core_url: str, api_key: str, secret_key: str, email_sink: Path
) -> dict[str, str]:
    return {
        **TESTED_SETTINGS,
        **ROLE_SETTINGS[role],
        "SUPERTOKENS_CONNECTION_URI": core_url,
        "SUPERTOKENS_API_KEY": api_key,
        "SECRET_KEY": secret_key,
        "EMAIL_SINK": str(email_sink),
    }


def start_topology(directory: Path) -> Topology:
    """Start everything, in dependency order; stop what started if a later part fails."""
    ca = trustme.CA()
    leaf = ca.issue_cert(WWW_HOST, API_HOST)
    certificate, key, ca_file = (
        directory / "site.pem",
        directory / "site.key",
        directory / "ca.pem",
    )
    leaf.cert_chain_pems[0].write_to_path(str(certificate))
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))

    # Letters, digits and "-", as the core allows; the leading "-" keeps the key's passing honest.
    api_key = "-" + secrets.token_urlsafe(24).replace("_", "-")
    secret_key = secrets.token_urlsafe(32)
    core_port = free_port()
    core_url = f"http://127.0.0.1:{core_port}"
    logs = {name: directory / f"{name}.log" for name in ("core", "api", "web1", "web2")}
    core = localcore_process(
        core_port,
        directory / "core.db",
        # One argument: a key may start with "-", which argparse would take for an option.
        extra_args=["--access-token-validity", str(ACCESS_TOKEN_VALIDITY), f"--api-keys={api_key}"],
        log_path=logs["core"],
    )
    workers = ["--workers", str(WORKERS)]
    sink = directory / "emails.jsonl"
    api = app_process(
        free_port(),
        app_environment("api", core_url, api_key, secret_key, sink),
        logs["api"],
        workers,
    )
    webs = [
        app_process(
            free_port(),
            app_environment("web", core_url, api_key, secret_key, sink),
            logs[name],
            workers,
        )
        for name in ("web1", "web2")
    ]
    https_port, http_port = free_port(), free_port()
    nginx = Nginx(
        directory / "nginx",
        {
            "WWW_HOST": WWW_HOST,
            "API_HOST": API_HOST,
            "HTTPS_LISTEN": f"127.0.0.1:{https_port}",
            "HTTP_LISTEN": f"127.0.0.1:{http_port}",
            "TLS_CERTIFICATE": str(certificate),
            "TLS_CERTIFICATE_KEY": str(key),
            "WEB1_UPSTREAM": upstream(webs[0]),
            "WEB2_UPSTREAM": upstream(webs[1]),
            "API_UPSTREAM": upstream(api),
        },
        https_port,
    )
    nginx.directory.mkdir()
    topology = Topology(
        directory,
        ca,
        ca_file,
        spki_fingerprint(leaf.cert_chain_pems[0].bytes()),
        api_key,
        core_url,
        core,
        api,
        webs,
        nginx,
        logs,
    )
    try:
        core.start()
        for server in (api, *webs):
            server.start(timeout=60)
        nginx.start()
    except BaseException:
        topology.stop()
        raise
    return topology


def upstream(server: ServerProcess) -> str:
    return server.health_url.removeprefix("http://").split("/", 1)[0]
