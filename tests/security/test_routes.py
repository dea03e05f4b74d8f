"""Every route, from `app.url_map`: none renders without a session unless it is on the public
allow-list, and no unsafe request a browser marks cross-origin gets past the 403."""

from __future__ import annotations

import pytest
from quart import Quart

from tests.security.conftest import (
    ACCESS,
    PASSWORD,
    REFRESH,
    raw_request,
    set_cookies,
    sign_up,
)
from tests.security.routes import (
    PUBLIC_ENDPOINTS,
    SDK_API_PATHS,
    UNSAFE_METHODS,
    app_routes,
)

CROSS_ORIGIN_HEADERS = (
    {"Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.localhost"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"},
)

NO_SESSION_COOKIES = (
    {},
    {ACCESS: "not-a-token"},
    {REFRESH: "not-a-token"},
    {ACCESS: "a.b.c", REFRESH: "x", "refreshed": "1|/dashboard"},
)


def test_allow_list_names_only_real_endpoints(app: Quart) -> None:
    """A renamed public view must not silently drop off (or stay on) the allow-list."""
    endpoints = {route.endpoint for route in app_routes(app)}
    stale = PUBLIC_ENDPOINTS - endpoints
    # Views another change has not landed yet are tolerated only under the account blueprint.
    assert {e for e in stale if not e.startswith("account.")} == set()


async def test_no_protected_route_renders_without_a_session(app: Quart) -> None:
    checked = []
    for route in app_routes(app):
        if route.public:
            continue
        for method in sorted(route.methods):
            for cookies in NO_SESSION_COOKIES:
                for headers in (
                    {},
                    {"HX-Request": "true"},
                    {"HX-Request": "true", "HX-Boosted": "true"},
                ):
                    response = await raw_request(
                        app,
                        method,
                        route.path,
                        cookies,
                        headers,
                        form={"x": "1"} if method != "GET" else None,
                    )
                    status = response.status_code
                    where = (route.endpoint, method, cookies, headers, status)
                    assert status in (303, 401, 403, 404, 405), where
                    if status in (303, 401):
                        location = response.headers.get("Location") or response.headers.get(
                            "HX-Redirect", ""
                        )
                        assert location.startswith(("/login", "/auth/session/refresh")), where
                    if headers.get("HX-Request") and not headers.get("HX-Boosted"):
                        assert not 300 <= status < 400, where  # never a 3xx to an htmx XHR
            checked.append((route.endpoint, method))
    assert checked, "no protected routes found: the inventory is broken"
    assert ("pages.dashboard", "GET") in checked


async def test_public_routes_answer_without_a_session(app: Quart) -> None:
    for route in app_routes(app):
        if not route.public:
            continue
        for method in sorted(route.methods):
            if method != "GET":
                continue
            for cookies in NO_SESSION_COOKIES:
                response = await raw_request(app, method, route.path, cookies)
                assert response.status_code < 500, (route.endpoint, cookies)


def _unsafe_targets(app: Quart) -> list[str]:
    paths = {route.path for route in app_routes(app)}
    return sorted(paths | set(SDK_API_PATHS) | {"/no-such-page"})


async def test_cross_origin_unsafe_requests_are_refused_everywhere(app: Quart) -> None:
    user = await sign_up(app)
    cookies = {ACCESS: user.access, REFRESH: user.refresh}
    count = 0
    for path in _unsafe_targets(app):
        for method in UNSAFE_METHODS:
            for headers in CROSS_ORIGIN_HEADERS:
                response = await raw_request(
                    app,
                    method,
                    path,
                    cookies,
                    headers,
                    form={"email": user.email, "password": PASSWORD},
                )
                assert response.status_code == 403, (path, method, headers)
                assert not set_cookies(response), (path, method, headers)
                count += 1
    assert count >= 4 * len(CROSS_ORIGIN_HEADERS) * 10
    # Nothing happened: the session survives every refused sign-out.
    page = await raw_request(app, "GET", "/dashboard", {ACCESS: user.access})
    assert page.status_code == 200


@pytest.mark.parametrize("headers", CROSS_ORIGIN_HEADERS)
async def test_login_csrf_is_refused(app: Quart, headers: dict[str, str]) -> None:
    """A cross-site form cannot sign the victim's browser in to the attacker's account."""
    attacker = await sign_up(app)
    for path, body in (
        ("/login", {"data": f"email={attacker.email}&password={PASSWORD}"}),
        (
            "/auth/signin",
            {
                "json": {
                    "formFields": [
                        {"id": "email", "value": attacker.email},
                        {"id": "password", "value": PASSWORD},
                    ]
                }
            },
        ),
    ):
        extra = {"Content-Type": "application/x-www-form-urlencoded"} if "data" in body else {}
        response = await raw_request(app, "POST", path, None, {**headers, **extra}, **body)
        assert response.status_code == 403, path
        assert not set_cookies(response)


async def test_same_origin_unsafe_requests_pass(app: Quart) -> None:
    """Control: the same requests from the site itself are not refused."""
    user = await sign_up(app)
    for headers in (
        {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "http://localhost:8000"},  # the configured WEBSITE_DOMAIN
        {},
    ):
        response = await raw_request(
            app, "POST", "/login", None, headers, form={"email": user.email, "password": PASSWORD}
        )
        assert response.status_code == 303, headers
