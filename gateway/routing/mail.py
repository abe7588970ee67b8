"""Routing of ``imap.mail`` events (the I/O half; the rules are in :mod:`gateway.routing.mail_rules`).

Called by :meth:`gateway.routing.router.Router.handle` for every ``imap.mail`` event. Every write is
idempotent per event — feed writes by the event key, report counts by flag, status moves by the
``advance_status`` script, activity entries by content, leads by a deterministic id — so a router
that dies mid-event and is replayed changes nothing the second time.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.domain.errors import ApiError
from gateway.domain.events import Event
from gateway.domain.notifications import FINAL
from gateway.domain.signals import iso_utc
from gateway.domain.tenancy import merge_contact
from gateway.routing.automation import Automation, rules_for
from gateway.routing.mail_rules import (
    MailFacts,
    Party,
    activity_entry,
    bounce_ids,
    bounce_is_final,
    bounce_kind,
    bounce_reason,
    bounced_draft,
    classify,
    created_body,
    created_id,
    creation_kind,
    dropbox_recipients,
    facts,
    received_draft,
    replied_draft,
    reply_ids,
    sender_addresses,
)
from gateway.routing.mail_signals import about_mail
from gateway.routing.rules import Draft, signal_body
from gateway.services import Services

log = logging.getLogger("signalgate.router")
Record = dict[str, Any]


class MailRouter:
    def __init__(self, services: Services) -> None:
        self._stats = services.stats
        self._tenancy = services.tenancy
        self._feed = services.feed
        self._m = services.metrics
        self._notifications = services.notifications
        self._reports = services.reports
        self._activity = services.activity
        self._automation = Automation(services)
        self._suppressions = services.suppressions

    async def handle(self, event: Event, org: Record) -> None:
        f = facts(event.data)
        kind = classify(f)
        if kind == "dropbox":
            await self._dropbox(event, org, f)
        elif kind == "sent":
            await self._sent_mail(event, f)
        elif kind == "bounce":
            await self._bounce(event, org, f)
        elif kind == "auto":
            await self._count(event, "auto_reply")
        elif kind == "mail":
            await self._mail(event, org, f)
        # kind == "report": a success/relay report about delivery; nothing to tell anyone

    # -- inbox ----------------------------------------------------------------------------------
    async def _mail(self, event: Event, org: Record, f: MailFacts) -> None:
        org_id, tz = event.org, org.get("timezone", "UTC")
        contact = await self._tenancy.contact_by_email(org_id, f.sender.email) if f.sender else None
        sent = await self._sent(org_id, reply_ids(f))
        if sent is not None:
            contact = contact or await self._contact_of(org_id, sent)
            user = sent.get("sender") or sent.get("user") or (contact or {}).get("owner")
            draft = replied_draft(f, sent["id"])
            await self._reports.count_notification(org_id, tz, sent["id"], sent.get("template"), "replied", event.at_ms)
        elif contact is not None:
            user, draft = f.mailbox_user, received_draft(f)
        else:
            await self._count(event, "unmatched")
            return
        await self._reports.count_event(org_id, tz, event.key, "received", event.at_ms)
        if contact is not None:
            entry = activity_entry(event.key, iso_utc(event.at_ms), f, "inbound", f.mailbox_user)
            await self._activity.add(org_id, contact["id"], entry, event.at_ms)
        await self._signal(event, org, user, contact, draft)

    async def _bounce(self, event: Event, org: Record, f: MailFacts) -> None:
        org_id = event.org
        sent = await self._sent(org_id, bounce_ids(f))
        if sent is None:
            await self._count(event, "unmatched")
            return
        nid = sent["id"]
        if bounce_is_final(f):
            moved = await self._notifications.advance(
                org_id, nid, "bounced", event_key=event.key, reason=bounce_reason(f), bounce=bounce_kind(f)
            )
            if not moved:  # already bounced (e.g. refused at SMTP time) or read: one signal is enough
                return
            tz = org.get("timezone", "UTC")
            await self._reports.count_notification(org_id, tz, nid, sent.get("template"), "bounced", event.at_ms)
            if bounce_kind(f) == "hard" and sent.get("recipient"):  # a DSN 5.x.x: no more mail to it
                reason = f"dsn_{(f.report or {}).get('status') or '5.0.0'}"
                await self._suppressions.add(org_id, str(sent["recipient"]), reason, iso_utc(event.at_ms))
        elif sent.get("status") in FINAL:
            return  # a late "still retrying" notice about mail whose fate is known
        contact = await self._contact_of(org_id, sent)
        user = sent.get("sender") or sent.get("user") or (contact or {}).get("owner")
        await self._signal(event, org, user, contact, about_mail(bounced_draft(f, nid), sent))

    async def _sent(self, org_id: str, ids: list[str]) -> Record | None:
        """The email notification one of ``ids`` was sent as, if any."""
        for mid in ids:
            rec = await self._notifications.by_message_id(org_id, mid)
            if rec is not None and rec.get("channel", "email") == "email":
                return rec
        return None

    async def _contact_of(self, org_id: str, sent: Record) -> Record | None:
        cid = sent.get("contact")
        return await self._tenancy.get_contact(org_id, str(cid)) if cid else None

    # -- dropbox --------------------------------------------------------------------------------
    async def _dropbox(self, event: Event, org: Record, f: MailFacts) -> None:
        org_id = event.org
        senders = sender_addresses(await self._tenancy.list_users(org_id))
        sender = senders.get(f.sender.email) if f.sender else None
        if sender is None:  # only mail a rep sent is captured; anything else could plant leads
            await self._count(event, "dropbox_refused")
            return
        entry = activity_entry(event.key, iso_utc(event.at_ms), f, "outbound", sender)
        create = creation_kind(org)
        for party in dropbox_recipients(f, set(senders)):
            contact = await self._tenancy.contact_by_email(org_id, party.email)
            if contact is None:
                if create is None:
                    await self._count(event, "dropbox_unknown")
                    continue
                contact = await self._create_contact(org, party, sender, create)
                if contact is None:
                    continue
            await self._activity.add(org_id, contact["id"], entry, event.at_ms)

    # -- sent -----------------------------------------------------------------------------------
    async def _sent_mail(self, event: Event, f: MailFacts) -> None:
        """Mail in the owner's Sent folder: on the activity of every recipient that is a contact."""
        org_id = event.org
        entry = activity_entry(event.key, iso_utc(event.at_ms), f, "outbound", f.mailbox_user or None)
        attached = 0
        for party in dropbox_recipients(f, set()):
            contact = await self._tenancy.contact_by_email(org_id, party.email)
            if contact is not None:
                await self._activity.add(org_id, contact["id"], entry, event.at_ms)
                attached += 1
        if not attached:
            await self._count(event, "sent_unmatched")

    async def _create_contact(self, org: Record, party: Party, owner: str, kind: str) -> Record | None:
        try:
            rec = merge_contact(org, created_id(party.email, kind), created_body(party, owner, kind), None)
        except ApiError as exc:  # an address the contact model refuses
            log.info("dropbox: no %s for %r: %s", kind, party.email, exc.detail)
            return None
        await self._tenancy.put_contact(org["id"], rec)
        log.info("dropbox: %s %s created for org %s", kind, rec["id"], org["id"])
        return rec

    # -- output ---------------------------------------------------------------------------------
    async def _signal(self, event: Event, org: Record, user: str | None, contact: Record | None, d: Draft) -> None:
        if not user or not await self._tenancy.get_user(event.org, user):
            await self._count(event, "unmatched")
            return
        body = signal_body(org, user, contact, d, event.at_ms)
        result = await self._feed.write(event.org, user, event.key, d.type, contact["id"] if contact else None, body)
        if result.status in ("new", "grouped"):
            self._m.signals_out.labels(d.type, result.status).inc()
        if result.status in ("new", "duplicate") and rules_for(org, d.type):  # automation rules
            title = str(body.get("title") or "")
            replay = result.status == "duplicate"
            await self._automation.on_signal(org, user, result.signal_id, d.type, contact, title, replay=replay)

    async def _count(self, event: Event, what: str) -> None:
        """Count an event that made no signal, once (``sg:{org}:stats`` field ``<what>:imap.mail``)."""
        if what == "unmatched":
            self._m.events_unmatched.labels(event.source).inc()
        await self._stats.count_once(event.org, event.key, what, event.source)
