"""The Quart application factory: `hypercorn --config hypercorn.toml "app:create_app()"`."""

from __future__ import annotations

import gc
from pathlib import Path

from hypercorn.middleware import ProxyFixMiddleware
from quart import Quart, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.config import Settings
from app.cors import install_cors
from app.current_user import current_user_context
from app.errors import install_error_pages
from app.rendering import render
from app.sdk.init import init_supertokens, warm_jwks_cache
from app.sdk.session_payload import email_claim
from app.views import BODY_METHODS, MAX_FORM_BYTES, MAX_FORM_PARTS, register_blueprints
from app.worker import log_clean_stop, prepare_worker_shutdown
from quart_supertokens import QuartSuperTokens

ROOT = Path(__file__).resolve().parent.parent

# No request needs more; the form blueprints allow far less (app/views/__init__.py).
MAX_CONTENT_LENGTH = 1024 * 1024


async def freeze_startup_objects() -> None:
    """Keep what start-up built (the SDK, Jinja, the routes) out of the collector's full passes.

    Those objects live as long as the process; scanning them in every full collection paused the
    event loop for ~30 ms under load (bench/guard.py's worst stall), ~6 ms once they are frozen.
    Once per process: a frozen object is never collected, so a process that builds several apps
    (the tests) must not pin each one's leftovers.
    """
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


async def _refresh_with_javascript(redirect_back: str) -> Response:
    """The refresh hop's page under ANTI_CSRF=VIA_CUSTOM_HEADER: supertokens-web-js refreshes."""
    return await render("refresh.html", redirect_back=redirect_back)


def create_app(config: Settings | None = None) -> Quart:
    """Build the app from `config`, else from the environment; unsafe settings raise ConfigError."""
    settings = config if config is not None else Settings.from_env()
    app = Quart(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["SETTINGS"] = settings
    # Quart honours MAX_CONTENT_LENGTH on every body read, and the two form limits in its multipart
    # parser only; its urlencoded parser ignores them, hence `limit_form_input` on every form.
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.config["MAX_FORM_MEMORY_SIZE"] = MAX_FORM_BYTES
    app.config["MAX_FORM_PARTS"] = MAX_FORM_PARTS

    @app.before_request
    async def refuse_oversized_body() -> None:
        """413 for a body over MAX_CONTENT_LENGTH on every route, before any view or the SDK's API
        sees it (the SDK reads JSON leniently and would not say why it got nothing).

        A declared Content-Length decides at once. A body without one (chunked) is read here:
        Quart buffers it anyway, up to the limit, and raises RequestEntityTooLarge past it.
        """
        if request.content_length is not None:
            if request.content_length > MAX_CONTENT_LENGTH:
                raise RequestEntityTooLarge()
        elif request.method in BODY_METHODS:
            await request.get_data(cache=True)

    init_supertokens(settings)
    # Before the extension's hooks: a preflight must be answered before the SDK's API sees it.
    install_cors(app, settings)
    QuartSuperTokens(
        app,
        login_url="/login",
        serve_auth_api=settings.serve_auth_api,
        session_max_age=settings.session_max_age,
        core_timeout=settings.core_timeout,
        never_return_to=("/signup", "/logout"),
        refresh_page=_refresh_with_javascript,
        foreign_session_claims=email_claim,
    )
    install_error_pages(app)
    app.context_processor(current_user_context)
    app.before_serving(warm_jwks_cache)
    app.before_serving(freeze_startup_objects)
    app.before_serving(prepare_worker_shutdown)
    app.after_serving(log_clean_stop)

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response("ok", content_type="text/plain; charset=utf-8")

    register_blueprints(app)
    if settings.trusted_proxy_hops > 0:
        # Behind TLS proxies: take scheme, host and client address from the X-Forwarded-* values
        # the trusted proxies appended, so request.host_url matches the browser's https URLs.
        app.asgi_app = ProxyFixMiddleware(  # type: ignore[method-assign]
            app.asgi_app, mode="legacy", trusted_hops=settings.trusted_proxy_hops
        )
    return app
