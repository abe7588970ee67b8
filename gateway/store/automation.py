"""Automation rules in Redis (one hash per org: rule id -> JSON) and the state an ``unread_for``
timer checks when it fires (the rule, and whether the signal is still unread), in one round trip.

The router reads the rules with the org (:meth:`gateway.store.tenancy.Tenancy.cached_orgs`), so
an org without rules costs nothing per event; a write here drops this process's cached org, and
other processes see it within ``ORG_CACHE_SECONDS``.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.domain.automation import Rule
from gateway.domain.clock import now_ms
from gateway.store import keys


class AutomationRules:
    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def get(self, org: str, rule: str) -> dict[str, Any] | None:
        raw = await self._r.hget(keys.automation_rules(org), rule)
        return None if raw is None else dict(orjson.loads(raw))

    async def list(self, org: str) -> list[dict[str, Any]]:
        raw = await self._r.hvals(keys.automation_rules(org))
        return sorted((dict(orjson.loads(v)) for v in raw), key=lambda r: str(r["id"]))

    async def count(self, org: str) -> int:
        return int(await self._r.hlen(keys.automation_rules(org)))

    async def put(self, org: str, rec: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
        now = now_ms()
        rec = dict(rec, created_ms=(stored or {}).get("created_ms", now), updated_ms=now)
        await self._r.hset(keys.automation_rules(org), rec["id"], orjson.dumps(rec))
        return rec

    async def delete(self, org: str, rule: str) -> bool:
        return bool(await self._r.hdel(keys.automation_rules(org), rule))

    async def timer_state(self, org: str, user: str, rule: str, signal_id: str) -> tuple[Rule | None, bool]:
        """(the rule now, whether the signal is still unread — in the inbox or away from it)."""
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hget(keys.automation_rules(org), rule)
            pipe.zscore(keys.unread(org, user), signal_id)
            pipe.zscore(keys.away_unread(org, user), signal_id)
            raw, inbox, away = await pipe.execute()
        rec = None if raw is None else Rule.of(orjson.loads(raw))
        return rec, inbox is not None or away is not None
