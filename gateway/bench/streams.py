"""Events appended straight to the private stack's event log, and what the routers made of them.

The ``route`` and ``failover`` scenarios feed the routers through :class:`EventLog.append` (the
call every ingest endpoint makes, with the same dedupe step and the payload the Standard
Webhooks endpoint stores), so that neither HTTP nor signature checks limit what reaches the
routers. The producer is closed-loop: it keeps ``window`` events appended and not yet routed, so
the routers never run dry and the backlog stays bounded (progress is read from the feeds).
Only the self-contained stack is driven this way (it needs the Redis URL).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.exceptions import ResponseError

from gateway.bench.feedtimes import FeedEntry, FeedWrite, feed_writes, refill
from gateway.bench.payloads import EVENT_TYPE
from gateway.store import keys
from gateway.store.connect import open_client
from gateway.store.event_log import EventLog
from gateway.store.scripts import load_scripts

# The source and shape the Standard Webhooks endpoint appends (gateway/ingest/webhooks.py).
SOURCE = "webhook"
# How often the producer looks at the feeds while the backlog is full: often enough that the
# routers never run dry (at 10,000 events/s a fifth of a 1,000-event window goes per look), rarely
# enough that the looking costs the routers little CPU or Redis time.
_POLL_SECONDS = 0.02
_XRANGE_CHUNK = 2000


@dataclass
class Produced:
    """One closed-loop load: what was appended, when, and how full the backlog stayed."""

    seqs: list[int] = field(default_factory=list)
    started_ms: int = 0
    stopped_ms: int = 0
    min_backlog: int | None = None  # after the first fill; 0 means the routers ran dry once
    polls: int = 0


class EventLoad:
    """A Redis client on the private stack, the event log, and the routers' consumer group."""

    def __init__(self, redis_url: str, *, cluster: bool = False) -> None:
        self.r = open_client(redis_url, cluster=cluster)
        self.log = EventLog(self.r, load_scripts(self.r))

    async def aclose(self) -> None:
        await self.r.aclose()

    # -- producing ------------------------------------------------------------------------------
    async def append(self, org: str, contacts: list[str], seq: int) -> None:
        event: dict[str, Any] = {
            "type": EVENT_TYPE,
            "contact": {"id": contacts[seq % len(contacts)]},
            "title": "ベンチマーク回答",
            "body": "",
            "data": {"seq": seq},
        }
        await self.log.append(org, SOURCE, event, dedupe_id=f"msg_route_{org}_{seq}")

    async def routed(self, feeds: list[str]) -> int:
        """Entries in these feeds (one per routed event)."""
        async with self.r.pipeline(transaction=False) as pipe:
            for feed in feeds:
                pipe.xlen(feed)
            lengths: list[int] = await pipe.execute()
        return sum(lengths)

    async def closed_loop(
        self, org: str, contacts: list[str], feeds: list[str], seconds: float, window: int, seq0: int
    ) -> Produced:
        """Append for ``seconds``, keeping ``window`` events appended and not yet routed."""
        out = Produced(started_ms=int(time.time() * 1000))
        base = await self.routed(feeds)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            routed = await self.routed(feeds) - base
            backlog = len(out.seqs) - routed
            if out.seqs:
                out.polls += 1
                out.min_backlog = backlog if out.min_backlog is None else min(out.min_backlog, backlog)
            want = refill(len(out.seqs), routed, window)
            if want:
                batch = range(seq0 + len(out.seqs), seq0 + len(out.seqs) + want)
                await asyncio.gather(*(self.append(org, contacts, s) for s in batch))
                out.seqs.extend(batch)
            else:
                await asyncio.sleep(_POLL_SECONDS)
        out.stopped_ms = int(time.time() * 1000)
        return out

    async def wait_routed(self, feeds: list[str], expected: int, stall: float) -> int:
        """Until the feeds hold ``expected`` entries, or nothing moved for ``stall`` seconds."""
        last, last_change = -1, time.monotonic()
        while True:
            now_routed = await self.routed(feeds)
            if now_routed >= expected:
                return now_routed
            if now_routed != last:
                last, last_change = now_routed, time.monotonic()
            elif time.monotonic() - last_change > stall:
                return now_routed
            await asyncio.sleep(0.05)

    # -- reading back ---------------------------------------------------------------------------
    async def writes_since(self, feeds: list[str], since_ms: int) -> list[FeedWrite]:
        """The bench's events written to these feeds at or after ``since_ms``."""
        out: list[FeedWrite] = []
        for feed in feeds:
            start = f"{since_ms}-0"
            while True:
                page: list[FeedEntry] = await self.r.xrange(feed, min=start, max="+", count=_XRANGE_CHUNK)
                out += feed_writes(page)
                if len(page) < _XRANGE_CHUNK:
                    break
                start = "(" + page[-1][0]
        return out

    # -- the routers' consumer group ------------------------------------------------------------
    async def consumer_of(self, pid: int) -> str | None:
        """The consumer name of router process ``pid`` (``<host>-<pid>-<random>``) once it reads."""
        for p in range(keys.PARTITIONS):
            try:
                infos = await self.r.xinfo_consumers(keys.events_stream(p), keys.ROUTER_GROUP)
            except ResponseError:  # no stream or group yet
                continue
            for info in infos:
                if f"-{pid}-" in str(info["name"]):
                    return str(info["name"])
        return None

    async def pending_count(self, consumer: str) -> int:
        """Entries ``consumer`` has read and not acknowledged, over every partition."""
        total = 0
        for p in range(keys.PARTITIONS):
            try:
                summary = await self.r.xpending(keys.events_stream(p), keys.ROUTER_GROUP)
            except ResponseError:
                continue
            total += sum(int(c["pending"]) for c in summary["consumers"] or [] if c["name"] == consumer)
        return total

    async def held_by(self, consumer: str) -> dict[int, list[str]]:
        """Every pending entry id of ``consumer``, by partition."""
        out: dict[int, list[str]] = {}
        for p in range(keys.PARTITIONS):
            stream = keys.events_stream(p)
            try:
                rows = await self.r.xpending_range(stream, keys.ROUTER_GROUP, "-", "+", 100_000, consumername=consumer)
            except ResponseError:
                continue
            if rows:
                out[p] = [str(row["message_id"]) for row in rows]
        return out

    async def seqs_of(self, held: dict[int, list[str]]) -> list[int]:
        """The bench sequence numbers of these event-log entries (read before they are trimmed)."""
        out: list[int] = []
        for p, ids in held.items():
            for entry_id in ids:
                for _id, fields in await self.r.xrange(keys.events_stream(p), min=entry_id, max=entry_id):
                    seq = _seq_of(fields)
                    if seq is not None:
                        out.append(seq)
        return out

    async def still_pending(self, held: dict[int, list[str]]) -> int:
        """How many of ``held`` are pending in the group, with any consumer."""
        left = 0
        for p, ids in held.items():
            wanted = set(ids)
            rows = await self.r.xpending_range(
                keys.events_stream(p), keys.ROUTER_GROUP, min(ids, key=_id_key), max(ids, key=_id_key), 100_000
            )
            left += sum(1 for row in rows if str(row["message_id"]) in wanted)
        return left


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _seq_of(fields: dict[str, str]) -> int | None:
    seq = (orjson.loads(fields.get("data") or "{}").get("data") or {}).get("seq")
    return seq if isinstance(seq, int) else None
