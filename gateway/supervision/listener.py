"""``GET /healthz`` and ``GET /metrics`` for the process kinds without the HTTP server
(``signalgate router``, ``worker``, ``imap``), on ``[gateway] health_port``.

A deliberately tiny HTTP/1.1 responder (one request per connection, ``Connection: close``): it
serves two read-only paths to probes and Prometheus, so it needs neither uvicorn (which would take
over the process's signal handlers) nor routing. Request heads are bounded in size and time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from gateway.domain.bearer import bearer_matches
from gateway.supervision.health import Health

log = logging.getLogger("signalgate.health")

HEAD_LIMIT_BYTES = 8192  # a probe's request head is a few hundred bytes
HEAD_TIMEOUT_SECONDS = 5.0  # a client that has not sent its head by then is dropped
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


def header_value(head: bytes, name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive) in a request head, if any."""
    wanted = name.lower().encode()
    for line in head.split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == wanted:
            return value.strip().decode("latin-1")
    return None


def request_target(head: bytes) -> tuple[str, str]:
    """(method, path without query) of an HTTP request head; ValueError when it is not one."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    method, target, version = line.split(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not HTTP/1.x: {version!r}")
    return method, target.split("?", 1)[0]


def _error(status: int, code: str, detail: str) -> tuple[int, str, bytes]:
    return status, "application/json", orjson.dumps({"error": code, "detail": detail})


class HealthListener:
    def __init__(
        self,
        host: str,
        port: int,
        health: Health,
        ping: Callable[[], Awaitable[Any]],
        registry: CollectorRegistry,
        metrics_token: str = "",
    ) -> None:
        self._host = host
        self._port = port
        self._health = health
        self._ping = ping
        self._registry = registry
        self._metrics_token = metrics_token

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop``; an OSError (port taken) reaches the supervisor, which retries."""
        server = await asyncio.start_server(self._handle, self._host, self._port, limit=HEAD_LIMIT_BYTES)
        port = server.sockets[0].getsockname()[1]
        log.info("health and metrics on http://%s:%d/healthz and /metrics", self._host, port)
        async with server:
            await stop.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        method = "GET"
        try:
            try:
                async with asyncio.timeout(HEAD_TIMEOUT_SECONDS):
                    head = await reader.readuntil(b"\r\n\r\n")
                method, path = request_target(head)
            except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                status, ctype, body = _error(400, "bad_request", "expected an HTTP/1.x request head")
            else:
                status, ctype, body = await self._answer(method, path, header_value(head, "authorization"))
            allow = "allow: GET, HEAD\r\n" if status == 405 else ""
            head_out = (
                f"HTTP/1.1 {status} {_REASONS[status]}\r\ncontent-type: {ctype}\r\n"
                f"content-length: {len(body)}\r\n{allow}"
                "connection: close\r\n\r\n"
            )
            writer.write(head_out.encode("latin-1") + (b"" if method == "HEAD" else body))
            await writer.drain()
        except ConnectionError:
            pass  # the client went away: nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, method: str, path: str, authorization: str | None) -> tuple[int, str, bytes]:
        if path not in ("/healthz", "/metrics"):
            return _error(404, "not_found", f"{path} is not served here (only /healthz and /metrics)")
        if method not in ("GET", "HEAD"):
            return _error(405, "method_not_allowed", "use GET")
        if path == "/metrics":
            if not bearer_matches(authorization, self._metrics_token):
                return _error(401, "unauthorized", "/metrics needs the metrics bearer token")
            return 200, CONTENT_TYPE_LATEST, generate_latest(self._registry)
        status, report = await self._health.report(self._ping)
        return status, "application/json", orjson.dumps(report)
