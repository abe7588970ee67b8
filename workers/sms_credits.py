"""Telling an org's admins that its SMS credits ran low (``credits.low``), never losing a warning.

``credits_reserve.lua`` decides *when* (once per crossing below the auto-recharge threshold with
no top-up possible: auto-recharge off or today's cap reached) and, in that same atomic step,
records the crossing as *owed* (:meth:`gateway.store.credits.Credits.owed_low`). This delivers
every owed warning of the org: one event per admin (a user with role ``admin``) to the org's
partition stream, source ``send.credits_low`` — the router turns each into a ``credits.low`` signal
in that admin's feed, like any other signal — and only then clears it.

Who delivers: the SMS job whose step reports owed warnings (``Reservation.owed``), i.e. the job
that made the crossing, or — when that job's worker died between the step and the append — its
rerun (the retried job sees the record still owed) or any later SMS send of the same org. No
sweep is needed: a dead worker's job is always run again by arq, and the owed record waits in
Redis until someone delivers it.
"""

from __future__ import annotations

import logging

from gateway.domain.credits_low import SOURCE, admin_events
from gateway.services import Services

log = logging.getLogger("signalgate.sms")


async def deliver_owed_low(services: Services, org: str) -> int:
    """Deliver every credits.low warning owed to ``org``'s admins; returns how many were delivered.

    Exactly once per crossing and admin, even when two workers deliver the same owed record at
    once (the crossing's own job and another send of the org, say): both append the same events
    with the same dedupe ids (:func:`gateway.domain.credits_low.dedupe_id`), and the event log's
    dedupe (``ingest.lua``, atomic with the append) keeps only the first of each; both then clear
    the record, and the second clear finds nothing. A worker dying mid-way leaves the record owed:
    the next delivery repeats the appends already made (no-ops) and completes the rest. The record
    is cleared only after all its appends succeeded, so a warning is never lost."""
    owed = await services.credits.owed_low(org)
    if not owed:
        return 0
    admins = [u["id"] for u in await services.tenancy.list_users(org) if u.get("role") == "admin"]
    for warning in owed:
        for data, dedupe in admin_events(warning, admins):
            await services.events.append(org, SOURCE, data, dedupe_id=dedupe)
        await services.credits.clear_low(org, warning.crossing)
        log.info(
            "org %s: credits low (%d < %d, crossing %s), told %d admin(s)",
            org,
            warning.balance,
            warning.threshold,
            warning.crossing,
            len(admins),
        )
    return len(owed)
