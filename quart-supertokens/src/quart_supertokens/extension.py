"""`QuartSuperTokens`: the extension object, as quart-auth's `QuartAuth` is one.

    ext = QuartSuperTokens()          # or QuartSuperTokens(app, login_url="/signin")
    ext.init_app(app)                 # after quart_supertokens.init(...)

`init_app` registers: cross-origin protection (the first before-request hook); the SDK's API
(after the app's earlier before-request hooks, such as a body-size limit); the guard's redirect
handler; the server-side refresh route; the response hook (guard headers, then the session's
cookies, then "an ended session wins", always last); the teardown that forgets the request's
session; the SDK error handler; the `current_session` template variable; and the core client's
shutdown. Several apps may share one process, each with its own options; an app factory calls
`init_app` once per app.
"""

from __future__ import annotations

from typing import Any

from quart import Quart, Response, g, request
from supertokens_python import Supertokens
from supertokens_python.exceptions import SuperTokensError

from quart_supertokens.core_client import close_core_client, core_client_pool
from quart_supertokens.cross_origin import (
    CrossOriginRequestRefused,
    is_cross_origin,
    is_cross_site_by_design,
)
from quart_supertokens.decisions import GuardRedirect
from quart_supertokens.framework.middleware import (
    apply_session_mutations,
    forget_request_state,
    handle_supertokens_error,
    request_user_context,
    serve_sdk_api,
)
from quart_supertokens.options import EXTENSION_KEY, current_options, resolve
from quart_supertokens.redirects import origin_of
from quart_supertokens.refresh import refresh_hop
from quart_supertokens.responses import handle_guard_redirect, mark_guarded_response
from quart_supertokens.sdk import install_sdk_patches, install_session_overrides
from quart_supertokens.state import STATE_SLOT, get_current_session


class QuartSuperTokens:
    """SuperTokens sessions for Quart apps: the SDK adapter and the SSR guard.

    Every keyword is an option (options.py) and may instead be set as the config key
    `QUART_SUPERTOKENS_<NAME>`; a keyword wins.
    """

    def __init__(self, app: Quart | None = None, **options: Any) -> None:
        self.options = options
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Quart) -> None:
        try:
            app_info = Supertokens.get_instance().app_info
        except Exception:
            raise RuntimeError(
                "call quart_supertokens.init(...) before QuartSuperTokens.init_app(app)"
            ) from None
        options = resolve(
            app,
            self.options,
            api_base_path=app_info.api_base_path.get_as_string_dangerous() or "/",
            website_origin=origin_of(app_info.get_origin(None, {}).get_as_string_dangerous()),
        )
        if options.core_timeout is not None:
            install_sdk_patches(options.core_timeout)
        else:
            install_sdk_patches(core_client_pool.timeout)
        install_session_overrides()
        app.extensions[EXTENSION_KEY] = options

        async def refuse_cross_origin() -> None:
            current = current_options()
            if (
                current.cross_origin_protection
                and is_cross_origin(request, (current.website_origin, *current.trusted_origins))
                and not is_cross_site_by_design(request.path, current.api_base_path)
            ):
                raise CrossOriginRequestRefused()

        async def serve_auth_api() -> Response | None:
            if not current_options().serve_auth_api:
                request_user_context()
                return None
            return await serve_sdk_api()

        async def after_request(response: Response) -> Response:
            # Async on purpose: Quart runs a sync hook in a worker thread, a hop per response.
            state = g.get(STATE_SLOT)
            if state is not None and (state.guarded or state.mutators):
                mark_guarded_response(state, response)
            return apply_session_mutations(response)

        # First in line, so a refused request reaches neither the SDK nor a view.
        app.before_request_funcs.setdefault(None, []).insert(0, refuse_cross_origin)
        app.before_request(serve_auth_api)
        # Registered now, so it runs after the app's own after_request hooks (Quart runs them
        # last-registered first) and the final word on cookies is the session's.
        app.after_request(after_request)
        app.teardown_request(forget_request_state)
        app.register_error_handler(SuperTokensError, handle_supertokens_error)
        app.register_error_handler(GuardRedirect, handle_guard_redirect)
        if options.refresh_route:
            app.add_url_rule(
                options.refresh_path,
                endpoint="quart_supertokens_refresh",
                view_func=refresh_hop,
                methods=["GET"],
            )
        app.context_processor(_template_context)
        app.after_serving(close_core_client)


async def _template_context() -> dict[str, Any]:
    return {"current_session": get_current_session()}
