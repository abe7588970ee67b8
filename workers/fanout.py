"""The ``segment_fanout`` job: one notification per member of a segment, a chunk per job step.

Step ``n`` reads the fan-out record (:mod:`gateway.store.segments`), walks the org's contacts in
id order from the recorded cursor until :data:`CHUNK` members are found (or the store's scan
bound is reached), submits one notification per member through the one send path
(:func:`gateway.store.submission.submit`, idempotency key ``<key>:<contact>``, so caps, consent
and credits apply to each at send time) — the email body of a ``to: {segment}`` send, or the SMS
notification's template to the member's phone of its ``phone_field`` (a member without one is
skipped: ``no_phone_in_field``) — then records each member's result, the new cursor and counts,
and enqueues step ``n + 1`` (a job id of its own). A worker that dies mid-step leaves the record as it was: arq runs
the step again from the same cursor and every member it submits again is found by its key, so
nothing is sent twice. A step that finds the record already past it only makes sure the next
step is queued (it may have died between recording and enqueueing).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from gateway.domain.errors import ApiError
from gateway.domain.segments import SMS_NOTIFICATION, matches, member_key
from gateway.domain.sms_notifications import member_send
from gateway.store.jobs import SEGMENT_FANOUT, fanout_job_id
from gateway.store.submission import submit
from workers.deps import Deps

log = logging.getLogger("signalgate.fanout")
CHUNK = 200  # members per step
PARALLEL = 20  # member submissions in flight at once


async def segment_fanout(ctx: dict[str, Any], *, org: str, batch: str, step: int) -> dict[str, Any]:
    deps: Deps = ctx["deps"]
    svc = deps.services
    rec = await svc.segments.fanout(org, batch)
    if rec is None:
        return {"status": "gone"}
    if rec["status"] == "done":
        return {"status": "done", "note": "already done"}
    if int(rec["step"]) != step:  # an older step run again: the chain moved on; keep it going
        await _next(deps, org, batch, int(rec["step"]))
        return {"status": "running", "note": f"step {step} was done"}
    segment = await svc.segments.get(org, rec["segment"])
    if segment is None:
        await svc.segments.fanout_step(org, batch, [], {"status": "done", "reason": "segment_not_found"})
        return {"status": "done", "reason": "segment_not_found"}
    match = segment["match"]
    members, cursor = await svc.tenancy.page_contacts(org, rec["cursor"], CHUNK, lambda c: matches(match, c))
    results: list[dict[str, Any]] = []
    for i in range(0, len(members), PARALLEL):
        results += await asyncio.gather(*(_member(deps, org, batch, rec, c) for c in members[i : i + PARALLEL]))
    made = sum(1 for r in results if "notification" in r)
    fields = {
        "cursor": cursor,
        "step": step + 1,
        "total": int(rec["total"]) + len(members),
        "enqueued": int(rec["enqueued"]) + made,
        "skipped": int(rec.get("skipped") or 0) + len(results) - made,
        "status": "running" if cursor is not None else "done",
    }
    await svc.segments.fanout_step(org, batch, results, fields)
    if cursor is not None:
        await _next(deps, org, batch, step + 1)
    log.info("fan-out %s/%s step %d: %d member(s), %d skipped", org, batch, step, len(members), len(members) - made)
    return {"status": fields["status"], "members": len(members)}


def _member_body(rec: dict[str, Any], contact: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """What the send gives this member: (its notification body, None) or (None, why none)."""
    if rec.get("kind") == SMS_NOTIFICATION:
        return member_send(rec["sms_notification"], contact, rec.get("data") or {}, rec["key"])
    return dict(rec["body"], to={"contact": contact["id"]}, idempotency_key=member_key(rec["key"], contact["id"])), None


async def _member(deps: Deps, org: str, batch: str, rec: dict[str, Any], contact: dict[str, Any]) -> dict[str, Any]:
    """The member's result: ``{"contact", "notification"}``, or ``{"contact", "error"}`` when it
    gets none (no phone in the field; a send the one send path refuses as malformed)."""
    cid = contact["id"]
    body, why = _member_body(rec, contact)
    if body is None:
        return {"contact": cid, "error": why}
    try:
        stored = await submit(deps.services.notifications, deps.services.jobs, org, body, fanout=batch)
    except ApiError as e:  # e.g. a stored number the send path no longer takes: skip it, say why
        return {"contact": cid, "error": e.code}
    return {"contact": cid, "notification": str(stored["id"])}


async def _next(deps: Deps, org: str, batch: str, step: int) -> None:
    await deps.services.jobs.enqueue(
        SEGMENT_FANOUT, fanout_job_id(org, batch, step), None, org=org, batch=batch, step=step
    )
