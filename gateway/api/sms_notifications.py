"""SMS notifications (the CRM's "SMS notification" fired by workflow rules): definitions
(``PUT/GET/DELETE .../sms-notifications/{id}``, ``GET .../sms-notifications``) and the trigger
(``POST .../sms-notifications/{id}/trigger``: one ordinary notification per contact, through the
same path as ``POST .../notifications``)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.errors import ApiError, BadRequest, NotFound
from gateway.domain.segments import matches
from gateway.domain.sms_notifications import (
    MAX_CONTACTS,
    Conflict,
    contact_send,
    parse_definition,
    parse_trigger,
    pick_phone,
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


async def _segment_members(svc: Services, org: str, segment: str) -> list[dict[str, Any]]:
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
            raise ApiError(f"the segment has more than {MAX_CONTACTS} members: trigger it for contacts in pages",
                           code="segment_too_large", status=409)  # fmt: skip
        if cursor is None:
            return members


async def trigger(request: Request[State]) -> Response:
    """202 ``{"results": [{"contact", "notification"} | {"contact", "error"}]}``, one per contact."""
    svc, org = await admin_org(request)
    definition = await _definition(svc, org["id"], request)
    ids, segment, data, key = parse_trigger(await json_object(request))
    if ids is not None:
        found = await svc.sms_notifications.contacts(org["id"], ids)
        targets: list[tuple[str, dict[str, Any] | None]] = list(zip(ids, found, strict=True))
    else:
        assert segment is not None  # noqa: S101 - parse_trigger gives one of the two
        targets = [(c["id"], c) for c in await _segment_members(svc, org["id"], segment)]
    key = key or "t_" + secrets.token_hex(12)
    gate = asyncio.Semaphore(_CONCURRENCY)

    async def one(cid: str, contact: dict[str, Any] | None) -> dict[str, Any]:
        if contact is None:
            return {"contact": cid, "error": "unknown_contact"}
        number = pick_phone(contact.get("phones") or [], definition["phone_field"])
        if number is None:
            return {"contact": cid, "error": "no_phone_in_field"}
        async with gate:
            rec = await submission.submit(
                svc.notifications, svc.jobs, org["id"], contact_send(definition, contact, number, data, key)
            )
        return {"contact": cid, "notification": rec["id"]}

    results = await asyncio.gather(*(one(cid, contact) for cid, contact in targets))
    return JSONResponse({"sms_notification": definition["id"], "results": results}, status_code=202)


routes = [
    Route("/api/v1/orgs/{org}/sms-notifications", list_definitions, methods=["GET"]),
    Route("/api/v1/orgs/{org}/sms-notifications/{sms_notification}", put_definition, methods=["PUT"]),
    Route("/api/v1/orgs/{org}/sms-notifications/{sms_notification}", get_definition, methods=["GET"]),
    Route("/api/v1/orgs/{org}/sms-notifications/{sms_notification}", delete_definition, methods=["DELETE"]),
    Route("/api/v1/orgs/{org}/sms-notifications/{sms_notification}/trigger", trigger, methods=["POST"]),
]
