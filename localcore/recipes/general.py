"""Version negotiation and the JWKS."""

from __future__ import annotations

from localcore import SUPPORTED_CDI_VERSIONS
from localcore.core import RequestContext, Route
from localcore.inputs import JsonObject


async def api_version(ctx: RequestContext) -> JsonObject:
    return {"versions": list(SUPPORTED_CDI_VERSIONS)}


async def jwks(ctx: RequestContext) -> JsonObject:
    """The app's published keys; makes sure a current dynamic key exists (rotating if due)."""
    await ctx.core.keys.signing_key(ctx.app_id, ctx.app.config, dynamic=True)
    return {"keys": ctx.core.keys.jwks(ctx.app_id, ctx.app.config)}


ROUTES = [
    Route("GET", "/apiversion", api_version),
    Route("GET", "/.well-known/jwks.json", jwks),
]
