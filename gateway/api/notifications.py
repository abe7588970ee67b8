"""Sending API: notifications (202 + id, idempotent; cancel); work is done by arq workers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.api.segments import is_segment_send, send_to_segment
from gateway.domain.errors import ApiError, NotFound
from gateway.domain.signals import iso_utc
from gateway.http import JSONResponse, State, admin_org, json_object, path_id
from gateway.services import Services
from gateway.store import submission

_PUBLIC = (
    "id", "channel", "template", "to", "kind", "status", "reason", "sender", "idempotency_key", "send_at",
    "provider_sid", "message_id", "segments", "charged", "recipient", "template_version",
)  # fmt: skip


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


async def cancel_notification(request: Request[State]) -> Response:
    """Cancel a ``queued`` or ``scheduled`` send (nothing charged; its job, when it runs, does
    nothing); once it is ``sending`` or done: 409 ``not_cancellable``."""
    svc, org = await admin_org(request)
    nid = path_id(request, "notification")
    done, status = await svc.notifications.cancel(org["id"], nid)
    if done is None:
        raise NotFound("notification does not exist", code="notification_not_found")
    if not done:
        raise ApiError(f"the notification is {status}: only a queued or scheduled send can be cancelled",
                       code="not_cancellable", status=409)  # fmt: skip
    rec = await svc.notifications.get(org["id"], nid)
    assert rec is not None  # noqa: S101 - it was just cancelled (notifications are kept for months)
    return JSONResponse(public_notification(rec, await svc.notifications.history(org["id"], nid)))


routes = [
    Route("/api/v1/orgs/{org}/notifications", create_notification, methods=["POST"]),
    Route("/api/v1/orgs/{org}/notifications/{notification}", get_notification, methods=["GET"]),
    Route("/api/v1/orgs/{org}/notifications/{notification}", cancel_notification, methods=["DELETE"]),
]
