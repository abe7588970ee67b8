"""Firing automation rules (the I/O half; the rules themselves in :mod:`gateway.domain.automation`).

- A new signal whose type has rules (the router learns it from the feed write): each rule without
  ``unread_for`` sends at once; each rule with it gets a timer, a ``rule`` entry in the due set of
  the org's partition (:mod:`gateway.store.due`), due ``unread_for`` after the signal's creation.
- A timer (the waker's ``rule`` handler, :meth:`Automation.on_timer`): if the rule still exists,
  is enabled and still escalates, and the signal is still unread (in the inbox or archived/snoozed
  without having been read), the rule sends; otherwise nothing.

A send goes the normal way: the notification is created (``notification_create.lua``, found again
by its idempotency key) and, while it is ``queued``, the arq job is enqueued under the job id the
REST API would use. The key is derived from the rule, the user and the signal id, so a rule fires
once per signal however often it is asked to: a replayed event, two routers, two wakers, a
repeated timer entry all submit the same notification, which is sent once.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.domain.automation import (
    TIMER_KIND,
    Fired,
    Rule,
    due_at_ms,
    fired,
    fires_on_replay,
    recipient,
    send_body,
    still_applies,
)
from gateway.domain.errors import ApiError
from gateway.domain.send_request import send_record
from gateway.services import Services
from gateway.store.automation import AutomationRules
from gateway.store.due import DueEntry, DueSet
from gateway.store.jobs import SEND_EMAIL, SEND_SMS, send_job_id
from gateway.store.tenancy import AUTOMATION

log = logging.getLogger("signalgate.automation")


def rules_for(org: dict[str, Any], signal_type: str) -> tuple[Rule, ...]:
    """The org's enabled rules on ``signal_type`` (read with the cached org; usually none)."""
    index = org.get(AUTOMATION)
    return index.get(signal_type, ()) if index else ()


class Automation:
    def __init__(self, services: Services) -> None:
        self._svc = services
        self._due = DueSet(services.redis)
        self._rules = AutomationRules(services.redis)

    async def on_signal(
        self,
        org: dict[str, Any],
        user: str,
        signal_id: str,
        signal_type: str,
        contact: dict[str, Any] | None,
        title: str,
        *,
        replay: bool = False,
    ) -> None:
        """A signal was created (``replay``: its event was applied before — fire again, harmlessly)."""
        for rule in rules_for(org, signal_type):
            if replay and not fires_on_replay(rule, signal_id):
                continue
            what = fired(rule, signal_id, signal_type, contact, title)
            if rule.unread_for is None:
                await self.send(org["id"], rule, what, user)
            else:
                at_ms = due_at_ms(signal_id, rule.unread_for)
                await self._due.add(DueEntry(TIMER_KIND, org["id"], user, at_ms, what.ref()))

    async def on_timer(self, entry: DueEntry) -> bool:
        """An ``unread_for`` timer is due: send unless the signal was read or the rule went away."""
        what = Fired.from_ref(entry.ref)
        if what is None:
            log.warning("dropping a malformed rule timer %r", entry.ref[:200])
            return False
        rule, unread = await self._rules.timer_state(entry.org, entry.user, what.rule, what.signal_id)
        if not unread or rule is None or not still_applies(rule, what):
            return False
        return await self.send(entry.org, rule, what, entry.user)

    async def send(self, org: str, rule: Rule, what: Fired, user: str) -> bool:
        """Submit the rule's message about the signal (idempotent); whether one was submitted."""
        to = recipient(rule.to, what.contact, what.owner, user)
        if to is None:
            log.info("rule %s of org %s: signal %s has no contact to send to", rule.id, org, what.signal_id)
            return False
        body = send_body(rule, what, user, to)
        try:
            rec = send_record(org, rule.channel, body)
        except ApiError as exc:  # a stored rule is valid; this guards against a bad record
            log.error("rule %s of org %s cannot send: %s", rule.id, org, exc.detail)
            return False
        existing, _ = await self._svc.notifications.create(org, rec)
        if existing["status"] == "queued":
            job = {k: v for k, v in body.items() if v is not None} | {"org": org, "notification": rec["id"]}
            await self._svc.jobs.enqueue(
                SEND_SMS if rule.channel == "sms" else SEND_EMAIL,
                send_job_id(org, rec["idempotency_key"]),
                None,
                **job,
            )
        return True
