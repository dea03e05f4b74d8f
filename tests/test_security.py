"""Unit tables for `redirectBack` validation and the cross-origin rule."""

from __future__ import annotations

import pytest
from quart import Quart

from quart_supertokens import is_cross_origin, path_from_same_origin_url
from tests.hostile_urls import HOSTILE_CURRENT_URL, HOSTILE_REDIRECT_BACK
from tests.hostile_urls import app_safe_redirect_back as safe_redirect_back


@pytest.mark.parametrize("value", HOSTILE_REDIRECT_BACK)
def test_hostile_redirect_back_becomes_root(value: str) -> None:
    assert safe_redirect_back(value) == "/"


def test_hostile_table_is_large_enough() -> None:
    assert len(HOSTILE_REDIRECT_BACK) >= 30


@pytest.mark.parametrize("value", [None, 42, b"/dashboard", ["/dashboard"]])
def test_non_string_redirect_back_becomes_root(value: object) -> None:
    assert safe_redirect_back(value) == "/"


@pytest.mark.parametrize(
    "value",
    ["/", "/dashboard", "/dashboard/session", "/sessions?page=2&sort=asc", "/a%20b", "/loginhelp"],
)
def test_same_origin_paths_survive(value: str) -> None:
    assert safe_redirect_back(value) == value


@pytest.mark.parametrize("value", HOSTILE_CURRENT_URL)
def test_foreign_current_url_yields_no_path(value: str) -> None:
    assert path_from_same_origin_url(value, "http://localhost:8000") is None


def test_same_origin_current_url_yields_path_and_query() -> None:
    url = "http://localhost:8000/sessions?x=1"
    assert path_from_same_origin_url(url, "http://localhost:8000") == "/sessions?x=1"


async def _cross_origin(
    method: str, headers: dict[str, str], trusted: tuple[str, ...] = ()
) -> bool:
    app = Quart(__name__)
    async with app.test_request_context("/login", method=method, headers=headers):
        from quart import request

        return is_cross_origin(request, trusted)


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        ("POST", {"Origin": "https://evil.example"}, True),
        ("POST", {"Sec-Fetch-Site": "cross-site"}, True),
        ("POST", {"Sec-Fetch-Site": "same-site"}, True),
        ("POST", {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"}, True),
        ("DELETE", {"Origin": "null"}, True),
        ("PUT", {"Origin": "http://localhost.evil.example"}, True),
        ("PATCH", {"Sec-Fetch-Site": "same-origin"}, False),
        ("POST", {"Sec-Fetch-Site": "none"}, False),
        ("POST", {"Origin": "http://localhost"}, False),
        ("POST", {}, False),
        ("GET", {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, False),
    ],
)
async def test_cross_origin_rule(method: str, headers: dict[str, str], expected: bool) -> None:
    assert await _cross_origin(method, headers) is expected


async def test_trusted_origin_passes() -> None:
    headers = {"Origin": "https://app.example.test", "Sec-Fetch-Site": "same-site"}
    assert await _cross_origin("POST", headers, ("https://app.example.test",)) is False
