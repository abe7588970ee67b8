"""The send jobs' Redis steps, each one round trip.

A send job used to issue a dozen commands one at a time (create the notification, read the org,
the template, the contact, store fields, reserve, advance, claim, then four more after the
provider answered); redis-py costs 140–180 µs of Python CPU per command, more than the rest of
the job. Here each phase of a job is one round trip:

- :meth:`Sending.open`: create the notification (``notification_create.lua``) and read the org,
  the template and the named contact or user, in one pipeline;
- :meth:`Sending.sms_begin`: ``sms_begin.lua`` (fields, credits, ``sending``, the attempt claim);
- :meth:`Sending.sms_accepted`: ``sms_accepted.lua`` (sid, message link, attempt cleared, ``sent``);
- :meth:`Sending.email_begin`: ``email_begin.lua`` (daily cap, Message-ID, ``sending``);
- :meth:`Sending.email_sent`: the report count and ``sent``, two scripts in one pipeline.

The combined scripts include the single-purpose ones verbatim (``--#include``), so the rules —
credits never negative and charged once, the daily cap never exceeded, status only forward, one
provider call in flight — are the same code as before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from gateway.domain.notifications import RANK
from gateway.domain.quota import local_day, seconds_until_reset
from gateway.store import credits, email_usage, keys
from gateway.store.credits import LEDGER_MAX, Reservation
from gateway.store.email_usage import TTL_MARGIN_SECONDS, EmailReservation
from gateway.store.notifications import RETENTION_SECONDS, create_call, created_record
from gateway.store.pipeline import Round
from gateway.store.reports import count_notification_call
from gateway.store.scripts import Scripts

Command = tuple[Any, ...]
# ``to`` kinds whose record can be read by id in the first round trip.
_PARTY_KEYS = {"contact": keys.contacts, "user": keys.users}


@dataclass(frozen=True)
class Opened:
    """The notification as stored, and what its job reads before deciding anything."""

    record: dict[str, Any]
    created: bool
    org: dict[str, Any] | None
    template: dict[str, Any] | None
    # The contact or user ``to`` names (None: unknown), when ``party_loaded``.
    party: dict[str, Any] | None
    party_loaded: bool


@dataclass(frozen=True)
class SmsStart:
    reservation: Reservation
    verdict: str  # begin_attempt's: go | done | busy | stale ("" when not reserved)
    value: str


def _json(raw: str | None) -> dict[str, Any] | None:
    return None if raw is None else dict(orjson.loads(raw))


def _flat(fields: dict[str, Any]) -> list[Any]:
    return [item for pair in fields.items() for item in pair]


def _now() -> int:
    return int(time.time() * 1000)


class Sending:
    def __init__(self, redis: Redis, scripts: Scripts, ledger_max: int = LEDGER_MAX) -> None:
        self._r = redis
        self._s = scripts
        self._ledger_max = ledger_max

    async def _round(self, calls: list[tuple[AsyncScript, list[str], list[Any]]], reads: list[Command]) -> list[Any]:
        """The scripts (EVALSHA) then the reads, in one round trip (:class:`~gateway.store.pipeline.Round`:
        not a transaction — each script is atomic on its own, and they run in this order; a script
        refused with NOSCRIPT is loaded and sent again). Any error reply raises."""
        batch = Round(self._r)
        for script, keys_, args in calls:
            batch.script(script, keys_, args)
        for read in reads:
            batch.command(*read)
        replies = batch.slot(0, list)
        await batch.run()
        return replies.value

    async def open(self, org: str, rec: dict[str, Any], *, template: str | None) -> Opened:
        """Create ``rec`` unless it exists (as :meth:`Notifications.create`) and read what the job needs."""
        kind, value = next(iter(rec["to"].items())) if isinstance(rec.get("to"), dict) and rec["to"] else ("", "")
        party_key = _PARTY_KEYS.get(kind)
        reads: list[Command] = [("GET", keys.org(org)), ("HGET", keys.templates(org), template or "")]
        if party_key is not None:
            reads.append(("HGET", party_key(org), str(value)))
        created, org_raw, template_raw, *party = await self._round(
            [(self._s.notification_create, *create_call(org, rec))], reads
        )
        record, was_created = created_record(created)
        return Opened(
            record=record,
            created=was_created,
            org=_json(org_raw),
            template=_json(template_raw) if template else None,
            party=_json(party[0]) if party else None,
            party_loaded=party_key is not None,
        )

    async def sms_begin(
        self, org: str, nid: str, segments: int, fields: dict[str, Any], *, stale_ms: int, token: str, day: str
    ) -> SmsStart:
        """Store ``fields``, reserve ``segments`` credits (auto-recharge's window is ``day``, the
        org's local day), advance to ``sending``, claim the attempt; a cancelled notification
        changes nothing (outcome ``cancelled``)."""
        code, balance, verdict, value, crossing, owed = await self._s.sms_begin(
            keys=[
                keys.notification(org, nid),
                keys.notification_history(org, nid),
                keys.credits(org),
                keys.credit_ledger(org),
                keys.credits_low_owed(org),
            ],
            args=[segments, nid, _now(), self._ledger_max, stale_ms, token, RANK["sending"], day, *_flat(fields)],
        )
        return SmsStart(credits.reservation(code, balance, crossing, owed), str(verdict), str(value))

    async def sms_accepted(self, org: str, nid: str, sid: str, link: dict[str, str]) -> bool:
        """The provider took the message: sid, message link, attempt cleared and ``sent``, atomically."""
        advanced = await self._s.sms_accepted(
            keys=[keys.notification(org, nid), keys.notification_history(org, nid), keys.sms_status(org, sid)],
            args=[sid, _now(), RANK["sent"], f"{nid}:sent:{sid}", *_flat(link)],
        )
        return bool(advanced)

    async def email_begin(
        self,
        org: str,
        nid: str,
        *,
        bucket: str,
        cap: int,
        tz: str,
        now: datetime,
        message_id: str | None,
        fields: dict[str, Any],
        address: str,
        contact: str | None,
        marketing: bool,
    ) -> EmailReservation:
        """Consent (suppression; ``marketing`` consent of ``contact``) before the first count, then
        count the email in today's cap, record its Message-ID (when given) and ``fields``, advance
        to ``sending`` — one step (``email_begin.lua``)."""
        day = local_day(now, tz)
        code, used = await self._s.email_begin(
            keys=[
                keys.email_usage(org, day),
                keys.notification(org, nid),
                keys.notification_history(org, nid),
                keys.message_id(org, (message_id or "-").strip("<>")),
                keys.suppressions(org),
                keys.contacts(org),
            ],
            args=[
                bucket,
                cap,
                seconds_until_reset(now, tz) + TTL_MARGIN_SECONDS,
                day,
                _now(),
                RANK["sending"],
                f"{nid}:sending",
                RETENTION_SECONDS,
                nid if message_id else "",
                address.strip().lower(),
                contact or "",
                "1" if marketing else "0",
                *_flat(dict(fields, message_id=message_id) if message_id else {}),
            ],
        )
        return EmailReservation(email_usage.RESERVE_OUTCOMES[int(code)], int(used))

    async def email_sent(self, org: str, nid: str, *, tz: str, template: str | None, at_ms: int) -> bool:
        """The SMTP server took the mail: count it ``sent`` in the day's report (once), then advance
        it to ``sent``; one pipeline, in that order, so a break between the two leaves it counted
        and unfinished, and the rerun counts nothing twice."""
        count_keys, count_args = count_notification_call(org, tz, nid, template, "sent", at_ms)
        advance_keys = [keys.notification(org, nid), keys.notification_history(org, nid)]
        _, advanced = await self._round(
            [
                (self._s.report_once, count_keys, count_args),
                (self._s.advance_status, advance_keys, ["sent", RANK["sent"], f"{nid}:sent", _now(), ""]),
            ],
            [],
        )
        return bool(advanced)
