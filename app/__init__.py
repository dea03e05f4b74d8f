"""The Quart application factory: `hypercorn --config hypercorn.toml "app:create_app()"`."""

from __future__ import annotations

from pathlib import Path

from quart import Quart, Response

from app.config import Settings
from app.errors import install_error_pages
from app.guard import install_guard
from app.sdk import init_app as init_supertokens_hooks
from app.sdk.framework import close_core_client
from app.sdk.init import init_supertokens, warm_jwks_cache
from app.security import install_cross_origin_protection, origin_of
from app.views import register_blueprints

ROOT = Path(__file__).resolve().parent.parent


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

    init_supertokens(settings)
    init_supertokens_hooks(
        app,
        serve_auth_api=settings.serve_auth_api,
        api_base_path=settings.api_base_path,
        older_cookie_domain=settings.older_cookie_domain,
    )
    install_cross_origin_protection(app, trusted_origins=[origin_of(settings.website_domain)])
    install_guard(app)
    install_error_pages(app)
    app.before_serving(warm_jwks_cache)
    app.after_serving(close_core_client)

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response("ok", content_type="text/plain; charset=utf-8")

    register_blueprints(app)
    return app
