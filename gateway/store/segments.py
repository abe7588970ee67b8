"""Segments (stored definitions) and segment sends (the fan-out's progress), under the org's tag.

A segment send ("fan-out") is a hash created once per ``(org, idempotency key)``; the worker's
``segment_fanout`` job walks the org's contacts in id order from its ``cursor``, a chunk per job
step, and records after each chunk what it did for each member (a hash by contact and a sorted
set of the contacts, for pages) and then the new cursor, step and counts in one HSET (see
:mod:`workers.fanout`). Member notifications are made idempotently (``<key>:<contact>``), so a
step run twice makes nothing twice. ``done`` is not counted here: each member notification adds
itself to it, once, in the atomic step that gives it an outcome (``fanout_done.lua``), so reading
the progress costs one HGETALL however large the segment.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.store import keys
from gateway.store.scripts import Scripts

FANOUT_RETENTION_SECONDS = 30 * 86400


def _load(raw: str | None) -> dict[str, Any] | None:
    return None if raw is None else dict(orjson.loads(raw))


def contact_name(raw: str | None) -> str | None:
    """The ``name`` of a stored contact's JSON (None: no such contact, or no name)."""
    rec = _load(raw)
    name = rec.get("name") if rec is not None else None
    return name if isinstance(name, str) and name else None


class Segments:
    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._s = scripts

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
        """Create the fan-out unless it exists (True when created now), whole in one step
        (``fanout_create.lua``: a repeated request at the same moment finds all of it); kept 30 days."""
        pairs = [x for k, v in fields.items() for x in (k, orjson.dumps(v).decode())]
        created = await self._s.fanout_create(
            keys=[keys.fanout(org, batch)], args=[FANOUT_RETENTION_SECONDS, "id", batch, *pairs]
        )
        return bool(created)

    async def fanout(self, org: str, batch: str) -> dict[str, Any] | None:
        raw = await self._r.hgetall(keys.fanout(org, batch))
        if not raw or "key" not in raw:
            return None
        return {k: (v if k == "id" else orjson.loads(v)) for k, v in raw.items()}

    async def fanout_step(self, org: str, batch: str, results: list[dict[str, Any]], fields: dict[str, Any]) -> None:
        """Record a finished chunk: what it did for each member, then the new cursor/step/counts
        (never ``done``: the member notifications count that themselves)."""
        if results:
            async with self._r.pipeline(transaction=False) as pipe:
                pipe.hset(
                    keys.fanout_results(org, batch),
                    mapping={r["contact"]: orjson.dumps(r).decode() for r in results},
                )
                pipe.zadd(keys.fanout_order(org, batch), {r["contact"]: 0 for r in results})
                pipe.expire(keys.fanout_results(org, batch), FANOUT_RETENTION_SECONDS)
                pipe.expire(keys.fanout_order(org, batch), FANOUT_RETENTION_SECONDS)
                await pipe.execute()
        await self._r.hset(keys.fanout(org, batch), mapping={k: orjson.dumps(v).decode() for k, v in fields.items()})

    async def fanout_results(
        self, org: str, batch: str, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a send's per-member results, by contact id after ``after``, and the cursor
        of the next page (None at the end). Each result names its contact (``name``; None when the
        contact was deleted since, or has none): the page's results and contacts are read together,
        two HMGETs in one round trip, whatever the page's size."""
        low = "-" if after is None else "(" + after
        members = await self._r.zrangebylex(keys.fanout_order(org, batch), low, "+", start=0, num=limit + 1)
        page = members[:limit]
        if not page:
            return [], None
        async with self._r.pipeline(transaction=False) as pipe:  # one slot: the org's tag
            pipe.hmget(keys.fanout_results(org, batch), page)
            pipe.hmget(keys.contacts(org), page)
            raws, contacts = await pipe.execute()
        results = [
            dict(orjson.loads(raw), name=contact_name(contact))
            for raw, contact in zip(raws, contacts, strict=True)
            if raw is not None
        ]
        return results, (page[-1] if len(members) > limit else None)
