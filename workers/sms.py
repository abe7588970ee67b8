"""Sending one SMS notification, exactly once, under the credit and template rules.

Exactly-once invariant: the provider is called for a notification only by the run that holds
its attempt claim (``begin_attempt.lua``), and only when no earlier call can still create a
message. A call whose outcome is unknown (timeout, worker killed) leaves ``attempt_ms`` behind;
the next run waits until that attempt is stale (2 × provider timeout + 5 s), then reconciles:
it looks for a message to the same number created since the attempt (and the status callback,
which carries the notification id in its URL, may already have recorded the sid), adopts it if
found, and only otherwise takes over the claim (compare-and-set) and sends. Credits are
reserved before the call (once per notification) and refunded when the provider refuses
outright.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from arq import Retry

from gateway.domain.quota import local_day
from gateway.domain.rendering import TemplateError
from gateway.domain.sms_segments import count_segments
from gateway.store.sending import Opened
from workers.deps import Deps
from workers.outcome import prepare, reject
from workers.providers.twilio_sms import ProviderError, SentMessage
from workers.sealed import with_twilio_token
from workers.sms_credits import deliver_owed_low
from workers.sms_rules import sender_reason, template_reason, twilio_reason
from workers.templating import rejection_reason, rendered_version

log = logging.getLogger("signalgate.sms")
# Clock skew allowed between us and the provider when looking for an earlier attempt's message.
_RECONCILE_SKEW = timedelta(seconds=30)


def backoff_seconds(job_try: int) -> float:
    """1, 2, 4, ... capped at 60 s."""
    return float(min(60, 2 ** max(job_try - 1, 0)))


def status_callback(deps: Deps, org: str, nid: str) -> str:
    return f"{deps.services.config.gateway.public_url.rstrip('/')}/webhooks/twilio/{org}/sms-status?n={nid}"


async def _body(
    deps: Deps, org: dict[str, Any], rec: dict[str, Any], phone: str, opened: Opened | None
) -> tuple[str | None, str | None]:
    """(text, rejection reason)."""
    if rec.get("system") == "reminder":
        # Built-in reminder text: no customer template to approve, the sender rules still apply.
        reason = sender_reason(org, phone) or twilio_reason(org)
        return (None, reason) if reason else (str(rec["body"]), None)
    if opened is not None:
        template = opened.template
    else:
        template = await deps.services.templates.get(org["id"], rec["template"])
    reason = template_reason(template) or sender_reason(org, phone) or twilio_reason(org)
    if reason:
        return None, reason
    assert template is not None  # noqa: S101 - template_reason checked it
    try:
        return await deps.templates.render(org["id"], template, "body", rec.get("data") or {}), None
    except TemplateError as exc:
        log.info("notification %s: template error: %s", rec["id"], exc)
        return None, rejection_reason(exc)


async def _accepted(deps: Deps, org: str, rec: dict[str, Any], msg_sid: str, user: str | None) -> dict[str, Any]:
    """Record the provider's message (sid, link, attempt over, ``sent``): one atomic step."""
    nid = rec["id"]
    link = {"notification": nid, "to": rec.get("recipient", "")}
    if user:
        link["user"] = user
    await deps.services.sending.sms_accepted(org, nid, msg_sid, link)
    return {"status": "sent", "sid": msg_sid}


async def _reconcile(deps: Deps, org: dict[str, Any], rec: dict[str, Any], attempt_ms: int) -> SentMessage | None:
    tw = org["twilio"]
    since = datetime.fromtimestamp(attempt_ms / 1000, tz=UTC) - _RECONCILE_SKEW
    found = await deps.sms.find_sent(
        account_sid=tw["account_sid"], auth_token=tw["auth_token"], to=rec["recipient"], since=since
    )
    body = rec.get("text")
    matches = [m for m in found if body is None or m.body == body]
    return matches[0] if matches else None


async def send_sms(deps: Deps, rec: dict[str, Any], job_try: int, opened: Opened | None = None) -> dict[str, Any]:
    org_id, nid = rec["org"], rec["id"]
    target = await prepare(deps, rec, "sms", opened)
    if isinstance(target, dict):
        return target
    org, who = target
    org = with_twilio_token(deps, org)  # opened (stored sealed); none when it does not open
    assert who.address is not None  # noqa: S101 - prepare() refuses a missing address
    text, reason = await _body(deps, org, rec, who.address, opened)
    if reason or text is None:
        return await reject(deps, org_id, nid, reason or "template_error")
    segments = count_segments(text)
    rec = dict(rec, recipient=who.address, text=text)
    # One step: the fields, the credits, `sending`, and the first try at the attempt claim.
    token = secrets.token_hex(8)
    start = await deps.services.sending.sms_begin(
        org_id,
        nid,
        segments.segments,
        {"recipient": who.address, "text": text, "segments": segments.segments, "contact": who.contact or ""}
        | rendered_version(opened),
        stale_ms=deps.attempt_stale_ms,
        token=token,
        day=local_day(datetime.now(tz=UTC), org["timezone"]),
    )
    if start.reservation.owed:  # this step's crossing, or one a dead worker left owed
        await deliver_owed_low(deps.services, org_id)
    if start.reservation.outcome == "cancelled":
        return {"status": "cancelled"}
    if start.reservation.outcome == "insufficient":
        return await reject(deps, org_id, nid, "insufficient_credits")
    claim = await _claim(deps, org, rec, who.user, token, (start.verdict, start.value))
    if isinstance(claim, dict):
        return claim
    return await _call_provider(deps, org, rec, who.user, job_try)


async def _claim(
    deps: Deps, org: dict[str, Any], rec: dict[str, Any], user: str | None, token: str, first: tuple[str, str]
) -> dict[str, Any] | str:
    """Hold the attempt claim; returns a finished outcome, or the claim token.

    ``first``: ``begin_attempt``'s verdict of ``sms_begin`` (taken with no stale attempt seen).
    """
    org_id, nid = org["id"], rec["id"]
    seen_stale = ""
    verdict, value = first
    for i in range(3):
        if i:
            now = int(time.time() * 1000)
            verdict, value = await deps.services.notifications.begin_attempt(
                org_id, nid, now, deps.attempt_stale_ms, token, seen_stale
            )
        if verdict == "go":
            return token
        if verdict == "done":
            return await _accepted(deps, org_id, rec, value, user)
        if verdict == "busy":
            raise Retry(defer=max(1.0, (deps.attempt_stale_ms - int(value)) / 1000))
        # stale: an earlier call's outcome is unknown; look for its message before sending again.
        try:
            found = await _reconcile(deps, org, rec, int(value))
        except ProviderError as exc:
            log.warning("notification %s: cannot reconcile yet (%s)", nid, exc)
            raise Retry(defer=5.0) from None
        if found is not None:
            log.warning("notification %s: adopted message %s from an interrupted attempt", nid, found.sid)
            return await _accepted(deps, org_id, rec, found.sid, user)
        seen_stale = value
    raise Retry(defer=1.0)


async def _call_provider(
    deps: Deps, org: dict[str, Any], rec: dict[str, Any], user: str | None, job_try: int
) -> dict[str, Any]:
    """The provider call, by the run holding the attempt claim."""
    org_id, nid = org["id"], rec["id"]
    tw = org["twilio"]
    try:
        sent = await deps.sms.send(
            account_sid=tw["account_sid"],
            auth_token=tw["auth_token"],
            to=rec["recipient"],
            body=rec["text"],
            from_number=tw.get("from_number"),
            messaging_service_sid=tw.get("messaging_service_sid"),
            status_callback=status_callback(deps, org_id, nid),
        )
    except ProviderError as exc:
        return await _provider_failed(deps, org_id, nid, exc, job_try)
    return await _accepted(deps, org_id, rec, sent.sid, user)


async def _provider_failed(deps: Deps, org_id: str, nid: str, exc: ProviderError, job_try: int) -> dict[str, Any]:
    last_try = job_try >= deps.services.config.worker.max_tries
    if exc.ambiguous:
        # The message may exist: keep the claim so the next run reconciles before sending.
        log.warning("notification %s: provider call outcome unknown (%s); will reconcile", nid, exc)
        raise Retry(defer=max(backoff_seconds(job_try), deps.attempt_stale_ms / 1000))
    await deps.services.notifications.clear_attempt(org_id, nid)
    if exc.retryable and not last_try:
        log.info("notification %s: provider busy (%s); retry %d", nid, exc, job_try)
        raise Retry(defer=backoff_seconds(job_try))
    reason = f"provider_error_{exc.code}" if exc.code else f"provider_http_{exc.status}"
    await deps.services.notifications.advance(org_id, nid, "failed", event_key=f"{nid}:failed", reason=reason)
    await deps.services.credits.refund(org_id, nid, reason)
    return {"status": "failed", "reason": reason}
