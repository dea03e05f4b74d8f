"""``python -m localcore``: serve the local core under Hypercorn until SIGTERM or SIGINT.

Flags fall back to environment variables, then to defaults: ``--host`` (LOCALCORE_HOST,
127.0.0.1), ``--port`` (LOCALCORE_PORT, 3567), ``--database`` (LOCALCORE_DATABASE,
var/localcore.db), ``--api-keys`` (LOCALCORE_API_KEYS, comma-separated; none means open),
``--access-token-validity`` (seconds) and ``--refresh-token-validity`` (minutes). The validity
flags are the base config of every app; an app's ``coreConfig`` overrides them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig

from localcore.clock import now_ms
from localcore.config import CoreConfig
from localcore.core import Apps, Core
from localcore.errors import BadRequestError
from localcore.keys import KeyStore
from localcore.server import LocalCoreApp, configure_logging
from localcore.storage import Database


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    environ = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m localcore", description="A SuperTokens-compatible local core (CDI 5.4)."
    )
    parser.add_argument("--host", default=environ.get("LOCALCORE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(environ.get("LOCALCORE_PORT", "3567")))
    parser.add_argument(
        "--database",
        type=Path,
        default=Path(environ.get("LOCALCORE_DATABASE", "var/localcore.db")),
        help="SQLite file (created if missing)",
    )
    parser.add_argument("--access-token-validity", type=int, help="seconds (default 3600)")
    parser.add_argument("--refresh-token-validity", type=float, help="minutes (default 144000)")
    parser.add_argument(
        "--api-keys",
        default=environ.get("LOCALCORE_API_KEYS", ""),
        help="comma-separated keys; when set, every request but /hello and the JWKS needs one",
    )
    return parser.parse_args(argv)


def base_config(arguments: argparse.Namespace) -> CoreConfig:
    overrides = {
        "access_token_validity": arguments.access_token_validity,
        "refresh_token_validity": arguments.refresh_token_validity,
    }
    return CoreConfig().merged(overrides)


def _bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def run(arguments: argparse.Namespace) -> None:
    database = Database(arguments.database)
    database.prune_expired(now_ms())
    keys = KeyStore(database)
    core = Core(database, keys, Apps(database, keys, base_config(arguments)))
    api_keys = [key.strip() for key in arguments.api_keys.split(",") if key.strip()]
    address = _bind_address(arguments.host, arguments.port)

    def announce() -> None:
        print(f"localcore listening on http://{address}", flush=True)

    app = LocalCoreApp(core, api_keys, on_startup=announce)
    config = HypercornConfig()
    config.bind = [address]
    config.accesslog = None
    config.graceful_timeout = 2.0
    # Longer than any client's idle keep-alive (httpx: 5 s, Hypercorn's default here too), so the
    # client always closes an idle connection first and never sends a request into our close
    # (seen in the soak as an httpx ReadError, answered 503 by the app).
    config.keep_alive_timeout = 75.0

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    try:
        await serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
    finally:
        database.close()


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    configure_logging()
    try:
        asyncio.run(run(arguments))
    except BadRequestError as error:
        print(f"localcore: invalid configuration: {error.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
