"""Message templates in Redis (one hash per org: id -> JSON) and each template's versions (one hash
per template: version -> JSON, written with every change; see
:mod:`gateway.domain.template_versions`)."""

from __future__ import annotations

import builtins
from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.domain.clock import now_ms
from gateway.domain.template_versions import history, is_live
from gateway.store import keys

VERSIONS_TTL_SECONDS = 400 * 86400  # as long as the report days that may name them


class Templates:
    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def get(self, org: str, tid: str) -> dict[str, Any] | None:
        raw = await self._r.hget(keys.templates(org), tid)
        return None if raw is None else dict(orjson.loads(raw))

    async def list(self, org: str) -> list[dict[str, Any]]:
        raw = await self._r.hvals(keys.templates(org))
        return sorted((orjson.loads(v) for v in raw), key=lambda t: (t["channel"], t["name"], t["id"]))

    async def put(self, org: str, rec: dict[str, Any], before: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store ``rec`` and the versions it changed since ``before`` (one round trip)."""
        rec = dict(rec, updated_ms=now_ms())
        rec.setdefault("created_ms", rec["updated_ms"])
        async with self._r.pipeline(transaction=False) as pipe:  # one slot: the org's tag
            pipe.hset(keys.templates(org), rec["id"], orjson.dumps(rec))
            self._queue_versions(pipe, org, before, rec)
            await pipe.execute()
        return rec

    async def create(self, org: str, rec: dict[str, Any]) -> bool:
        """Store a new template; False if the id exists (creation is not an upsert)."""
        now = now_ms()
        rec = dict(rec, created_ms=now, updated_ms=now)
        if not await self._r.hsetnx(keys.templates(org), rec["id"], orjson.dumps(rec)):
            return False
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.delete(keys.template_versions(org, rec["id"]))  # a deleted template's id used again
            self._queue_versions(pipe, org, None, rec)
            await pipe.execute()
        return True

    def _queue_versions(self, pipe: Any, org: str, before: dict[str, Any] | None, rec: dict[str, Any]) -> None:
        key = keys.template_versions(org, rec["id"])
        old = {} if before is None else {int(v["version"]): v for v in history(None, before)}
        for entry in history(before, rec):
            number = int(entry["version"])
            if old.get(number) == entry:
                continue  # unchanged by this write
            stamped = dict(entry, updated_ms=rec["updated_ms"])
            pipe.hset(key, str(number), orjson.dumps(stamped))
        pipe.expire(key, VERSIONS_TTL_SECONDS)

    async def versions(self, org: str, rec: dict[str, Any]) -> builtins.list[dict[str, Any]]:
        """Every version of ``rec`` kept, oldest first, each marked ``live`` or not."""
        raw = await self._r.hvals(keys.template_versions(org, rec["id"]))
        found = {int(v["version"]): v for v in (orjson.loads(x) for x in raw)}
        for entry in history(None, rec):  # templates created before versions were kept
            found.setdefault(int(entry["version"]), entry)
        return [dict(v, live=is_live(rec, n)) for n, v in sorted(found.items())]

    async def delete(self, org: str, tid: str) -> bool:
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hdel(keys.templates(org), tid)
            pipe.delete(keys.template_versions(org, tid))
            deleted, _ = await pipe.execute()
        return bool(deleted)
