"""A plain supertokens-python API process: Flask with the SDK's own Flask integration, no app code.

For tests/interop/test_python_backend.py: the stock SDK (EmailPassword + Session, default config
apart from the few settings every cookie-based SSR deployment needs) serving the SDK's /auth API
beside the Quart web process, against the same core app. Nothing here imports `app`: whatever the
app's overrides add (the `authAt` and `email` claims, session data in the database, remembered
verifications) is absent from the sessions this process creates.

Run it as `python -m tests.interop.plain_sdk_api`. Configuration, all from the environment:
  SUPERTOKENS_CONNECTION_URI  the core app, e.g. http://127.0.0.1:3567/appid-<id>
  API_DOMAIN, WEBSITE_DOMAIN  the same app info as the Quart process
  APP_NAME, API_BASE_PATH     idem (API_BASE_PATH defaults to /auth)
  HOST, PORT                  where to listen (HOST defaults to 127.0.0.1)

Routes besides the SDK's own API (/auth/signup, /auth/signin, /auth/session/refresh,
/auth/signout, ...):
  GET /healthz     200 "ok" (the test's health wait)
  GET /me          verify_session(): {userId, sessionHandle} (the JWT checked locally)
  GET /me/checked  verify_session(check_database=True): the same, the core asked every time

Served by werkzeug's `run_simple`, single-threaded: the SDK's Flask integration bridges to its
async code with `run_until_complete` on the thread's event loop, which one thread keeps simple.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Literal

from flask import Flask, Response, g, jsonify
from supertokens_python import InputAppInfo, SupertokensConfig, init
from supertokens_python.framework import BaseRequest
from supertokens_python.framework.flask import Middleware
from supertokens_python.recipe import emailpassword, session
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.framework.flask import verify_session
from werkzeug.serving import run_simple


def required(name: str) -> str:
    """The environment variable `name`, or exit with a message saying it is missing."""
    value = os.environ.get(name, "").strip()
    if not value:
        sys.exit(f"plain_sdk_api: the environment variable {name} is required")
    return value


def cookie_transfer(
    request: BaseRequest, for_create_new_session: bool, user_context: dict[str, Any]
) -> Literal["cookie"]:
    """Tokens in cookies, as a browser-facing SSR deployment needs (the SDK default is headers)."""
    return "cookie"


def init_sdk() -> None:
    """The stock SDK: EmailPassword and Session, no overrides, no telemetry."""
    # Read when the SDK resolves a domain (inside init): no download of the public-suffix list.
    os.environ.setdefault("SUPERTOKENS_TLDEXTRACT_DISABLE_HTTP", "1")
    init(
        app_info=InputAppInfo(
            app_name=required("APP_NAME"),
            api_domain=required("API_DOMAIN"),
            website_domain=required("WEBSITE_DOMAIN"),
            api_base_path=os.environ.get("API_BASE_PATH", "").strip() or "/auth",
        ),
        framework="flask",
        supertokens_config=SupertokensConfig(connection_uri=required("SUPERTOKENS_CONNECTION_URI")),
        recipe_list=[
            emailpassword.init(),
            session.init(
                get_token_transfer_method=cookie_transfer,
                anti_csrf="NONE",
                cookie_same_site="lax",
            ),
        ],
        telemetry=False,
    )


def _session_json(current: SessionContainer) -> Response:
    return jsonify({"userId": current.get_user_id(), "sessionHandle": current.get_handle()})


def create_api() -> Flask:
    """The Flask app: the SDK's middleware (its /auth API and error handler) and three routes."""
    init_sdk()
    api = Flask(__name__)
    Middleware(api)

    @api.get("/healthz")
    def healthz() -> Response:
        return Response("ok", content_type="text/plain; charset=utf-8")

    @api.get("/me")
    @verify_session()
    def me() -> Response:
        current: SessionContainer = g.supertokens
        return _session_json(current)

    @api.get("/me/checked")
    @verify_session(check_database=True)
    def me_checked() -> Response:
        current: SessionContainer = g.supertokens
        return _session_json(current)

    return api


def main() -> None:
    """Serve the API on HOST:PORT until SIGTERM (werkzeug logs each request to stderr)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    port = int(required("PORT"))
    run_simple(host, port, create_api(), threaded=False, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
