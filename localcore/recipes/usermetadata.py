"""UserMetadata: one JSON object per user id, updated by a shallow merge where null deletes."""

from __future__ import annotations

import json
from typing import Any

from localcore.core import RequestContext, Route
from localcore.inputs import JsonObject


def _metadata(ctx: RequestContext, user_id: str) -> dict[str, Any]:
    row = ctx.database.one(
        "SELECT metadata FROM user_metadata WHERE app_id = ? AND user_id = ?",
        (ctx.app_id, user_id),
    )
    return {} if row is None else dict(json.loads(row["metadata"]))


async def get_metadata(ctx: RequestContext) -> JsonObject:
    return {"status": "OK", "metadata": _metadata(ctx, ctx.query.string("userId"))}


async def update_metadata(ctx: RequestContext) -> JsonObject:
    user_id = ctx.body.string("userId")
    update = ctx.body.json_object("metadataUpdate")
    with ctx.database.transaction():
        merged = {**_metadata(ctx, user_id), **update}
        merged = {key: value for key, value in merged.items() if value is not None}
        ctx.database.execute(
            "INSERT INTO user_metadata (app_id, user_id, metadata) VALUES (?, ?, ?)"
            " ON CONFLICT (app_id, user_id) DO UPDATE SET metadata = excluded.metadata",
            (ctx.app_id, user_id, json.dumps(merged)),
        )
    return {"status": "OK", "metadata": merged}


async def remove_metadata(ctx: RequestContext) -> JsonObject:
    user_id = ctx.body.string("userId")
    with ctx.database.transaction():
        ctx.database.execute(
            "DELETE FROM user_metadata WHERE app_id = ? AND user_id = ?", (ctx.app_id, user_id)
        )
    return {"status": "OK"}


ROUTES = [
    Route("GET", "/recipe/user/metadata", get_metadata),
    Route("PUT", "/recipe/user/metadata", update_metadata),
    Route("POST", "/recipe/user/metadata/remove", remove_metadata),
]
