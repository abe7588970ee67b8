"""Suppression list API: ``GET /api/v1/orgs/{org}/suppressions`` (paged), ``DELETE .../{address}``.

The address in the path is URL-decoded by the router and must be one email address (400
``invalid_email`` otherwise); it is compared lower-case, and only ever a hash field in Redis.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.api.segments import PAGE, PAGE_MAX, cursor_param
from gateway.domain.addresses import InvalidAddress, email_address
from gateway.domain.errors import BadRequest, NotFound
from gateway.http import JSONResponse, State, admin_org, int_param


def address_param(request: Request[State]) -> str:
    raw = str(request.path_params["address"]).strip()
    try:
        return email_address(raw).lower()
    except InvalidAddress as exc:
        raise BadRequest(f"{raw[:80]!r} is not an email address: {exc}", code="invalid_email") from None


async def list_suppressions(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    limit = int_param(request, "limit", PAGE, 1, PAGE_MAX)
    page, cursor = await svc.suppressions.page(org["id"], cursor_param(request), limit)
    return JSONResponse({"suppressions": page, "cursor": cursor})


async def delete_suppression(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    if not await svc.suppressions.remove(org["id"], address_param(request)):
        raise NotFound("the address is not suppressed", code="suppression_not_found")
    return Response(status_code=204)


routes = [
    Route("/api/v1/orgs/{org}/suppressions", list_suppressions, methods=["GET"]),
    Route("/api/v1/orgs/{org}/suppressions/{address}", delete_suppression, methods=["DELETE"]),
]
