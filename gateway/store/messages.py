"""SMS messages and calls in Redis, by provider sid: status in rank order, links, the call log.

Status callbacks may repeat or arrive out of order; every status change goes through the
``advance_status`` script with the ranks of :mod:`gateway.domain.status`, so a replayed or late
callback changes nothing. An SMS hash also links the message to the notification it was sent
for, the recipient and the user to tell; the call log is a sorted set of call sids by first-seen
time beside one hash per call.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from gateway.domain.signals import iso_utc
from gateway.domain.status import CALL_RANK, SMS_RANK
from gateway.store import keys
from gateway.store.pipeline import Round, Slot
from gateway.store.scripts import Scripts, advance_args

CALL_COLUMNS = (
    "sid", "direction", "from", "to", "status", "duration", "started_at", "updated_at", "flow", "recording_url",
)  # fmt: skip


class Messages:
    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._s = scripts

    # -- SMS ------------------------------------------------------------------------------------
    async def advance_sms(
        self, org: str, sid: str, status: str, *, event_key: str, at_ms: int, fields: dict[str, str]
    ) -> tuple[bool, dict[str, str]]:
        """Move message ``sid`` to ``status`` if it ranks higher; (advanced, the message's hash)."""
        key = keys.sms_status(org, sid)
        advanced = await self._s.advance(
            key, keys.sms_history(org, sid), status, SMS_RANK[status], event_key=event_key, at_ms=at_ms, fields=fields
        )
        return advanced, await self._r.hgetall(key)

    def queue_advance_sms(
        self, batch: Round, org: str, sid: str, status: str, *, event_key: str, at_ms: int, fields: dict[str, str]
    ) -> Slot[tuple[bool, dict[str, str]]]:
        """:meth:`advance_sms` as part of ``batch``."""
        key = keys.sms_status(org, sid)
        args = advance_args(status, SMS_RANK[status], event_key=event_key, at_ms=at_ms, fields=fields)
        first = batch.script(self._s.advance_status, [key, keys.sms_history(org, sid)], args)
        batch.command("HGETALL", key)
        return batch.slot(first, lambda replies: (bool(replies[0]), replies[1]))

    def queue_link_sms(self, batch: Round, org: str, sid: str, **link: str) -> None:
        """:meth:`link_sms` as part of ``batch``."""
        batch.command("HSET", keys.sms_status(org, sid), *(x for pair in link.items() for x in pair))

    async def link_sms(self, org: str, sid: str, **link: str) -> None:
        """Record what message ``sid`` belongs to (``notification``, ``to``, ``user``)."""
        await self._r.hset(keys.sms_status(org, sid), mapping=link)

    # -- calls ----------------------------------------------------------------------------------
    async def advance_call(
        self, org: str, sid: str, status: str, *, event_key: str, at_ms: int, fields: dict[str, str]
    ) -> None:
        """Add the call to the log (first seen at ``at_ms``) and move it to ``status``."""
        await self._r.zadd(keys.calls(org), {sid: at_ms}, nx=True)
        history = keys.call_history(org, sid)
        await self._s.advance(
            keys.call(org, sid), history, status, CALL_RANK[status], event_key=event_key, at_ms=at_ms, fields=fields
        )

    def queue_advance_call(
        self, batch: Round, org: str, sid: str, status: str, *, event_key: str, at_ms: int, fields: dict[str, str]
    ) -> None:
        """:meth:`advance_call` as part of ``batch``."""
        batch.command("ZADD", keys.calls(org), "NX", at_ms, sid)
        args = advance_args(status, CALL_RANK[status], event_key=event_key, at_ms=at_ms, fields=fields)
        batch.script(self._s.advance_status, [keys.call(org, sid), keys.call_history(org, sid)], args)

    async def set_call_fields(self, org: str, sid: str, **fields: str) -> None:
        """Add what the call flows know to a call's log row (``flow``, ``recording_url``)."""
        await self._r.hset(keys.call(org, sid), mapping=fields)

    def queue_set_call_fields(self, batch: Round, org: str, sid: str, **fields: str) -> None:
        """:meth:`set_call_fields` as part of ``batch``."""
        batch.command("HSET", keys.call(org, sid), *(item for pair in fields.items() for item in pair))

    async def call_log(self, org: str, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` calls, newest first, as rows of :data:`CALL_COLUMNS`."""
        entries = await self._r.zrevrange(keys.calls(org), 0, limit - 1, withscores=True)
        async with self._r.pipeline(transaction=False) as pipe:
            for sid, _ in entries:
                pipe.hgetall(keys.call(org, sid))
            records = await pipe.execute()
        return [_call_row(sid, int(started), rec) for (sid, started), rec in zip(entries, records, strict=True)]


def _call_row(sid: str, started_ms: int, rec: dict[str, str]) -> dict[str, Any]:
    return {
        "sid": sid,
        "direction": rec.get("direction", ""),
        "from": rec.get("from", ""),
        "to": rec.get("to", ""),
        "status": rec.get("status", ""),
        "duration": int(rec["duration"]) if rec.get("duration", "").isdigit() else None,
        "started_at": iso_utc(started_ms),
        "updated_at": iso_utc(int(rec["updated_ms"])) if rec.get("updated_ms") else None,
        "flow": rec.get("flow") or None,
        "recording_url": rec.get("recording_url") or None,
    }
