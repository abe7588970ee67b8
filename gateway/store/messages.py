"""SMS messages and calls in Redis, by provider sid: status in rank order, links, the call log.

Status callbacks may repeat or arrive out of order; every status change goes through the
``advance_status`` script with the ranks of :mod:`gateway.domain.status`, so a replayed or late
callback changes nothing. An SMS hash also links the message to the notification it was sent
for, the recipient and the user to tell; the call log is a sorted set of call sids by first-seen
time beside one hash per call.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.domain.status import CALL_RANK, SMS_RANK
from gateway.domain.telephony_calls import CallQuery, Cursor, call_row, other_party
from gateway.store import keys
from gateway.store.pipeline import Round, Slot
from gateway.store.scripts import Scripts, advance_args

# The call log reads its index in chunks of this many entries, and reads at most this many per
# page (a filter matching few calls of a long log answers a short page with a cursor, not a scan
# of the whole log).
LOG_CHUNK = 200
LOG_SCAN_BUDGET = 20_000
# How long a flow's "someone took the call" marker is kept: Twilio ends a call within 24 hours
# (TimeLimit's cap), so its final status comes before the marker expires.
ANSWERED_TTL = 24 * 3600


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

    async def mark_call_answered(self, org: str, sid: str, how: str) -> None:
        """Someone took inbound call ``sid`` of a flow (``how``: ``dial``, ``queue`` or
        ``voicemail``): its final status will not make it a missed call. Kept :data:`ANSWERED_TTL`."""
        await self._r.set(keys.call_answered(org, sid), how, ex=ANSWERED_TTL)

    def queue_flow_missed(self, batch: Round, org: str, sid: str, *, event_key: str) -> Slot[str | None]:
        """At an inbound call's final ``completed`` status (event ``event_key``): the flow's id when
        a flow handled the call and nobody took it (and the log row is marked ``missed``), else
        None (``call_flow_missed.lua``)."""
        first = batch.script(self._s.call_flow_missed, [keys.call(org, sid), keys.call_answered(org, sid)], [event_key])
        return batch.slot(first, lambda replies: str(replies[0]) if replies[0] else None)

    async def record_outbound_call(
        self,
        org: str,
        sid: str,
        status: str,
        *,
        at_ms: int,
        user: str,
        caller_id: str,
        callee: str,
        contact: str | None,
    ) -> None:
        """Log a call click-to-call just placed: whose it is, the caller ID and the callee (the
        status callbacks that follow describe its first leg, to the user's phone)."""
        fields = {"sid": sid, "direction": "outbound-api", "user": user, "out_from": caller_id, "out_to": callee}
        if contact:
            fields["contact"] = contact
        rank = CALL_RANK.get(status, 0)
        await self._r.zadd(keys.calls(org), {sid: at_ms}, nx=True)
        history = keys.call_history(org, sid)
        await self._s.advance(
            keys.call(org, sid), history, status, rank, event_key=f"create:{sid}", at_ms=at_ms, fields=fields
        )

    async def call_log(
        self, org: str, query: CallQuery, *, max_rows: int | None = None, budget: int = LOG_SCAN_BUDGET
    ) -> tuple[list[dict[str, Any]], Cursor | None]:
        """One page of the call log, newest first, and the cursor of the next page (None at the end).

        Reads the index between the query's times in chunks, after the query's cursor, and keeps
        the rows the filters match, up to ``max_rows`` (default: the query's limit). It stops after
        ``budget`` entries read, so a filter matching few calls of a long log answers a short page
        and a cursor rather than scanning the whole log; a page may be empty with a cursor."""
        want = max_rows or query.limit
        cursor = query.cursor
        top = query.until_ms - 1 if query.until_ms is not None else None  # ``to`` is exclusive
        if cursor is not None:
            top = cursor.started_ms if top is None else min(top, cursor.started_ms)
        hi = "+inf" if top is None else str(top)
        lo = "-inf" if query.since_ms is None else str(query.since_ms)
        rows: list[dict[str, Any]] = []
        offset = scanned = 0
        while True:
            chunk = await self._r.zrevrangebyscore(
                keys.calls(org), hi, lo, start=offset, num=LOG_CHUNK, withscores=True
            )
            offset += len(chunk)
            entries = [(sid, int(ms)) for sid, ms in chunk if cursor is None or cursor.before(int(ms), sid)]
            for i, (row, (sid, ms)) in enumerate(zip(await self._rows(org, entries), entries, strict=True)):
                if query.matches(row):
                    rows.append(row)
                    if len(rows) == want:
                        more = i < len(entries) - 1 or len(chunk) == LOG_CHUNK
                        return rows, Cursor(ms, sid) if more else None
            scanned += len(chunk)
            if len(chunk) < LOG_CHUNK:
                return rows, None
            if scanned >= budget:
                sid, ms = chunk[-1]
                return rows, Cursor(int(ms), sid)

    async def _rows(self, org: str, entries: list[tuple[str, int]]) -> list[dict[str, Any]]:
        """The log rows of ``entries`` (sid, first-seen ms), their contacts resolved in two more reads."""
        if not entries:
            return []
        async with self._r.pipeline(transaction=False) as pipe:
            for sid, _ in entries:
                pipe.hgetall(keys.call(org, sid))
            records: list[dict[str, str]] = await pipe.execute()
        # The stored contact, else the one whose phone is the other party's number.
        phones = [other_party(rec) if not rec.get("contact") else "" for rec in records]
        wanted = sorted({p for p in phones if p})
        by_phone = (
            dict(zip(wanted, await self._r.hmget(keys.contact_by_phone(org), wanted), strict=True)) if wanted else {}
        )
        ids = [rec.get("contact") or by_phone.get(phone) or "" for rec, phone in zip(records, phones, strict=True)]
        unique = sorted({i for i in ids if i})
        found = dict(zip(unique, await self._r.hmget(keys.contacts(org), unique), strict=True)) if unique else {}
        contacts = {cid: orjson.loads(raw) for cid, raw in found.items() if raw is not None}
        return [
            call_row(sid, ms, rec, contacts.get(cid) if cid else None)
            for (sid, ms), rec, cid in zip(entries, records, ids, strict=True)
        ]
