"""HTTP edge helpers: JSON responses, body parsing with limits, auth, error rendering."""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import ApiError, BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized
from gateway.store import TOKEN_PREFIX, Store


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "detail": exc.detail}, status_code=exc.status)


async def read_json(request: Request) -> Any:
    body = await request.body()
    if not body:
        raise BadRequest("request body must be JSON", code="invalid_json")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}", code="invalid_json") from None


def int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    """An integer query parameter in [lo, hi], ``default`` when absent, else 400 invalid_parameter."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise BadRequest(f"'{name}' must be an integer from {lo} to {hi}", code="invalid_parameter")
    return int(raw)


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_admin(request: Request) -> None:
    token = bearer(request)
    if token is None:
        raise Unauthorized("an admin bearer token is required")
    expected: str = request.app.state.admin_token
    if hmac.compare_digest(token.encode(), expected.encode()):
        return
    if token.startswith(TOKEN_PREFIX + "."):
        raise Forbidden("user tokens cannot use the management API")
    raise Unauthorized("the admin token is wrong")


async def require_user(request: Request) -> tuple[str, str]:
    token = bearer(request)
    if token is None:
        raise Unauthorized("a user bearer token is required")
    store: Store = request.app.state.store
    who = await store.resolve_token(token)
    if who is None:
        raise Unauthorized("the user token is unknown or revoked")
    return who


async def require_org(request: Request) -> dict[str, Any]:
    """The org named in the path (admin routes); 404 if it does not exist."""
    store: Store = request.app.state.store
    org_id = request.path_params["org"]
    org = await store.get_org(org_id)
    if org is None:
        raise NotFound(f"org {org_id!r} does not exist", code="org_not_found")
    return org


class BodyLimit:
    """Pure-ASGI guard: a request body over ``limit`` bytes gets 413 before it is buffered."""

    def __init__(self, app: ASGIApp, limit: int, starlette: Any = None) -> None:
        self.app = app
        self.limit = limit
        self.starlette = starlette  # the wrapped Starlette app, for its state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await error_response(self._too_large())(scope, receive, send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # Raised inside the endpoint's body read; the ApiError handler renders it.
                    raise self._too_large()
            return message

        await self.app(scope, limited_receive, send)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"request body is larger than {self.limit} bytes")
