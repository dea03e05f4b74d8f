"""The store: a database made by an older localcore is brought up to the current schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from localcore.storage import ADDED_SESSION_COLUMNS, SCHEMA, Database


def test_older_sessions_table_gets_the_added_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_schema = SCHEMA
    for column, definition in ADDED_SESSION_COLUMNS.items():
        old_schema = old_schema.replace(f"    {column} {definition},\n", "")
    with sqlite3.connect(path) as connection:
        connection.executescript(old_schema)
        connection.execute(
            "INSERT INTO apps VALUES ('public', '{}', x'00', 0)",
        )
        connection.execute(
            "INSERT INTO sessions (app_id, handle, user_id, recipe_user_id, tenant_id,"
            " refresh_hash2, refresh_minted_at, expires_at, created_at, jwt_payload, db_data,"
            " use_static_key) VALUES ('public', 'h', 'u', 'u', 'public', 'x', 1, 2, 1, '{}',"
            " '{}', 0)"
        )
    assert "refresh_history" not in old_schema

    database = Database(path)
    try:
        row = database.one("SELECT refresh_generation, refresh_history FROM sessions")
    finally:
        database.close()

    assert row is not None
    assert (row["refresh_generation"], row["refresh_history"]) == (0, "[]")
