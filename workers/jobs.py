"""arq job functions: ``send_sms``, ``send_email``, ``send_reminder``.

Jobs may run more than once (arq retries, a worker dies): every side effect is keyed by the
notification (credits charged once, the daily cap counted once, the provider called once), so a
repeat finds the work done. Keyword arguments are the REST body plus ``org`` (and, from the
gateway, ``notification``); arq clients may submit the same jobs directly.

A job never leaves its notification in ``queued`` or ``sending`` for ever: Redis being
unreachable is retried (with backoff, up to ``worker.max_tries``), and anything else unexpected
is logged with its traceback and ends the notification ``failed`` with the reason, giving back
what it reserved (:func:`workers.outcome.give_up`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from arq import Retry

from gateway.domain.errors import ApiError
from gateway.domain.send_request import send_record
from gateway.store.errors import UNAVAILABLE
from gateway.store.sending import Opened
from workers.deps import Deps
from workers.email import send_email as deliver_email
from workers.outcome import give_up
from workers.reminders import deliver_reminder
from workers.sms import backoff_seconds
from workers.sms import send_sms as deliver_sms

log = logging.getLogger("signalgate.jobs")


async def _notification(deps: Deps, ctx: dict[str, Any], channel: str, kwargs: dict[str, Any]) -> Opened | None:
    """The job's notification, created unless it exists; the org, template and recipient read with it."""
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
    return await deps.services.sending.open(org, rec, template=rec.get("template"))


Deliver = Callable[[Deps, dict[str, Any], int, Opened | None], Awaitable[dict[str, Any]]]


async def guarded(
    deps: Deps, deliver: Deliver, rec: dict[str, Any], channel: str, job_try: int, opened: Opened | None = None
) -> dict[str, Any]:
    """``deliver(rec)``; Redis outages retried, any other unexpected error ends it ``failed``."""
    org, nid = rec["org"], rec["id"]
    try:
        return await deliver(deps, rec, job_try, opened)
    except Retry:
        raise
    except UNAVAILABLE as exc:
        if job_try < deps.services.config.worker.max_tries:
            log.warning("notification %s: Redis unavailable (%s); retry %d", nid, exc, job_try)
            raise Retry(defer=backoff_seconds(job_try)) from None
        log.error("notification %s: Redis unavailable after %d tries: %s", nid, job_try, exc)
        error: Exception = exc
    except Exception as exc:
        log.exception("notification %s: the %s job failed unexpectedly", nid, channel)
        error = exc
    return await give_up(deps, org, nid, channel, error)


async def send_sms(ctx: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    deps: Deps = ctx["deps"]
    opened = await _notification(deps, ctx, "sms", kwargs)
    if opened is None:
        return {"status": "invalid_job"}
    rec = dict(opened.record, org=kwargs["org"])
    return await guarded(deps, deliver_sms, rec, "sms", int(ctx.get("job_try", 1)), opened)


async def send_email(ctx: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    deps: Deps = ctx["deps"]
    opened = await _notification(deps, ctx, "email", kwargs)
    if opened is None:
        return {"status": "invalid_job"}
    rec = dict(opened.record, org=kwargs["org"])
    return await guarded(deps, deliver_email, rec, "email", int(ctx.get("job_try", 1)), opened)


async def send_reminder(ctx: dict[str, Any], *, org: str, reminder: str, version: int | None = None) -> dict[str, Any]:
    """Send one version of a reminder (see :mod:`workers.reminders`)."""
    deps: Deps = ctx["deps"]
    return await deliver_reminder(deps, org, reminder, version, int(ctx.get("job_try", 1)), guarded)
