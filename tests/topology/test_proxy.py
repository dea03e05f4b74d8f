"""The proxy's own rules, over real TLS: http goes to https, only our names get a site, the API
host serves the API only, and the app sees the browser's scheme and host (TRUST_PROXY_HEADERS=1).
"""

from __future__ import annotations

import httpx
import pytest

from tests.topology.clients import site_client, ssl_context
from tests.topology.stack import API, API_HOST, WWW, WWW_HOST, Topology

pytestmark = pytest.mark.topology


def test_plain_http_is_sent_to_https(topology: Topology) -> None:
    for host in (WWW_HOST, API_HOST):
        answer = httpx.get(
            f"http://127.0.0.1:{topology.http_port}/dashboard?x=1",
            headers={"Host": host},
            timeout=10,
        )
        assert answer.status_code == 301
        assert answer.headers["Location"] == f"https://{host}/dashboard?x=1"


def test_an_unknown_host_name_gets_no_site(topology: Topology) -> None:
    with httpx.Client(verify=ssl_context(topology), timeout=10) as client:
        answer = client.get(
            f"https://127.0.0.1:{topology.proxy_port}/dashboard",
            headers={"Host": "evil.example"},
            extensions={"sni_hostname": WWW_HOST},
        )
    assert answer.status_code == 421


@pytest.mark.asyncio(loop_scope="session")
async def test_the_api_host_serves_the_sdk_api_only_and_www_its_pages(topology: Topology) -> None:
    async with site_client(topology) as client:
        assert (await client.get(f"{API}/dashboard")).status_code == 404
        assert (await client.get(f"{API}/auth/user/email/verify")).status_code == 401
        login = await client.get(f"{WWW}/login")
        assert login.status_code == 200
        assert login.headers["strict-transport-security"].startswith("max-age=")
        assert "nginx/" not in login.headers.get("server", "")
        # The page process has no SDK API of its own.
        assert (await client.post(f"{WWW}/auth/signout")).status_code == 404


@pytest.mark.asyncio(loop_scope="session")
async def test_redirects_from_the_app_are_https_urls_or_paths_on_www(topology: Topology) -> None:
    async with site_client(topology) as client:
        answer = await client.get(
            f"{WWW}/dashboard/session",
            headers={"HX-Request": "true", "HX-Current-URL": f"{WWW}/dashboard?tab=1"},
        )
    # No session: the fragment gets HX-Redirect to sign-in, returning to the https page it is on.
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"].startswith("/login?redirectBack=")
    assert "%2Fdashboard%3Ftab%3D1" in answer.headers["HX-Redirect"]
