"""Reminders in Redis: one hash per org (id -> JSON record) and an id index for paging.

Every change is one ``reminder_write.lua`` step. A record carries a ``version`` that grows with
each reschedule or cancel; the job that sends it carries the version it was scheduled for, and a
job whose version is no longer current does nothing (so a reschedule is sent at the new time
only, and a cancelled reminder never).
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.domain.clock import now_ms
from gateway.store import keys
from gateway.store.scripts import Scripts

STATUSES = ("scheduled", "sending", "sent", "skipped", "failed", "cancelled")


class Reminders:
    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._s = scripts

    async def _write(self, op: str, org: str, rid: str, arg: Any) -> tuple[bool, dict[str, Any] | None]:
        done, raw = await self._s.reminder_write(
            keys=[keys.reminders(org), keys.reminder_index(org)], args=[op, rid, now_ms(), orjson.dumps(arg)]
        )
        return bool(done), (dict(orjson.loads(raw)) if raw else None)

    async def get(self, org: str, rid: str) -> dict[str, Any] | None:
        raw = await self._r.hget(keys.reminders(org), rid)
        return None if raw is None else dict(orjson.loads(raw))

    async def schedule(
        self, org: str, rid: str, fields: dict[str, Any], *, create: bool = True
    ) -> dict[str, Any] | None:
        """Create or reschedule (a new version, status ``scheduled``); ``create=False`` only
        changes an existing reminder that is not cancelled (else None)."""
        done, rec = await self._write("put" if create else "update", org, rid, fields)
        return rec if done else None

    async def cancel(self, org: str, rid: str) -> tuple[bool, dict[str, Any] | None]:
        """(cancelled, record): False with the record when it was already sent, skipped or failed."""
        return await self._write("cancel", org, rid, {})

    async def claim(self, org: str, rid: str, version: int) -> dict[str, Any] | None:
        """The record, now ``sending``, when ``version`` is current and it is still to send; else None."""
        done, rec = await self._write("claim", org, rid, version)
        return rec if done else None

    async def finish(self, org: str, rid: str, version: int, **fields: Any) -> bool:
        """Record the outcome (``status`` and its fields) of ``version``; a stale version changes nothing."""
        done, _ = await self._write("finish", org, rid, {"version": version, **fields})
        return done

    async def page(
        self, org: str, *, after: str | None, limit: int, user: str | None = None, status: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``limit`` reminders in id order after ``after``, filtered; (page, next cursor or None)."""
        out: list[dict[str, Any]] = []
        start = f"({after}" if after else "-"
        chunk = max(limit, 100)
        while len(out) < limit:
            ids = await self._r.zrangebylex(keys.reminder_index(org), start, "+", start=0, num=chunk)
            if not ids:
                return out, None
            raws = await self._r.hmget(keys.reminders(org), ids)
            for rid, raw in zip(ids, raws, strict=True):
                start = f"({rid}"
                if raw is None:
                    continue
                rec = dict(orjson.loads(raw))
                if (user is None or rec.get("user") == user) and (status is None or rec.get("status") == status):
                    out.append(rec)
                    if len(out) == limit:
                        more = await self._r.zrangebylex(keys.reminder_index(org), start, "+", start=0, num=1)
                        return out, (rid if more else None)
            if len(ids) < chunk:
                return out, None
        return out, None
