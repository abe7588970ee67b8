"""Twilio webhooks: SMS in, SMS status, voice, voice status.

Each request is verified with twilio's own ``RequestValidator`` and the org's auth token against
``[gateway] public_url`` + path; a missing or wrong signature gets 403 and nothing is stored.
Accepted events are appended to the org's partition stream before the response. Retries carry
the same ``I-Twilio-Idempotency-Token`` and are accepted once; without it the dedupe id is the
resource sid plus status.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from gateway.domain.errors import BadRequest, Forbidden, NotFound
from gateway.domain.tenancy import ORG_ID, RECORD_ID
from gateway.http import State, services
from gateway.ingest.refusals import refusals_logged

log = logging.getLogger("signalgate.twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
REJECT_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Reject/></Response>'
# Twilio sends at most a few dozen parameters; anything bigger is not a Twilio callback.
_MAX_FIELDS = 200


def signed_url(public_url: str, request: Request[State]) -> str:
    """The exact URL Twilio signed: our public base + path + query string."""
    url = public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return url


async def verified_form(request: Request[State], source: str) -> tuple[str, dict[str, str]]:
    """Org id and the callback parameters, after the signature check."""
    svc = services(request)
    metrics = svc.metrics
    org_id = request.path_params["org"]
    if not ORG_ID.fullmatch(org_id):
        raise NotFound("unknown org", code="org_not_found")
    org = await svc.tenancy.cached_org(org_id)
    if org is None:
        raise NotFound("unknown org", code="org_not_found")
    token = org.get("twilio", {}).get("auth_token")
    signature = request.headers.get("x-twilio-signature")
    form = await request.form(max_fields=_MAX_FIELDS)
    params: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    if not token or not signature:
        metrics.webhooks_refused.labels(source, "missing_signature").inc()
        raise Forbidden("missing Twilio signature", code="bad_signature")
    validator = RequestValidator(token)
    url = signed_url(svc.config.gateway.public_url, request)
    if not validator.validate(url, params, signature):
        metrics.webhooks_refused.labels(source, "bad_signature").inc()
        # The URL is what an operator needs: Twilio signs the URL it called, which must be
        # [gateway] public_url + path exactly (a proxy changing scheme, host or port breaks it).
        raise Forbidden(f"Twilio signature does not match (checked against {url})", code="bad_signature")
    return org_id, params


async def _accept(request: Request[State], source: str, org_id: str, params: dict[str, str], natural_id: str) -> None:
    svc = services(request)
    metrics = svc.metrics
    dedupe = request.headers.get("i-twilio-idempotency-token") or natural_id
    appended = await svc.events.append(org_id, source, params, dedupe_id=dedupe)
    if appended.duplicate:
        metrics.events_duplicate.labels(source).inc()
    else:
        metrics.events_in.labels(source).inc()


def _require(params: dict[str, str], *names: str) -> None:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise BadRequest(f"missing Twilio parameter(s): {', '.join(missing)}", code="invalid_callback")


def _twiml(body: str) -> Response:
    return Response(body, media_type="application/xml")


@refusals_logged("twilio.sms")
async def sms_in(request: Request[State]) -> Response:
    org_id, params = await verified_form(request, "twilio.sms")
    _require(params, "MessageSid", "From")
    await _accept(request, "twilio.sms", org_id, params, params["MessageSid"])
    return _twiml(EMPTY_TWIML)


@refusals_logged("twilio.sms_status")
async def sms_status(request: Request[State]) -> Response:
    org_id, params = await verified_form(request, "twilio.sms_status")
    # Our StatusCallback URLs carry the notification id (?n=...): it links the message even when
    # the worker died before recording the provider's sid.
    nid = request.query_params.get("n")
    if nid and RECORD_ID.fullmatch(nid):
        params["_notification"] = nid
    sid = params.get("MessageSid") or params.get("SmsSid", "")
    status = params.get("MessageStatus") or params.get("SmsStatus", "")
    if not sid or not status:
        raise BadRequest("missing Twilio parameter(s): MessageSid, MessageStatus", code="invalid_callback")
    await _accept(request, "twilio.sms_status", org_id, params, f"{sid}:{status}")
    return Response(status_code=204)


@refusals_logged("twilio.voice")
async def voice(request: Request[State]) -> Response:
    # No call flows yet: a number without a published call flow rejects calls.
    await verified_form(request, "twilio.voice")
    return _twiml(REJECT_TWIML)


@refusals_logged("twilio.voice_status")
async def voice_status(request: Request[State]) -> Response:
    org_id, params = await verified_form(request, "twilio.voice_status")
    _require(params, "CallSid", "CallStatus")
    await _accept(request, "twilio.voice_status", org_id, params, f"{params['CallSid']}:{params['CallStatus']}")
    return Response(status_code=204)


routes = [
    Route("/webhooks/twilio/{org}/sms", sms_in, methods=["POST"]),
    Route("/webhooks/twilio/{org}/sms-status", sms_status, methods=["POST"]),
    Route("/webhooks/twilio/{org}/voice", voice, methods=["POST"]),
    Route("/webhooks/twilio/{org}/voice-status", voice_status, methods=["POST"]),
]
