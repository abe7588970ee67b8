"""Inbound calls through call flows: the ``voice`` webhook, the flow's own callbacks, voicemail.

- ``POST /webhooks/twilio/{org}/voice``: the called number's (``To``) published, enabled flow
  answers with its TwiML from the first step; any other call gets ``<Reject/>``.
- ``POST /webhooks/twilio/{org}/voice-flow?t=<token>``: a ``<Dial action>`` or ``<Record action>``
  callback. A dial the member answered ends the call (``<Hangup/>``); otherwise the flow goes on
  where the token says (the next member of a sequential ring, or the next step).
- ``POST /webhooks/twilio/{org}/voice-recording?t=<token>``: the voicemail's recording status
  callback becomes a ``twilio.recording`` event (the router makes it ``call.voicemail`` for the
  step's user and links it in the call log); one event per ``RecordingSid``, however often
  Twilio retries.

All three are signed by Twilio like every other callback (:func:`gateway.ingest.twilio.verified`);
the token in the URL (:mod:`gateway.domain.call_flow_token`) must belong to this org and this
call, and pins the flow revision the call started on, so a publish mid-call changes nothing for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.routing import Route
from starlette.types import Receive, Scope

from gateway.domain.call_flow_run import BadPosition, Resume, after_dial, is_open, plan
from gateway.domain.call_flow_token import BadFlowToken, FlowClaim, Kind, sign, verify
from gateway.domain.call_flows import references
from gateway.domain.errors import Forbidden
from gateway.domain.phones import lookup_key
from gateway.ingest.call_twiml import HANGUP_TWIML, render
from gateway.ingest.twilio import (
    NO_CONTENT,
    REJECT,
    Callback,
    Reply,
    TwilioEndpoint,
    _accept,
    _query_param,
    _require,
    _twiml,
    verified,
)
from gateway.services import Services

HANGUP = _twiml(HANGUP_TWIML)
RECORDING_SOURCE = "twilio.recording"


async def voice(scope: Scope, receive: Receive) -> Reply:
    cb = await verified(scope, receive, "twilio.voice")
    call, to = cb.params.get("CallSid", ""), cb.params.get("To", "")
    if not call or not to:
        return REJECT
    live = await cb.svc.call_flows.live_on(cb.org, lookup_key(to))
    if live is None:
        return REJECT
    flow, rev, doc = live
    reply = await _run(cb, FlowClaim("dial", cb.org, flow, rev, call, Resume((0,))), doc)
    await cb.svc.messages.set_call_fields(cb.org, call, flow=flow)
    return reply


async def voice_flow(scope: Scope, receive: Receive) -> Reply:
    cb = await verified(scope, receive, "twilio.voice_flow")
    claim = _claim(cb, ("dial", "record"))
    if claim.kind == "dial" and not after_dial(cb.params.get("DialCallStatus")):
        return HANGUP
    doc = await cb.svc.call_flows.revision(cb.org, claim.flow, claim.rev)
    if doc is None:  # the revision was pruned (a call over a day long) or the org deleted it
        return HANGUP
    return await _run(cb, claim, doc)


async def voice_recording(scope: Scope, receive: Receive) -> Reply:
    cb = await verified(scope, receive, "twilio.recording")
    claim = _claim(cb, ("recording",))
    _require(cb.params, "RecordingSid", "RecordingUrl")
    data = dict(cb.params, _user=claim.user or "", _from=claim.caller or "", _flow=claim.flow)
    # One event per recording: Twilio's retries and any re-sent callback for it are the same event.
    await _accept(Callback(cb.svc, cb.org, data, cb.query, None), RECORDING_SOURCE, cb.params["RecordingSid"])
    return NO_CONTENT


def _claim(cb: Callback, kinds: tuple[Kind, ...]) -> FlowClaim:
    """The token of the callback URL, once it is ours, for this org and this call."""
    token = _query_param(cb.query, "t") or ""
    try:
        claim = verify(cb.svc.secret_key, token)
    except BadFlowToken as exc:
        raise Forbidden(f"call flow token refused: {exc}", code="bad_flow_token") from None
    if claim.kind not in kinds or claim.org != cb.org or claim.call != cb.params.get("CallSid"):
        raise Forbidden("call flow token belongs to another callback, org or call", code="bad_flow_token")
    return claim


async def _run(cb: Callback, claim: FlowClaim, doc: dict[str, Any]) -> Reply:
    """The TwiML of the flow revision ``doc`` from the claim's position on."""
    svc = cb.svc
    org = await svc.tenancy.cached_org(cb.org) or {}
    timezone = str(org.get("timezone") or "UTC")
    now = datetime.now(UTC)
    directory = await _phones(svc, cb.org, doc["steps"])

    def phones(ring: Mapping[str, Any]) -> list[str]:
        members = directory.groups.get(ring["group"], []) if "group" in ring else ring["users"]
        return [directory.users[m] for m in members if m in directory.users]

    def opened(windows: Sequence[Mapping[str, Any]]) -> bool:
        return is_open(windows, now, timezone)

    try:
        verbs = plan(doc["steps"], claim.resume, opened=opened, phones=phones)
    except BadPosition:
        return HANGUP
    base = svc.config.gateway.public_url.rstrip("/") + f"/webhooks/twilio/{cb.org}/"

    def callback(kind: str, resume: Resume, user: str | None) -> str:
        recording = kind == "recording"
        token = sign(
            svc.secret_key,
            FlowClaim(
                "recording" if recording else ("record" if kind == "record" else "dial"),
                cb.org,
                claim.flow,
                claim.rev,
                claim.call,
                resume,
                user=user,
                caller=cb.params.get("From", "") if recording else None,
            ),
        )
        return f"{base}{'voice-recording' if recording else 'voice-flow'}?t={quote(token, safe='.')}"

    return _twiml(render(verbs, callback))


class _Directory:
    def __init__(self, users: dict[str, str], groups: dict[str, list[str]]) -> None:
        self.users = users  # user id -> phone (users who can be rung)
        self.groups = groups  # group id -> member ids, in order


async def _phones(svc: Services, org: str, steps: list[dict[str, Any]]) -> _Directory:
    """The phones of every user the steps can ring, and the members of their groups."""
    refs = list(references(steps))
    group_ids = sorted({ref for _, kind, ref in refs if kind == "group"})
    found = await asyncio.gather(*(svc.groups.get_group(org, g) for g in group_ids))
    groups = {g: [str(m) for m in (rec or {}).get("members", [])] for g, rec in zip(group_ids, found, strict=True)}
    user_ids = sorted({ref for _, kind, ref in refs if kind == "user"} | {m for ms in groups.values() for m in ms})
    users = await asyncio.gather(*(svc.tenancy.get_user(org, u) for u in user_ids))
    phones = {u: phone for u, rec in zip(user_ids, users, strict=True) if (phone := _phone(rec))}
    return _Directory(phones, groups)


def _phone(user: dict[str, Any] | None) -> str | None:
    """The phone a user is rung on: none without one, or with telephony switched off."""
    if not user or not user.get("phone"):
        return None
    telephony = user.get("telephony")
    if isinstance(telephony, dict) and telephony.get("enabled") is False:
        return None
    return str(user["phone"])


routes = [
    Route("/webhooks/twilio/{org}/voice", TwilioEndpoint("twilio.voice", voice), methods=["POST"]),
    Route("/webhooks/twilio/{org}/voice-flow", TwilioEndpoint("twilio.voice_flow", voice_flow), methods=["POST"]),
    Route(
        "/webhooks/twilio/{org}/voice-recording",
        TwilioEndpoint(RECORDING_SOURCE, voice_recording),
        methods=["POST"],
    ),
]
