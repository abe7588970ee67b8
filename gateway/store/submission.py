"""The one path of every send: create (or find, by idempotency key) a notification, then queue it.

Used by ``POST .../notifications``, a user's action on a signal and the segment fan-out job, so
the rules are the same for all: the record is created (atomically) before it is enqueued, so the
job always finds it. A repeated request for a notification still queued enqueues again: if the
first attempt died between the two steps, the repeat sends it; otherwise arq refuses the job id it
already holds.
"""

from __future__ import annotations

from typing import Any

from gateway.domain.notifications import CANCELLABLE
from gateway.domain.segments import DONE_RANK
from gateway.domain.send_request import parse_send_at, send_record
from gateway.store import keys
from gateway.store.jobs import SEND_EMAIL, SEND_SMS, JobQueue, send_job_id
from gateway.store.notifications import Notifications


async def submit(
    notifications: Notifications, jobs: JobQueue, org_id: str, body: dict[str, Any], *, fanout: str | None = None
) -> dict[str, Any]:
    """The stored notification record (400 for a malformed body). With ``fanout`` it is a member of
    that segment send: made with the send's key and the rank from which it counts as done, so the
    status change that gives it an outcome counts it in the send's ``done`` (``fanout_done.lua``)."""
    rec = send_record(org_id, body.get("channel"), body, fallback_key=None)
    if rec["idempotency_key"] is None:
        rec["idempotency_key"] = rec["id"]
    if fanout is not None:
        rec |= {"fanout_key": keys.fanout(org_id, fanout), "fanout_rank": DONE_RANK}
    existing, created = await notifications.create(org_id, rec)
    if fanout is not None and not created and "fanout_key" not in existing:  # made before, by another send
        await notifications.join_fanout(org_id, rec["id"], fanout, DONE_RANK)
    if existing["status"] in CANCELLABLE:  # queued or scheduled: not started yet
        job_kwargs = {k: v for k, v in body.items() if v is not None} | {"org": org_id, "notification": rec["id"]}
        job_kwargs.setdefault("idempotency_key", rec["idempotency_key"])
        await jobs.enqueue(
            SEND_SMS if rec["channel"] == "sms" else SEND_EMAIL,
            send_job_id(org_id, rec["idempotency_key"]),
            parse_send_at(body.get("send_at")),
            **job_kwargs,
        )
    return existing
