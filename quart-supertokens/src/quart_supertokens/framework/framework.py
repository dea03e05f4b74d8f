"""The SDK's framework registry entry for Quart, and the shim that stands in for "quart".

supertokens-python 0.31.x validates `init(framework=...)` against "fastapi" | "flask" | "django"
(a pydantic Literal) and ships no Quart adapter. `quart_supertokens.init` therefore initialises
the SDK with framework="flask", and the extension always hands the SDK a `QuartRequest`, whose
`wrapper_used=True` makes the SDK skip its framework lookup. As a guard for any code path that
still looks a framework up, `supertokens_python.utils.FRAMEWORKS["flask"]` is replaced by
`QuartFramework`: the session modules imported that same dict object, so they see the change.
Without it a raw Quart request would reach `FlaskRequest` and touch `flask.g` (a 500: "Working
outside of application context"). Once the SDK accepts "quart", this shim is the part to delete.
"""

from __future__ import annotations

from typing import Any

import supertokens_python.utils
from supertokens_python.framework.types import Framework

from quart_supertokens.framework.request import QuartRequest


class QuartFramework(Framework):
    """Registry entry the SDK falls back to when it is given an unwrapped request."""

    def wrap_request(self, unwrapped: Any) -> QuartRequest:
        if isinstance(unwrapped, QuartRequest):
            return unwrapped
        return QuartRequest(unwrapped)


def install_framework_shim() -> None:
    """Make the SDK's "flask" registry entry wrap Quart requests (idempotent)."""
    if not isinstance(supertokens_python.utils.FRAMEWORKS.get("flask"), QuartFramework):
        supertokens_python.utils.FRAMEWORKS["flask"] = QuartFramework()
