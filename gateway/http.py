"""The HTTP edge every endpoint shares: typed state, JSON in and out, auth, the body limit.

Endpoints read the process's services from the lifespan state (``request.state["services"]``,
typed by :class:`State`), never from attributes on the app. The management endpoints all start
the same way — :func:`admin_org` (admin token, then every id in the path checked by
:func:`path_id`, then the org named in the path) and
:func:`json_object` (a JSON object body) — and raise :class:`~gateway.domain.errors.ApiError`
subclasses, which the app renders as ``{"error", "detail"}``.
"""

from __future__ import annotations

import hmac
from typing import Any, TypedDict

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.domain.bearer import bearer_token
from gateway.domain.errors import ApiError, BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized
from gateway.domain.tenancy import ORG_ID, RECORD_ID, check_id
from gateway.services import Services
from gateway.store.tenancy import TOKEN_PREFIX


class State(TypedDict):
    """The lifespan state every HTTP endpoint may read."""

    services: Services


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "detail": exc.detail}, status_code=exc.status)


def services(request: Request[State]) -> Services:
    return request.state["services"]


async def read_json(request: Request[State]) -> Any:
    body = await request.body()
    if not body:
        raise BadRequest("request body must be JSON", code="invalid_json")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}", code="invalid_json") from None


async def json_object(request: Request[State], shape: str = "a JSON object") -> dict[str, Any]:
    """The body as a JSON object; anything else is 400 ``invalid_body`` naming the ``shape``."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadRequest(f"body must be {shape}", code="invalid_body")
    return body


def int_param(request: Request[State], name: str, default: int, lo: int, hi: int) -> int:
    """An integer query parameter in [lo, hi], ``default`` when absent, else 400 invalid_parameter."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() also accepts '²' and other digits int() refuses.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18) or not lo <= int(raw) <= hi:
        raise BadRequest(f"'{name}' must be an integer from {lo} to {hi}", code="invalid_parameter")
    return int(raw)


def bearer(request: Request[State]) -> str | None:
    return bearer_token(request.headers.get("authorization"))


def require_admin(request: Request[State]) -> Services:
    """The services, once the request carries the admin token (401 / 403 otherwise)."""
    svc = services(request)
    token = bearer(request)
    if token is None:
        raise Unauthorized("an admin bearer token is required")
    if hmac.compare_digest(token.encode(), svc.admin_token.encode()):
        return svc
    if token.startswith(TOKEN_PREFIX + "."):
        raise Forbidden("user tokens cannot use the management API")
    raise Unauthorized("the admin token is wrong")


def path_id(request: Request[State], name: str) -> str:
    """The path parameter ``name`` once it is a valid id, else 400 ``invalid_id``.

    Org ids are ``[a-z0-9-]{1,40}`` (SPEC); every other id in a path (user, contact, template,
    notification, reminder, token, ...) is a record id. No id reaches the store unchecked."""
    return check_id(name, request.path_params[name], ORG_ID if name == "org" else RECORD_ID)


def check_path_ids(request: Request[State]) -> None:
    """Every path parameter of the request checked by :func:`path_id` (400 on the first bad one)."""
    for name in request.path_params:
        path_id(request, name)


async def admin_org(request: Request[State]) -> tuple[Services, dict[str, Any]]:
    """Admin token checked, then every id in the path (400 ``invalid_id``), then the org named in
    the path (404 ``org_not_found`` if unknown)."""
    svc = require_admin(request)
    check_path_ids(request)
    org_id = path_id(request, "org")
    org = await svc.tenancy.get_org(org_id)
    if org is None:
        raise NotFound(f"org {org_id!r} does not exist", code="org_not_found")
    return svc, org


async def require_user(request: Request[State]) -> tuple[Services, str, str]:
    """The services and (org, user) of the user token the request carries (401 otherwise)."""
    svc = services(request)
    token = bearer(request)
    if token is None:
        raise Unauthorized("a user bearer token is required")
    who = await svc.tenancy.resolve_token(token)
    if who is None:
        raise Unauthorized("the user token is unknown or revoked")
    return svc, who[0], who[1]


class BodyLimit:
    """Pure-ASGI guard: a request body over ``limit`` bytes gets 413 before it is buffered."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

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
