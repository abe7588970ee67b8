"""Sending API: notifications (202 + id, idempotent) and reminders; work is done by arq workers."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.api.segments import is_segment_send, send_to_segment
from gateway.domain.errors import BadRequest, NotFound
from gateway.domain.send_request import parse_send_at
from gateway.domain.signals import iso_utc
from gateway.domain.tenancy import check_id
from gateway.http import JSONResponse, State, admin_org, json_object, path_id
from gateway.services import Services
from gateway.store import submission
from gateway.store.jobs import SEND_REMINDER

_PUBLIC = (
    "id", "channel", "template", "to", "kind", "status", "reason", "sender", "idempotency_key", "send_at",
    "provider_sid", "message_id", "segments", "charged", "recipient",
)  # fmt: skip
ACTIVITIES = ("task", "event", "call")


def public_notification(rec: dict[str, Any], history: list[dict[str, Any]]) -> dict[str, Any]:
    out = {k: rec[k] for k in _PUBLIC if k in rec}
    out["created_at"] = iso_utc(int(rec["created_ms"]))
    out["updated_at"] = iso_utc(int(rec["updated_ms"]))
    out["history"] = [
        {"status": h["status"], "at": iso_utc(h["at_ms"]), **({"reason": h["reason"]} if "reason" in h else {})}
        for h in history
    ]
    return out


async def submit(svc: Services, org_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create (or find, by idempotency key) a notification and queue its send: the one path of
    every send (:func:`gateway.store.submission.submit`). The stored record."""
    return await submission.submit(svc.notifications, svc.jobs, org_id, body)


async def create_notification(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    body = await json_object(request)
    if is_segment_send(body):  # to: {segment}: one notification per member, by a worker job
        return await send_to_segment(svc, org["id"], body)
    existing = await submit(svc, org["id"], body)
    history = await svc.notifications.history(org["id"], existing["id"])
    return JSONResponse(public_notification(existing, history), status_code=202)


async def get_notification(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    notifications = svc.notifications
    nid = path_id(request, "notification")
    rec = await notifications.get(org["id"], nid)
    if rec is None:
        raise NotFound("notification does not exist", code="notification_not_found")
    return JSONResponse(public_notification(rec, await notifications.history(org["id"], nid)))


async def create_reminder(request: Request[State]) -> Response:
    """An SMS to a user at ``remind_at`` about a task, event or call (unless opted out)."""
    svc, org = await admin_org(request)
    body = await json_object(request)
    unknown = sorted(set(body) - {"user", "activity", "title", "remind_at", "id"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    user = check_id("user", body.get("user"))
    if body.get("activity") not in ACTIVITIES:
        raise BadRequest(f"'activity' must be one of {', '.join(ACTIVITIES)}", code="invalid_field")
    title = body.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        raise BadRequest("'title' must be a non-empty string of at most 200 characters", code="invalid_field")
    remind_at = parse_send_at(body.get("remind_at"), "remind_at")
    if remind_at is None:
        raise BadRequest("'remind_at' is required", code="invalid_field")
    if await svc.tenancy.get_user(org["id"], user) is None:
        raise BadRequest(f"user {user!r} does not exist", code="unknown_user")
    rid = check_id("reminder", body["id"]) if "id" in body else "r_" + secrets.token_hex(8)
    reminder = {
        "id": rid,
        "user": user,
        "activity": body["activity"],
        "title": title,
        "remind_at": remind_at.isoformat(),
        "status": "scheduled",
    }
    await svc.reminders.put(org["id"], reminder)
    await svc.jobs.enqueue(
        SEND_REMINDER, f"reminder:{org['id']}:{rid}", max(remind_at, datetime.now(tz=UTC)), org=org["id"], reminder=rid
    )
    return JSONResponse(reminder, status_code=202)


async def get_reminder(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    rec = await svc.reminders.get(org["id"], path_id(request, "reminder"))
    if rec is None:
        raise NotFound("reminder does not exist", code="reminder_not_found")
    return JSONResponse(rec)


routes = [
    Route("/api/v1/orgs/{org}/notifications", create_notification, methods=["POST"]),
    Route("/api/v1/orgs/{org}/notifications/{notification}", get_notification, methods=["GET"]),
    Route("/api/v1/orgs/{org}/reminders", create_reminder, methods=["POST"]),
    Route("/api/v1/orgs/{org}/reminders/{reminder}", get_reminder, methods=["GET"]),
]
