"""quart-supertokens: SuperTokens sessions for Quart, with a guard for server-rendered pages.

    import quart_supertokens
    from quart_supertokens import QuartSuperTokens, require_session, current_session

    quart_supertokens.init(app_info=..., supertokens_config=..., recipe_list=[...])
    QuartSuperTokens(app)

    @app.get("/dashboard")
    @require_session()
    async def dashboard(): ...

The adapter (supertokens-python's framework contract for Quart) is `quart_supertokens.framework`;
test helpers are in `quart_supertokens.testing`.
"""

from __future__ import annotations

from quart_supertokens.api import verify_session
from quart_supertokens.core_client import close_core_client
from quart_supertokens.cross_origin import CrossOriginRequestRefused, is_cross_origin
from quart_supertokens.decisions import (
    ClaimValidationError,
    CoreUnavailableError,
    GuardRedirect,
    LoginRequired,
    RefreshRequired,
    is_core_unavailable,
)
from quart_supertokens.extension import QuartSuperTokens
from quart_supertokens.framework.middleware import request_user_context
from quart_supertokens.guard import (
    add_claim_validators,
    check_session,
    remove_all_claim_validators,
    require_session,
)
from quart_supertokens.htmx import HtmxDetails, auth_redirect, client_redirect
from quart_supertokens.lifetime import SIGN_IN_TIME_CLAIM
from quart_supertokens.redirects import current_location, is_safe_path, path_from_same_origin_url
from quart_supertokens.responses import (
    clear_session_cookies,
    login_url,
    return_location,
    safe_redirect_back,
)
from quart_supertokens.sdk import init
from quart_supertokens.state import current_session, forget_current_session, get_current_session
from quart_supertokens.tokens import session_handle_of_expired_token

__all__ = [
    "SIGN_IN_TIME_CLAIM",
    "ClaimValidationError",
    "CoreUnavailableError",
    "CrossOriginRequestRefused",
    "GuardRedirect",
    "HtmxDetails",
    "LoginRequired",
    "QuartSuperTokens",
    "RefreshRequired",
    "add_claim_validators",
    "auth_redirect",
    "check_session",
    "clear_session_cookies",
    "close_core_client",
    "client_redirect",
    "current_location",
    "current_session",
    "forget_current_session",
    "get_current_session",
    "init",
    "is_core_unavailable",
    "is_cross_origin",
    "is_safe_path",
    "login_url",
    "path_from_same_origin_url",
    "remove_all_claim_validators",
    "request_user_context",
    "require_session",
    "return_location",
    "safe_redirect_back",
    "session_handle_of_expired_token",
    "verify_session",
]
