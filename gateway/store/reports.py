"""Email report counters: per org, per local calendar day (org's time zone), per template.

Counters are kept per day (``sg:{org}:report:<YYYY-MM-DD>``); weeks and months are sums of days
computed when the report is read. Opens, clicks, replies and bounces count once per notification
(a flag in the notification hash, set in the same atomic step as the increment).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from gateway.domain.quota import local_day
from gateway.domain.reports import summarise
from gateway.store import keys
from gateway.store.pipeline import Round
from gateway.store.scripts import Scripts

# Days are kept a little over a year so monthly reports can compare the same month last year.
RETENTION_SECONDS = 400 * 86400
MAX_DAYS = 400


def _day(ms: int, tz: str) -> str:
    return local_day(datetime.fromtimestamp(ms / 1000, tz=UTC), tz)


def _fields(field: str, template: str | None) -> list[str]:
    return [field, f"t:{template}:{field}"] if template else [field]


def count_notification_call(
    org: str, tz: str, nid: str, template: str | None, field: str, at_ms: int
) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of ``report_once.lua`` counting ``field`` once for a notification."""
    day = _day(at_ms, tz)
    return (
        [keys.notification(org, nid), keys.report_day(org, day)],
        [f"{field}_ms", at_ms, RETENTION_SECONDS, "0", *_fields(field, template)],
    )


class Reports:
    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._s = scripts

    async def count_notification(
        self, org: str, tz: str, nid: str, template: str | None, field: str, at_ms: int
    ) -> bool:
        """Count ``field`` once for this notification (flag ``<field>_ms`` in its hash)."""
        keys_, args = count_notification_call(org, tz, nid, template, field, at_ms)
        counted = await self._s.report_once(keys=keys_, args=args)
        return bool(counted)

    def queue_count_notification(
        self, batch: Round, org: str, tz: str, nid: str, template: str | None, field: str, at_ms: int
    ) -> None:
        """:meth:`count_notification` as part of ``batch``."""
        day = _day(at_ms, tz)
        batch.script(
            self._s.report_once,
            [keys.notification(org, nid), keys.report_day(org, day)],
            [f"{field}_ms", at_ms, RETENTION_SECONDS, "0", *_fields(field, template)],
        )

    async def count_event(
        self, org: str, tz: str, event_key: str, field: str, at_ms: int, template: str | None = None
    ) -> bool:
        """Count ``field`` once for an event that has no notification (e.g. received mail)."""
        day = _day(at_ms, tz)
        counted = await self._s.report_once(
            keys=[keys.report_seen(org, day), keys.report_day(org, day)],
            args=[f"{event_key}:{field}", at_ms, RETENTION_SECONDS, "1", *_fields(field, template)],
        )
        return bool(counted)

    async def rows(self, org: str, start: date, end: date, group: str) -> dict[str, Any]:
        """Report rows (per ``group`` bucket), totals and per-template totals between two local dates."""
        days = [(start + timedelta(days=i)) for i in range((end - start).days + 1)]
        async with self._r.pipeline(transaction=False) as pipe:
            for d in days:
                pipe.hgetall(keys.report_day(org, d.isoformat()))
            per_day = await pipe.execute()
        return summarise(dict(zip(days, per_day, strict=True)), group)
