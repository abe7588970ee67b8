"""Segments (stored definitions) and segment sends (the fan-out's progress), under the org's tag.

A segment send ("fan-out") is a hash created once per ``(org, idempotency key)``; the worker's
``segment_fanout`` job walks the org's contacts in id order from its ``cursor``, a chunk per job
step, and records after each chunk the new cursor, step and counts in one HSET (see
:mod:`workers.fanout`). Member notifications are made idempotently (``<key>:<contact>``), so a
step run twice makes nothing twice.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.store import keys

FANOUT_RETENTION_SECONDS = 30 * 86400
# Statuses of a member notification that count as done for a fan-out's progress.
_DONE = ("sent", "delivered", "read", "undelivered", "failed", "bounced", "rejected", "cancelled")
_STATUS_CHUNK = 1000


def _load(raw: str | None) -> dict[str, Any] | None:
    return None if raw is None else dict(orjson.loads(raw))


class Segments:
    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def get(self, org: str, segment: str) -> dict[str, Any] | None:
        return _load(await self._r.hget(keys.segments(org), segment))

    async def put(self, org: str, rec: dict[str, Any]) -> bool:
        """Store the segment; True when it is new."""
        return bool(await self._r.hset(keys.segments(org), rec["id"], orjson.dumps(rec)))

    async def delete(self, org: str, segment: str) -> bool:
        return bool(await self._r.hdel(keys.segments(org), segment))

    async def all(self, org: str) -> list[dict[str, Any]]:
        return sorted((orjson.loads(v) for v in await self._r.hvals(keys.segments(org))), key=lambda s: s["id"])

    # -- fan-outs -----------------------------------------------------------------------------
    async def create_fanout(self, org: str, batch: str, fields: dict[str, Any]) -> bool:
        """Create the fan-out unless it exists (True when created now); kept 30 days."""
        key = keys.fanout(org, batch)
        created = await self._r.hsetnx(key, "id", batch)
        if created:
            await self._r.hset(key, mapping={k: orjson.dumps(v).decode() for k, v in fields.items()})
            await self._r.expire(key, FANOUT_RETENTION_SECONDS)
        return bool(created)

    async def fanout(self, org: str, batch: str) -> dict[str, Any] | None:
        raw = await self._r.hgetall(keys.fanout(org, batch))
        if not raw or "body" not in raw:
            return None
        return {k: (v if k == "id" else orjson.loads(v)) for k, v in raw.items()}

    async def fanout_step(self, org: str, batch: str, nids: list[str], fields: dict[str, Any]) -> None:
        """Record a finished chunk: its member notifications, then the new cursor/step/counts."""
        if nids:
            await self._r.sadd(keys.fanout_members(org, batch), *nids)
            await self._r.expire(keys.fanout_members(org, batch), FANOUT_RETENTION_SECONDS)
        await self._r.hset(keys.fanout(org, batch), mapping={k: orjson.dumps(v).decode() for k, v in fields.items()})

    async def fanout_done_count(self, org: str, batch: str) -> int:
        """How many member notifications reached an outcome (sent, rejected, bounced, ...)."""
        nids = list(await self._r.smembers(keys.fanout_members(org, batch)))
        done = 0
        for i in range(0, len(nids), _STATUS_CHUNK):
            async with self._r.pipeline(transaction=False) as pipe:
                for nid in nids[i : i + _STATUS_CHUNK]:
                    pipe.hget(keys.notification(org, nid), "status")
                statuses = await pipe.execute()
            done += sum(1 for s in statuses if s in _DONE)
        return done
