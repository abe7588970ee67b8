"""Routing a run of events together (the I/O half; decisions in :mod:`gateway.routing.batch_rules`
and :mod:`gateway.routing.rules`).

One run costs a fixed number of Redis round trips, however many events it holds:

1. every contact reference of the run (one ``find_contacts`` script call per org), the SMS status
   moves of status callbacks, the notifications tracking hits and bounces are about, and whether
   an inbound call a flow answered ended with nobody taking it (``call_flow_missed``);
2. only when SMS status callbacks moved something: the notifications those messages belong to;
3. every write: notification links and moves, the call log, report counts, and the feed writes
   of each org in one ``apply_signal`` call, in stream order (which is each feed's order);
4. only when some signal's user does not exist: the "unmatched" counts.

Each write is idempotent on its own (feed writes by the event's done marker, status moves by
rank and event id, report counts by flag, counts by marker), so a run interrupted anywhere and
routed again — the whole batch is, since nothing is acknowledged before it is done — changes
nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.domain.events import Event
from gateway.domain.flow_missed import flow_call_ended
from gateway.routing.automation import Automation, rules_for
from gateway.routing.batch_rules import (
    NOTIFICATION_STATUS,
    StatusUpdate,
    by_org,
    call_update,
    chunks,
    named_user,
    recipient,
    sms_notification,
    sms_recipient,
    sms_update,
)
from gateway.routing.mail_signals import about_mail
from gateway.routing.rules import Draft, contact_ref, draft, group_on, missed_in_flow, signal_body
from gateway.services import Services
from gateway.store.feed import FeedWrite, WriteResult
from gateway.store.pipeline import Round, Slot
from gateway.store.tenancy import AUTOMATION

# Signals per apply_signal call: bounds how long one script holds Redis (each signal costs it about
# 20-40 µs; 64 keep a call near 2 ms, so other clients — ingest, WebSocket hellos — barely wait).
MAX_WRITES_PER_CALL = 64
# Events about a mail we sent: its notification is read with the contacts (round 1).
MAIL_SOURCES = frozenset({"track.open", "track.click", "send.email_bounced"})

Record = dict[str, Any]


@dataclass(eq=False, slots=True)
class _Item:
    """One event on its way through the round trips of a run."""

    event: Event
    org: Record
    contacts: Slot[list[Record | None]] | None = None
    contact_at: int = -1
    sms: StatusUpdate | None = None
    sms_moved: Slot[tuple[bool, dict[str, str]]] | None = None
    notification: Slot[Record | None] | None = None
    draft: Draft | None = None
    preferred: str | None = None
    flow_missed: Slot[str | None] | None = None  # a flow's call nobody took: the flow's id

    @property
    def contact(self) -> Record | None:
        return self.contacts.value[self.contact_at] if self.contacts is not None else None


class BatchRouter:
    def __init__(self, services: Services) -> None:
        self._svc = services
        self._m = services.metrics
        self._automation = Automation(services)

    async def route(self, events: list[Event], orgs: dict[str, Record | None]) -> None:
        """Route a run of events of sources in ``BATCHED`` (events of unknown orgs are skipped)."""
        items = [_Item(e, org) for e in events if (org := orgs.get(e.org)) is not None]
        if not items:
            return
        await self._lookups(items)
        await self._sms_notifications(items)
        await self._write(items)

    # -- round 1: contacts, SMS status moves, tracked notifications ----------------------------
    async def _lookups(self, items: list[_Item]) -> None:
        svc = self._svc
        first = Round(svc.redis)
        for org, group in by_org(items, lambda it: it.event.org).items():
            refs: dict[tuple[str, str], int] = {}  # each reference once: a batch names few contacts
            for it in group:
                ev = it.event
                if ev.source == "twilio.sms_status":
                    it.sms = sms_update(ev)
                    if it.sms is None:
                        continue  # nothing we rank: no status move, no signal
                    it.sms_moved = svc.messages.queue_advance_sms(
                        first, org, it.sms.sid, it.sms.status, event_key=ev.key, at_ms=ev.at_ms, fields=it.sms.fields
                    )
                else:
                    it.draft = draft(ev, None, country=it.org.get("country"))
                    if it.draft is None and ev.source != "twilio.voice_status":
                        continue
                    if ev.source in MAIL_SOURCES and ev.data.get("notification"):
                        # The mail an open, click or bounce is about (its kind and subject: mail_signals).
                        it.notification = svc.notifications.queue_get(first, org, str(ev.data["notification"]))
                    it.preferred = named_user(ev)
                    if ev.source == "twilio.voice_status" and flow_call_ended(ev.data) and ev.data.get("CallSid"):
                        # Answered by a flow: missed if nobody took it (gateway.domain.flow_missed).
                        sid = str(ev.data["CallSid"])
                        it.flow_missed = svc.messages.queue_flow_missed(first, org, sid, event_key=ev.key)
                if it.draft is None and it.sms is None and it.flow_missed is None:
                    continue  # a call status that makes no signal: only the call log moves
                lookup = contact_ref(ev)
                if lookup is not None:
                    it.contact_at = refs.setdefault((lookup.kind, lookup.value), len(refs))
            if refs:
                slot = svc.tenancy.queue_find_contacts(first, org, list(refs))
                for it in group:
                    if it.contact_at >= 0:
                        it.contacts = slot
        await first.run()

    # -- round 2: the notifications of SMS whose status moved ----------------------------------
    async def _sms_notifications(self, items: list[_Item]) -> None:
        second = Round(self._svc.redis)
        for it in items:
            if it.sms_moved is not None:
                nid = sms_notification(it.event, it.sms_moved.value[1])
                if nid:
                    it.notification = self._svc.notifications.queue_get(second, it.event.org, nid)
        await second.run()

    # -- round 3: every write ------------------------------------------------------------------
    async def _write(self, items: list[_Item]) -> None:
        svc = self._svc
        third = Round(svc.redis)
        writes: list[tuple[_Item, FeedWrite]] = []
        unmatched: list[_Item] = []
        for it in items:
            ev = it.event
            self._queue_side_effects(third, it)
            if it.flow_missed is not None and (flow := it.flow_missed.value) is not None:
                it.draft = missed_in_flow(ev, flow, it.org.get("country"))
            if it.draft is None:
                continue
            contact = it.contact
            user = recipient(it.preferred, contact)
            if user is None:
                unmatched.append(it)
                continue
            if ev.source in MAIL_SOURCES:
                it.draft = about_mail(it.draft, it.notification.value if it.notification is not None else None)
            body = signal_body(it.org, user, contact, it.draft, ev.at_ms)
            writes.append((it, FeedWrite(user, ev.key, it.draft.type, group_on(it.draft, contact), body)))
        results: list[tuple[list[tuple[_Item, FeedWrite]], Slot[list[WriteResult]]]] = []
        for org, group in by_org(writes, lambda w: w[0].event.org).items():
            for part in chunks(group, MAX_WRITES_PER_CALL):
                results.append((part, svc.feed.queue_writes(third, org, [w for _, w in part])))
        await third.run()
        out: dict[tuple[str, str], int] = {}  # signals written, by type and kind: counted once a batch
        for part, slot in results:
            for (it, w), result in zip(part, slot.value, strict=True):
                if result.status == "no_user":
                    unmatched.append(it)
                elif result.status in ("new", "grouped"):
                    out[w.signal_type, result.status] = out.get((w.signal_type, result.status), 0) + 1
        for (signal_type, kind), n in out.items():
            self._m.signals_out.labels(signal_type, kind).inc(n)
        await self._fire_rules(results)
        await self._count_unmatched(unmatched)

    async def _fire_rules(self, results: list[tuple[list[tuple[_Item, FeedWrite]], Slot[list[WriteResult]]]]) -> None:
        """Automation rules on the new signals (idempotent per rule and signal; a replayed event —
        ``duplicate`` — fires again, harmlessly, so a router that died right after the write loses
        nothing). Nothing to do, and no I/O, for orgs without rules on these types."""
        for part, slot in results:
            if not part[0][0].org.get(AUTOMATION):  # a part is one org's: without rules, skip it whole
                continue
            for (it, w), result in zip(part, slot.value, strict=True):
                if result.status in ("new", "duplicate") and rules_for(it.org, w.signal_type):
                    title = str(w.body.get("title") or "")
                    replay = result.status == "duplicate"
                    await self._automation.on_signal(
                        it.org, w.user, result.signal_id, w.signal_type, it.contact, title, replay=replay
                    )

    def _queue_side_effects(self, batch: Round, it: _Item) -> None:
        """What an event changes besides a feed: the call log, SMS and notification statuses,
        report counts. An SMS status callback gets its draft here (once its move is known)."""
        ev = it.event
        if ev.source == "twilio.voice_status":
            call = call_update(ev)
            if call is not None:
                self._svc.messages.queue_advance_call(
                    batch, ev.org, call.sid, call.status, event_key=ev.key, at_ms=ev.at_ms, fields=call.fields
                )
        elif ev.source == "twilio.recording":
            d = ev.data
            if d.get("CallSid") and d.get("RecordingUrl"):
                fields = {"recording_url": str(d["RecordingUrl"]), "flow": str(d.get("_flow") or "")}
                if str(d.get("RecordingDuration") or "").isdigit():
                    fields["recording_duration"] = str(d["RecordingDuration"])
                self._svc.messages.queue_set_call_fields(batch, ev.org, str(d["CallSid"]), **fields)
        elif ev.source == "twilio.sms_status":
            self._queue_sms_links(batch, it)
        elif ev.source in ("track.open", "track.click"):
            self._queue_tracking_counts(batch, it)

    def _queue_sms_links(self, batch: Round, it: _Item) -> None:
        """Carry an SMS status to its notification (adopting the sid if the worker never recorded
        it); when the status moved, the signal it makes (``it.draft``) and who hears of it."""
        if it.sms is None or it.sms_moved is None:
            return
        ev, update = it.event, it.sms
        moved, sms = it.sms_moved.value
        rec = it.notification.value if it.notification is not None else None
        if rec is not None:
            nid = sms_notification(ev, sms)
            notifications = self._svc.notifications
            if not rec.get("provider_sid"):
                notifications.queue_adopt_provider_sid(batch, ev.org, nid, update.sid)
                self._svc.messages.queue_link_sms(batch, ev.org, update.sid, notification=nid)
            mapped = NOTIFICATION_STATUS.get(update.status)
            if mapped:
                notifications.queue_advance(batch, ev.org, nid, mapped, event_key=ev.key)
        if moved:
            it.preferred = sms_recipient(sms, rec)
            it.draft = draft(ev, None, update.status, it.org.get("country"))

    def _queue_tracking_counts(self, batch: Round, it: _Item) -> None:
        """First open / first click of a sent email counts in the report (once per notification)."""
        rec = it.notification.value if it.notification is not None else None
        if rec is None:
            return
        ev = it.event
        nid, tz = str(ev.data["notification"]), it.org.get("timezone", "UTC")
        field = "opened" if ev.source == "track.open" else "clicked"
        reports = self._svc.reports
        reports.queue_count_notification(batch, ev.org, tz, nid, rec.get("template"), field, ev.at_ms)
        if field == "clicked":  # a click proves the mail was opened, even with images blocked
            reports.queue_count_notification(batch, ev.org, tz, nid, rec.get("template"), "opened", ev.at_ms)

    # -- round 4 (rare): events whose signal found no user -------------------------------------
    async def _count_unmatched(self, items: list[_Item]) -> None:
        if not items:
            return
        fourth = Round(self._svc.redis)
        sources: dict[str, int] = {}
        for it in items:
            sources[it.event.source] = sources.get(it.event.source, 0) + 1
            self._svc.stats.queue_count_once(fourth, it.event.org, it.event.key, "unmatched", it.event.source)
        for source, n in sources.items():
            self._m.events_unmatched.labels(source).inc(n)
        await fourth.run()
