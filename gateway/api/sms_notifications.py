"""SMS notifications (the CRM's "SMS notification" fired by workflow rules): definitions
(``PUT/GET/DELETE .../sms-notifications/{id}``, ``GET .../sms-notifications``) and the trigger
(``POST .../sms-notifications/{id}/trigger``: one ordinary notification per contact, through the
same path as ``POST .../notifications``. A segment of at most 1,000 members is answered the same
way, one result per member (SPEC); a larger one becomes a segment send: the worker's
``segment_fanout`` job makes them a chunk at a time, see :mod:`gateway.api.segments`)."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.api.segments import start_fanout
from gateway.domain.errors import BadRequest, NotFound
from gateway.domain.segments import matches, new_fanout
from gateway.domain.signals import iso_utc
from gateway.domain.sms_notifications import (
    MAX_CONTACTS,
    Conflict,
    member_send,
    parse_definition,
    parse_trigger,
    template_problem,
)
from gateway.http import JSONResponse, State, admin_org, json_object, path_id
from gateway.services import Services
from gateway.store import submission

# Notifications created at once while answering a trigger (each is two Redis round trips).
_CONCURRENCY = 32


async def _definition(svc: Services, org: str, request: Request[State]) -> dict[str, Any]:
    rec = await svc.sms_notifications.get(org, path_id(request, "sms_notification"))
    if rec is None:
        raise NotFound("SMS notification does not exist", code="sms_notification_not_found")
    return rec


async def put_definition(request: Request[State]) -> Response:
    """Create or update; the module is fixed after creation (409 ``module_fixed``) and the template
    must be an approved SMS template of that module (409 ``template_not_approved``)."""
    svc, org = await admin_org(request)
    nid = path_id(request, "sms_notification")
    stored = await svc.sms_notifications.get(org["id"], nid)
    rec = parse_definition(nid, await json_object(request), stored)
    problem = template_problem(await svc.templates.get(org["id"], rec["template"]), rec["module"])
    if problem:
        raise Conflict(f"template {rec['template']!r} {problem}", code="template_not_approved")
    await svc.sms_notifications.put(org["id"], rec)
    return JSONResponse(rec, status_code=200 if stored else 201)


async def get_definition(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    return JSONResponse(await _definition(svc, org["id"], request))


async def list_definitions(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    return JSONResponse({"sms_notifications": await svc.sms_notifications.all(org["id"])})


async def delete_definition(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    if not await svc.sms_notifications.delete(org["id"], path_id(request, "sms_notification")):
        raise NotFound("SMS notification does not exist", code="sms_notification_not_found")
    return Response(status_code=204)


async def _small_segment(svc: Services, org: str, segment: str) -> list[dict[str, Any]] | None:
    """The segment's members when there are at most :data:`MAX_CONTACTS` of them, else None (400
    ``unknown_segment`` when it does not exist). Reads contacts until one member too many."""
    seg = await svc.segments.get(org, segment)
    if seg is None:
        raise BadRequest(f"segment {segment!r} does not exist", code="unknown_segment")
    match = seg["match"]
    members: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page, cursor = await svc.tenancy.page_contacts(org, cursor, MAX_CONTACTS + 1, lambda c: matches(match, c))
        members.extend(page)
        if len(members) > MAX_CONTACTS:
            return None
        if cursor is None:
            return members


async def _segment_fanout(
    svc: Services, org: str, definition: dict[str, Any], segment: str, data: dict[str, Any], key: str
) -> dict[str, Any]:
    """Start (or find, by key) the segment send that texts every member (:mod:`workers.fanout`)."""
    fields = new_fanout(segment, key, iso_utc(int(time.time() * 1000)), sms_notification=definition, data=data)
    return await start_fanout(svc, org, key, fields)


async def trigger(request: Request[State]) -> Response:
    """202 ``{"sms_notification", "results": [{"contact", "name", "notification"} | {"contact", "name", "error"}]}``,
    one per contact, for ``contacts`` and for a ``segment`` of at most 1,000 members; for a larger
    segment 202 ``{"sms_notification", "fanout"}``: the segment send that makes them, a chunk per
    job step, its per-member results at ``GET .../fanouts/{id}/results``. Either way each member's
    notification has the idempotency key ``<key>:<contact>``, so a repeat sends nothing twice."""
    svc, org = await admin_org(request)
    definition = await _definition(svc, org["id"], request)
    ids, segment, data, key = parse_trigger(await json_object(request))
    key = key or "t_" + secrets.token_hex(12)
    if ids is not None:
        targets = list(zip(ids, await svc.sms_notifications.contacts(org["id"], ids), strict=True))
    else:
        assert segment is not None  # noqa: S101 - parse_trigger gives one of the two
        members = await _small_segment(svc, org["id"], segment)
        if members is None:
            fanout = await _segment_fanout(svc, org["id"], definition, segment, data, key)
            return JSONResponse({"sms_notification": definition["id"], "fanout": fanout}, status_code=202)
        targets = [(str(c["id"]), c) for c in members]
    gate = asyncio.Semaphore(_CONCURRENCY)

    async def one(cid: str, contact: dict[str, Any] | None) -> dict[str, Any]:
        if contact is None:
            return {"contact": cid, "name": None, "error": "unknown_contact"}
        named = {"contact": cid, "name": contact.get("name") or None}  # read with the contacts: no extra call
        body, why = member_send(definition, contact, data, key)
        if body is None:
            return {**named, "error": why}
        async with gate:
            rec = await submission.submit(svc.notifications, svc.jobs, org["id"], body)
        return {**named, "notification": rec["id"]}

    results = await asyncio.gather(*(one(cid, contact) for cid, contact in targets))
    return JSONResponse({"sms_notification": definition["id"], "results": results}, status_code=202)


routes = [
    Route("/api/v1/orgs/{org}/sms-notifications", list_definitions, methods=["GET"]),
    Route("/api/v1/orgs/{org}/sms-notifications/{sms_notification}", put_definition, methods=["PUT"]),
    Route("/api/v1/orgs/{org}/sms-notifications/{sms_notification}", get_definition, methods=["GET"]),
    Route("/api/v1/orgs/{org}/sms-notifications/{sms_notification}", delete_definition, methods=["DELETE"]),
    Route("/api/v1/orgs/{org}/sms-notifications/{sms_notification}/trigger", trigger, methods=["POST"]),
]
