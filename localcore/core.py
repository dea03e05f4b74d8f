"""The core's shared state (database, keys, apps) and what a route handler receives."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from localcore.clock import now_ms
from localcore.config import CoreConfig
from localcore.errors import BadRequestError
from localcore.inputs import Fields, JsonObject
from localcore.keys import KeyStore
from localcore.storage import Database
from localcore.tokens import RefreshTokenCodec

PUBLIC_APP_ID = "public"
PUBLIC_TENANT_ID = "public"
APP_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


@dataclass(frozen=True)
class App:
    app_id: str
    config: CoreConfig
    overrides: dict[str, Any]
    refresh_tokens: RefreshTokenCodec


class Apps:
    """The apps of this core, persisted in the ``apps`` table and cached in memory."""

    def __init__(self, database: Database, keys: KeyStore, base_config: CoreConfig) -> None:
        self._database = database
        self._keys = keys
        self._base_config = base_config
        self._cache: dict[str, App] = {}
        if self.get(PUBLIC_APP_ID) is None:
            self.create_or_update(PUBLIC_APP_ID, {})

    def get(self, app_id: str) -> App | None:
        app = self._cache.get(app_id)
        if app is None:
            row = self._database.one(
                "SELECT core_config, refresh_token_key FROM apps WHERE app_id = ?", (app_id,)
            )
            if row is None:
                return None
            overrides = json.loads(row["core_config"])
            app = App(
                app_id,
                self._base_config.merged(overrides),
                overrides,
                RefreshTokenCodec(row["refresh_token_key"]),
            )
            self._cache[app_id] = app
        return app

    def create_or_update(self, app_id: str, core_config: dict[str, Any]) -> bool:
        """Create the app, or merge ``core_config`` into its config; True if it was created."""
        existing = self.get(app_id)
        overrides = {**(existing.overrides if existing else {}), **core_config}
        overrides = {name: value for name, value in overrides.items() if value is not None}
        self._base_config.merged(overrides)  # validate before storing
        with self._database.transaction():
            if existing is None:
                self._database.execute(
                    "INSERT INTO apps (app_id, core_config, refresh_token_key, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (app_id, json.dumps(overrides), RefreshTokenCodec.new_secret_key(), now_ms()),
                )
            else:
                self._database.execute(
                    "UPDATE apps SET core_config = ? WHERE app_id = ?",
                    (json.dumps(overrides), app_id),
                )
        self._cache.pop(app_id, None)
        return existing is None

    def remove(self, app_id: str) -> bool:
        """Delete the app and all of its data; True if it existed."""
        if app_id == PUBLIC_APP_ID:
            raise BadRequestError("The public app cannot be removed")
        with self._database.transaction():
            removed = self._database.execute("DELETE FROM apps WHERE app_id = ?", (app_id,)) > 0
        self._cache.pop(app_id, None)
        self._keys.forget(app_id)
        return removed


def normalise_app_id(app_id: str) -> str:
    normalised = app_id.strip().lower()
    if not APP_ID_PATTERN.fullmatch(normalised):
        raise BadRequestError("appId can only contain letters, digits and '-'")
    return normalised


@dataclass
class Core:
    """Everything a handler needs beyond its request."""

    database: Database
    keys: KeyStore
    apps: Apps


@dataclass
class RequestContext:
    core: Core
    app: App
    tenant_id: str
    body: Fields
    query: Fields

    @property
    def database(self) -> Database:
        return self.core.database

    @property
    def app_id(self) -> str:
        return self.app.app_id


Handler = Callable[[RequestContext], Awaitable[JsonObject]]


@dataclass(frozen=True)
class Route:
    """A CDI endpoint. ``tenant_scoped`` routes accept an optional ``/<tenant>`` segment."""

    method: str
    path: str
    handler: Handler
    tenant_scoped: bool = False
