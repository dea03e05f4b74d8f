"""The supertokens-python adapter for Quart, under the SDK's own file names.

`request.QuartRequest` (the SDK's `BaseRequest`), `response.QuartResponse` (`BaseResponse`),
`framework.QuartFramework` (the registry entry) and `middleware.Middleware` (the hooks), laid out
as `supertokens_python/framework/flask/` is, so that an upstream "quart" framework is a move.
"""

from __future__ import annotations

from quart_supertokens.framework.framework import QuartFramework
from quart_supertokens.framework.middleware import Middleware
from quart_supertokens.framework.request import QuartRequest
from quart_supertokens.framework.response import QuartResponse

__all__ = ["Middleware", "QuartFramework", "QuartRequest", "QuartResponse"]
