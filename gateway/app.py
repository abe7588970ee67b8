"""Composition root of the gateway process: builds every part once and wires the routes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from gateway.api import (
    account,
    actions,
    activity,
    calls,
    contacts,
    groups,
    mailboxes,
    me,
    me_calls,
    notifications,
    numbers,
    orgs,
    segments,
    suppressions,
    template_dlt,
    templates,
)
from gateway.api import call_flows as call_flows_api
from gateway.api.openapi import openapi_document
from gateway.config import Config
from gateway.domain.errors import ApiError
from gateway.domain.supervision import OK
from gateway.edge.access_log import AccessLog
from gateway.edge.headers import SecurityHeaders
from gateway.edge.hot import HotRoutes
from gateway.edge.metrics import metrics_response, serve_metrics
from gateway.http import BodyLimit, JSONResponse, State, error_response, services
from gateway.ingest import call_flows as call_flow_hooks
from gateway.ingest import tracking, twilio, twilio_outbound, unsubscribe, webhooks
from gateway.live.endpoint import LiveShortcut, LiveState, websocket_endpoint
from gateway.live.gcpace import CollectPacer
from gateway.live.hub import Hub
from gateway.live.protocol import CloseCode
from gateway.metrics import Metrics
from gateway.routing.router import Router
from gateway.services import open_services
from gateway.store.errors import CLUSTER_UNAVAILABLE
from gateway.store.jobs import run_worker
from gateway.supervision.health import Health
from gateway.supervision.supervisor import Supervisor
from workers.settings import make_worker
from workers.stats import WorkerStats

log = logging.getLogger("signalgate.app")
WEB_DIR = Path(__file__).resolve().parent.parent / "web"


class WebFiles(StaticFiles):
    """The page's files under /web. A checkout's web/ also holds the node unit tests (tests/) and
    the package.json that makes node load them as ES modules; those are not part of the page, and
    an installed copy has neither (pyproject excludes them), so they answer 404 here too."""

    DEV_ONLY = frozenset({"tests", "package.json"})

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if path.split(os.sep, 1)[0] in self.DEV_ONLY:
            return "", None
        return super().lookup_path(path)


async def metrics_endpoint(request: Request[State]) -> Response:
    svc = services(request)
    return metrics_response(
        request.headers.get("authorization"), svc.metrics.registry, svc.config.gateway.metrics_token
    )


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(request.app.routes))


async def index(request: Request) -> Response:
    return FileResponse(WEB_DIR / "index.html", headers={"cache-control": "no-cache"})


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)  # noqa: S101 - registered for ApiError only
    return error_response(exc)


def allowed_methods(request: Request) -> str | None:
    """Every method the request's path serves: starlette's 405 names only the first matching route's."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods)) or None


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
    return JSONResponse({"error": code, "detail": str(exc.detail)}, status_code=exc.status_code, headers=headers)


async def redis_down(request: Request, exc: Exception) -> Response:
    log.warning("redis unavailable on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse({"error": "unavailable", "detail": "Redis is unavailable; retry later"}, status_code=503)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal", "detail": "the server failed to handle this request"}, status_code=500)


async def _stop_parts(tasks: list[asyncio.Task[None]], grace: float) -> None:
    """Wait for the supervised parts to end after ``stop``; cancel the late ones, log what failed."""
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        log.warning("%s did not stop within %.0f s; cancelling it", task.get_name(), grace)
        task.cancel()
    await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed while stopping", task.get_name(), exc_info=task.exception())


class GatewayApp(BodyLimit):
    """The ASGI app of a gateway process; ``hub`` is this node's hub while the lifespan runs."""

    hub: Hub | None = None


def create_app(
    config: Config,
    redis_url: str,
    *,
    metrics: Metrics | None = None,
    with_router: bool = False,
    with_worker: bool = False,
    health: Health | None = None,
) -> GatewayApp:
    """The ASGI app. ``redis_url`` is the resolved URL (embedded Redis already started).

    ``health``: the process's part states (``signalgate up`` adds its IMAP listeners there); the
    app adds ``http``, ``hub`` and, when it runs them, ``router`` and ``worker``, each supervised.
    """
    metrics = metrics or Metrics()
    health = health or Health(metrics)
    supervisor = Supervisor(health, metrics)
    worker_stats = WorkerStats.on(metrics.registry) if with_worker else None

    async def healthz(request: Request[State]) -> Response:
        status, body = await health.report(services(request).redis.ping)
        return JSONResponse(body, status_code=status)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[LiveState]:
        async with open_services(
            config, redis_url, max_connections=512, metrics=metrics, health_check_interval=30
        ) as svc:
            # The full collection a burst of connections calls for runs at a quiet moment (gateway.live.gcpace).
            hub = Hub(
                svc.live,
                config.gateway.ws_queue_size,
                svc.metrics,
                CollectPacer(gc.collect, asyncio.get_running_loop().time),
            )
            stop = asyncio.Event()
            # Everything built so far lives as long as the process: keep it out of GC scans, and collect
            # the young generation less often (measured +8 % ingest req/s with `signalgate bench`).
            gc.freeze()
            gc.set_threshold(20_000, 10, 10)
            tasks = [asyncio.create_task(supervisor.run("hub", hub.run, stop), name="hub")]
            if with_router:
                router = Router(svc, config.router, supervisor=supervisor)
                tasks.append(asyncio.create_task(supervisor.run("router", router.run, stop), name="router"))
            if with_worker:

                async def work(stop: asyncio.Event) -> None:  # a new arq Worker for every (re)start
                    worker = make_worker(config, redis_url, handle_signals=False, metrics=metrics, stats=worker_stats)
                    await run_worker(worker, stop)

                tasks.append(asyncio.create_task(supervisor.run("worker", work, stop), name="worker"))
            if config.gateway.metrics_port:

                async def metrics_listener(stop: asyncio.Event) -> None:
                    await serve_metrics(config.gateway, svc.metrics.registry, stop)

                tasks.append(asyncio.create_task(supervisor.run("metrics", metrics_listener, stop), name="metrics"))
            gateway.hub = hub
            health.set("http", OK)
            try:
                yield {"services": svc, "hub": hub}
            finally:
                health.set("http", "stopped")
                gateway.hub = None
                stop.set()
                hub.close_all(CloseCode.GOING_AWAY)
                await _stop_parts(tasks, grace=8)

    # Starlette tries routes in order, one regex match each: the high-volume paths go first. Behind
    # ~45 API routes, matching alone cost every tracking hit ~25 µs of CPU (`signalgate bench`).
    # No two patterns overlap, so the order changes nothing else.
    routes = [
        *tracking.routes,
        *twilio.routes,
        *twilio_outbound.routes,
        *call_flow_hooks.routes,
        *webhooks.routes,
        WebSocketRoute("/ws", websocket_endpoint),
        Route("/", index, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        # With [gateway] metrics_port, /metrics is served only by its own listener.
        *([] if config.gateway.metrics_port else [Route("/metrics", metrics_endpoint, methods=["GET"])]),
        Route("/openapi.json", openapi, methods=["GET"]),
        *orgs.routes,
        *me.routes,
        *actions.routes,
        *notifications.routes,
        *templates.routes,
        *template_dlt.routes,
        *account.routes,
        *activity.routes,
        *contacts.routes,
        *segments.routes,
        *suppressions.routes,
        *unsubscribe.routes,
        *numbers.routes,
        *groups.routes,
        *calls.routes,
        *me_calls.routes,
        *call_flows_api.routes,
        *mailboxes.routes,
        Mount("/web", WebFiles(directory=WEB_DIR, check_dir=False), name="web"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ApiError: api_error,
            HTTPException: http_error,
            RedisConnectionError: redis_down,
            RedisTimeoutError: redis_down,
            **dict.fromkeys(CLUSTER_UNAVAILABLE, redis_down),  # a Redis Cluster failing over: 503 too
            Exception: server_error,
        },
    )
    # /ws skips the HTTP-only layers (memory per socket); the pixel and Twilio callbacks skip
    # starlette's middleware stack (their responses carry the security headers themselves).
    edge: ASGIApp = LiveShortcut(HotRoutes(SecurityHeaders(app), app, [*tracking.hot_routes, *twilio.routes]))
    if config.gateway.access_log:
        edge = AccessLog(edge)
    # A bulk contact import may be larger than any other request body.
    gateway = GatewayApp(
        edge, config.gateway.max_body_bytes, large=("/contacts:import", config.gateway.import_max_bytes)
    )
    return gateway
