"""The raw event log in Redis: ingest appends events to partition streams, routers consume them.

Appends are deduplicated and durable in one Lua step (``ingest.lua``). Routers read each partition
stream through the consumer group ``routers``: an entry stays pending until it is acknowledged,
the pending entries of a dead router (its heartbeat is gone, see ``gateway.store.heartbeat``) are
claimed by a live one with ``claim_orphans.lua``, entries pending far too long (a live router stuck
on them) are reclaimed with XAUTOCLAIM, and entries every router has acknowledged are trimmed.
The shape of an entry is :class:`gateway.domain.events.Event`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from gateway.domain import streamid
from gateway.domain.events import routing_key
from gateway.store import keys
from gateway.store.batching import ScriptBatcher
from gateway.store.pipeline import execute
from gateway.store.scripts import Scripts

# Providers retry for hours at most; a day of dedupe memory covers every documented retry.
DEDUPE_TTL_SECONDS = 86400

# One stream entry as redis-py returns it: (entry id, fields).
Entry = tuple[str, dict[str, str]]


def _entry(raw: list[Any]) -> Entry:
    """A stream entry from its RESP reply ``[id, [field, value, ...]]`` (``[id, nil]`` once deleted:
    no fields), or as redis-py's reply callback made it, ``(id, {field: value})`` (a Redis Cluster's
    pipeline always applies the callbacks: see :func:`gateway.store.pipeline.execute`)."""
    if isinstance(raw[1], dict):
        return str(raw[0]), raw[1]
    flat = iter(raw[1] or ())
    return str(raw[0]), dict(zip(flat, flat, strict=False))


@dataclass(frozen=True)
class Appended:
    id: str
    duplicate: bool
    partition: int


class EventLog:
    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._ingest = ScriptBatcher(redis, scripts.ingest)
        self._claim_orphans = scripts.claim_orphans
        self._lease = scripts.partition_lease

    async def append(self, org: str, source: str, data: dict[str, Any], dedupe_id: str | None = None) -> Appended:
        """Durably append one event; a ``dedupe_id`` this org already sent from ``source`` appends nothing.

        The partition is the org's and the event's routing key (the contact reference it carries,
        :func:`gateway.domain.events.routing_key`), derived here from the content so that every
        caller — and every retry of one delivery — picks the same one. A duplicate's ``id`` is the
        first event's, which is always this org's own."""
        partition = keys.partition_of(org, routing_key(source, data))
        event_keys = [keys.events_stream(partition)]
        if dedupe_id is not None:
            # Per org: another org's identical provider id is a different event (never a duplicate).
            event_keys.append(keys.ingest_dedupe(org, source, dedupe_id, partition))
        fields = ["org", org, "source", source, "at", str(int(time.time() * 1000)), "data", orjson.dumps(data)]
        fresh, entry_id = await self._ingest(event_keys, [DEDUPE_TTL_SECONDS, *fields])
        return Appended(id=entry_id, duplicate=not fresh, partition=partition)

    # -- consuming (routers) -------------------------------------------------------------------
    async def ensure_groups(self) -> None:
        """Create the router consumer group on every partition stream (existing ones are kept)."""
        for p in range(keys.PARTITIONS):
            try:
                await self._r.xgroup_create(keys.events_stream(p), keys.ROUTER_GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def join(self, consumer: str) -> None:
        """Create the groups (see :meth:`ensure_groups`) and ``consumer`` in each, so peers count it
        among the routers before it has read anything."""
        await self.ensure_groups()
        for p in range(keys.PARTITIONS):
            await self._r.xgroup_createconsumer(keys.events_stream(p), keys.ROUTER_GROUP, consumer)

    async def hold(self, partition: int, consumer: str, lease_ms: int) -> bool:
        """Take or renew the partition's lease (``partition_lease.lua``): True when ``consumer`` holds it."""
        held = await self._lease(keys=[keys.partition_lease(partition)], args=[consumer, "hold", lease_ms])
        return bool(held)

    async def release(self, partition: int, consumer: str) -> None:
        """Give the partition's lease back (a clean stop, or more partitions than its share)."""
        await self._lease(keys=[keys.partition_lease(partition)], args=[consumer, "release", 0])

    async def read(
        self, partition: int, consumer: str, count: int, block_ms: int, acked: Sequence[str] = ()
    ) -> list[Entry]:
        """New entries for ``consumer`` (waits up to ``block_ms``); they stay pending until acked.

        ``acked``: entries (the batch routed before) acknowledged first, in the same round trip:
        XACK then XREADGROUP on one connection, so the acknowledgement is applied before the read
        starts, whatever the read then does. An error of either raises (nothing was read)."""
        stream = keys.events_stream(partition)
        read = ("XREADGROUP", "GROUP", keys.ROUTER_GROUP, consumer, "COUNT", count, "BLOCK", block_ms)
        commands: list[tuple[Any, ...]] = [("XACK", stream, keys.ROUTER_GROUP, *acked)] if acked else []
        commands.append((*read, "STREAMS", stream, ">"))
        replies = await execute(self._r, commands, callbacks=False)
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return [entry for _stream, entries in replies[-1] or [] for entry in map(_entry, entries)]

    async def own_pending(self, partition: int, consumer: str, count: int, after: str) -> tuple[str, list[Entry]]:
        """Entries already delivered to ``consumer`` and not acked, after id ``after``: (the last id
        seen or "" when there are no more, the live entries). A restarted loop resumes with these."""
        stream = keys.events_stream(partition)
        resp = await self._r.xreadgroup(keys.ROUTER_GROUP, consumer, {stream: after}, count=count)
        entries = [entry for _stream, got in resp or [] for entry in got]
        if not entries:
            return "", []
        return str(entries[-1][0]), [e for e in entries if e[1]]  # deleted entries come back empty

    async def reclaim(
        self, partition: int, consumer: str, idle_ms: int, count: int, start: str
    ) -> tuple[str, list[Entry]]:
        """Take over entries pending longer than ``idle_ms``: (next start id, live entries)."""
        reply = await self._r.xautoclaim(
            keys.events_stream(partition), keys.ROUTER_GROUP, consumer, idle_ms, start_id=start, count=count
        )
        return reply[0], [e for e in reply[1] if e[1]]  # deleted entries come back empty

    async def consumers(self, partition: int) -> list[str]:
        """Every consumer the router group knows on this partition (with or without pending entries)."""
        infos = await self._r.xinfo_consumers(keys.events_stream(partition), keys.ROUTER_GROUP)
        return [str(info["name"]) for info in infos]

    async def claim_orphans(self, partition: int, dead: str, consumer: str, count: int) -> list[Entry]:
        """Move up to ``count`` pending entries of the ``dead`` consumer to ``consumer`` (atomically:
        each entry goes to one claimer); the dead consumer leaves the group once it has none left."""
        reply = await self._claim_orphans(
            keys=[keys.events_stream(partition)], args=[keys.ROUTER_GROUP, dead, consumer, count]
        )
        out: list[Entry] = []
        for item in reply or []:
            if not item or not item[1]:  # trimmed meanwhile: the script acknowledged it
                continue
            flat = item[1]
            out.append((str(item[0]), {str(flat[i]): str(flat[i + 1]) for i in range(0, len(flat), 2)}))
        return out

    async def ack(self, partition: int, *entry_ids: str) -> None:
        """Acknowledge entries (a whole batch in one XACK)."""
        if entry_ids:
            await self._r.xack(keys.events_stream(partition), keys.ROUTER_GROUP, *entry_ids)

    async def trim(self, partition: int) -> None:
        """Drop entries every router has acknowledged (older than the oldest pending one)."""
        stream = keys.events_stream(partition)
        groups = await self._r.xinfo_groups(stream)
        group = next((g for g in groups if g["name"] == keys.ROUTER_GROUP), None)
        if group is None:
            return
        floor = group["last-delivered-id"]
        pending = await self._r.xpending(stream, keys.ROUTER_GROUP)
        if pending["pending"]:
            floor = min(floor, pending["min"], key=streamid.parse)
        if floor != "0-0":
            await self._r.xtrim(stream, minid=floor, approximate=True)
