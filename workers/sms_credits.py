"""Telling an org's admins that its SMS credits ran low (``credits.low``).

``credits_reserve.lua`` decides *when* (once per crossing below the auto-recharge threshold with
no top-up possible: auto-recharge off or today's cap reached); this appends one event per admin
(a user with role ``admin``) to the org's partition stream, source ``send.credits_low``, and the
router turns each into a ``credits.low`` signal in that admin's feed, like any other signal.
"""

from __future__ import annotations

import logging

from gateway.services import Services

log = logging.getLogger("signalgate.sms")


async def tell_admins_low(services: Services, org: str, nid: str, balance: int) -> int:
    """One ``send.credits_low`` event per admin of ``org``; returns how many were appended.

    Each event is deduplicated by the notification whose charge crossed the threshold, so a
    rerun of the same job tells nobody twice."""
    status = await services.credits.status(org)
    threshold = status["auto_recharge"]["threshold"]
    reason = "auto_recharge_cap" if status["auto_recharge"]["enabled"] else "auto_recharge_off"
    admins = [u["id"] for u in await services.tenancy.list_users(org) if u.get("role") == "admin"]
    for admin in admins:
        data = {"user": admin, "balance": balance, "threshold": threshold, "reason": reason, "notification": nid}
        await services.events.append(org, "send.credits_low", data, dedupe_id=f"{nid}:{admin}")
    log.info("org %s: credits low (%d < %d), told %d admin(s)", org, balance, threshold, len(admins))
    return len(admins)
