"""Segments API (``/api/v1/orgs/{org}/segments``) and segment sends (``to: {segment}``, fan-outs).

A segment send (email ``to: {segment}``, or an SMS notification triggered for a segment, see
:mod:`gateway.api.sms_notifications`) answers 202 at once with the fan-out's id and progress; the
worker job ``segment_fanout`` makes one notification per member, a chunk of contacts per job step
(:mod:`workers.fanout`). ``GET .../fanouts/{id}`` shows ``total`` (members found so far; final
once ``status`` is ``done``), ``enqueued`` (member notifications made), ``skipped`` (members given
none, e.g. no phone in the SMS notification's field) and ``done`` (member notifications with an
outcome: sent, rejected, bounced, ...); ``GET .../fanouts/{id}/results`` pages what it did for
each member.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.errors import BadRequest, NotFound
from gateway.domain.segments import (
    fanout_id,
    matches,
    member_key,
    new_fanout,
    parse_segment,
    public_fanout,
    reuse_problem,
    segment_send,
)
from gateway.domain.segments import is_segment_send as is_segment_send
from gateway.domain.send_request import send_record
from gateway.domain.signals import iso_utc
from gateway.http import JSONResponse, State, admin_org, int_param, json_object, path_id
from gateway.services import Services
from gateway.store.jobs import SEGMENT_FANOUT, fanout_job_id

PAGE = 100
PAGE_MAX = 1000
CURSOR_MAX = 200


def cursor_param(request: Request[State]) -> str | None:
    """``?cursor=`` as given by the previous page (opaque; only its length is checked)."""
    cursor = request.query_params.get("cursor")
    if cursor is not None and (not cursor or len(cursor) > CURSOR_MAX):
        raise BadRequest(f"'cursor' must be 1-{CURSOR_MAX} characters from a previous page", code="invalid_parameter")
    return cursor


async def _segment(svc: Services, org: str, request: Request[State]) -> dict[str, Any]:
    rec = await svc.segments.get(org, path_id(request, "segment"))
    if rec is None:
        raise NotFound("segment does not exist", code="segment_not_found")
    return rec


async def put_segment(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    rec = parse_segment(path_id(request, "segment"), await json_object(request))
    created = await svc.segments.put(org["id"], rec)
    return JSONResponse(rec, status_code=201 if created else 200)


async def get_segment(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    return JSONResponse(await _segment(svc, org["id"], request))


async def list_segments(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    return JSONResponse({"segments": await svc.segments.all(org["id"])})


async def delete_segment(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    if not await svc.segments.delete(org["id"], path_id(request, "segment")):
        raise NotFound("segment does not exist", code="segment_not_found")
    return Response(status_code=204)


async def segment_contacts(request: Request[State]) -> Response:
    """One page of the segment's members, ordered by contact id (evaluated now)."""
    svc, org = await admin_org(request)
    seg = await _segment(svc, org["id"], request)
    limit = int_param(request, "limit", PAGE, 1, PAGE_MAX)
    match = seg["match"]
    page, cursor = await svc.tenancy.page_contacts(org["id"], cursor_param(request), limit, lambda c: matches(match, c))
    return JSONResponse({"contacts": page, "cursor": cursor})


# -- segment sends ----------------------------------------------------------------------------------
async def start_fanout(svc: Services, org_id: str, key: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Create the segment send ``key`` names (or find it: 409 ``idempotency_key_reused`` when it
    sends something else) and make sure its current step is queued; the send as the API shows it."""
    batch = fanout_id(org_id, key)
    await svc.segments.create_fanout(org_id, batch, fields)
    rec = await svc.segments.fanout(org_id, batch)
    if rec is None:  # pragma: no cover - expired between the two calls (30 days)
        raise NotFound("the segment send expired", code="fanout_not_found")
    reuse_problem(rec, fields)
    if rec["status"] != "done":  # (again) after a crash between create and enqueue; arq refuses a duplicate
        step = int(rec["step"])
        await svc.jobs.enqueue(SEGMENT_FANOUT, fanout_job_id(org_id, batch, step), None, org=org_id, batch=batch,
                               step=step)  # fmt: skip
    return public_fanout(rec)


async def send_to_segment(svc: Services, org_id: str, body: dict[str, Any]) -> Response:
    """``POST .../notifications`` with ``to: {segment}``: 202 with the fan-out (see module doc)."""
    segment, key, member = segment_send(body, "seg_" + secrets.token_hex(12))
    send_record(org_id, "email", member | {"to": {"contact": "x"}, "idempotency_key": member_key(key, "x")})
    if await svc.segments.get(org_id, segment) is None:
        raise BadRequest(f"segment {segment!r} does not exist", code="unknown_segment")
    fields = new_fanout(segment, key, iso_utc(int(time.time() * 1000)), body=member)
    return JSONResponse(await start_fanout(svc, org_id, key, fields), status_code=202)


async def _fanout(svc: Services, org: str, request: Request[State]) -> tuple[str, dict[str, Any]]:
    batch = path_id(request, "fanout")
    rec = await svc.segments.fanout(org, batch)
    if rec is None:
        raise NotFound("segment send does not exist", code="fanout_not_found")
    return batch, rec


async def get_fanout(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    _, rec = await _fanout(svc, org["id"], request)
    return JSONResponse(public_fanout(rec))


async def fanout_results(request: Request[State]) -> Response:
    """What the send did for each member so far, by contact id: ``{"contact", "name", "notification"}``
    or ``{"contact", "name", "error"}`` (a member skipped: e.g. ``no_phone_in_field``; ``name`` is the
    contact's now, null once it is deleted), paged."""
    svc, org = await admin_org(request)
    batch, _ = await _fanout(svc, org["id"], request)
    limit = int_param(request, "limit", PAGE, 1, PAGE_MAX)
    results, cursor = await svc.segments.fanout_results(org["id"], batch, cursor_param(request), limit)
    return JSONResponse({"results": results, "cursor": cursor})


routes = [
    Route("/api/v1/orgs/{org}/segments", list_segments, methods=["GET"]),
    Route("/api/v1/orgs/{org}/segments/{segment}", put_segment, methods=["PUT"]),
    Route("/api/v1/orgs/{org}/segments/{segment}", get_segment, methods=["GET"]),
    Route("/api/v1/orgs/{org}/segments/{segment}", delete_segment, methods=["DELETE"]),
    Route("/api/v1/orgs/{org}/segments/{segment}/contacts", segment_contacts, methods=["GET"]),
    Route("/api/v1/orgs/{org}/fanouts/{fanout}", get_fanout, methods=["GET"]),
    Route("/api/v1/orgs/{org}/fanouts/{fanout}/results", fanout_results, methods=["GET"]),
]
