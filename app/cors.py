"""CORS for the SDK's API when the pages are on another origin (a split deployment).

With pages on https://www.example.com and the `/auth` API on https://api.example.com, web-js in
the page calls the API cross-origin with credentials (the session refresh). The browser then
needs, from the API process only and only under the API base path:

- a 204 answer to the preflight (`OPTIONS` with `Access-Control-Request-Method`), allowing the
  SDK's own headers (`supertokens.get_all_cors_headers()`) and `Content-Type`;
- `Access-Control-Allow-Origin: <WEBSITE_DOMAIN>` and `Access-Control-Allow-Credentials: true` on
  the answer itself. The SDK already exposes `front-token` through `Access-Control-Expose-Headers`.

Exactly one origin is allowed, WEBSITE_DOMAIN; any other Origin gets no CORS headers, so its
browser keeps the answer from the page. Nothing is installed when the pages and the API share an
origin, or when this process does not serve the API.
"""

from __future__ import annotations

from quart import Quart, Response, request
from supertokens_python import get_all_cors_headers

from app.config import Settings

ALLOWED_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
PREFLIGHT_MAX_AGE = "600"


def needs_cors(settings: Settings) -> bool:
    return settings.serve_auth_api and settings.api_on_other_origin


def install_cors(app: Quart, settings: Settings) -> None:
    """Answer the website's preflights and mark the API's answers readable by it."""
    if not needs_cors(settings):
        return
    allowed_origin = settings.website_domain.rstrip("/").lower()
    api_prefix = settings.api_base_path.rstrip("/") + "/"

    def is_allowed_api_request() -> bool:
        origin = request.headers.get("Origin", "")
        return origin.lower() == allowed_origin and (request.path + "/").startswith(api_prefix)

    @app.before_request
    async def answer_preflight() -> Response | None:
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        if not is_allowed_api_request():
            return None
        preflight = Response(status=204)
        preflight.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        preflight.headers["Access-Control-Allow-Headers"] = ", ".join(
            ["Content-Type", *get_all_cors_headers()]
        )
        preflight.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return preflight

    @app.after_request
    async def allow_website_origin(response: Response) -> Response:
        response.vary.add("Origin")
        if is_allowed_api_request():
            response.headers["Access-Control-Allow-Origin"] = allowed_origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
        return response
