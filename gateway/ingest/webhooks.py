"""``POST /webhooks/events/{org}``: signed events from other tools (Standard Webhooks).

Verified with the ``standardwebhooks`` package against the org's ``whsec_`` secret: headers
``webhook-id``, ``webhook-timestamp`` (±5 minutes), ``webhook-signature``. A repeated
``webhook-id`` is accepted once (2xx, nothing appended).
"""

from __future__ import annotations

from functools import lru_cache

import orjson
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.errors import BadRequest, Forbidden, NotFound
from gateway.domain.events import MAX_JSON_DEPTH, json_depth, validate_event
from gateway.domain.sealing import WEBHOOK_SECRET
from gateway.domain.tenancy import ORG_ID
from gateway.http import JSONResponse, State, services
from gateway.ingest.refusals import refusals_logged

SOURCE = "webhook"


@lru_cache(maxsize=1024)
def _webhook(secret: str) -> Webhook:
    """The verifier for an org's secret, decoded once (a malformed secret raises, and is not cached)."""
    return Webhook(secret)


@refusals_logged(SOURCE)
async def receive_event(request: Request[State]) -> Response:
    svc = services(request)
    metrics = svc.metrics
    org_id = request.path_params["org"]
    org = await svc.tenancy.cached_org(org_id) if ORG_ID.fullmatch(org_id) else None
    if org is None:
        raise NotFound("unknown org", code="org_not_found")
    stored = org.get("webhook_secret")
    raw = await request.body()
    if not stored:
        metrics.webhooks_refused.labels(SOURCE, "no_secret").inc()
        raise Forbidden("this org has no webhook secret configured", code="bad_signature")
    secret = svc.vault.reveal(org_id, WEBHOOK_SECRET, str(stored))  # sealed at rest; cached once opened
    if secret is None:
        metrics.webhooks_refused.labels(SOURCE, "unreadable_secret").inc()
        raise Forbidden("the org's webhook secret cannot be read by this gateway", code="bad_signature")
    try:
        _webhook(secret).verify(raw, dict(request.headers), json_parse=False)
    except (WebhookVerificationError, ValueError) as exc:
        metrics.webhooks_refused.labels(SOURCE, "bad_signature").inc()
        raise Forbidden(f"webhook signature refused: {exc}", code="bad_signature") from None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}", code="invalid_json") from None
    if json_depth(body) > MAX_JSON_DEPTH:
        raise BadRequest(f"request body nests deeper than {MAX_JSON_DEPTH} levels", code="invalid_event")
    event = validate_event(body)
    appended = await svc.events.append(org_id, SOURCE, event, dedupe_id=request.headers["webhook-id"])
    if appended.duplicate:
        metrics.events_duplicate.labels(SOURCE).inc()
    else:
        metrics.events_in.labels(SOURCE).inc()
    return JSONResponse({"accepted": True, "duplicate": appended.duplicate, "event": appended.id}, status_code=202)


routes = [Route("/webhooks/events/{org}", receive_event, methods=["POST"])]
