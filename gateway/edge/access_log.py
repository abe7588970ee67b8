"""``[gateway] access_log``: one info line per request on the ``signalgate.access`` logger.

``GET /api/v1/me/signals 200 3.1ms`` — method, path, status, duration. The query string is never
logged (it may carry tokens), and the signed token of a tracking link (``/t/o/…``, ``/t/c/…``) is
cut from its path. A WebSocket is one line when it ends (``WS /ws 101 …`` if it was accepted,
``403`` if it was refused), its duration the connection's lifetime.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("signalgate.access")
_SECRET_TAILS = ("/t/o/", "/t/c/", "/u/")


def loggable_path(path: str) -> str:
    """``path`` without the parts that act as credentials."""
    for prefix in _SECRET_TAILS:
        if path.startswith(prefix):
            return prefix + "…"
    return path


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def recording_send(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status = int(message["status"])
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.close" and status == 0:
                status = 403  # closed before the handshake completed: uvicorn answers 403
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            method = "WS" if scope["type"] == "websocket" else scope["method"]
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.1fms", method, loggable_path(scope["path"]), status or 500, elapsed_ms)
