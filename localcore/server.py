"""The ASGI application: path parsing, routing, API keys, body limits and error responses.

A path is ``[/appid-<app>][/<tenant>]/<route>``. App-wide routes take no tenant segment; routes
marked tenant-scoped take an optional one (default ``public``). The tenant ids ``recipe``,
``config``, ``users`` and ``hello`` are reserved, as in the official core, so ``/recipe/...`` is
never read as tenant ``recipe``.

Every business outcome is HTTP 200 with a JSON ``status``. Malformed input, unknown paths, wrong
methods, oversized bodies, unknown apps and missing API keys get a 4xx JSON ``{"message": ...}``.
"""

from __future__ import annotations

import hmac
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from localcore import SUPPORTED_CDI_VERSIONS
from localcore.core import PUBLIC_TENANT_ID, Core, RequestContext, Route, normalise_app_id
from localcore.errors import (
    BadRequestError,
    HttpError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    UnauthorisedError,
)
from localcore.inputs import Fields, JsonObject, parse_json_object
from localcore.recipes import (
    emailpassword,
    emailverification,
    general,
    multitenancy,
    session,
    session_admin,
    usermetadata,
    userroles,
    users,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = 1 << 20
DRAIN_LIMIT_BYTES = 8 << 20
RESERVED_TENANT_IDS = frozenset({"recipe", "config", "users", "hello"})
# The SDK fetches the JWKS without headers; health checks carry none either.
OPEN_ROUTES = frozenset({"/", "/hello", "/.well-known/jwks.json"})
ALL_ROUTES: list[Route] = [
    *general.ROUTES,
    *users.ROUTES,
    *multitenancy.ROUTES,
    *emailpassword.ROUTES,
    *session.ROUTES,
    *session_admin.ROUTES,
    *emailverification.ROUTES,
    *userroles.ROUTES,
    *usermetadata.ROUTES,
]

log = logging.getLogger("localcore")


class Router:
    """Finds the routes of a path, and the tenant segment if the path has one."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._by_path: dict[str, dict[str, Route]] = {}
        for route in routes:
            methods = self._by_path.setdefault(route.path, {})
            if route.method in methods:
                raise ValueError(f"duplicate route {route.method} {route.path}")
            methods[route.method] = route

    def resolve(self, segments: Sequence[str]) -> tuple[dict[str, Route], str]:
        """The routes (by method) of ``/segments``, and the tenant id."""
        methods = self._by_path.get("/" + "/".join(segments))
        if methods is not None:
            return methods, PUBLIC_TENANT_ID
        if len(segments) > 1 and segments[0] not in RESERVED_TENANT_IDS:
            methods = self._by_path.get("/" + "/".join(segments[1:]))
            if methods is not None and any(route.tenant_scoped for route in methods.values()):
                scoped = {method: r for method, r in methods.items() if r.tenant_scoped}
                return scoped, segments[0]
        raise NotFoundError("Not found")


class LocalCoreApp:
    """The ASGI callable serving the CDI."""

    def __init__(
        self,
        core: Core,
        api_keys: Sequence[str] = (),
        on_startup: Callable[[], None] | None = None,
    ) -> None:
        self.core = core
        self.api_keys = [key.encode() for key in api_keys]
        self.router = Router(ALL_ROUTES)
        self._on_startup = on_startup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self._on_startup is not None:
                    self._on_startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = 200
        try:
            body: Any = await self._respond(scope, receive)
        except HttpError as error:
            status, body = error.status_code, {"message": error.message}
        except Exception:
            log.exception("error serving %s %s", scope["method"], scope["path"])
            status, body = 500, {"message": "Internal error"}
        if isinstance(body, str):
            payload, content_type = body.encode(), b"text/plain; charset=utf-8"
        else:
            payload = json.dumps(body, separators=(",", ":")).encode()
            content_type = b"application/json; charset=utf-8"
        headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(payload))]
        if status == 405:
            headers.append((b"allow", scope.get("localcore.allow", b"")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _respond(self, scope: Scope, receive: Receive) -> JsonObject | str:
        headers = {name.decode("latin-1"): value for name, value in scope["headers"]}
        segments = [segment for segment in scope["path"].split("/") if segment]
        app_id = "public"
        if segments and segments[0].startswith("appid-"):
            app_id = normalise_app_id(segments[0][len("appid-") :])
            segments = segments[1:]
        route_path = "/" + "/".join(segments)
        if route_path not in OPEN_ROUTES:
            self._check_api_key(headers)
        if route_path in ("/", "/hello"):
            return "Hello"

        methods, tenant_id = self.router.resolve(segments)
        route = methods.get(scope["method"])
        if route is None:
            scope["localcore.allow"] = ", ".join(sorted(methods)).encode()
            raise MethodNotAllowedError(f"Method {scope['method']} not allowed")
        app = self.core.apps.get(app_id)
        if app is None or tenant_id != PUBLIC_TENANT_ID:
            raise BadRequestError(f"AppId or tenantId not found => {app_id}, {tenant_id}")
        self._check_cdi_version(headers)

        raw_body = await _read_body(scope, receive, headers)
        body = parse_json_object(raw_body) if scope["method"] != "GET" else {}
        try:
            query_string = scope["query_string"].decode()
        except UnicodeDecodeError:
            raise BadRequestError("Invalid query string") from None
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        context = RequestContext(
            self.core, app, tenant_id, Fields(body), Fields(query, from_query=True)
        )
        return await route.handler(context)

    def _check_api_key(self, headers: dict[str, bytes]) -> None:
        if not self.api_keys:
            return
        given = headers.get("api-key")
        if given is None:
            authorization = headers.get("authorization", b"")
            if authorization[:7].lower() == b"bearer ":
                given = authorization[7:].strip()
        if given is None or not any(hmac.compare_digest(given, key) for key in self.api_keys):
            raise UnauthorisedError("Invalid API key")

    @staticmethod
    def _check_cdi_version(headers: dict[str, bytes]) -> None:
        version = headers.get("cdi-version")
        if version is not None and version.decode("latin-1") not in SUPPORTED_CDI_VERSIONS:
            raise BadRequestError(f"cdi-version {version.decode('latin-1')} not supported")


async def _read_body(scope: Scope, receive: Receive, headers: dict[str, bytes]) -> bytes:
    """The request body; 413 beyond ``MAX_BODY_BYTES``.

    An oversized body is still read (and dropped) up to ``DRAIN_LIMIT_BYTES`` before the 413,
    so that a client that is still sending gets the answer instead of a connection reset.
    """
    declared = headers.get("content-length")
    if declared is not None and not declared.isdigit():
        raise BadRequestError("Invalid Content-Length")
    chunks = []
    size = 0
    while size <= DRAIN_LIMIT_BYTES:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY_BYTES:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if size > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"Request body larger than {MAX_BODY_BYTES} bytes")
    return b"".join(chunks)


def configure_logging() -> None:
    """Errors of the core to stderr; Hypercorn logs through its own handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
