"""``/api/v1/me/...``: the signed-in user's profile, feed, read marks and signal settings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import streamid
from gateway.errors import BadRequest, NotFound
from gateway.feed import MAX_PAGE, Feed
from gateway.http import JSONResponse, int_param, read_json, require_user
from gateway.signals import SIGNAL_TYPE_SET
from gateway.store import Store
from gateway.ws import ProtocolError, parse_read


def _feed(request: Request) -> Feed:
    feed: Feed = request.app.state.feed
    return feed


async def me(request: Request) -> Response:
    org, user = await require_user(request)
    store: Store = request.app.state.store
    rec = await store.get_user(org, user)
    if rec is None:
        raise NotFound("user does not exist", code="user_not_found")
    return JSONResponse({"org": org, "user": user, "name": rec.get("name", user), "role": rec.get("role", "member")})


async def list_signals(request: Request) -> Response:
    org, user = await require_user(request)
    after = request.query_params.get("after")
    if after is not None and not streamid.is_valid(after):
        raise BadRequest("'after' must be a signal id like 1732540000000-0", code="invalid_parameter")
    limit = int_param(request, "limit", 50, 1, MAX_PAGE)
    feed = _feed(request)
    # Read the cursor first: anything written after it is replayed to a client resuming from it.
    cursor = await feed.cursor(org, user)
    signals = await feed.signals(org, user, after, limit)
    return JSONResponse({"signals": signals, "unread": await feed.unread_count(org, user), "cursor": cursor})


async def mark_read(request: Request) -> Response:
    org, user = await require_user(request)
    body = await read_json(request)
    if not isinstance(body, dict) or ("ids" not in body and "up_to" not in body):
        raise BadRequest('body must be {"ids": [...]} or {"up_to": "<id>"}', code="invalid_body")
    try:
        ids, up_to = parse_read(body)
    except ProtocolError as exc:
        raise BadRequest(str(exc), code="invalid_body") from None
    return JSONResponse({"unread": await _feed(request).mark_read(org, user, ids, up_to)})


async def get_settings(request: Request) -> Response:
    org, user = await require_user(request)
    return JSONResponse({"types": await _feed(request).settings(org, user)})


async def put_settings(request: Request) -> Response:
    org, user = await require_user(request)
    body = await read_json(request)
    types = body.get("types") if isinstance(body, dict) else None
    if not isinstance(types, dict) or not all(isinstance(v, bool) for v in types.values()):
        raise BadRequest('body must be {"types": {"<type>": true|false}}', code="invalid_body")
    unknown = sorted(set(types) - SIGNAL_TYPE_SET)
    if unknown:
        raise BadRequest(f"unknown signal type(s): {', '.join(unknown)}", code="unknown_type")
    return JSONResponse({"types": await _feed(request).update_settings(org, user, types)})


routes = [
    Route("/api/v1/me", me, methods=["GET"]),
    Route("/api/v1/me/signals", list_signals, methods=["GET"]),
    Route("/api/v1/me/signals/read", mark_read, methods=["POST"]),
    Route("/api/v1/me/settings", get_settings, methods=["GET"]),
    Route("/api/v1/me/settings", put_settings, methods=["PUT"]),
]
