"""Sending one version of a reminder: an SMS to its user, unless they or the org opted out.

The job carries the version it was scheduled for. :meth:`Reminders.claim` lets it send only
while that version is current and the reminder is still to send (one atomic step), so a job left
behind by a reschedule or a cancel does nothing. The SMS is an ordinary notification
(``n_rem_<id>_v<version>``: the send path's exactly-once and credits apply), with a built-in text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.store.sending import Opened
from workers.deps import Deps
from workers.sms import send_sms as deliver_sms

_ACTIVITY_JA = {"task": "タスク", "event": "予定", "call": "通話"}
Deliver = Callable[[Deps, dict[str, Any], int, Opened | None], Awaitable[dict[str, Any]]]
Guarded = Callable[[Deps, Deliver, dict[str, Any], str, int], Awaitable[dict[str, Any]]]


def reminder_text(org: dict[str, Any], reminder: dict[str, Any]) -> str:
    """The reminder SMS in the org's language and time zone (Japanese for JP orgs)."""
    at = datetime.fromisoformat(reminder["remind_at"]).astimezone(ZoneInfo(org["timezone"]))
    if org.get("country") == "JP":
        return f"【リマインダー】{_ACTIVITY_JA[reminder['activity']]}: {reminder['title']}（{at:%m/%d %H:%M}）"
    return f"Reminder ({reminder['activity']}): {reminder['title']} at {at:%Y-%m-%d %H:%M}"


async def deliver_reminder(
    deps: Deps, org: str, rid: str, version: int | None, job_try: int, guarded: Guarded
) -> dict[str, Any]:
    svc = deps.services
    current = await svc.reminders.get(org, rid)
    org_rec = await svc.tenancy.get_org(org)
    if current is None or org_rec is None:
        return {"status": "gone"}
    if version is None:  # a job queued before reminders had versions: it stands for the current one
        version = int(current.get("version", 1))
    rem = await svc.reminders.claim(org, rid, version)
    if rem is None:
        return {"status": "stale" if int(current.get("version", 0)) != version else str(current["status"])}
    user = await svc.tenancy.get_user(org, rem["user"])
    skip = None
    if not org_rec.get("reminders", True):
        skip = "org_reminders_off"
    elif user is None or not user.get("reminders", True):
        skip = "user_opted_out"
    if skip:
        await svc.reminders.finish(org, rid, version, status="skipped", reason=skip)
        return {"status": "skipped", "reason": skip}
    nid = f"n_rem_{rid}_v{version}"
    rec = {
        "id": nid,
        "org": org,
        "channel": "sms",
        "template": "reminder",
        "to": {"user": rem["user"]},
        "data": {},
        "kind": "auto",
        "system": "reminder",
        "body": reminder_text(org_rec, rem),
    }
    stored, _ = await svc.notifications.create(org, rec)
    outcome = await guarded(deps, deliver_sms, dict(stored, org=org), "sms", job_try)
    status = "sent" if outcome["status"] == "sent" else "failed"
    fields: dict[str, Any] = {"status": status, "notification": nid}
    if status == "failed":
        fields["reason"] = outcome.get("reason")
    await svc.reminders.finish(org, rid, version, **fields)
    return outcome
