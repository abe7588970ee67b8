"""``POST /api/v1/me/calls``: click-to-call.

Twilio rings the user's own phone first (From: the user's caller ID); when the user answers it
fetches the call's TwiML from ``/webhooks/twilio/{org}/outbound?leg=<signed token>``
(:mod:`gateway.ingest.twilio_outbound`), which dials the callee with the caller ID, recorded when
the user's ``record_outbound`` is on. The call enters the log at once, as the user's outbound call.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.api.telephony import twilio_account, twilio_error, webhook_url
from gateway.domain.errors import ApiError, BadRequest, Forbidden, NotFound
from gateway.domain.telephony import destination
from gateway.domain.telephony_outbound import OutboundLeg, sign_leg
from gateway.domain.tenancy import check_id
from gateway.http import JSONResponse, State, json_object, require_user
from gateway.services import Services
from gateway.twilio_rest import TwilioFailure


def _conflict(code: str, detail: str) -> ApiError:
    return ApiError(detail, code=code, status=409)


async def _callee(svc: Services, org: str, target: Any) -> tuple[str, str | None]:
    """The number to dial and the contact (if the call names one)."""
    if isinstance(target, str):
        return destination(target), None
    if not isinstance(target, dict) or set(target) != {"contact"}:
        raise BadRequest("'to' must be an E.164 number or {\"contact\": id}", code="invalid_field")
    contact_id = check_id("contact", target["contact"])
    contact = await svc.tenancy.get_contact(org, contact_id)
    if contact is None:
        raise NotFound("contact does not exist", code="contact_not_found")
    phones = [p if isinstance(p, str) else (p or {}).get("number") for p in contact.get("phones") or []]
    phones = [p for p in phones if p]
    if not phones:
        raise _conflict("no_phone", f"contact {contact_id!r} has no phone number")
    return destination(phones[0], "to.contact"), contact_id


async def place_call(request: Request[State]) -> Response:
    """``{"to": "+81…" | {"contact": id}}`` → 202 ``{"sid", "status"}`` (the first leg's)."""
    svc, org_id, user_id = await require_user(request)
    user = await svc.tenancy.get_user(org_id, user_id)
    if user is None:
        raise NotFound("user does not exist", code="user_not_found")
    settings = user.get("telephony") or {}
    if not (settings.get("enabled") and settings.get("outbound")):
        raise Forbidden("telephony with outbound calls is not enabled for this user", code="outbound_not_allowed")
    body = await json_object(request, 'an object with "to"')
    if set(body) != {"to"}:
        raise BadRequest('the body must be exactly {"to": ...}', code="invalid_body")
    callee, contact = await _callee(svc, org_id, body["to"])
    caller_id = settings.get("caller_id")
    if not caller_id or await svc.numbers.get_number(org_id, caller_id) is None:
        raise _conflict("no_caller_id", "the user has no caller ID among the org's numbers")
    if not user.get("phone"):
        raise _conflict("no_user_phone", "the user has no phone number to ring first")
    org = await svc.tenancy.get_org(org_id)
    if org is None:
        raise NotFound("org does not exist", code="org_not_found")
    sid, token = twilio_account(svc, org)
    leg = OutboundLeg(user_id, callee, caller_id, bool(settings.get("record_outbound")), contact)
    url = webhook_url(svc, org_id, "outbound") + "?leg=" + quote(sign_leg(svc.secret_key, org_id, leg), safe="")
    try:
        placed = await svc.twilio.call(
            sid, token, to=user["phone"], from_=caller_id, url=url,
            status_callback=webhook_url(svc, org_id, "voice-status"),
        )  # fmt: skip
    except TwilioFailure as exc:
        raise twilio_error(exc) from None
    await svc.messages.record_outbound_call(
        org_id, placed.sid, placed.status, at_ms=int(time.time() * 1000), user=user_id, caller_id=caller_id,
        callee=callee, contact=contact,
    )  # fmt: skip
    return JSONResponse({"sid": placed.sid, "status": placed.status}, status_code=202)


routes = [Route("/api/v1/me/calls", place_call, methods=["POST"])]
