"""Signed positions in a call flow, carried in the callback URLs Twilio calls back. Pure.

A ``<Dial action>``, ``<Record action>`` or ``recordingStatusCallback`` URL carries ``?t=<token>``;
the token says which org, flow, published revision and call it belongs to, where the flow goes on,
and (for a recording) whose voicemail it is and who called. It is ``<payload>.<mac>``: URL-safe
base64 of compact JSON and the first 16 bytes of HMAC-SHA256 under ``[gateway] secret_key`` over
``"call-flow:" + payload`` (the prefix keeps a tracking token, signed with the same key, from ever
being one of these). A forged or altered token, or one replayed into another org or another call,
is refused; the URL itself is also covered by Twilio's signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

import orjson

from gateway.domain.call_flow_run import Path, Resume

_MAC_BYTES = 16
_DOMAIN = b"call-flow:"
MAX_TOKEN_LENGTH = 2048
Kind = Literal["dial", "record", "recording"]
_KINDS: tuple[Kind, ...] = ("dial", "record", "recording")


@dataclass(frozen=True)
class FlowClaim:
    """``kind``: ``dial`` (a <Dial action>), ``record`` (a <Record action>) or ``recording`` (the
    recording status callback, with the voicemail's ``user`` and the ``caller``)."""

    kind: Kind
    org: str
    flow: str
    rev: int
    call: str
    resume: Resume
    user: str | None = None
    caller: str | None = None


class BadFlowToken(ValueError):
    """Forged, altered or malformed call flow token."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(secret: bytes, payload: str) -> bytes:
    return hmac.digest(secret, _DOMAIN + payload.encode(), hashlib.sha256)[:_MAC_BYTES]


def sign(secret: bytes, claim: FlowClaim) -> str:
    body: dict[str, object] = {
        "k": _KINDS.index(claim.kind),
        "o": claim.org,
        "f": claim.flow,
        "r": claim.rev,
        "c": claim.call,
        "p": list(claim.resume.path),
        "m": claim.resume.member,
    }
    if claim.user is not None:
        body["u"] = claim.user
    if claim.caller is not None:
        body["from"] = claim.caller
    payload = _b64(orjson.dumps(body))
    return f"{payload}.{_b64(_mac(secret, payload))}"


def verify(secret: bytes, token: str) -> FlowClaim:
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise BadFlowToken("malformed token")
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac.encode(), _b64(_mac(secret, payload)).encode()):
        raise BadFlowToken("bad signature")
    try:
        body = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return _claim(body)
    except (binascii.Error, ValueError, orjson.JSONDecodeError, KeyError, TypeError, IndexError):
        raise BadFlowToken("undecodable payload") from None


def _claim(body: dict[str, object]) -> FlowClaim:
    path: Path = tuple(int(i) for i in body["p"])  # type: ignore[attr-defined]
    user, caller = body.get("u"), body.get("from")
    return FlowClaim(
        kind=_KINDS[int(body["k"])],  # type: ignore[call-overload]
        org=str(body["o"]),
        flow=str(body["f"]),
        rev=int(body["r"]),  # type: ignore[call-overload]
        call=str(body["c"]),
        resume=Resume(path, int(body["m"])),  # type: ignore[call-overload]
        user=str(user) if user is not None else None,
        caller=str(caller) if caller is not None else None,
    )
