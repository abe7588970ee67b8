"""The hot ingest routes (open pixel, Twilio callbacks) served without starlette's middleware stack.

Every request through ``Starlette`` passes ``ServerErrorMiddleware``, ``ExceptionMiddleware`` (a
``Request`` per request), the router (one regex per route tried) and our security-header layer,
each with a wrapped ``send``: measured with ``signalgate bench`` + py-spy, that stack cost the
pixel more CPU than its own work. :class:`HotRoutes` sits in front of the app and hands a request
that one of its routes matches fully (same ``Route.matches`` as the router, so the same path
parameters, and a wrong method still goes to starlette for its 405) straight to the route's ASGI
app. What the stack would have done stays:

- ``scope["app"]``, ``scope["router"]`` and the path parameters are set as the router sets them;
- an exception is rendered as the app would: a handler registered for its class (``ApiError``,
  ``HTTPException``, Redis errors) answers, anything else gets the app's 500 handler and is
  raised again for the server to log (``ServerErrorMiddleware``'s contract);
- error responses get the security headers (:class:`~gateway.edge.headers.SecurityHeaders`); the
  endpoints' own responses already carry them (:data:`~gateway.edge.headers.API_HEADERS`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.edge.headers import SecurityHeaders

Handler = Callable[[Request, Exception], Awaitable[Response]]


def _prefix(route: Route) -> str:
    """The literal start of the route's path (before its first parameter)."""
    return route.path.split("{", 1)[0]


class HotRoutes:
    """Pure ASGI: ``routes`` served directly, everything else by ``app`` (the secured starlette app)."""

    def __init__(self, app: ASGIApp, starlette: Starlette, routes: Sequence[Route]) -> None:
        self.app = app
        self.starlette = starlette
        self.routes = [(_prefix(r), r) for r in routes]
        self.prefixes = tuple({p for p, _ in self.routes})
        handlers: Mapping[Any, Handler] = starlette.exception_handlers
        self.handlers = {k: v for k, v in handlers.items() if k not in (500, Exception)}
        self.server_error: Handler | None = handlers.get(Exception) or handlers.get(500)
        self.secure = SecurityHeaders(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path") and scope["path"].startswith(self.prefixes):
            path = scope["path"]
            for prefix, route in self.routes:
                if path.startswith(prefix):
                    match, child = route.matches(scope)
                    if match is Match.FULL:
                        scope["app"] = self.starlette
                        scope["router"] = self.starlette.router
                        scope.update(child)
                        await self._serve(route.app, scope, receive, send)
                        return
        await self.app(scope, receive, send)

    async def _serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sender(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await app(scope, receive, sender)
        except Exception as exc:
            handler = next((self.handlers[c] for c in type(exc).__mro__ if c in self.handlers), None)
            unhandled = handler is None
            if unhandled:
                handler = self.server_error
            if started or handler is None:
                raise
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, self.secure.sender(scope["path"], send))
            if unhandled:
                raise
            exc.__traceback__ = None  # as starlette: a reused exception would pile up tracebacks
