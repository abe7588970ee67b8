"""Management API (admin token): a contact's activity — mail attached by the IMAP listeners."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.errors import NotFound
from gateway.http import JSONResponse, State, admin_org, int_param, path_id
from gateway.store.activity import MAX_ENTRIES

DEFAULT_LIMIT = 50


def _limit(request: Request[State]) -> int:
    return int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_ENTRIES)


async def get_activity(request: Request[State]) -> Response:
    """``GET /api/v1/orgs/{org}/contacts/{contact}/activity?limit=n`` → newest first."""
    svc, org = await admin_org(request)
    contact_id = path_id(request, "contact")
    if await svc.tenancy.get_contact(org["id"], contact_id) is None:
        raise NotFound("contact does not exist", code="contact_not_found")
    limit = _limit(request)
    activity = svc.activity
    entries = await activity.newest(org["id"], contact_id, limit)
    return JSONResponse(
        {"contact": contact_id, "activity": entries, "total": await activity.count(org["id"], contact_id)}
    )


routes = [Route("/api/v1/orgs/{org}/contacts/{contact}/activity", get_activity, methods=["GET"])]
