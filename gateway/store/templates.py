"""Message templates in Redis (one hash per org: id -> JSON)."""

from __future__ import annotations

import time
from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.store import keys


class Templates:
    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def get(self, org: str, tid: str) -> dict[str, Any] | None:
        raw = await self._r.hget(keys.templates(org), tid)
        return None if raw is None else dict(orjson.loads(raw))

    async def list(self, org: str) -> list[dict[str, Any]]:
        raw = await self._r.hvals(keys.templates(org))
        return sorted((orjson.loads(v) for v in raw), key=lambda t: (t["channel"], t["name"], t["id"]))

    async def put(self, org: str, rec: dict[str, Any]) -> dict[str, Any]:
        rec = dict(rec, updated_ms=int(time.time() * 1000))
        rec.setdefault("created_ms", rec["updated_ms"])
        await self._r.hset(keys.templates(org), rec["id"], orjson.dumps(rec))
        return rec

    async def create(self, org: str, rec: dict[str, Any]) -> bool:
        """Store a new template; False if the id exists (creation is not an upsert)."""
        now = int(time.time() * 1000)
        rec = dict(rec, created_ms=now, updated_ms=now)
        return bool(await self._r.hsetnx(keys.templates(org), rec["id"], orjson.dumps(rec)))

    async def delete(self, org: str, tid: str) -> bool:
        return bool(await self._r.hdel(keys.templates(org), tid))
