"""``/api/v1/me/...``: the signed-in user's profile, feed (listing, state, counts, a group's
events) and signal settings."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain import streamid
from gateway.domain.errors import BadRequest, NotFound
from gateway.domain.feed_view import OPS, BadFeedRequest, parse_filters, parse_page, parse_until
from gateway.domain.signals import SIGNAL_TYPE_SET, BadReadRequest, read_request
from gateway.http import JSONResponse, State, int_param, read_json, require_user
from gateway.services import Services
from gateway.store.feed import MAX_EVENTS, MAX_PAGE, SnoozeInPast


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
    limit = int_param(request, "limit", 50, 1, MAX_PAGE)
    try:
        page = parse_page(request.query_params, limit)
        filters = parse_filters(request.query_params)
    except BadFeedRequest as exc:
        raise BadRequest(str(exc), code=exc.code) from None
    feed = svc.feed
    # Read the cursor first: anything written after it is replayed to a client resuming from it.
    cursor = await feed.cursor(org, user)
    signals = await feed.signals(org, user, page, filters)
    return JSONResponse({"signals": signals, "unread": await feed.unread_count(org, user), "cursor": cursor})


async def signal_counts(request: Request[State]) -> Response:
    svc, org, user = await require_user(request)
    by_type = await svc.feed.counts(org, user)
    return JSONResponse({"unread": await svc.feed.unread_count(org, user), "by_type": by_type})


async def signal_events(request: Request[State]) -> Response:
    svc, org, user = await require_user(request)
    sid = request.path_params["id"]
    limit = int_param(request, "limit", 50, 1, MAX_EVENTS)
    found = None if not streamid.is_valid(sid) else await svc.feed.events(org, user, sid, limit)
    if found is None:
        raise NotFound("no such signal in your feed", code="signal_not_found")
    events, count = found
    return JSONResponse({"events": events, "count": count})


def _state_route(op: str) -> Callable[[Request[State]], Awaitable[Response]]:
    async def change_state(request: Request[State]) -> Response:
        svc, org, user = await require_user(request)
        body = await read_json(request)
        if not isinstance(body, dict) or ("ids" not in body and "up_to" not in body):
            raise BadRequest('body must be {"ids": [...]} or {"up_to": "<id>"}', code="invalid_body")
        try:
            ids, up_to = read_request(body)
        except BadReadRequest as exc:
            raise BadRequest(str(exc), code="invalid_body") from None
        until: int | None = None
        if op == "snooze":
            if "until" not in body:
                raise BadRequest("'until' is required: an ISO 8601 time with an offset, or null", code="invalid_until")
            try:
                until = parse_until(body["until"], int(time.time() * 1000))
            except BadFeedRequest as exc:
                raise BadRequest(str(exc), code=exc.code) from None
        try:
            result = await svc.feed.change(org, user, op, ids, up_to, until)
        except SnoozeInPast:
            raise BadRequest("'until' must be in the future", code="invalid_until") from None
        return JSONResponse({"unread": result.unread, "unknown": result.unknown})

    change_state.__name__ = f"mark_{op}" if op in ("read", "unread") else f"{op}_signals"
    return change_state


async def _reminders_on(svc: Services, org: str, user: str) -> bool:
    rec = await svc.tenancy.get_user(org, user)
    return bool((rec or {}).get("reminders", True))


async def get_settings(request: Request[State]) -> Response:
    svc, org, user = await require_user(request)
    return JSONResponse({"types": await svc.feed.settings(org, user), "reminders": await _reminders_on(svc, org, user)})


async def put_settings(request: Request[State]) -> Response:
    """``{"types": {...}}`` and/or ``{"reminders": bool}`` (the user's own opt-out of SMS reminders)."""
    svc, org, user = await require_user(request)
    body = await read_json(request)
    shape = 'body must be {"types": {"<type>": true|false}} and/or {"reminders": true|false}'
    if not isinstance(body, dict) or not ({"types", "reminders"} & set(body)) or set(body) - {"types", "reminders"}:
        raise BadRequest(shape, code="invalid_body")
    types = body.get("types", {})
    if not isinstance(types, dict) or not all(isinstance(v, bool) for v in types.values()):
        raise BadRequest(shape, code="invalid_body")
    if "reminders" in body and not isinstance(body["reminders"], bool):
        raise BadRequest(shape, code="invalid_body")
    unknown = sorted(set(types) - SIGNAL_TYPE_SET)
    if unknown:
        raise BadRequest(f"unknown signal type(s): {', '.join(unknown)}", code="unknown_type")
    if "reminders" in body:
        rec = await svc.tenancy.get_user(org, user)
        if rec is not None and rec.get("reminders", True) != body["reminders"]:
            await svc.tenancy.put_user(org, dict(rec, reminders=body["reminders"]))
    settings = await svc.feed.update_settings(org, user, types)
    return JSONResponse({"types": settings, "reminders": await _reminders_on(svc, org, user)})


routes = [
    Route("/api/v1/me", me, methods=["GET"]),
    Route("/api/v1/me/signals", list_signals, methods=["GET"]),
    Route("/api/v1/me/signals/counts", signal_counts, methods=["GET"]),
    Route("/api/v1/me/signals/{id}/events", signal_events, methods=["GET"]),
    *(Route(f"/api/v1/me/signals/{op}", _state_route(op), methods=["POST"]) for op in OPS),
    Route("/api/v1/me/settings", get_settings, methods=["GET"]),
    Route("/api/v1/me/settings", put_settings, methods=["PUT"]),
]
