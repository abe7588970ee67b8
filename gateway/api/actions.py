"""``/api/v1/me/actions`` (act on a signal: reply by an approved SMS template) and
``/api/v1/me/templates`` (the approved templates a reply can use), with a user token.

A reply is an ordinary send through :func:`gateway.api.notifications.submit` — same rules,
credits and idempotency as ``POST /api/v1/orgs/{org}/notifications`` — sent by the user (so the
``sms.*`` status signals come back to them). Then the signal is marked read and records what was
done (:class:`gateway.store.actions.SignalActions`), and every connection of the user hears it.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.api.notifications import submit
from gateway.domain.actions import acted, parse_action, reply_phone, sms_send
from gateway.domain.errors import ApiError, BadRequest, NotFound
from gateway.domain.rendering import TemplateError, fields
from gateway.http import JSONResponse, State, json_object, require_user
from gateway.services import Services

CHANNELS = ("sms",)


class Conflict(ApiError):
    status = 409
    code = "conflict"


async def _reply_contact(svc: Services, org: str, signal: dict[str, Any]) -> str:
    """The id of the contact a reply to ``signal`` goes to, once it has a number (409 otherwise)."""
    ref = signal.get("contact")
    if not ref:
        raise Conflict("this signal is about no contact: there is nobody to reply to", code="no_contact")
    contact = await svc.tenancy.get_contact(org, str(ref["id"]))
    if contact is None:
        raise Conflict("the contact of this signal no longer exists", code="no_contact")
    if reply_phone(contact.get("phones") or []) is None:
        raise Conflict(f"contact {contact['id']!r} has no phone number", code="no_phone")
    return str(contact["id"])


async def _approved_sms_template(svc: Services, org: str, tid: str) -> None:
    template = await svc.templates.get(org, tid)
    if template is None:
        raise NotFound(f"template {tid!r} does not exist", code="template_not_found")
    if template.get("channel") != "sms" or template.get("status") != "approved":
        raise Conflict(f"template {tid!r} is not an approved SMS template", code="template_not_approved")


async def post_action(request: Request[State]) -> Response:
    svc, org, user = await require_user(request)
    req = parse_action(await json_object(request))
    signal = await svc.actions.signal(org, user, req.signal)
    if signal is None:
        raise NotFound(f"you have no signal {req.signal!r}", code="signal_not_found")
    contact_id = await _reply_contact(svc, org, signal)
    await _approved_sms_template(svc, org, req.template)
    rec = await submit(svc, org, sms_send(req, user, contact_id))
    unread = await svc.actions.record(org, user, req.signal, acted(req.action, rec["id"], int(time.time() * 1000)))
    return JSONResponse({"notification": {"id": rec["id"], "status": rec["status"]}, "unread": unread}, 202)


def _merge_fields(body: str) -> list[str]:
    try:
        return sorted(fields(body))
    except TemplateError:  # stored templates were checked when saved; never fail a listing on one
        return []


async def list_templates(request: Request[State]) -> Response:
    """``?channel=sms``: the org's approved templates of that channel, with the merge fields each reads."""
    svc, org, _ = await require_user(request)
    channel = request.query_params.get("channel", "sms")
    if channel not in CHANNELS:
        raise BadRequest(f"'channel' must be one of {', '.join(CHANNELS)}", code="invalid_parameter")
    out = [
        {"id": t["id"], "name": t["name"], "body": t["body"], "fields": _merge_fields(t["body"])}
        for t in await svc.templates.list(org)
        if t.get("channel") == channel and t.get("status") == "approved"
    ]
    return JSONResponse({"templates": out})


routes = [
    Route("/api/v1/me/actions", post_action, methods=["POST"]),
    Route("/api/v1/me/templates", list_templates, methods=["GET"]),
]
