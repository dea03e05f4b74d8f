"""The app's blueprints, registered on the app by `register_blueprints`."""

from __future__ import annotations

from quart import Quart

from app.views import auth, pages


def register_blueprints(app: Quart) -> None:
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
