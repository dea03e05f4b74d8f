"""httpx clients that reach www/api.example.test through the proxy's loopback port, over TLS.

The request keeps its URL (so httpx's cookie jar applies Domain and Path rules for the real host
names) while the connection goes to 127.0.0.1:<proxy port>, with the host name as TLS SNI and
the certificate checked against the test CA.
"""

from __future__ import annotations

import ssl

import httpx

from tests.topology.stack import Topology

SITE_SUFFIX = ".example.test"


def ssl_context(topology: Topology) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(topology.ca_file))


class ProxyTransport(httpx.AsyncHTTPTransport):
    """Sends *.example.test requests to the proxy, keeping the Host header and using SNI."""

    def __init__(self, topology: Topology) -> None:
        super().__init__(verify=ssl_context(topology))
        self.port = topology.proxy_port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host.endswith(SITE_SUFFIX):
            request = httpx.Request(
                request.method,
                request.url.copy_with(host="127.0.0.1", port=self.port),
                headers=request.headers,
                stream=request.stream,
                extensions={**request.extensions, "sni_hostname": host},
            )
        return await super().handle_async_request(request)


def site_client(topology: Topology, **options: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=ProxyTransport(topology), timeout=30, **options)  # type: ignore[arg-type]
