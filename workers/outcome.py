"""Steps every send job shares: skip finished notifications, refuse with a reason, find the target,
and end a notification whose job broke (``failed``, with what it reserved given back)."""

from __future__ import annotations

from typing import Any

from gateway.domain.notifications import FINAL
from gateway.domain.quota import kind_bucket
from gateway.store.sending import Opened
from workers.deps import Deps
from workers.recipients import Recipient, resolve


async def reject(deps: Deps, org: str, nid: str, reason: str) -> dict[str, Any]:
    """A refused send: status ``rejected`` with the reason; nothing was charged or counted."""
    await deps.services.notifications.advance(org, nid, "rejected", event_key=f"{nid}:rejected", reason=reason)
    return {"status": "rejected", "reason": reason}


async def prepare(
    deps: Deps, rec: dict[str, Any], channel: str, opened: Opened | None = None
) -> tuple[dict[str, Any], Recipient] | dict[str, Any]:
    """(org, recipient) for a notification still to send, or the job's final outcome.

    ``opened``: what :meth:`Sending.open` read with the notification (else it is read here).
    """
    org_id, nid = rec["org"], rec["id"]
    if rec["status"] in FINAL or rec["status"] == "sent":
        return {"status": rec["status"], "note": "already done"}
    org = opened.org if opened is not None else await deps.services.tenancy.get_org(org_id)
    if org is None:
        return await reject(deps, org_id, nid, "unknown_org")
    who = await resolve(deps.services.tenancy, org, rec, channel, opened)
    if who.reason or who.address is None:
        return await reject(deps, org_id, nid, who.reason or ("invalid_phone" if channel == "sms" else "no_email"))
    return org, who


async def give_up(deps: Deps, org: str, nid: str, channel: str, error: BaseException) -> dict[str, Any]:
    """A job broke on something unexpected: the notification ends ``failed`` with the reason, and
    gets back what it reserved (the SMS credits, its place in the daily email cap).

    A notification that already reached ``sent`` or a final status is left as it is: the error
    came after the send, and the send stands.
    """
    reason = f"internal_error:{type(error).__name__}"
    rec = await deps.services.notifications.get(org, nid)
    if rec is None or rec["status"] in FINAL or rec["status"] == "sent":
        return {"status": rec["status"] if rec else "gone", "note": "already done"}
    await deps.services.notifications.advance(org, nid, "failed", event_key=f"{nid}:failed", reason=reason)
    if channel == "sms":
        await deps.services.notifications.clear_attempt(org, nid)
        await deps.services.credits.refund(org, nid, reason)
    else:
        await deps.services.email_usage.release(org, nid, kind_bucket(str(rec.get("kind", "individual"))))
    return {"status": "failed", "reason": reason}
