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

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

import orjson

_MAC_BYTES = 16
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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(secret: bytes, org: str, payload: str) -> bytes:
    return hmac.digest(secret, f"outbound:{org}:{payload}".encode(), hashlib.sha256)[:_MAC_BYTES]


def sign_leg(secret: bytes, org: str, leg: OutboundLeg) -> str:
    body: dict[str, object] = {"u": leg.user, "t": leg.callee, "f": leg.caller_id, "r": leg.record}
    if leg.contact is not None:
        body["c"] = leg.contact
    payload = _b64(orjson.dumps(body))
    return f"{payload}.{_b64(_mac(secret, org, payload))}"


def verify_leg(secret: bytes, org: str, token: str) -> OutboundLeg:
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise BadLeg("malformed token")
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac.encode(), _b64(_mac(secret, org, payload)).encode()):
        raise BadLeg("bad signature")
    try:
        body = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise BadLeg("undecodable payload") from None
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("u", "t", "f")):
        raise BadLeg("incomplete payload")
    contact = body.get("c")
    return OutboundLeg(
        body["u"], body["t"], body["f"], body.get("r") is True, contact if isinstance(contact, str) else None
    )
