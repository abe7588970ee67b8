"""Signed tracking tokens for open pixels and click redirects, and the pixel itself. Pure.

A token is ``<payload>.<mac>``: the payload is URL-safe base64 of compact JSON
``{"o": org, "n": notification, "c": contact, "u": url?}``, the mac the first 16 bytes of
HMAC-SHA256 over the payload under ``[gateway] secret_key`` (URL-safe base64, no padding).
Verification is constant-time; any change to either part makes the token invalid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

import orjson

_MAC_BYTES = 16
# Generous bound for a long tracked URL; anything longer is refused unread.
MAX_TOKEN_LENGTH = 4096

# The smallest transparent 1×1 GIF, and headers so every open reaches us (no cached copy).
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
NO_STORE = {"cache-control": "no-store, no-cache, must-revalidate, max-age=0", "pragma": "no-cache"}


@dataclass(frozen=True)
class TrackingClaim:
    org: str
    notification: str
    contact: str | None
    url: str | None = None


class BadToken(ValueError):
    """Forged, altered or malformed tracking token."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> str:
    return _b64(_mac_bytes(secret, payload.encode()))


def _mac_bytes(secret: bytes, payload: bytes) -> bytes:
    # hmac.digest: OpenSSL's one-shot HMAC, no HMAC object (the pixel verifies one per hit).
    return hmac.digest(secret, payload, hashlib.sha256)[:_MAC_BYTES]


def sign(secret: bytes, claim: TrackingClaim) -> str:
    body: dict[str, str] = {"o": claim.org, "n": claim.notification}
    if claim.contact is not None:
        body["c"] = claim.contact
    if claim.url is not None:
        body["u"] = claim.url
    payload = _b64(orjson.dumps(body))
    return f"{payload}.{_mac(secret, payload)}"


def verify(secret: bytes, token: str) -> TrackingClaim:
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise BadToken("malformed token")
    payload, mac = token.split(".")
    expected = base64.urlsafe_b64encode(_mac_bytes(secret, payload.encode())).rstrip(b"=")
    if not hmac.compare_digest(mac.encode(), expected):
        raise BadToken("bad signature")
    try:
        body = orjson.loads(_unb64(payload))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise BadToken("undecodable payload") from None
    if not isinstance(body, dict) or not isinstance(body.get("o"), str) or not isinstance(body.get("n"), str):
        raise BadToken("incomplete payload")
    return TrackingClaim(org=body["o"], notification=body["n"], contact=body.get("c"), url=body.get("u"))
