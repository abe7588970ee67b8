"""``POST /webhooks/twilio/{org}/outbound?leg=<token>``: the TwiML of a click-to-call's user leg.

Twilio fetches it when the user answers their phone (:mod:`gateway.api.me_calls`). The request
is verified like every Twilio webhook (the org's auth token over the public URL *with* the
query, so the token is covered too); the token itself is verified with the gateway's secret key
(:mod:`gateway.domain.telephony_outbound`), so only a call this gateway placed can be connected,
and only to the number it named. The answer dials the callee with the user's caller ID,
``record="record-from-answer-dual"`` when the user records outbound calls.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.routing import Route
from starlette.types import Receive, Scope
from twilio.twiml.voice_response import Dial, VoiceResponse

from gateway.domain.errors import Forbidden
from gateway.domain.telephony_outbound import BadLeg, OutboundLeg, verify_leg
from gateway.ingest.asgi import response_headers
from gateway.ingest.twilio import Reply, TwilioEndpoint, verified


def leg_twiml(leg: OutboundLeg) -> str:
    """``<Dial callerId=… [record=record-from-answer-dual]><Number>callee</Number></Dial>``."""
    response = VoiceResponse()
    dial = (
        Dial(caller_id=leg.caller_id, record="record-from-answer-dual") if leg.record else Dial(caller_id=leg.caller_id)
    )
    dial.number(leg.callee)
    response.append(dial)
    return str(response)


async def outbound(scope: Scope, receive: Receive) -> Reply:
    cb = await verified(scope, receive, "twilio.outbound")
    token = QueryParams(cb.query).get("leg") or ""
    try:
        leg = verify_leg(cb.svc.secret_key, cb.org, token)
    except BadLeg as exc:
        raise Forbidden(f"the outbound leg token is not valid ({exc})", code="bad_leg") from None
    content = leg_twiml(leg).encode()
    return Reply(200, response_headers(content, "application/xml"), content)


routes = [
    Route("/webhooks/twilio/{org}/outbound", TwilioEndpoint("twilio.outbound", outbound), methods=["POST"]),
]
