"""Command line: `python -m app create-admin EMAIL [--password P]`.

Creates the `admin` role if missing, signs the user up if there is no account with that email
(the password comes from --password, else ADMIN_PASSWORD, else a prompt), and gives them the role.
Settings come from the environment, as for the server (SUPERTOKENS_CONNECTION_URI, ...).

Roles travel in the access token (`st-role`) and a refresh does not re-fetch them: a session the
user already has picks the role up when /admin re-validates it (roles older than a minute are
re-fetched, see app/views/admin.py), or at once by signing in again.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from app.config import ConfigError, Settings
from app.forms import email_error, new_password_error, normalise_email

ADMIN_ROLE = "admin"
TENANT = "public"


class CommandError(Exception):
    """A problem to report on stderr with exit status 1."""


async def create_admin(email: str, password: str | None) -> str:
    """Ensure `email` has an account with the admin role; return a one-line report.

    The SDK must be initialised (`init_supertokens`) before this runs.
    """
    from supertokens_python.asyncio import list_users_by_account_info
    from supertokens_python.recipe.emailpassword.asyncio import sign_up
    from supertokens_python.recipe.emailpassword.interfaces import SignUpOkResult
    from supertokens_python.recipe.userroles.asyncio import (
        add_role_to_user,
        create_new_role_or_add_permissions,
    )
    from supertokens_python.recipe.userroles.interfaces import AddRoleToUserOkResult
    from supertokens_python.types.base import AccountInfoInput

    from quart_supertokens import close_core_client

    try:
        role = await create_new_role_or_add_permissions(ADMIN_ROLE, [])
        users = await list_users_by_account_info(TENANT, AccountInfoInput(email=email))
        created = False
        if users:
            user_id = users[0].id
        else:
            if password is None:
                raise CommandError(f"No account for {email}: give --password to create one.")
            if error := new_password_error(password):
                raise CommandError(f"Password refused: {error}")
            result = await sign_up(TENANT, email, password)
            if not isinstance(result, SignUpOkResult):
                raise CommandError(f"Could not sign {email} up: {type(result).__name__}.")
            user_id = result.user.id
            created = True
        added = await add_role_to_user(TENANT, user_id, ADMIN_ROLE)
        if not isinstance(added, AddRoleToUserOkResult):
            raise CommandError("The core does not know the admin role.")
    finally:
        await close_core_client()
    parts = [
        "created the admin role" if role.created_new_role else "admin role exists",
        f"signed up {email}" if created else f"found {email}",
        "already an admin" if added.did_user_already_have_role else "granted admin",
    ]
    return f"{'; '.join(parts)} (user id {user_id})."


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser(
        "create-admin", help="give a user (created if missing) the admin role"
    )
    create.add_argument("email")
    create.add_argument("--password", help="for a new account (else ADMIN_PASSWORD or a prompt)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    email = normalise_email(args.email)
    if error := email_error(email):
        print(f"error: {error}", file=sys.stderr)
        return 2
    password: str | None = args.password or os.environ.get("ADMIN_PASSWORD") or None
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    from app.sdk.init import init_supertokens

    init_supertokens(settings)

    async def run() -> str:
        nonlocal password
        try:
            return await create_admin(email, password)
        except CommandError:
            if password is not None or not sys.stdin.isatty():
                raise
        password = getpass.getpass(f"Password for the new account {email}: ")
        return await create_admin(email, password)

    try:
        print(asyncio.run(run()))
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        print(f"error: could not reach the SuperTokens core: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
