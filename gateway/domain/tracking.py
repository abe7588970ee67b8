"""Signed tracking tokens for open pixels and click redirects, and the pixel itself. Pure.

A token is ``<payload>.<mac>``: the payload is URL-safe base64 of compact JSON
``{"o": org, "n": notification, "c": contact, "u": url?}``, the mac the first 16 bytes of
HMAC-SHA256 over the payload under ``[gateway] secret_key`` (URL-safe base64, no padding), with
no domain prefix (:mod:`gateway.domain.signed_token`). Verification is constant-time; any change
to either part makes the token invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain import signed_token

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


def sign(secret: bytes, claim: TrackingClaim) -> str:
    body: dict[str, object] = {"o": claim.org, "n": claim.notification}
    if claim.contact is not None:
        body["c"] = claim.contact
    if claim.url is not None:
        body["u"] = claim.url
    return signed_token.seal(secret, b"", body)


def verify(secret: signed_token.Keys, token: str) -> TrackingClaim:
    body = signed_token.unseal(secret, b"", token, max_length=MAX_TOKEN_LENGTH, error=BadToken)
    if not isinstance(body, dict) or not isinstance(body.get("o"), str) or not isinstance(body.get("n"), str):
        raise BadToken("incomplete payload")
    return TrackingClaim(org=body["o"], notification=body["n"], contact=body.get("c"), url=body.get("u"))
