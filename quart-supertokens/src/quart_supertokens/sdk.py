"""`init`: supertokens-python's `init` for a Quart app, and what the extension adds to the SDK.

Call it where you would call the SDK's `init`, with the same arguments but `framework`:

    quart_supertokens.init(app_info=..., supertokens_config=..., recipe_list=[...])

It calls the SDK's `init` with the `framework="flask"` workaround (framework/framework.py), then:
1. RS256 only: the SDK's JWT check gets the algorithm pinned (tokens.py).
2. The JWKS fetch is bounded by the core timeout: the SDK fetches an unknown `kid`'s keys with a
   blocking `requests.get` on the event loop, with its own 10 s timeout, so a forged `kid` would
   stall the worker that long.
3. One keep-alive client per event loop for core calls (core_client.py).
4. On the Session recipe, on top of the app's own overrides: the verified-session memo (memo.py)
   and the sign-in time stamp (lifetime.py).
Everything is idempotent, and nothing happens at import time.
"""

from __future__ import annotations

from typing import Any

import supertokens_python
import supertokens_python.recipe.session.access_token as sdk_access_token
import supertokens_python.recipe.session.jwks as sdk_jwks
from supertokens_python import InputAppInfo, SupertokensConfig
from supertokens_python.supertokens import RecipeInit

from quart_supertokens.core_client import install_pooled_core_client
from quart_supertokens.framework.framework import install_framework_shim
from quart_supertokens.lifetime import stamp_sign_in_time
from quart_supertokens.memo import remember_verified_sessions, skip_empty_claim_validation
from quart_supertokens.tokens import RS256Only

DEFAULT_CORE_TIMEOUT = 5.0


def init(
    app_info: InputAppInfo,
    supertokens_config: SupertokensConfig,
    recipe_list: list[RecipeInit],
    mode: Any = "asgi",
    telemetry: bool | None = None,
    debug: bool | None = None,
    experimental: Any = None,
    core_timeout: float = DEFAULT_CORE_TIMEOUT,
) -> None:
    """supertokens-python's `init` for Quart (no `framework=`), plus the extension's additions."""
    install_sdk_patches(core_timeout)
    supertokens_python.init(
        app_info=app_info,
        # The SDK accepts only fastapi|flask|django here: see framework/framework.py.
        framework="flask",
        supertokens_config=supertokens_config,
        recipe_list=recipe_list,
        mode=mode,
        telemetry=telemetry,
        debug=debug,
        experimental=experimental,
    )
    install_session_overrides()


def install_sdk_patches(core_timeout: float = DEFAULT_CORE_TIMEOUT) -> None:
    """The process-wide changes to the SDK (idempotent; `init` and `init_app` both call it)."""
    install_framework_shim()
    install_pooled_core_client(core_timeout)
    setattr(sdk_access_token, "jwt", RS256Only)  # noqa: B010 - not an exported name
    sdk_jwks.JWKSConfig["request_timeout"] = int(core_timeout * 1000)


def install_session_overrides() -> None:
    """Add the memo and the sign-in stamp to the initialised Session recipe (idempotent)."""
    from supertokens_python.recipe.session.recipe import SessionRecipe

    implementation = SessionRecipe.get_instance().recipe_implementation
    if getattr(implementation, "_quart_supertokens_overrides", False):
        return
    remember_verified_sessions(skip_empty_claim_validation(stamp_sign_in_time(implementation)))
    implementation._quart_supertokens_overrides = True  # type: ignore[attr-defined]
