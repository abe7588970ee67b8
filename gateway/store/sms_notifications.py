"""SMS notification definitions in Redis (one hash per org: id -> JSON), and the contacts a
trigger names, read in one round trip."""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.store import keys


class SmsNotifications:
    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def get(self, org: str, nid: str) -> dict[str, Any] | None:
        raw = await self._r.hget(keys.sms_notifications(org), nid)
        return None if raw is None else dict(orjson.loads(raw))

    async def all(self, org: str) -> list[dict[str, Any]]:
        raw = await self._r.hvals(keys.sms_notifications(org))
        return sorted((dict(orjson.loads(v)) for v in raw), key=lambda d: str(d["id"]))

    async def put(self, org: str, rec: dict[str, Any]) -> None:
        await self._r.hset(keys.sms_notifications(org), rec["id"], orjson.dumps(rec))

    async def delete(self, org: str, nid: str) -> bool:
        return bool(await self._r.hdel(keys.sms_notifications(org), nid))

    async def contacts(self, org: str, ids: list[str]) -> list[dict[str, Any] | None]:
        """The contacts ``ids`` name, in order (None: unknown), with one HMGET."""
        if not ids:
            return []
        raws = await self._r.hmget(keys.contacts(org), ids)
        return [None if raw is None else dict(orjson.loads(raw)) for raw in raws]
