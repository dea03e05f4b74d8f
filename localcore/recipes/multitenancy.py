"""Multitenancy: the public tenant's config, and creating and removing apps.

Each app is isolated (its own users, sessions, keys, refresh-token key and core config) and
addressed through the ``/appid-<id>/`` path prefix. Only the public tenant exists in every app.
"""

from __future__ import annotations

from localcore.core import PUBLIC_APP_ID, RequestContext, Route, normalise_app_id
from localcore.errors import BadRequestError
from localcore.inputs import JsonObject

LEGACY_APP_FIELDS = ("emailPasswordEnabled", "thirdPartyEnabled", "passwordlessEnabled")


async def get_tenant(ctx: RequestContext) -> JsonObject:
    return {
        "status": "OK",
        "tenantId": ctx.tenant_id,
        "thirdParty": {"providers": []},
        "coreConfig": {},
    }


def _require_base_app(ctx: RequestContext) -> None:
    if ctx.app_id != PUBLIC_APP_ID:
        raise BadRequestError("Apps can only be created or removed through the public app")


async def create_or_update_app(ctx: RequestContext) -> JsonObject:
    _require_base_app(ctx)
    app_id = normalise_app_id(ctx.body.string("appId"))
    for legacy in LEGACY_APP_FIELDS:
        if ctx.body.has(legacy):
            raise BadRequestError(f"Invalid field {legacy}: use firstFactors instead")
    ctx.body.string_list("firstFactors", default=[])
    ctx.body.string_list("requiredSecondaryFactors", default=[])
    core_config = ctx.body.json_object("coreConfig", {})
    created = ctx.core.apps.create_or_update(app_id, core_config)
    return {"status": "OK", "createdNew": created}


async def remove_app(ctx: RequestContext) -> JsonObject:
    _require_base_app(ctx)
    app_id = normalise_app_id(ctx.body.string("appId"))
    return {"status": "OK", "didExist": ctx.core.apps.remove(app_id)}


ROUTES = [
    Route("GET", "/recipe/multitenancy/tenant/v2", get_tenant, tenant_scoped=True),
    Route("PUT", "/recipe/multitenancy/app/v2", create_or_update_app),
    Route("POST", "/recipe/multitenancy/app/remove", remove_app),
]
