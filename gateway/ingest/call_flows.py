"""Inbound calls through call flows: the ``voice`` webhook, the flow's own callbacks, voicemail.

- ``POST /webhooks/twilio/{org}/voice``: the called number's (``To``) published, enabled flow
  answers with its TwiML from the first step; any other call gets ``<Reject/>``.
- ``POST /webhooks/twilio/{org}/voice-flow?t=<token>``: a ``<Dial action>``, ``<Record action>`` or
  ``<Enqueue action>`` callback. A dial the member answered, or a queued caller bridged to a member
  (or gone), ends the call (``<Hangup/>``); otherwise the flow goes on where the token says (the
  next member of a sequential ring, or the next step).
- ``POST /webhooks/twilio/{org}/voice-queue-wait?t=<token>``: the ``waitUrl`` of a queue step —
  hold music or a message while ``QueueTime`` < ``max_wait``, then ``<Leave/>``.
- ``POST /webhooks/twilio/{org}/voice-queue-agent?t=<token>``: the TwiML of the calls ("legs")
  the gateway asks Twilio (REST) to place to the queue group's members when the caller enters the
  queue — once per call and step, however often Twilio retries the webhook: a short whisper in a
  one-digit ``<Gather>``, then ``<Hangup/>`` (a member's voicemail never takes the caller).
- ``POST /webhooks/twilio/{org}/voice-queue-accept?t=<token>``: the whisper's ``<Gather action>``,
  usable by that leg only: ``Digits=1`` dials the caller's queue (``<Dial><Queue>``) when this leg
  is the first to accept while the caller waits, and the other legs are cancelled (ringing) or
  completed (answered) through Twilio's REST API once that answer is out
  (:mod:`gateway.ingest.call_legs`); anything else hangs up. The caller leaving the queue (the
  ``<Enqueue action>``, any ``QueueResult``) ends every leg still ringing the same way.
- ``POST /webhooks/twilio/{org}/voice-recording?t=<token>``: the voicemail's recording status
  callback becomes a ``twilio.recording`` event (the router makes it ``call.voicemail`` for the
  step's user and links it in the call log); one event per ``RecordingSid``, however often
  Twilio retries.

A dial a member answered, the winning queue accept and a recorded voicemail (its ``<Record
action>`` with a recording, or its recording callback) mark the call as taken
(:meth:`gateway.store.messages.Messages.mark_call_answered`): at its final status the router tells
a call nobody took, a missed call (:mod:`gateway.domain.flow_missed`).

All are signed by Twilio like every other callback (:func:`gateway.ingest.twilio.verified`);
the token in the URL (:mod:`gateway.domain.call_flow_token`) must belong to this org and this
call (the agent's token: to this org; its call is the caller's, not the member's; the accept
token: to the member's own call, its ``leg``), and pins the
flow revision the call started on, so a publish mid-call changes nothing for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.routing import Route
from starlette.types import Receive, Scope

from gateway.domain.call_flow_run import (
    BadPosition,
    Enqueue,
    Resume,
    after_queue,
    is_open,
    plan,
    queue_name,
    step_at,
    waiting,
)
from gateway.domain.call_flow_token import BadFlowToken, FlowClaim, Kind, sign, verify
from gateway.domain.call_flows import DEFAULT_LANGUAGE, references
from gateway.domain.call_queue import WHISPER_TIMEOUT, accepted, too_late, whisper
from gateway.domain.errors import Forbidden
from gateway.domain.flow_missed import TAKEN_BY_DIAL, TAKEN_BY_QUEUE, TAKEN_BY_VOICEMAIL, dial_taken, voicemail_left
from gateway.domain.phones import lookup_key
from gateway.ingest.call_legs import ending
from gateway.ingest.call_twiml import HANGUP_TWIML, answer_queue, render, say_and_hang_up, whisper_gather
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
from gateway.twilio_rest import TwilioFailure

log = logging.getLogger("signalgate.call_flows")
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
    to_end: list[str] = []
    reply = await _run(cb, FlowClaim("dial", cb.org, flow, rev, call, Resume((0,))), doc, to_end)
    await cb.svc.messages.set_call_fields(cb.org, call, flow=flow)
    return _then_end(cb, reply, to_end)


async def voice_flow(scope: Scope, receive: Receive) -> Reply:
    cb = await verified(scope, receive, "twilio.voice_flow")
    claim = _claim(cb, ("dial", "record", "queue"))
    if claim.kind == "dial" and dial_taken(cb.params.get("DialCallStatus")):
        await cb.svc.messages.mark_call_answered(cb.org, claim.call, TAKEN_BY_DIAL)
        return HANGUP
    if claim.kind == "record" and voicemail_left(cb.params):
        # Marked here too: Twilio may post the recording's status callback after the call's end.
        await cb.svc.messages.mark_call_answered(cb.org, claim.call, TAKEN_BY_VOICEMAIL)
    to_end: list[str] = []
    if claim.kind == "queue":
        # The caller is out of the queue (bridged, left, hung up…): no member leg may ring on
        # (ended once the flow's answer is out).
        settled = await cb.svc.call_queues.settle(cb.org, queue_name(cb.org, claim.flow, claim.call), "")
        to_end += settled.hang_up
        if not after_queue(cb.params.get("QueueResult")):
            return _then_end(cb, HANGUP, to_end)
    doc = await cb.svc.call_flows.revision(cb.org, claim.flow, claim.rev)
    if doc is None:  # the revision was pruned (a call over a day long) or the org deleted it
        return _then_end(cb, HANGUP, to_end)
    return _then_end(cb, await _run(cb, claim, doc, to_end), to_end)


async def voice_recording(scope: Scope, receive: Receive) -> Reply:
    cb = await verified(scope, receive, "twilio.recording")
    claim = _claim(cb, ("recording",))
    _require(cb.params, "RecordingSid", "RecordingUrl")
    data = dict(cb.params, _user=claim.user or "", _from=claim.caller or "", _flow=claim.flow)
    if voicemail_left(cb.params):  # a voicemail is not a missed call (gateway.domain.flow_missed)
        await cb.svc.messages.mark_call_answered(cb.org, claim.call, TAKEN_BY_VOICEMAIL)
    # One event per recording: Twilio's retries and any re-sent callback for it are the same event.
    await _accept(Callback(cb.svc, cb.org, data, cb.query, None), RECORDING_SOURCE, cb.params["RecordingSid"])
    return NO_CONTENT


async def queue_wait(scope: Scope, receive: Receive) -> Reply:
    """The wait document of a queued caller: hold music or a message until the step's ``max_wait``."""
    cb = await verified(scope, receive, "twilio.queue_wait")
    claim = _claim(cb, ("wait",))
    queue = await _queue_step(cb, claim)
    raw = cb.params.get("QueueTime", "")
    queue_time = int(raw) if raw.isdigit() else 0
    # A revision gone (pruned) or a position without a queue: leave, and the flow decides.
    verbs = waiting(queue, queue_time) if queue else waiting({"max_wait": 0}, 0)
    return _twiml(render(verbs, lambda *_: ""))


async def queue_agent(scope: Scope, receive: Receive) -> Reply:
    """A queue member's phone answered the gateway's call: the whisper, in a ``<Gather>`` whose
    signed action (for this leg only) takes the caller when a person presses 1."""
    cb = await verified(scope, receive, "twilio.queue_agent")
    claim = _claim(cb, ("agent",), same_call=False)
    _require(cb.params, "CallSid")
    step = await _queue_step(cb, claim)
    accept = FlowClaim("accept", cb.org, claim.flow, claim.rev, claim.call, claim.resume, leg=cb.params["CallSid"])
    custom = step.get("whisper")
    spoken = whisper(str(step.get("language") or DEFAULT_LANGUAGE), custom if isinstance(custom, str) else None)
    return _twiml(whisper_gather(spoken, _url(cb, "voice-queue-accept", accept), WHISPER_TIMEOUT))


async def queue_accept(scope: Scope, receive: Receive) -> Reply:
    """A member's answer to the whisper: ``Digits=1`` takes the caller (``<Dial><Queue>``) if no
    other member did and the caller still waits, and the other legs are hung up right after that
    answer (never before it: the caller is bridged first); anything else hangs up this leg."""
    cb = await verified(scope, receive, "twilio.queue_accept")
    claim = _claim(cb, ("accept",), same_call=False)
    leg = cb.params.get("CallSid", "")
    if not leg or claim.leg != leg:
        raise Forbidden("call flow token belongs to another member's call", code="bad_flow_token")
    queue = queue_name(cb.org, claim.flow, claim.call)
    if not accepted(cb.params.get("Digits")):
        await cb.svc.call_queues.drop_leg(cb.org, queue, leg)
        return HANGUP
    settled = await cb.svc.call_queues.settle(cb.org, queue, leg)
    if settled.winner != leg:  # another member took the caller first, or the caller left
        step = await _queue_step(cb, claim)
        reply = _twiml(say_and_hang_up(too_late(str(step.get("language") or DEFAULT_LANGUAGE))))
    else:
        await cb.svc.messages.mark_call_answered(cb.org, claim.call, TAKEN_BY_QUEUE)
        reply = _twiml(answer_queue(queue))
    return _then_end(cb, reply, settled.hang_up)


def _then_end(cb: Callback, reply: Reply, legs: Sequence[str]) -> Reply:
    """``reply``, with the member legs ``legs`` ended once it is sent."""
    after = ending(cb.svc, cb.org, legs)
    return reply if after is None else replace(reply, after=after)


async def _queue_step(cb: Callback, claim: FlowClaim) -> dict[str, Any]:
    """The queue step a claim points at in its revision; ``{}`` if the revision is gone (pruned)."""
    doc = await cb.svc.call_flows.revision(cb.org, claim.flow, claim.rev)
    try:
        step = step_at(doc["steps"], claim.resume.path)["queue"] if doc is not None else None
    except (BadPosition, KeyError):
        step = None
    return step if isinstance(step, dict) else {}


def _url(cb: Callback, endpoint: str, claim: FlowClaim) -> str:
    """The absolute, signed URL of one of the flow's callbacks."""
    base = cb.svc.config.gateway.public_url.rstrip("/")
    return f"{base}/webhooks/twilio/{cb.org}/{endpoint}?t={quote(sign(cb.svc.secret_key, claim), safe='.')}"


def _claim(cb: Callback, kinds: tuple[Kind, ...], *, same_call: bool = True) -> FlowClaim:
    """The token of the callback URL, once it is ours, for this org and (``same_call``) this call."""
    token = _query_param(cb.query, "t") or ""
    try:
        claim = verify(cb.svc.verify_keys, token)
    except BadFlowToken as exc:
        raise Forbidden(f"call flow token refused: {exc}", code="bad_flow_token") from None
    if claim.kind not in kinds or claim.org != cb.org or (same_call and claim.call != cb.params.get("CallSid")):
        raise Forbidden("call flow token belongs to another callback, org or call", code="bad_flow_token")
    return claim


async def _run(cb: Callback, claim: FlowClaim, doc: dict[str, Any], to_end: list[str]) -> Reply:
    """The TwiML of the flow revision ``doc`` from the claim's position on. Member legs to end
    once it is sent (placed for a queue the caller already left) are added to ``to_end``."""
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
                _KIND[kind],
                cb.org,
                claim.flow,
                claim.rev,
                claim.call,
                resume,
                user=user,
                caller=cb.params.get("From", "") if recording else None,
            ),
        )
        return f"{base}{_ENDPOINT.get(kind, 'voice-flow')}?t={quote(token, safe='.')}"

    queue = queue_name(cb.org, claim.flow, claim.call)
    for verb in verbs:
        # Once per call and step: a retried webhook gets the same TwiML but calls nobody again.
        if isinstance(verb, Enqueue) and await svc.call_queues.ring_once(cb.org, claim.call, verb.step):
            try:
                to_end += await _call_members(cb, org, verb, callback("agent", Resume(verb.step), None), queue)
            except BaseException:
                await svc.call_queues.forget_ring(cb.org, claim.call, verb.step)
                raise
    return _twiml(render(verbs, callback, queue))


_KIND: dict[str, Kind] = {k: k for k in ("dial", "record", "recording", "queue", "wait", "agent")}
_ENDPOINT = {"recording": "voice-recording", "wait": "voice-queue-wait", "agent": "voice-queue-agent"}


async def _call_members(cb: Callback, org: Mapping[str, Any], verb: Enqueue, url: str, queue: str) -> list[str]:
    """Ask Twilio to call each member of a queue step, from the number the caller called, with the
    whisper TwiML at ``url``, and record the calls placed (to hang them up once the wait is
    settled). A refused call is logged: the caller still waits (and leaves at ``max_wait``, when the
    flow goes on). The calls to end at once: the wait was settled while they were placed."""
    account, number = cb.svc.vault.twilio_account(org), cb.params.get("To", "")
    if account is None or not number:
        log.warning("call flow queue of org %s: no Twilio account or called number; no member is called", cb.org)
        return []
    sid, token = account
    placed = await asyncio.gather(
        *(
            cb.svc.twilio.ring(sid, token, to=member, from_=number, url=url, ring_seconds=verb.timeout)
            for member in verb.numbers
        ),
        return_exceptions=True,
    )
    legs: list[str] = []
    for member, result in zip(verb.numbers, placed, strict=True):
        if isinstance(result, TwilioFailure):
            log.warning("call flow queue of org %s: Twilio refused to call %s: %s", cb.org, member, result.message)
        elif isinstance(result, BaseException):
            raise result
        else:
            legs.append(result.sid)
    # Settled while the calls were being placed (the caller hung up already): they end after the answer.
    return await cb.svc.call_queues.add_legs(cb.org, queue, legs)


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
    Route("/webhooks/twilio/{org}/voice-queue-wait", TwilioEndpoint("twilio.queue_wait", queue_wait), methods=["POST"]),
    Route(
        "/webhooks/twilio/{org}/voice-queue-agent", TwilioEndpoint("twilio.queue_agent", queue_agent), methods=["POST"]
    ),
    Route(
        "/webhooks/twilio/{org}/voice-queue-accept",
        TwilioEndpoint("twilio.queue_accept", queue_accept),
        methods=["POST"],
    ),
]
