"""Twilio webhooks: SMS in, SMS status, voice status (inbound calls: :mod:`gateway.ingest.call_flows`).

Each request is verified against the org's auth token and ``[gateway] public_url`` + path (+ query):
exactly what twilio's ``RequestValidator.validate`` accepts, computed with one HMAC for a genuine
callback (:mod:`gateway.domain.twilio_signature`); a missing or wrong signature gets 403 and
nothing is stored. The form is parsed like starlette's ``request.form()``, same limits and errors
(:mod:`gateway.domain.forms`). Accepted events are appended to the org's partition stream before
the response. Retries carry the same ``I-Twilio-Idempotency-Token`` and are accepted once; without
it the dedupe id is the resource sid plus status.

The endpoints are raw ASGI apps (:mod:`gateway.ingest.asgi`) on starlette routes: routing, 405s,
error rendering, security headers and the access log are the app's, as for every other route.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache

from prometheus_client import Counter
from python_multipart.multipart import parse_options_header
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway.domain.errors import ApiError, BadRequest, Forbidden, NotFound
from gateway.domain.forms import FormError, parse_urlencoded
from gateway.domain.sealing import TWILIO_AUTH_TOKEN
from gateway.domain.tenancy import ORG_ID, RECORD_ID
from gateway.domain.twilio_signature import SignedUrls
from gateway.ingest.asgi import Headers, body, path_and_query, respond, response_headers, services_of
from gateway.ingest.refusals import log_refusal
from gateway.metrics import Metrics
from gateway.services import Services

log = logging.getLogger("signalgate.twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
REJECT_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Reject/></Response>'
# Twilio sends at most a few dozen parameters; anything bigger is not a Twilio callback.
_MAX_FIELDS = 200
_FORM = b"application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Reply:
    """A webhook's answer. ``after``: work that must not delay it (Starlette's ``BackgroundTask``),
    run once the answer is sent; it handles its own failures (a failure left is logged)."""

    status: int
    headers: Headers
    content: bytes = b""
    after: Callable[[], Awaitable[None]] | None = None


def _twiml(text: str) -> Reply:
    content = text.encode()
    return Reply(200, response_headers(content, "application/xml"), content)


EMPTY = _twiml(EMPTY_TWIML)
REJECT = _twiml(REJECT_TWIML)
NO_CONTENT = Reply(204, response_headers(None, None))


@dataclass(slots=True)
class Callback:
    """A verified callback: the org, its parameters and what the handlers read from the request."""

    svc: Services
    org: str
    params: dict[str, str]
    query: str
    idempotency: bytes | None


@cache
def _signed_urls(public_url: str) -> SignedUrls:
    return SignedUrls(public_url)


async def _form(scope: Scope, receive: Receive, content_type: bytes | None) -> dict[str, str]:
    """``request.form(max_fields=200)`` as a dict of its text fields."""
    if content_type != _FORM:
        kind, _ = parse_options_header(content_type or b"")
        if kind != _FORM:  # multipart (never sent by Twilio) or anything else: starlette's own parser
            form = await Request(scope, receive).form(max_fields=_MAX_FIELDS)
            return {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        return parse_urlencoded(await body(receive), _MAX_FIELDS)
    except FormError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None


async def verified(scope: Scope, receive: Receive, source: str) -> Callback:
    """The org and the callback parameters, after the signature check."""
    svc = services_of(scope)
    metrics = svc.metrics
    org_id: str = scope["path_params"]["org"]
    if not ORG_ID.fullmatch(org_id):
        raise NotFound("unknown org", code="org_not_found")
    org = await svc.tenancy.cached_org(org_id)
    if org is None:
        raise NotFound("unknown org", code="org_not_found")
    token = org.get("twilio", {}).get("auth_token")
    if token:  # stored sealed: opened once per process and value, then a dict lookup
        token = svc.vault.reveal(org_id, TWILIO_AUTH_TOKEN, token)
        if token is None:
            metrics.webhooks_refused.labels(source, "unreadable_token").inc()
            raise Forbidden("the org's Twilio auth token cannot be read by this gateway", code="bad_signature")
    signature = content_type = idempotency = None
    for name, value in scope["headers"]:  # one pass; the first of a repeated header, as starlette
        if name == b"x-twilio-signature":
            signature = value if signature is None else signature
        elif name == b"content-type":
            content_type = value if content_type is None else content_type
        elif name == b"i-twilio-idempotency-token":
            idempotency = value if idempotency is None else idempotency
    params = await _form(scope, receive, content_type)
    if not token or not signature:
        metrics.webhooks_refused.labels(source, "missing_signature").inc()
        raise Forbidden("missing Twilio signature", code="bad_signature")
    urls = _signed_urls(svc.config.gateway.public_url)
    path, query = path_and_query(scope)
    if not urls.check(token.encode(), path, query, params, signature):
        metrics.webhooks_refused.labels(source, "bad_signature").inc()
        # The URL is what an operator needs: Twilio signs the URL it called, which must be
        # [gateway] public_url + path exactly (a proxy changing scheme, host or port breaks it).
        url = urls.url(path, query)
        raise Forbidden(f"Twilio signature does not match (checked against {url})", code="bad_signature")
    return Callback(svc, org_id, params, query, idempotency)


async def _accept(cb: Callback, source: str, natural_id: str) -> None:
    counters = _counters(cb.svc, source)
    dedupe = cb.idempotency.decode("latin-1") if cb.idempotency else natural_id
    appended = await cb.svc.events.append(cb.org, source, cb.params, dedupe_id=dedupe)
    (counters.duplicate if appended.duplicate else counters.accepted).inc()


@dataclass(frozen=True, slots=True)
class _Counters:
    accepted: Counter
    duplicate: Counter


_COUNTERS: dict[str, tuple[Metrics, _Counters]] = {}


def _counters(svc: Services, source: str) -> _Counters:
    """The source's labelled counters, resolved once per registry (``labels()`` locks and builds a key)."""
    m = svc.metrics
    found = _COUNTERS.get(source)
    if found is None or found[0] is not m:
        found = _COUNTERS[source] = (m, _Counters(m.events_in.labels(source), m.events_duplicate.labels(source)))
    return found[1]


def _require(params: dict[str, str], *names: str) -> None:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise BadRequest(f"missing Twilio parameter(s): {', '.join(missing)}", code="invalid_callback")


async def sms_in(scope: Scope, receive: Receive) -> Reply:
    cb = await verified(scope, receive, "twilio.sms")
    _require(cb.params, "MessageSid", "From")
    await _accept(cb, "twilio.sms", cb.params["MessageSid"])
    return EMPTY


async def sms_status(scope: Scope, receive: Receive) -> Reply:
    cb = await verified(scope, receive, "twilio.sms_status")
    params = cb.params
    # Our StatusCallback URLs carry the notification id (?n=...): it links the message even when
    # the worker died before recording the provider's sid.
    nid = _query_param(cb.query, "n")
    if nid and RECORD_ID.fullmatch(nid):
        params["_notification"] = nid
    sid = params.get("MessageSid") or params.get("SmsSid", "")
    status = params.get("MessageStatus") or params.get("SmsStatus", "")
    if not sid or not status:
        raise BadRequest("missing Twilio parameter(s): MessageSid, MessageStatus", code="invalid_callback")
    await _accept(cb, "twilio.sms_status", f"{sid}:{status}")
    return NO_CONTENT


async def voice_status(scope: Scope, receive: Receive) -> Reply:
    cb = await verified(scope, receive, "twilio.voice_status")
    _require(cb.params, "CallSid", "CallStatus")
    await _accept(cb, "twilio.voice_status", f"{cb.params['CallSid']}:{cb.params['CallStatus']}")
    return NO_CONTENT


def _query_param(query: str, name: str) -> str | None:
    """``request.query_params.get(name)``."""
    return QueryParams(query).get(name) if query else None


class TwilioEndpoint:
    """One callback kind as an ASGI app: a refusal (an ApiError) is logged, then rendered by the app."""

    def __init__(self, source: str, handle: Callable[[Scope, Receive], Awaitable[Reply]]) -> None:
        self.source = source
        self.handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            reply = await self.handle(scope, receive)
        except ApiError as exc:
            org = str(scope["path_params"].get("org", "-"))
            log_refusal(self.source, org, path_and_query(scope)[0], exc.status, f"{exc.code}: {exc.detail}")
            raise
        await respond(send, reply.status, reply.headers, reply.content)
        if reply.after is not None:
            try:
                await reply.after()
            except Exception:  # the answer is out: nothing can be rendered any more
                org = str(scope["path_params"].get("org", "-"))
                log.exception("%s of org %s: work after the answer failed", self.source, org)


routes = [
    Route("/webhooks/twilio/{org}/sms", TwilioEndpoint("twilio.sms", sms_in), methods=["POST"]),
    Route("/webhooks/twilio/{org}/sms-status", TwilioEndpoint("twilio.sms_status", sms_status), methods=["POST"]),
    Route("/webhooks/twilio/{org}/voice-status", TwilioEndpoint("twilio.voice_status", voice_status), methods=["POST"]),
]
