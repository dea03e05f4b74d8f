"""UserRoles: roles with permissions, and the roles of users per tenant."""

from __future__ import annotations

from localcore.core import RequestContext, Route
from localcore.errors import BadRequestError
from localcore.inputs import JsonObject

UNKNOWN_ROLE = {"status": "UNKNOWN_ROLE_ERROR"}


def _role(ctx: RequestContext, role: str) -> str:
    if role.strip() == "":
        raise BadRequestError("Field name 'role' cannot be an empty String")
    return role


def _role_exists(ctx: RequestContext, role: str) -> bool:
    row = ctx.database.one("SELECT 1 FROM roles WHERE app_id = ? AND role = ?", (ctx.app_id, role))
    return row is not None


def _permissions(ctx: RequestContext, role: str) -> list[str]:
    rows = ctx.database.all(
        "SELECT permission FROM role_permissions WHERE app_id = ? AND role = ? ORDER BY permission",
        (ctx.app_id, role),
    )
    return [row["permission"] for row in rows]


async def create_role(ctx: RequestContext) -> JsonObject:
    role = _role(ctx, ctx.body.string("role"))
    permissions = ctx.body.string_list("permissions", default=[])
    with ctx.database.transaction():
        created = ctx.database.execute(
            "INSERT OR IGNORE INTO roles (app_id, role) VALUES (?, ?)", (ctx.app_id, role)
        )
        for permission in permissions:
            ctx.database.execute(
                "INSERT OR IGNORE INTO role_permissions (app_id, role, permission)"
                " VALUES (?, ?, ?)",
                (ctx.app_id, role, permission),
            )
    return {"status": "OK", "createdNewRole": created > 0}


async def remove_role(ctx: RequestContext) -> JsonObject:
    role = _role(ctx, ctx.body.string("role"))
    with ctx.database.transaction():
        removed = ctx.database.execute(
            "DELETE FROM roles WHERE app_id = ? AND role = ?", (ctx.app_id, role)
        )
    return {"status": "OK", "didRoleExist": removed > 0}


async def all_roles(ctx: RequestContext) -> JsonObject:
    rows = ctx.database.all("SELECT role FROM roles WHERE app_id = ? ORDER BY role", (ctx.app_id,))
    return {"status": "OK", "roles": [row["role"] for row in rows]}


async def role_permissions(ctx: RequestContext) -> JsonObject:
    role = _role(ctx, ctx.query.string("role"))
    if not _role_exists(ctx, role):
        return UNKNOWN_ROLE
    return {"status": "OK", "permissions": _permissions(ctx, role)}


async def remove_role_permissions(ctx: RequestContext) -> JsonObject:
    role = _role(ctx, ctx.body.string("role"))
    permissions = ctx.body.string_list("permissions", default=[])
    with ctx.database.transaction():
        if not _role_exists(ctx, role):
            return UNKNOWN_ROLE
        if ctx.body.has("permissions"):
            for permission in permissions:
                ctx.database.execute(
                    "DELETE FROM role_permissions WHERE app_id = ? AND role = ? AND permission = ?",
                    (ctx.app_id, role, permission),
                )
        else:
            ctx.database.execute(
                "DELETE FROM role_permissions WHERE app_id = ? AND role = ?", (ctx.app_id, role)
            )
    return {"status": "OK"}


async def roles_with_permission(ctx: RequestContext) -> JsonObject:
    permission = ctx.query.string("permission")
    rows = ctx.database.all(
        "SELECT role FROM role_permissions WHERE app_id = ? AND permission = ? ORDER BY role",
        (ctx.app_id, permission),
    )
    return {"status": "OK", "roles": [row["role"] for row in rows]}


async def add_user_role(ctx: RequestContext) -> JsonObject:
    user_id = ctx.body.string("userId")
    role = _role(ctx, ctx.body.string("role"))
    with ctx.database.transaction():
        if not _role_exists(ctx, role):
            return UNKNOWN_ROLE
        added = ctx.database.execute(
            "INSERT OR IGNORE INTO user_roles (app_id, tenant_id, user_id, role)"
            " VALUES (?, ?, ?, ?)",
            (ctx.app_id, ctx.tenant_id, user_id, role),
        )
    return {"status": "OK", "didUserAlreadyHaveRole": added == 0}


async def remove_user_role(ctx: RequestContext) -> JsonObject:
    user_id = ctx.body.string("userId")
    role = _role(ctx, ctx.body.string("role"))
    with ctx.database.transaction():
        if not _role_exists(ctx, role):
            return UNKNOWN_ROLE
        removed = ctx.database.execute(
            "DELETE FROM user_roles"
            " WHERE app_id = ? AND tenant_id = ? AND user_id = ? AND role = ?",
            (ctx.app_id, ctx.tenant_id, user_id, role),
        )
    return {"status": "OK", "didUserHaveRole": removed > 0}


async def roles_of_user(ctx: RequestContext) -> JsonObject:
    rows = ctx.database.all(
        "SELECT role FROM user_roles WHERE app_id = ? AND tenant_id = ? AND user_id = ?"
        " ORDER BY role",
        (ctx.app_id, ctx.tenant_id, ctx.query.string("userId")),
    )
    return {"status": "OK", "roles": [row["role"] for row in rows]}


async def users_with_role(ctx: RequestContext) -> JsonObject:
    role = _role(ctx, ctx.query.string("role"))
    if not _role_exists(ctx, role):
        return UNKNOWN_ROLE
    rows = ctx.database.all(
        "SELECT user_id FROM user_roles WHERE app_id = ? AND tenant_id = ? AND role = ?"
        " ORDER BY user_id",
        (ctx.app_id, ctx.tenant_id, role),
    )
    return {"status": "OK", "users": [row["user_id"] for row in rows]}


ROUTES = [
    Route("PUT", "/recipe/role", create_role),
    Route("POST", "/recipe/role/remove", remove_role),
    Route("GET", "/recipe/roles", all_roles),
    Route("GET", "/recipe/role/permissions", role_permissions),
    Route("POST", "/recipe/role/permissions/remove", remove_role_permissions),
    Route("GET", "/recipe/permission/roles", roles_with_permission),
    Route("PUT", "/recipe/user/role", add_user_role, tenant_scoped=True),
    Route("POST", "/recipe/user/role/remove", remove_user_role, tenant_scoped=True),
    Route("GET", "/recipe/user/roles", roles_of_user, tenant_scoped=True),
    Route("GET", "/recipe/role/users", users_with_role, tenant_scoped=True),
]
