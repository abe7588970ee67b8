"""The ``segment_fanout`` job: one notification per member of a segment, a chunk per job step.

Step ``n`` reads the fan-out record (:mod:`gateway.store.segments`), walks the org's contacts in
id order from the recorded cursor until :data:`CHUNK` members are found (or the store's scan
bound is reached), submits one email per member through the one send path
(:func:`gateway.store.submission.submit`, idempotency key ``<key>:<contact>``, so caps and
consent apply to each at send time), then records the new cursor and counts and enqueues step
``n + 1`` (a job id of its own). A worker that dies mid-step leaves the record as it was: arq runs
the step again from the same cursor and every member it submits again is found by its key, so
nothing is sent twice. A step that finds the record already past it only makes sure the next
step is queued (it may have died between recording and enqueueing).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from gateway.domain.segments import matches, member_key
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
    nids: list[str] = []
    for i in range(0, len(members), PARALLEL):
        made = await asyncio.gather(*(_member(deps, org, rec, c["id"]) for c in members[i : i + PARALLEL]))
        nids += made
    fields = {
        "cursor": cursor,
        "step": step + 1,
        "total": int(rec["total"]) + len(members),
        "enqueued": int(rec["enqueued"]) + len(nids),
        "status": "running" if cursor is not None else "done",
    }
    await svc.segments.fanout_step(org, batch, nids, fields)
    if cursor is not None:
        await _next(deps, org, batch, step + 1)
    log.info("fan-out %s/%s step %d: %d member(s)", org, batch, step, len(members))
    return {"status": fields["status"], "members": len(members)}


async def _member(deps: Deps, org: str, rec: dict[str, Any], contact: str) -> str:
    body = dict(rec["body"], to={"contact": contact}, idempotency_key=member_key(rec["key"], contact))
    stored = await submit(deps.services.notifications, deps.services.jobs, org, body)
    return str(stored["id"])


async def _next(deps: Deps, org: str, batch: str, step: int) -> None:
    await deps.services.jobs.enqueue(
        SEGMENT_FANOUT, fanout_job_id(org, batch, step), None, org=org, batch=batch, step=step
    )
