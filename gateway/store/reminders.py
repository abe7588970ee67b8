"""Reminders in Redis (one hash per org: id -> JSON with status scheduled|sent|skipped|failed)."""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.store import keys


class Reminders:
    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def get(self, org: str, rid: str) -> dict[str, Any] | None:
        raw = await self._r.hget(keys.reminders(org), rid)
        return None if raw is None else dict(orjson.loads(raw))

    async def put(self, org: str, rec: dict[str, Any]) -> None:
        await self._r.hset(keys.reminders(org), rec["id"], orjson.dumps(rec))
