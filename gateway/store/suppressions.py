"""Per-org suppression list and the consent check a marketing email passes before it is counted.

An address lands here when mail to it hard-bounced (SMTP 5xx at send, a DSN 5.x.x) or when a
recipient without a contact record used the one-click unsubscribe; mail to it is then rejected
``suppressed`` until ``DELETE /api/v1/orgs/{org}/suppressions/{address}``. Keys are under the org's
hash tag; addresses are hash fields, never part of a key or a pattern.
"""

from __future__ import annotations

import bisect
from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.store import keys


class Suppressions:
    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def add(self, org: str, address: str, reason: str, at: str) -> bool:
        """Suppress ``address``; the first reason and time stay (True when it was new)."""
        entry = orjson.dumps({"reason": reason, "at": at})
        return bool(await self._r.hsetnx(keys.suppressions(org), address.strip().lower(), entry))

    async def remove(self, org: str, address: str) -> bool:
        return bool(await self._r.hdel(keys.suppressions(org), address.strip().lower()))

    async def page(self, org: str, after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Entries ordered by address after ``after``, and the next cursor (None at the end)."""
        addresses = sorted(await self._r.hkeys(keys.suppressions(org)))
        start = bisect.bisect_right(addresses, after) if after is not None else 0
        chosen = addresses[start : start + limit]
        raws = await self._r.hmget(keys.suppressions(org), chosen) if chosen else []
        out = [
            {"address": address, **orjson.loads(raw)}
            for address, raw in zip(chosen, raws, strict=True)
            if raw is not None
        ]
        more = start + limit < len(addresses)
        return out, (chosen[-1] if more and chosen else None)

    async def refusal(self, org: str, address: str, contact: str | None, marketing: bool) -> str | None:
        """Why an email to ``address`` (``contact``) must not go, else None; one round trip.

        ``suppressed`` for a suppressed address; for a ``marketing`` send (mass, auto, scheduled,
        macro) ``not_marketing`` when the contact's ``marketing`` is false."""
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hexists(keys.suppressions(org), address.strip().lower())
            if marketing and contact:
                pipe.hget(keys.contacts(org), contact)
            replies = await pipe.execute()
        if replies[0]:
            return "suppressed"
        if len(replies) > 1 and replies[1] is not None and not orjson.loads(replies[1]).get("marketing", False):
            return "not_marketing"
        return None
