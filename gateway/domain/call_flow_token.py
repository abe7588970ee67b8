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

from dataclasses import dataclass
from typing import Literal

from gateway.domain import signed_token
from gateway.domain.call_flow_run import Path, Resume

_DOMAIN = b"call-flow:"
MAX_TOKEN_LENGTH = 2048
Kind = Literal["dial", "record", "recording", "queue", "wait", "agent", "accept"]
# A kind is its index here, in every token ever signed: new kinds go at the end.
_KINDS: tuple[Kind, ...] = ("dial", "record", "recording", "queue", "wait", "agent", "accept")


@dataclass(frozen=True)
class FlowClaim:
    """``kind``: ``dial`` (a <Dial action>), ``record`` (a <Record action>), ``recording`` (the
    recording status callback, with the voicemail's ``user`` and the ``caller``), ``queue`` (an
    <Enqueue action>), ``wait`` (its waitUrl; ``resume.path`` is the queue step), ``agent`` (the
    TwiML of a queue member's call: ``call`` is the *caller's* call, whose queue it dials) or
    ``accept`` (the member's answer to the whisper: ``call`` the caller's, ``leg`` the member's own
    call, the only one that may use it)."""

    kind: Kind
    org: str
    flow: str
    rev: int
    call: str
    resume: Resume
    user: str | None = None
    caller: str | None = None
    leg: str | None = None


class BadFlowToken(ValueError):
    """Forged, altered or malformed call flow token."""


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
    if claim.leg is not None:
        body["l"] = claim.leg
    return signed_token.seal(secret, _DOMAIN, body)


def verify(secret: signed_token.Keys, token: str) -> FlowClaim:
    body = signed_token.unseal(secret, _DOMAIN, token, max_length=MAX_TOKEN_LENGTH, error=BadFlowToken)
    if not isinstance(body, dict):
        raise BadFlowToken("undecodable payload")
    try:
        return _claim(body)
    except (ValueError, KeyError, TypeError, IndexError):
        raise BadFlowToken("undecodable payload") from None


def _claim(body: dict[str, object]) -> FlowClaim:
    path: Path = tuple(int(i) for i in body["p"])  # type: ignore[attr-defined]
    user, caller, leg = body.get("u"), body.get("from"), body.get("l")
    return FlowClaim(
        kind=_KINDS[int(body["k"])],  # type: ignore[call-overload]
        org=str(body["o"]),
        flow=str(body["f"]),
        rev=int(body["r"]),  # type: ignore[call-overload]
        call=str(body["c"]),
        resume=Resume(path, int(body["m"])),  # type: ignore[call-overload]
        user=str(user) if user is not None else None,
        caller=str(caller) if caller is not None else None,
        leg=str(leg) if leg is not None else None,
    )
