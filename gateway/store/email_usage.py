"""Daily email counters per org and local calendar day, checked and counted atomically."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis

from gateway.domain.quota import EmailCaps, local_day, seconds_until_reset
from gateway.store import keys
from gateway.store.scripts import Scripts

# Keep a day's counters a little past its end so "yesterday" is still visible in /usage.
TTL_MARGIN_SECONDS = 2 * 86400


@dataclass(frozen=True)
class EmailReservation:
    outcome: str  # "counted" | "already_counted" | "limit" | "cancelled" | "suppressed" | "not_marketing"
    used: int


RESERVE_OUTCOMES = {1: "counted", 2: "already_counted", 0: "limit", 3: "cancelled", 4: "suppressed", 5: "not_marketing"}


class EmailUsage:
    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._s = scripts

    async def reserve(self, org: str, nid: str, bucket: str, cap: int, tz: str, now: datetime) -> EmailReservation:
        day = local_day(now, tz)
        code, used = await self._s.email_reserve(
            keys=[keys.email_usage(org, day), keys.notification(org, nid)],
            args=[bucket, cap, seconds_until_reset(now, tz) + TTL_MARGIN_SECONDS, day],
        )
        return EmailReservation(RESERVE_OUTCOMES[int(code)], int(used))

    async def release(self, org: str, nid: str, bucket: str) -> bool:
        """Un-count a notification that was counted but never sent (``email_release.lua``)."""
        day = await self._r.hget(keys.notification(org, nid), "counted_day")
        if day is None:
            return False
        released = await self._s.email_release(
            keys=[keys.email_usage(org, day), keys.notification(org, nid)], args=[bucket, day]
        )
        return bool(released)

    async def today(self, org: str, tz: str, now: datetime, caps: EmailCaps) -> dict[str, object]:
        day = local_day(now, tz)
        used = await self._r.hgetall(keys.email_usage(org, day))
        return {
            "day": day,
            "timezone": tz,
            "resets_in_seconds": seconds_until_reset(now, tz),
            "individual": {"used": int(used.get("individual", 0)), "limit": caps.individual},
            "mass": {"used": int(used.get("mass", 0)), "limit": caps.mass},
        }
