"""``POST /webhooks/twilio/{org}/outbound?leg=<token>``: the TwiML of a click-to-call's user leg.

Twilio fetches it when the user answers their phone (:mod:`gateway.api.me_calls`). The request
is verified like every Twilio webhook (the org's auth token over the public URL *with* the
query, so the token is covered too); the token itself is verified with the gateway's secret key
(:mod:`gateway.domain.telephony_outbound`), so only a call this gateway placed can be connected,
and only to the number it named. The answer dials the callee with the user's caller ID,
``record="record-from-answer-dual"`` when the user records outbound calls, with a
``recordingStatusCallback`` to ``/webhooks/twilio/{org}/outbound-recording?t=<token>``: the token
names the call (signed with the secret key, bound to the org), and that callback puts the
recording's URL and duration on the call's log row — no signal (it is the user's own call, not a
voicemail).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote

from starlette.datastructures import QueryParams
from starlette.routing import Route
from starlette.types import Receive, Scope
from twilio.twiml.voice_response import Dial, VoiceResponse

from gateway.domain import signed_token
from gateway.domain.errors import Forbidden
from gateway.domain.telephony_outbound import (
    BadLeg,
    BadRecordingToken,
    OutboundLeg,
    sign_recording,
    verify_leg,
    verify_recording,
)
from gateway.ingest.asgi import response_headers
from gateway.ingest.twilio import NO_CONTENT, Callback, Reply, TwilioEndpoint, _require, verified

T = TypeVar("T")


def leg_twiml(leg: OutboundLeg, recording_callback: str | None = None) -> str:
    """``<Dial callerId=… [record=… recordingStatusCallback=…]><Number>callee</Number></Dial>``."""
    response = VoiceResponse()
    if leg.record:
        dial = Dial(
            caller_id=leg.caller_id,
            record="record-from-answer-dual",
            recording_status_callback=recording_callback,
            recording_status_callback_method="POST" if recording_callback else None,
        )
    else:
        dial = Dial(caller_id=leg.caller_id)
    dial.number(leg.callee)
    response.append(dial)
    return str(response)


def _token(
    cb: Callback, name: str, check: Callable[[signed_token.Keys, str, str], T], refused: type[ValueError], code: str
) -> T:
    """What the signed token in query parameter ``name`` says, or 403 ``code``."""
    try:
        return check(cb.svc.verify_keys, cb.org, QueryParams(cb.query).get(name) or "")
    except refused as exc:
        raise Forbidden(f"the {name} token is not valid ({exc})", code=code) from None


async def outbound(scope: Scope, receive: Receive) -> Reply:
    cb = await verified(scope, receive, "twilio.outbound")
    leg = _token(cb, "leg", verify_leg, BadLeg, "bad_leg")
    recording_callback = None
    call = cb.params.get("CallSid", "")
    if leg.record and call:
        token = quote(sign_recording(cb.svc.secret_key, cb.org, call), safe=".")
        base = cb.svc.config.gateway.public_url.rstrip("/")
        recording_callback = f"{base}/webhooks/twilio/{cb.org}/outbound-recording?t={token}"
    content = leg_twiml(leg, recording_callback).encode()
    return Reply(200, response_headers(content, "application/xml"), content)


async def outbound_recording(scope: Scope, receive: Receive) -> Reply:
    """A recorded click-to-call's recording: its URL and duration go on the call's log row."""
    cb = await verified(scope, receive, "twilio.outbound_recording")
    call = _token(cb, "t", verify_recording, BadRecordingToken, "bad_recording_token")
    if call != cb.params.get("CallSid"):
        raise Forbidden("the recording token belongs to another call", code="bad_recording_token")
    _require(cb.params, "RecordingUrl")
    fields = {"recording_url": cb.params["RecordingUrl"]}
    duration = cb.params.get("RecordingDuration", "")
    if duration.isdigit():
        fields["recording_duration"] = duration
    await cb.svc.messages.set_call_fields(cb.org, call, **fields)
    return NO_CONTENT


routes = [
    Route("/webhooks/twilio/{org}/outbound", TwilioEndpoint("twilio.outbound", outbound), methods=["POST"]),
    Route(
        "/webhooks/twilio/{org}/outbound-recording",
        TwilioEndpoint("twilio.outbound_recording", outbound_recording),
        methods=["POST"],
    ),
]
