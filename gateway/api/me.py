"""``/api/v1/me/...``: the signed-in user's profile, feed, read marks and signal settings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain import streamid
from gateway.domain.errors import BadRequest, NotFound
from gateway.domain.signals import SIGNAL_TYPE_SET, BadReadRequest, read_request
from gateway.http import JSONResponse, State, int_param, read_json, require_user
from gateway.store.feed import MAX_PAGE


async def me(request: Request[State]) -> Response:
    svc, org, user = await require_user(request)
    rec = await svc.tenancy.get_user(org, user)
    if rec is None:
        raise NotFound("user does not exist", code="user_not_found")
    # The org's zone and country, so the page shows times and numbers as the org reads them.
    org_rec = await svc.tenancy.cached_org(org) or {}
    return JSONResponse(
        {
            "org": org,
            "user": user,
            "name": rec.get("name", user),
            "role": rec.get("role", "member"),
            "org_name": org_rec.get("name", org),
            "timezone": org_rec.get("timezone", "UTC"),
            "country": org_rec.get("country", "US"),
        }
    )


async def list_signals(request: Request[State]) -> Response:
    svc, org, user = await require_user(request)
    after = request.query_params.get("after")
    if after is not None and not streamid.is_valid(after):
        raise BadRequest("'after' must be a signal id like 1732540000000-0", code="invalid_parameter")
    limit = int_param(request, "limit", 50, 1, MAX_PAGE)
    feed = svc.feed
    # Read the cursor first: anything written after it is replayed to a client resuming from it.
    cursor = await feed.cursor(org, user)
    signals = await feed.signals(org, user, after, limit)
    return JSONResponse({"signals": signals, "unread": await feed.unread_count(org, user), "cursor": cursor})


async def mark_read(request: Request[State]) -> Response:
    svc, org, user = await require_user(request)
    body = await read_json(request)
    if not isinstance(body, dict) or ("ids" not in body and "up_to" not in body):
        raise BadRequest('body must be {"ids": [...]} or {"up_to": "<id>"}', code="invalid_body")
    try:
        ids, up_to = read_request(body)
    except BadReadRequest as exc:
        raise BadRequest(str(exc), code="invalid_body") from None
    return JSONResponse({"unread": await svc.feed.mark_read(org, user, ids, up_to)})


async def get_settings(request: Request[State]) -> Response:
    svc, org, user = await require_user(request)
    return JSONResponse({"types": await svc.feed.settings(org, user)})


async def put_settings(request: Request[State]) -> Response:
    svc, org, user = await require_user(request)
    body = await read_json(request)
    types = body.get("types") if isinstance(body, dict) else None
    if not isinstance(types, dict) or not all(isinstance(v, bool) for v in types.values()):
        raise BadRequest('body must be {"types": {"<type>": true|false}}', code="invalid_body")
    unknown = sorted(set(types) - SIGNAL_TYPE_SET)
    if unknown:
        raise BadRequest(f"unknown signal type(s): {', '.join(unknown)}", code="unknown_type")
    return JSONResponse({"types": await svc.feed.update_settings(org, user, types)})


routes = [
    Route("/api/v1/me", me, methods=["GET"]),
    Route("/api/v1/me/signals", list_signals, methods=["GET"]),
    Route("/api/v1/me/signals/read", mark_read, methods=["POST"]),
    Route("/api/v1/me/settings", get_settings, methods=["GET"]),
    Route("/api/v1/me/settings", put_settings, methods=["PUT"]),
]
