"""The HTTP edge every endpoint shares: typed state, JSON in and out, auth, the body limit.

Endpoints read the process's services from the lifespan state (``request.state["services"]``,
typed by :class:`State`), never from attributes on the app. The management endpoints all start
the same way — :func:`admin_org` / :func:`org_access` (the operator's token or an org admin's
user token, then every id in the path checked by :func:`path_id`, then the org named in the path) and
:func:`json_object` (a JSON object body) — and raise :class:`~gateway.domain.errors.ApiError`
subclasses, which the app renders as ``{"error", "detail"}``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
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


async def require_admin(request: Request[State]) -> Services:
    """The services, once the request carries the operator's admin token: 401 for no token, a
    wrong one or an unknown or revoked user token (as everywhere), 403 for a valid user token.

    For the operator-only endpoints (``PUT``/``DELETE`` of an org); the rest of an org's
    management API also admits the org's own admins: :func:`org_access`."""
    svc = services(request)
    if _operator(request, svc):
        return svc
    if await svc.tenancy.resolve_token(bearer(request) or "") is None:
        raise Unauthorized("the user token is unknown or revoked")
    raise Forbidden("only the operator's admin token may do this; an org admin's user token may not")


def _operator(request: Request[State], svc: Services) -> bool:
    """True for the operator's admin token; False for a user token; 401 for none or a wrong one."""
    token = bearer(request)
    if token is None:
        raise Unauthorized("an admin bearer token is required")
    if hmac.compare_digest(token.encode(), svc.admin_token.encode()):
        return True
    if token.startswith(TOKEN_PREFIX + "."):
        return False
    raise Unauthorized("the admin token is wrong")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts on a management endpoint: the operator (``user`` None) or an admin user of the org."""

    user: str | None

    @property
    def operator(self) -> bool:
        return self.user is None


OPERATOR = Actor(None)


@dataclass(frozen=True, slots=True)
class OrgAccess:
    services: Services
    org: dict[str, Any]
    actor: Actor


def path_id(request: Request[State], name: str) -> str:
    """The path parameter ``name`` once it is a valid id, else 400 ``invalid_id``.

    Org ids are ``[a-z0-9-]{1,40}`` (SPEC); every other id in a path (user, contact, template,
    notification, reminder, token, ...) is a record id. No id reaches the store unchecked."""
    return check_id(name, request.path_params[name], ORG_ID if name == "org" else RECORD_ID)


# Path parameters that are not record ids (an email address in ``.../suppressions/{address}``).
NOT_IDS = frozenset({"address"})


def check_path_ids(request: Request[State]) -> None:
    """Every path parameter of the request checked by :func:`path_id` (400 on the first bad one),
    except those in :data:`NOT_IDS`, which their endpoint checks itself."""
    for name in request.path_params:
        if name not in NOT_IDS:
            path_id(request, name)


async def org_access(request: Request[State], *, operator_only: bool = False) -> OrgAccess:
    """The one rule of ``/api/v1/orgs/{org}/...`` (SPEC "Org admins"), then the org.

    The operator's admin token may do everything. A user token may act only on its own org and
    only while its user's role is ``admin`` (read from the user record on every request, so a
    demotion or deletion counts at once), never on ``operator_only`` endpoints: else 403. A token
    that is neither is 401. Then every id in the path (400 ``invalid_id``) and the org (404
    ``org_not_found``)."""
    svc = services(request)
    actor = OPERATOR if _operator(request, svc) else await _org_admin(request, svc, operator_only)
    check_path_ids(request)
    org_id = path_id(request, "org")
    org = await svc.tenancy.get_org(org_id)
    if org is None:
        raise NotFound(f"org {org_id!r} does not exist", code="org_not_found")
    return OrgAccess(svc, org, actor)


async def _org_admin(request: Request[State], svc: Services, operator_only: bool) -> Actor:
    """The admin user a user token belongs to, when it may act on the org in the path (else 401/403)."""
    who = await svc.tenancy.resolve_token(bearer(request) or "")
    if who is None:
        raise Unauthorized("the user token is unknown or revoked")
    if operator_only:
        raise Forbidden("only the operator's admin token may do this; an org admin's user token may not")
    if request.path_params.get("org") != who.org:
        raise Forbidden("a user token acts only on its own org")
    rec = await svc.tenancy.get_user(who.org, who.user)
    if rec is None or rec.get("role") != "admin":
        raise Forbidden("only admins of the org may use its management API; this user is a member")
    return Actor(who.user)


async def admin_org(request: Request[State], *, operator_only: bool = False) -> tuple[Services, dict[str, Any]]:
    """:func:`org_access` for the endpoints that do not care who acts: (services, org)."""
    access = await org_access(request, operator_only=operator_only)
    return access.services, access.org


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

    def __init__(self, app: ASGIApp, limit: int, *, large: tuple[str, int] | None = None) -> None:
        """``large``: (path suffix, limit) of the one kind of request allowed a larger body."""
        self.app = app
        self.limit = limit
        self.large = large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        if self.large is not None and scope.get("path", "").endswith(self.large[0]):
            limit = self.large[1]
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await error_response(self._too_large(limit))(scope, receive, send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Raised inside the endpoint's body read; the ApiError handler renders it.
                    raise self._too_large(limit)
            return message

        await self.app(scope, limited_receive, send)

    @staticmethod
    def _too_large(limit: int) -> PayloadTooLarge:
        return PayloadTooLarge(f"request body is larger than {limit} bytes")
