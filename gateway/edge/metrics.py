"""``/metrics`` and how it is protected: ``[gateway] metrics_token`` and/or ``metrics_port``.

With a token, a scrape must send ``Authorization: Bearer <token>`` (compared in constant time);
anything else is 401. With ``metrics_port``, the main listener has no ``/metrics`` at all and a
listener of its own on ``metrics_host:metrics_port`` serves it (e.g. on a private interface only
the Prometheus server can reach); both can be combined.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import orjson
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config import GatewayConfig
from gateway.domain.bearer import bearer_matches
from gateway.edge.limits import edge_protocol

# The metrics listener is for one scraper or two: a small bound keeps it cheap to attack.
_METRICS_MAX_CONNECTIONS = 64


def metrics_response(authorization: str | None, registry: CollectorRegistry, token: str) -> Response:
    if not bearer_matches(authorization, token):
        body = orjson.dumps({"error": "unauthorized", "detail": "/metrics needs the metrics bearer token"})
        return Response(body, status_code=401, media_type="application/json", headers={"www-authenticate": "Bearer"})
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class MetricsApp:
    """The ASGI app of the separate metrics listener: ``GET /metrics``, nothing else."""

    def __init__(self, registry: CollectorRegistry, token: str) -> None:
        self.registry = registry
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request: Request = Request(scope, receive)
        if request.url.path != "/metrics":
            body = orjson.dumps({"error": "not_found", "detail": "this listener serves /metrics only"})
            response = Response(body, status_code=404, media_type="application/json")
        elif request.method not in ("GET", "HEAD"):
            body = orjson.dumps({"error": "method_not_allowed", "detail": "use GET"})
            response = Response(body, status_code=405, media_type="application/json", headers={"allow": "GET, HEAD"})
        else:
            response = metrics_response(request.headers.get("authorization"), self.registry, self.token)
        await response(scope, receive, send)


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server run inside another: the process's signal handlers stay the main server's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_metrics(gw: GatewayConfig, registry: CollectorRegistry, stop: asyncio.Event) -> None:
    """Serve ``/metrics`` on ``metrics_host:metrics_port`` until ``stop`` is set."""
    app: ASGIApp = MetricsApp(registry, gw.metrics_token)
    config = uvicorn.Config(
        app,
        host=gw.metrics_host,
        port=gw.metrics_port,
        http=edge_protocol(header_timeout=gw.header_timeout_seconds, max_connections=_METRICS_MAX_CONNECTIONS),
        ws="none",
        lifespan="off",
        access_log=False,
        server_header=False,
        log_config=None,
        timeout_graceful_shutdown=1,
    )
    server = _EmbeddedServer(config)
    serving = asyncio.create_task(server.serve(), name="metrics-listener")
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        server.should_exit = True
        await serving
