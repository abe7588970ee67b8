"""The second leg of a click-to-call, carried in a signed token. Pure.

Click-to-call asks Twilio to ring the user's phone; when the user answers, Twilio fetches the
TwiML of the call from ``/webhooks/twilio/{org}/outbound?leg=<token>``. The token says whom to
dial, with which caller ID, recorded or not. It is ``<payload>.<mac>``: URL-safe base64 of
compact JSON, then the first 16 bytes of HMAC-SHA256 under ``[gateway] secret_key`` over
``outbound:<org>:<payload>`` — the org is bound in, so a token of one org is worthless in
another's URL. Twilio's own signature covers the URL too, but an org's admin knows its auth token;
only the gateway knows the secret key, so nobody can point a call somewhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain import signed_token

MAX_TOKEN_LENGTH = 1024


class BadLeg(ValueError):
    """Forged, altered, another org's or malformed outbound token."""


@dataclass(frozen=True)
class OutboundLeg:
    user: str
    callee: str  # E.164
    caller_id: str  # E.164, one of the org's numbers
    record: bool
    contact: str | None = None


def _domain(org: str) -> bytes:
    return f"outbound:{org}:".encode()


def sign_leg(secret: bytes, org: str, leg: OutboundLeg) -> str:
    body: dict[str, object] = {"u": leg.user, "t": leg.callee, "f": leg.caller_id, "r": leg.record}
    if leg.contact is not None:
        body["c"] = leg.contact
    return signed_token.seal(secret, _domain(org), body)


def verify_leg(secret: signed_token.Keys, org: str, token: str) -> OutboundLeg:
    body = signed_token.unseal(secret, _domain(org), token, max_length=MAX_TOKEN_LENGTH, error=BadLeg)
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("u", "t", "f")):
        raise BadLeg("incomplete payload")
    contact = body.get("c")
    return OutboundLeg(
        body["u"], body["t"], body["f"], body.get("r") is True, contact if isinstance(contact, str) else None
    )


class BadRecordingToken(ValueError):
    """Forged, altered, another org's or malformed outbound recording token."""


def _recording_domain(org: str) -> bytes:
    return f"outbound-recording:{org}:".encode()


def sign_recording(secret: bytes, org: str, call: str) -> str:
    """The token of a recorded click-to-call's ``recordingStatusCallback``: it names the call
    (Twilio's ``CallSid`` of the user leg) whose log row gets the recording, bound to the org."""
    return signed_token.seal(secret, _recording_domain(org), {"c": call})


def verify_recording(secret: signed_token.Keys, org: str, token: str) -> str:
    """The call sid a recording token names (:class:`BadRecordingToken` when it is not ours)."""
    body = signed_token.unseal(
        secret, _recording_domain(org), token, max_length=MAX_TOKEN_LENGTH, error=BadRecordingToken
    )
    if not isinstance(body, dict) or not isinstance(body.get("c"), str) or not body["c"]:
        raise BadRecordingToken("incomplete payload")
    return str(body["c"])
