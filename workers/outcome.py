"""Steps every send job shares: skip finished notifications, refuse with a reason, find the target."""

from __future__ import annotations

from typing import Any

from gateway.domain.notifications import FINAL
from workers.deps import Deps
from workers.recipients import Recipient, resolve


async def reject(deps: Deps, org: str, nid: str, reason: str) -> dict[str, Any]:
    """A refused send: status ``rejected`` with the reason; nothing was charged or counted."""
    await deps.services.notifications.advance(org, nid, "rejected", event_key=f"{nid}:rejected", reason=reason)
    return {"status": "rejected", "reason": reason}


async def prepare(deps: Deps, rec: dict[str, Any], channel: str) -> tuple[dict[str, Any], Recipient] | dict[str, Any]:
    """(org, recipient) for a notification still to send, or the job's final outcome."""
    org_id, nid = rec["org"], rec["id"]
    if rec["status"] in FINAL or rec["status"] == "sent":
        return {"status": rec["status"], "note": "already done"}
    org = await deps.services.tenancy.get_org(org_id)
    if org is None:
        return await reject(deps, org_id, nid, "unknown_org")
    who = await resolve(deps.services.tenancy, org, rec, channel)
    if who.reason or who.address is None:
        return await reject(deps, org_id, nid, who.reason or ("invalid_phone" if channel == "sms" else "no_email"))
    return org, who
