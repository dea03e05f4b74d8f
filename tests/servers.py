"""Start and stop real server processes for tests: free loopback ports, health waits, PID stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_by_pid(process: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM a started process by its PID, then SIGKILL if it lingers; no-op once it exited."""
    if process is None or process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout)


@dataclass
class ServerProcess:
    """A server started by a test: its command, health URL and process."""

    command: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> ServerProcess:
        env = {**os.environ, **self.env}
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.command!r} exited with {self.process.returncode}{self._log_tail()}"
                )
            try:
                if httpx.get(self.health_url, timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"{self.command!r} not healthy at {self.health_url} in {timeout}s{self._log_tail()}"
        )

    def _log_tail(self, characters: int = 2000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "; its log ends:\n" + self.log_path.read_text(errors="replace")[-characters:]

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process by its PID, then SIGKILL if it lingers."""
        stop_by_pid(self.process, timeout)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def localcore_process(
    port: int,
    database: Path,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
) -> ServerProcess:
    """A `python -m localcore` process on 127.0.0.1:port (not started yet)."""
    command = [
        sys.executable,
        "-m",
        "localcore",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database",
        str(database),
        *extra_args,
    ]
    return ServerProcess(
        command,
        f"http://127.0.0.1:{port}/hello",
        env=dict(env or {}),
        log_path=log_path,
    )


def app_process(
    port: int,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    extra_args: Sequence[str] = (),
) -> ServerProcess:
    """The app in Hypercorn with hypercorn.toml on 127.0.0.1:port (not started yet).

    hypercorn.toml sends the access log to the process's output: with `log_path` every request is
    on record there. `extra_args` go before the app (e.g. `--workers 2`, overriding the file).
    """
    command = [
        sys.executable,
        "-m",
        "hypercorn",
        "--config",
        "hypercorn.toml",
        "--bind",
        f"127.0.0.1:{port}",
        *extra_args,
        "app:create_app()",
    ]
    return ServerProcess(
        command,
        f"http://127.0.0.1:{port}/healthz",
        env=dict(env or {}),
        log_path=log_path,
    )
