"""``POST /webhooks/events/{org}``: signed events from other tools (Standard Webhooks).

Verified with the ``standardwebhooks`` package against the org's ``whsec_`` secret: headers
``webhook-id``, ``webhook-timestamp`` (±5 minutes), ``webhook-signature``. A repeated
``webhook-id`` is accepted once (2xx, nothing appended).
"""

from __future__ import annotations

from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import BadRequest, Forbidden, NotFound
from gateway.events import EventLog
from gateway.http import JSONResponse
from gateway.metrics import Metrics
from gateway.models import ORG_ID
from gateway.signals import SIGNAL_TYPE_SET
from gateway.store import Store

SOURCE = "webhook"


def validate_event(body: Any) -> dict[str, Any]:
    """Check the event body shape; returns the part kept in the stream. Pure."""
    if not isinstance(body, dict):
        raise BadRequest("event body must be a JSON object", code="invalid_event")
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in SIGNAL_TYPE_SET:
        raise BadRequest(f"'type' must be one of the signal types, got {kind!r}", code="invalid_event")
    contact = body.get("contact")
    if not isinstance(contact, dict) or len(contact) != 1 or next(iter(contact)) not in ("email", "phone", "id"):
        raise BadRequest('\'contact\' must be {"email": ...}, {"phone": ...} or {"id": ...}', code="invalid_event")
    if not isinstance(next(iter(contact.values())), str):
        raise BadRequest("'contact' value must be a string", code="invalid_event")
    for key in ("title", "body"):
        if key in body and not isinstance(body[key], str):
            raise BadRequest(f"'{key}' must be a string", code="invalid_event")
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise BadRequest("'data' must be an object", code="invalid_event")
    return {
        "type": kind,
        "contact": contact,
        "title": body.get("title", ""),
        "body": body.get("body", ""),
        "data": data,
    }


async def receive_event(request: Request) -> Response:
    state = request.app.state
    metrics: Metrics = state.metrics
    store: Store = state.store
    org_id = request.path_params["org"]
    org = await store.cached_org(org_id) if ORG_ID.fullmatch(org_id) else None
    if org is None:
        raise NotFound("unknown org", code="org_not_found")
    secret = org.get("webhook_secret")
    raw = await request.body()
    if not secret:
        metrics.webhooks_refused.labels(SOURCE, "no_secret").inc()
        raise Forbidden("this org has no webhook secret configured", code="bad_signature")
    try:
        Webhook(secret).verify(raw, dict(request.headers), json_parse=False)
    except (WebhookVerificationError, ValueError) as exc:
        metrics.webhooks_refused.labels(SOURCE, "bad_signature").inc()
        raise Forbidden(f"webhook signature refused: {exc}", code="bad_signature") from None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}", code="invalid_json") from None
    event = validate_event(body)
    events: EventLog = state.events
    appended = await events.append(org_id, SOURCE, event, dedupe_id=request.headers["webhook-id"])
    if appended.duplicate:
        metrics.events_duplicate.labels(SOURCE).inc()
    else:
        metrics.events_in.labels(SOURCE).inc()
    return JSONResponse({"accepted": True, "duplicate": appended.duplicate, "event": appended.id}, status_code=202)


routes = [Route("/webhooks/events/{org}", receive_event, methods=["POST"])]
