"""The signed tokens the gateway hands out in URLs (tracking, unsubscribe, call flows, outbound
legs): ``<payload>.<mac>``. Pure.

The payload is URL-safe base64 (no padding) of compact JSON; the mac the first 16 bytes of
HMAC-SHA256 under ``[gateway] secret_key`` over ``domain + payload``, URL-safe base64 too. Each
kind of token signs under its own ``domain`` prefix, so a token of one kind is never one of
another though all share the key. Verification is constant-time; any change to either part makes
the token invalid. What the payload must hold is the caller's business.

Key rotation (``[gateway] previous_secret_keys``): a token is signed under the current key only,
and verified under :data:`Keys` — the current key alone (bytes: one HMAC, as before rotation
existed), or the current key then the previous ones in order (a tuple: each compared in constant
time), so links in mail sent before the rotation keep working until their key is dropped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

import orjson

MAC_BYTES = 16

# The keys a token verifies under: the current key, or (current, *previous) while rotating.
Keys = bytes | tuple[bytes, ...]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(secret: bytes, domain: bytes, payload: str) -> bytes:
    # hmac.digest: OpenSSL's one-shot HMAC, no HMAC object (the pixel verifies one per hit).
    return base64.urlsafe_b64encode(hmac.digest(secret, domain + payload.encode(), hashlib.sha256)[:MAC_BYTES]).rstrip(
        b"="
    )


def seal(secret: bytes, domain: bytes, body: Mapping[str, object]) -> str:
    """``body`` signed: ``<payload>.<mac>``."""
    payload = b64(orjson.dumps(body))
    return f"{payload}.{_mac(secret, domain, payload).decode()}"


def _signed_by(keys: Keys, domain: bytes, payload: str, mac: bytes) -> bool:
    if isinstance(keys, bytes):  # no rotation under way: one HMAC, nothing more
        return hmac.compare_digest(mac, _mac(keys, domain, payload))
    return any(hmac.compare_digest(mac, _mac(key, domain, payload)) for key in keys)


def unseal(secret: Keys, domain: bytes, token: str, *, max_length: int, error: type[Exception]) -> object:
    """The JSON value a token signed under ``domain`` (by any of ``secret``) carries. Raises
    ``error("malformed token")`` (too long, not two parts), ``error("bad signature")`` or
    ``error("undecodable payload")``."""
    if len(token) > max_length or token.count(".") != 1:
        raise error("malformed token")
    payload, mac = token.split(".")
    if not _signed_by(secret, domain, payload, mac.encode()):
        raise error("bad signature")
    try:
        body: object = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise error("undecodable payload") from None
    return body
