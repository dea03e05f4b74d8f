"""Rendering for this app: a page, or only its fragment when htmx asked for one; redirects.

A page and its fragment come from one template (a named block, rendered by jinja2-fragments), so
they cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from jinja2_fragments.quart import render_block
from quart import Response, render_template, request

from quart_supertokens import HtmxDetails, auth_redirect


async def render(
    template: str, fragment: str | None = None, status: int = 200, **context: Any
) -> Response:
    """Render `template`, or only its block `fragment` when htmx asked for a fragment swap.

    Responses that differ by `HX-Request` say so in `Vary`.
    """
    if fragment is not None and HtmxDetails(request).wants_fragment:
        body = await render_block(template, fragment, **context)
    else:
        body = await render_template(template, **context)
    response = Response(body, status=status, content_type="text/html; charset=utf-8")
    if fragment is not None:
        response.vary.add("HX-Request")
    return response


def redirect_to(location: str) -> Response:
    """A 303 for a page load; `HX-Redirect` (200) for an htmx XHR, never a 3xx."""
    return auth_redirect(location, htmx_status=200)
