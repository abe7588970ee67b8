"""Unit tests for gateway.edge.hot: hot routes served without starlette's stack, errors as the app renders them."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from gateway.edge.headers import API_HEADERS, SecurityHeaders
from gateway.edge.hot import HotRoutes
from gateway.ingest import tracking, twilio


class Boom(Exception):
    pass


class Hot:
    """A raw ASGI endpoint like the pixel's (starlette's Route calls an object as an ASGI app)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        what = scope["path_params"]["what"]
        if what == "teapot":
            raise HTTPException(418, "short and stout")
        if what == "boom":
            raise Boom("unhandled")
        headers = [(b"x-what", what.encode()), *API_HEADERS]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": "http_error", "detail": exc.detail}, status_code=exc.status_code)


async def server_error(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "internal", "detail": request.url.path}, status_code=500)


class Counting:
    """The layer between HotRoutes and starlette: counts the requests that reached it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await self.app(scope, receive, send)


def make() -> tuple[HotRoutes, Counting]:
    route = Route("/hot/{what}", Hot(), methods=["POST"])
    app = Starlette(routes=[route], exception_handlers={HTTPException: http_error, Exception: server_error})
    inner = Counting(SecurityHeaders(app))
    return HotRoutes(inner, app, [route]), inner


async def call(app: HotRoutes, method: str, path: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    sent: list[Message] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], list(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


async def test_a_hot_route_skips_the_stack_and_anything_else_goes_through_it() -> None:
    app, inner = make()
    status, headers, _ = await call(app, "POST", "/hot/x")
    assert status == 200 and (b"x-what", b"x") in headers
    assert inner.calls == 0  # served without starlette's middleware, router or the header layer
    status, headers, _ = await call(app, "GET", "/hot/x")  # wrong method: starlette's 405
    assert status == 405 and inner.calls == 1
    status, _, _ = await call(app, "POST", "/elsewhere")
    assert status == 404 and inner.calls == 2
    for name, _ in API_HEADERS:
        assert [n for n, _ in headers].count(name) == 1


async def test_errors_render_as_the_app_would_with_security_headers() -> None:
    app, inner = make()
    status, headers, body = await call(app, "POST", "/hot/teapot")
    assert (status, body) == (418, b'{"error":"http_error","detail":"short and stout"}')
    for header in API_HEADERS:
        assert headers.count(header) == 1
    with pytest.raises(Boom):  # answered by the 500 handler, then raised for the server to log
        await call(app, "POST", "/hot/boom")
    assert inner.calls == 0


def test_hot_endpoints_send_the_security_headers_themselves() -> None:
    """The hot routes bypass the header layer, so their constant responses carry the headers."""
    for headers in (
        tracking.PIXEL_HEADERS,
        twilio.EMPTY.headers,
        twilio.REJECT.headers,
        twilio.NO_CONTENT.headers,
    ):
        for header in API_HEADERS:
            assert header in headers
