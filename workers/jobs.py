"""arq job functions: ``send_sms``, ``send_email``, ``send_reminder``.

Jobs may run more than once (arq retries, a worker dies): every side effect is keyed by the
notification (credits charged once, the daily cap counted once, the provider called once), so a
repeat finds the work done. Keyword arguments are the REST body plus ``org`` (and, from the
gateway, ``notification``); arq clients may submit the same jobs directly.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.domain.errors import ApiError
from gateway.domain.send_request import send_record
from workers.deps import Deps
from workers.email import send_email as deliver_email
from workers.sms import send_sms as deliver_sms

log = logging.getLogger("signalgate.jobs")
_ACTIVITY_JA = {"task": "タスク", "event": "予定", "call": "通話"}


async def _notification(deps: Deps, ctx: dict[str, Any], channel: str, kwargs: dict[str, Any]) -> dict[str, Any] | None:
    org = kwargs.get("org")
    if not isinstance(org, str):
        log.error("job %s without an org: dropped", ctx.get("job_id"))
        return None
    body = {k: v for k, v in kwargs.items() if k not in ("org", "notification", "channel")}
    try:
        rec = send_record(org, channel, body, fallback_key=str(ctx.get("job_id")))
    except ApiError as exc:
        log.error("job %s for org %s refused: %s", ctx.get("job_id"), org, exc.detail)
        return None
    if isinstance(kwargs.get("notification"), str):
        rec["id"] = kwargs["notification"]
    stored, _ = await deps.services.notifications.create(org, rec)
    return stored


async def send_sms(ctx: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    deps: Deps = ctx["deps"]
    rec = await _notification(deps, ctx, "sms", kwargs)
    if rec is None:
        return {"status": "invalid_job"}
    return await deliver_sms(deps, dict(rec, org=kwargs["org"]), int(ctx.get("job_try", 1)))


async def send_email(ctx: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    deps: Deps = ctx["deps"]
    rec = await _notification(deps, ctx, "email", kwargs)
    if rec is None:
        return {"status": "invalid_job"}
    return await deliver_email(deps, dict(rec, org=kwargs["org"]), int(ctx.get("job_try", 1)))


def reminder_text(org: dict[str, Any], reminder: dict[str, Any]) -> str:
    """The reminder SMS in the org's language and time zone (Japanese for JP orgs)."""
    at = datetime.fromisoformat(reminder["remind_at"]).astimezone(ZoneInfo(org["timezone"]))
    if org.get("country") == "JP":
        return f"【リマインダー】{_ACTIVITY_JA[reminder['activity']]}: {reminder['title']}（{at:%m/%d %H:%M}）"
    return f"Reminder ({reminder['activity']}): {reminder['title']} at {at:%Y-%m-%d %H:%M}"


async def send_reminder(ctx: dict[str, Any], *, org: str, reminder: str) -> dict[str, Any]:
    deps: Deps = ctx["deps"]
    rem = await deps.services.reminders.get(org, reminder)
    org_rec = await deps.services.tenancy.get_org(org)
    if rem is None or org_rec is None:
        return {"status": "gone"}
    if rem["status"] != "scheduled":
        return {"status": rem["status"]}
    user = await deps.services.tenancy.get_user(org, rem["user"])
    skip = None
    if not org_rec.get("reminders", True):
        skip = "org_reminders_off"
    elif user is None or not user.get("reminders", True):
        skip = "user_opted_out"
    if skip:
        await deps.services.reminders.put(org, dict(rem, status="skipped", reason=skip))
        return {"status": "skipped", "reason": skip}
    nid = f"n_rem_{reminder}"
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
    stored, _ = await deps.services.notifications.create(org, rec)
    outcome = await deliver_sms(deps, dict(stored, org=org), int(ctx.get("job_try", 1)))
    status = "sent" if outcome["status"] == "sent" else "failed"
    done = dict(rem, status=status, notification=nid)
    if status == "failed":
        done["reason"] = outcome.get("reason")
    await deps.services.reminders.put(org, done)
    return outcome
