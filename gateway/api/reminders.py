"""Reminders: ``POST/GET .../reminders``, ``GET/PUT/DELETE .../reminders/{id}``.

A reminder is an SMS to a user at ``remind_at`` (at once when that is past). Each create or
reschedule makes a new version with its own job; the job of an older version does nothing when it
runs, so only the latest time fires, and a cancelled reminder never does.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.errors import ApiError, BadRequest, NotFound
from gateway.domain.reminders import STATUSES, parse_reminder, reminder_job_id
from gateway.domain.tenancy import check_id
from gateway.http import JSONResponse, State, admin_org, int_param, json_object, path_id
from gateway.services import Services
from gateway.store.jobs import SEND_REMINDER

_PUBLIC = ("id", "user", "activity", "title", "remind_at", "status", "reason", "notification", "version")


def public_reminder(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: rec[k] for k in _PUBLIC if k in rec}


async def _enqueue(svc: Services, org: str, rec: dict[str, Any]) -> None:
    at = datetime.fromisoformat(rec["remind_at"])
    version = int(rec["version"])
    await svc.jobs.enqueue(
        SEND_REMINDER,
        reminder_job_id(org, rec["id"], version),
        max(at, datetime.now(tz=UTC)),
        org=org,
        reminder=rec["id"],
        version=version,
    )


async def _known_user(svc: Services, org: str, fields: dict[str, Any]) -> None:
    if "user" in fields and await svc.tenancy.get_user(org, fields["user"]) is None:
        raise BadRequest(f"user {fields['user']!r} does not exist", code="unknown_user")


async def create_reminder(request: Request[State]) -> Response:
    """An SMS to a user at ``remind_at`` about a task, event or call (unless opted out); posting
    an existing id again reschedules it (only the new time fires)."""
    svc, org = await admin_org(request)
    body = await json_object(request)
    fields = parse_reminder(body, partial=False)
    await _known_user(svc, org["id"], fields)
    rid = check_id("reminder", body["id"]) if "id" in body else "r_" + secrets.token_hex(8)
    rec = await svc.reminders.schedule(org["id"], rid, fields)
    assert rec is not None  # noqa: S101 - a create always applies
    await _enqueue(svc, org["id"], rec)
    return JSONResponse(public_reminder(rec), status_code=202)


async def update_reminder(request: Request[State]) -> Response:
    """A new time and/or title: sent at the new time only."""
    svc, org = await admin_org(request)
    rid = path_id(request, "reminder")
    fields = parse_reminder(await json_object(request), partial=True)
    await _known_user(svc, org["id"], fields)
    current = await svc.reminders.get(org["id"], rid)
    if current is None:
        raise NotFound("reminder does not exist", code="reminder_not_found")
    rec = await svc.reminders.schedule(org["id"], rid, fields, create=False)
    if rec is None:
        raise ApiError("the reminder was cancelled", code="reminder_cancelled", status=409)
    await _enqueue(svc, org["id"], rec)
    return JSONResponse(public_reminder(rec))


async def cancel_reminder(request: Request[State]) -> Response:
    """Status ``cancelled``: it is never sent. One already sent (or skipped, failed): 409."""
    svc, org = await admin_org(request)
    rid = path_id(request, "reminder")
    done, rec = await svc.reminders.cancel(org["id"], rid)
    if rec is None:
        raise NotFound("reminder does not exist", code="reminder_not_found")
    if not done:
        raise ApiError(f"the reminder is {rec['status']}: it can no longer be cancelled",
                       code="not_cancellable", status=409)  # fmt: skip
    return JSONResponse(public_reminder(rec))


async def get_reminder(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    rec = await svc.reminders.get(org["id"], path_id(request, "reminder"))
    if rec is None:
        raise NotFound("reminder does not exist", code="reminder_not_found")
    return JSONResponse(public_reminder(rec))


async def list_reminders(request: Request[State]) -> Response:
    """``?user=&status=&cursor=&limit=`` → ``{"reminders": [...], "cursor": next or null}``, in id order."""
    svc, org = await admin_org(request)
    q = request.query_params
    user = check_id("user", q["user"]) if "user" in q else None
    status = q.get("status")
    if status is not None and status not in STATUSES:
        raise BadRequest(f"'status' must be one of {', '.join(STATUSES)}", code="invalid_parameter")
    cursor = check_id("cursor", q["cursor"]) if q.get("cursor") else None
    limit = int_param(request, "limit", 50, 1, 500)
    page, nxt = await svc.reminders.page(org["id"], after=cursor, limit=limit, user=user, status=status)
    return JSONResponse({"reminders": [public_reminder(r) for r in page], "cursor": nxt})


routes = [
    Route("/api/v1/orgs/{org}/reminders", create_reminder, methods=["POST"]),
    Route("/api/v1/orgs/{org}/reminders", list_reminders, methods=["GET"]),
    Route("/api/v1/orgs/{org}/reminders/{reminder}", get_reminder, methods=["GET"]),
    Route("/api/v1/orgs/{org}/reminders/{reminder}", update_reminder, methods=["PUT"]),
    Route("/api/v1/orgs/{org}/reminders/{reminder}", cancel_reminder, methods=["DELETE"]),
]
