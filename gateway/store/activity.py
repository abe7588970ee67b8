"""Per-contact activity (mail seen through IMAP) in Redis: a sorted set of JSON entries by time.

Adding is idempotent — an entry is derived only from its event, so a replayed event adds the same
member again, which changes nothing. Each contact keeps its newest :data:`MAX_ENTRIES` entries.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.store import keys

# Memory bound per contact; older entries are dropped first.
MAX_ENTRIES = 1000


class Activity:
    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def add(self, org: str, contact: str, entry: dict[str, Any], at_ms: int) -> None:
        key = keys.activity(org, contact)
        # Not a transaction (a Cluster client has none): an add between the two only gets trimmed too.
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {orjson.dumps(entry).decode(): at_ms})
            pipe.zremrangebyrank(key, 0, -(MAX_ENTRIES + 1))
            await pipe.execute()

    async def newest(self, org: str, contact: str, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` entries, newest first."""
        raw = await self._r.zrevrange(keys.activity(org, contact), 0, limit - 1)
        return [dict(orjson.loads(item)) for item in raw]

    async def count(self, org: str, contact: str) -> int:
        return int(await self._r.zcard(keys.activity(org, contact)))
