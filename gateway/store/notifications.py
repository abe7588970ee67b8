"""Notifications (outgoing SMS and email) in Redis: records, status order, lookups.

A notification's status only moves forward (see :data:`gateway.domain.notifications.RANK`);
every change is appended to its history. The same ``advance_status`` script as SMS and calls
applies it, so a replayed status callback or a job that runs twice changes nothing.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.domain.notifications import RANK, initial_status
from gateway.store import keys
from gateway.store.pipeline import Round, Slot
from gateway.store.scripts import Scripts, advance_args

# Notifications (and their Message-ID index) are kept this long for status, replies and bounces.
RETENTION_SECONDS = 180 * 86400
_JSON_FIELDS = ("to", "data")


def _decode(raw: dict[str, str]) -> dict[str, Any]:
    rec: dict[str, Any] = dict(raw)
    for name in _JSON_FIELDS:
        if name in rec:
            rec[name] = orjson.loads(rec[name])
    for name in ("rank", "charged", "segments", "created_ms", "updated_ms", "template_version"):
        if name in rec and rec[name].lstrip("-").isdigit():
            rec[name] = int(rec[name])
    return rec


def create_call(org: str, rec: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of ``notification_create.lua`` for ``rec``."""
    now = int(time.time() * 1000)
    fields = {k: (orjson.dumps(v).decode() if k in _JSON_FIELDS else v) for k, v in rec.items() if v is not None}
    status = initial_status(rec.get("send_at"), now)
    fields.update({"status": status, "rank": RANK[status], "created_ms": now, "updated_ms": now})
    return (
        [keys.notification(org, rec["id"]), keys.notification_history(org, rec["id"])],
        [now, RETENTION_SECONDS, *(item for pair in fields.items() for item in pair)],
    )


def created_record(result: list[Any]) -> tuple[dict[str, Any], bool]:
    """(stored record, created now) from ``notification_create.lua``'s answer."""
    created, flat = result
    return _decode(dict(zip(flat[::2], flat[1::2], strict=True))), bool(created)


class Notifications:
    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._s = scripts

    async def create(self, org: str, rec: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store ``rec`` (status queued) unless it exists; returns (stored record, created).

        One script (``notification_create.lua``): the API and the worker may create the same
        notification at the same moment, and both must see a whole record.
        """
        keys_, args = create_call(org, rec)
        return created_record(await self._s.notification_create(keys=keys_, args=args))

    async def get(self, org: str, nid: str) -> dict[str, Any] | None:
        raw = await self._r.hgetall(keys.notification(org, nid))
        return _decode(raw) if raw and "status" in raw else None

    def queue_get(self, batch: Round, org: str, nid: str) -> Slot[dict[str, Any] | None]:
        """:meth:`get` as part of ``batch``."""
        first = batch.command("HGETALL", keys.notification(org, nid))
        return batch.slot(first, lambda replies: _decode(replies[0]) if replies[0] and "status" in replies[0] else None)

    async def history(self, org: str, nid: str) -> list[dict[str, Any]]:
        out = []
        for entry in await self._r.lrange(keys.notification_history(org, nid), 0, -1):
            ms, status, *reason = entry.split(" ", 2)
            item: dict[str, Any] = {"status": status, "at_ms": int(ms)}
            if reason:
                item["reason"] = reason[0]
            out.append(item)
        return out

    async def advance(
        self, org: str, nid: str, status: str, *, event_key: str, reason: str | None = None, **extra: Any
    ) -> bool:
        """Move to ``status`` if it ranks higher than the current one; ``event_key`` makes it idempotent."""
        fields = ({} if reason is None else {"reason": reason}) | extra
        return await self._s.advance(
            keys.notification(org, nid),
            keys.notification_history(org, nid),
            status,
            RANK[status],
            event_key=event_key,
            at_ms=int(time.time() * 1000),
            note=reason or "",
            fields=fields,
        )

    def queue_advance(self, batch: Round, org: str, nid: str, status: str, *, event_key: str) -> None:
        """:meth:`advance` (without reason or fields) as part of ``batch``."""
        args = advance_args(status, RANK[status], event_key=event_key, at_ms=int(time.time() * 1000))
        batch.script(self._s.advance_status, [keys.notification(org, nid), keys.notification_history(org, nid)], args)

    async def set_fields(self, org: str, nid: str, **fields: Any) -> None:
        await self._r.hset(keys.notification(org, nid), mapping=fields)

    # -- the provider attempt (exactly-once SMS; see ``begin_attempt.lua``) ---------------------
    async def begin_attempt(
        self, org: str, nid: str, now_ms: int, stale_ms: int, token: str, seen_stale: str
    ) -> tuple[str, str]:
        """(verdict, value): ``go``, ``done`` (provider sid), ``busy`` (age ms) or ``stale`` (attempt ms)."""
        verdict, value = await self._s.begin_attempt(
            keys=[keys.notification(org, nid)], args=[now_ms, stale_ms, token, seen_stale]
        )
        return str(verdict), str(value)

    async def clear_attempt(self, org: str, nid: str) -> None:
        """The attempt has an outcome: nothing is in flight for this notification any more."""
        await self._r.hdel(keys.notification(org, nid), "attempt_ms", "attempt_token")

    async def adopt_provider_sid(self, org: str, nid: str, sid: str) -> bool:
        """Record ``sid`` as the provider's message unless one is recorded already."""
        return bool(await self._r.hsetnx(keys.notification(org, nid), "provider_sid", sid))

    def queue_adopt_provider_sid(self, batch: Round, org: str, nid: str, sid: str) -> None:
        """:meth:`adopt_provider_sid` as part of ``batch``."""
        batch.command("HSETNX", keys.notification(org, nid), "provider_sid", sid)

    async def link_message_id(self, org: str, message_id: str, nid: str) -> None:
        await self._r.set(keys.message_id(org, message_id.strip("<>")), nid, ex=RETENTION_SECONDS)

    async def by_message_id(self, org: str, message_id: str) -> dict[str, Any] | None:
        nid = await self._r.get(keys.message_id(org, message_id.strip().strip("<>")))
        return None if nid is None else await self.get(org, nid)

    async def join_fanout(self, org: str, nid: str, batch: str, done_rank: int) -> bool:
        """Make notification ``nid`` (made before, under a member's key) a member of segment send
        ``batch`` unless it is one of a send already (``fanout_join.lua``): True when it joined now."""
        joined = await self._s.fanout_join(
            keys=[keys.notification(org, nid), keys.fanout(org, batch)], args=[done_rank]
        )
        return bool(joined)

    async def cancel(self, org: str, nid: str) -> tuple[bool | None, str]:
        """Cancel a ``queued`` or ``scheduled`` notification (``notification_cancel.lua``):
        (True, "cancelled"), (False, its status) when it is sending or done, (None, "") when unknown."""
        done, status = await self._s.notification_cancel(
            keys=[keys.notification(org, nid), keys.notification_history(org, nid)],
            args=[int(time.time() * 1000), RANK["cancelled"]],
        )
        return (None if int(done) < 0 else bool(done)), str(status)
