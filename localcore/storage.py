"""The SQLite store: schema, one connection, explicit transactions.

All access happens on the event loop thread through one connection, and no handler awaits while
a transaction is open, so every transaction is atomic with respect to other requests (the refresh
read-check-write included). WAL with ``synchronous=NORMAL`` keeps commits cheap; a crash can lose
the last commits but never corrupts the file. Every row belongs to an app, and removing the app
row cascades to all of its data.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger("localcore")

SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (
    app_id TEXT PRIMARY KEY,
    core_config TEXT NOT NULL,
    refresh_token_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
    app_id TEXT NOT NULL REFERENCES apps ON DELETE CASCADE,
    kid TEXT NOT NULL,
    private_key_pem BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    PRIMARY KEY (app_id, kid)
);
CREATE TABLE IF NOT EXISTS users (
    app_id TEXT NOT NULL REFERENCES apps ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    time_joined INTEGER NOT NULL,
    PRIMARY KEY (app_id, user_id),
    UNIQUE (app_id, email)
);
CREATE TABLE IF NOT EXISTS sessions (
    app_id TEXT NOT NULL REFERENCES apps ON DELETE CASCADE,
    handle TEXT NOT NULL,
    user_id TEXT NOT NULL,
    recipe_user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    refresh_hash2 TEXT NOT NULL,
    previous_refresh_hash2 TEXT,
    refresh_minted_at INTEGER NOT NULL,
    refresh_generation INTEGER NOT NULL DEFAULT 0,
    refresh_history TEXT NOT NULL DEFAULT '[]',
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    jwt_payload TEXT NOT NULL,
    db_data TEXT NOT NULL,
    use_static_key INTEGER NOT NULL,
    PRIMARY KEY (app_id, handle)
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (app_id, user_id);
CREATE TABLE IF NOT EXISTS password_reset_tokens (
    app_id TEXT NOT NULL REFERENCES apps ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    user_id TEXT NOT NULL,
    email TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, token_hash)
);
CREATE TABLE IF NOT EXISTS email_verification_tokens (
    app_id TEXT NOT NULL REFERENCES apps ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    email TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, token_hash)
);
CREATE TABLE IF NOT EXISTS verified_emails (
    app_id TEXT NOT NULL REFERENCES apps ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    email TEXT NOT NULL,
    PRIMARY KEY (app_id, user_id, email)
);
CREATE TABLE IF NOT EXISTS roles (
    app_id TEXT NOT NULL REFERENCES apps ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (app_id, role)
);
CREATE TABLE IF NOT EXISTS role_permissions (
    app_id TEXT NOT NULL,
    role TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (app_id, role, permission),
    FOREIGN KEY (app_id, role) REFERENCES roles ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS role_permissions_by_permission
    ON role_permissions (app_id, permission);
CREATE TABLE IF NOT EXISTS user_roles (
    app_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (app_id, tenant_id, user_id, role),
    FOREIGN KEY (app_id, role) REFERENCES roles ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS user_roles_by_role ON user_roles (app_id, tenant_id, role);
CREATE TABLE IF NOT EXISTS user_metadata (
    app_id TEXT NOT NULL REFERENCES apps ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    metadata TEXT NOT NULL,
    PRIMARY KEY (app_id, user_id)
);
"""
# Columns added after the first release, for ``_add_missing_columns``.
ADDED_SESSION_COLUMNS = {
    "refresh_generation": "INTEGER NOT NULL DEFAULT 0",
    "refresh_history": "TEXT NOT NULL DEFAULT '[]'",
}


class Database:
    """One SQLite connection, used only from the event loop thread.

    With WAL and ``synchronous=NORMAL`` a commit never waits for the disk; only checkpoints
    fsync. Automatic checkpoints would run inside some unlucky request on the event loop, so
    they are off and a daemon thread checkpoints (PASSIVE, never blocking the writer) through
    its own connection every ``checkpoint_interval`` seconds.
    """

    def __init__(self, path: Path, checkpoint_interval: float = 1.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.row_factory = sqlite3.Row
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.execute("PRAGMA foreign_keys=ON")
        self.connection.execute("PRAGMA busy_timeout=5000")
        self.connection.execute("PRAGMA wal_autocheckpoint=0")
        self.connection.executescript(SCHEMA)
        self._add_missing_columns()
        self._depth = 0
        self._stop_checkpoints = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_periodically,
            args=(path, checkpoint_interval),
            name="localcore-checkpoint",
            daemon=True,
        )
        self._checkpointer.start()

    def _add_missing_columns(self) -> None:
        """Bring a database made by an older localcore up to the current schema."""
        present = {row["name"] for row in self.all("PRAGMA table_info(sessions)")}
        for column, definition in ADDED_SESSION_COLUMNS.items():
            if column not in present:
                self.execute(f"ALTER TABLE sessions ADD COLUMN {column} {definition}")

    def prune_expired(self, now: int) -> None:
        """Delete expired sessions and tokens (run at start-up; reads ignore them anyway)."""
        with self.transaction():
            for table in ("sessions", "password_reset_tokens", "email_verification_tokens"):
                self.execute(f"DELETE FROM {table} WHERE expires_at < ?", (now,))  # noqa: S608

    def _checkpoint_periodically(self, path: Path, interval: float) -> None:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout=1000")
            while not self._stop_checkpoints.wait(interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    log.warning("WAL checkpoint failed; retrying later", exc_info=True)
        finally:
            connection.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction; nested uses join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.connection.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        else:
            self.connection.execute("COMMIT")
        finally:
            self._depth = 0

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run a statement; return the number of rows it changed."""
        return self.connection.execute(sql, parameters).rowcount

    def one(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.connection.execute(sql, parameters).fetchone()
        return row

    def all(self, sql: str, parameters: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.connection.execute(sql, parameters).fetchall()

    def close(self) -> None:
        self._stop_checkpoints.set()
        self._checkpointer.join()
        self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.connection.close()
