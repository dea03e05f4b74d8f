"""The app's blueprints, registered on the app by `register_blueprints`.

`limit_form_input` is the request-size policy of the auth, account, sessions and admin blueprints:
the app-wide MAX_CONTENT_LENGTH is set in `create_app`, and these small forms allow far less. The
SDK's own JSON API (`/auth/signin`, POST `/auth/session/refresh`...) is answered by an app-level
before-request hook, which runs before any blueprint's, so only the app-wide limit applies there.
"""

from __future__ import annotations

from flask.templating import _default_template_ctx_processor as flask_default_context
from quart import Blueprint, Quart, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.views import account, admin, auth, email_verification, pages, sessions

# The modules whose routes make up the app (email_verification adds to the account blueprint).
AREAS = (pages, auth, account, email_verification, sessions, admin)

# Every form in these areas is a handful of short fields; 16 KiB is generous.
MAX_FORM_BYTES = 16 * 1024
MAX_FORM_PARTS = 20
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def limit_form_input() -> None:
    """Refuse oversized bodies (413 page or fragment) before any form is parsed.

    A declared Content-Length is checked first; a body without one (chunked) is read, within the
    app-wide MAX_CONTENT_LENGTH, and measured. Quart's urlencoded parser ignores
    MAX_FORM_MEMORY_SIZE, hence the explicit check.
    """
    if request.method not in BODY_METHODS:
        return
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        raise RequestEntityTooLarge()
    request.max_form_memory_size = MAX_FORM_BYTES
    request.max_form_parts = MAX_FORM_PARTS
    if len(await request.get_data(cache=True)) > MAX_FORM_BYTES:
        raise RequestEntityTooLarge()


def _limited(blueprint: Blueprint) -> Blueprint:
    """Add the size limit once (blueprints are module-level; apps are made once per test)."""
    if limit_form_input not in blueprint.before_request_funcs.get(None, []):
        blueprint.before_request(limit_form_input)
    return blueprint


def register_blueprints(app: Quart) -> None:
    app.register_blueprint(pages.bp)
    for blueprint in (auth.bp, account.bp, sessions.bp, admin.bp):
        app.register_blueprint(_limited(blueprint))
    # Registering a blueprint copies Flask's sync default context processor onto it; Quart runs a
    # sync processor in a worker thread, a thread hop on every render. The app's own (async)
    # default already provides g, request and session, so the copies are dropped.
    for name, processors in app.template_context_processors.items():
        if name is not None:
            processors[:] = [p for p in processors if p is not flask_default_context]
