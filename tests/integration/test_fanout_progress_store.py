"""A segment send's ``done`` in a real Redis, through the store (no processes): each member
notification counts itself once, in the atomic step that first gives it an outcome (advance_status,
notification_cancel), a notification made before joins with its outcome, replays and later
statuses count nothing, and an expired send is not recreated."""

from __future__ import annotations

import uuid
from typing import Any, cast

from redis.asyncio import Redis

from gateway.domain.segments import new_fanout, public_fanout
from gateway.store import keys
from gateway.store.jobs import JobQueue
from gateway.store.notifications import Notifications
from gateway.store.scripts import load_scripts
from gateway.store.segments import Segments
from gateway.store.submission import submit


class _Jobs:
    """Stands in for the queue: the store is under test, not the workers."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def enqueue(self, name: str, job_id: str, *args: Any, **kwargs: Any) -> None:
        self.ids.append(job_id)


def _sms(key: str) -> dict[str, Any]:
    return {"channel": "sms", "template": "t1", "to": {"phone": "+819011112222"}, "data": {}, "kind": "auto",
            "idempotency_key": key}  # fmt: skip


async def test_members_count_themselves_done_once_as_their_status_becomes_final(redis_client: Redis) -> None:
    scripts = load_scripts(redis_client)
    notes, segments = Notifications(redis_client, scripts), Segments(redis_client, scripts)
    jobs = cast(JobQueue, _Jobs())
    org, batch = "fo-" + uuid.uuid4().hex[:8], "fo_" + uuid.uuid4().hex[:24]
    fields = new_fanout("s1", "k", "2030-01-01T00:00:00Z", body={"channel": "email"})
    assert await segments.create_fanout(org, batch, fields)
    assert not await segments.create_fanout(org, batch, fields | {"segment": "other"})  # found, unchanged

    async def done() -> int:
        rec = await segments.fanout(org, batch)
        assert rec is not None and rec["segment"] == "s1"
        return int(public_fanout(rec)["done"])

    # c4 had a notification under its member key before the send: it joins, its outcome counted.
    early = await submit(notes, jobs, org, _sms("k:c4"))
    assert await notes.advance(org, early["id"], "sent", event_key="e4")
    members = [await submit(notes, jobs, org, _sms(f"k:c{i}"), fanout=batch) for i in (1, 2, 3, 4)]
    assert members[3]["id"] == early["id"] and await done() == 1
    await submit(notes, jobs, org, _sms("k:c4"), fanout=batch)  # a step run again: joins nothing twice
    n1, n2, n3 = (m["id"] for m in members[:3])
    assert await notes.advance(org, n1, "sending", event_key="s1") and await done() == 1
    assert await notes.advance(org, n1, "sent", event_key="a1") and await done() == 2
    assert await notes.advance(org, n1, "sent", event_key="a1") and await done() == 2  # a replay
    assert await notes.advance(org, n1, "delivered", event_key="d1") and await done() == 2  # already done
    assert await notes.advance(org, n2, "failed", event_key="f2") and await done() == 3
    assert await notes.cancel(org, n3) == (True, "cancelled") and await done() == 4
    assert await notes.cancel(org, n3) == (True, "cancelled") and await done() == 4
    assert not await notes.advance(org, n3, "sent", event_key="late") and await done() == 4

    # A send that expired (30 days) is not recreated by a late status of one of its members.
    late = await submit(notes, jobs, org, _sms("k:c5"), fanout=batch)
    await redis_client.delete(keys.fanout(org, batch))
    assert await notes.advance(org, late["id"], "sent", event_key="a5")
    assert not await redis_client.exists(keys.fanout(org, batch))
