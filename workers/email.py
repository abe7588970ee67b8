"""Sending one email notification under the org's daily caps, with tracking when the org wants it.

The daily cap is counted once per notification before the SMTP conversation (a retried job is
not counted twice); a refused send (cap reached, unknown template, missing merge field) costs
nothing. The Message-ID is fixed and stored before the first attempt, so replies and bounces find
the notification, and a resend after an interrupted attempt carries the same Message-ID (mail
systems can recognise it). SMTP 4xx and network errors are retried with backoff; 5xx means
``bounced`` and an ``email.bounced`` signal (hard) to the contact's owner, and the address is
suppressed. Before anything is counted: a suppressed address is rejected ``suppressed``, and a
``mass|auto|scheduled|macro`` mail to a contact with ``marketing: false`` ``not_marketing``;
those mails carry the RFC 8058 one-click unsubscribe headers.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from arq import Retry

from gateway.domain import unsubscribe
from gateway.domain.quota import email_caps, kind_bucket
from gateway.domain.rendering import TemplateError
from gateway.domain.signals import iso_utc
from gateway.domain.tracking import TrackingClaim, sign
from gateway.domain.unsubscribe import UnsubscribeClaim
from gateway.store.sending import Opened
from workers.deps import Deps
from workers.email_message import TrackingPlan, build_email, make_message_id
from workers.identity import add_reply_to, sender_identity, smtp_target
from workers.outcome import prepare, reject
from workers.providers.smtp import MailError
from workers.sms import backoff_seconds
from workers.templating import rejection_reason, rendered_version

log = logging.getLogger("signalgate.email")
LIMIT_REASON = {"individual": "daily_email_limit", "mass": "mass_email_limit"}


def tracking_plan(deps: Deps, org: str, nid: str, contact: str | None) -> TrackingPlan:
    base = deps.services.config.gateway.public_url.rstrip("/")
    key = deps.services.secret_key
    pixel = f"{base}/t/o/{sign(key, TrackingClaim(org, nid, contact))}"

    def link(url: str) -> str:
        return f"{base}/t/c/{sign(key, TrackingClaim(org, nid, contact, url))}"

    return TrackingPlan(pixel_url=pixel, link=link)


def unsubscribe_headers(deps: Deps, org: str, contact: str | None, address: str) -> dict[str, str]:
    """RFC 8058 ``List-Unsubscribe`` (a signed URL under ``public_url``) and ``List-Unsubscribe-Post``."""
    claim = UnsubscribeClaim(org, contact, address)
    return unsubscribe.headers(
        unsubscribe.url(deps.services.config.gateway.public_url, deps.services.secret_key, claim)
    )


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


async def _content(deps: Deps, org_id: str, rec: dict[str, Any], opened: Opened | None) -> tuple[str, str] | str:
    """(subject, html) or a rejection reason."""
    if opened is not None:
        template = opened.template
    else:
        template = await deps.services.templates.get(org_id, rec["template"])
    if template is None or template.get("channel") != "email":
        return "template_not_found"
    data = rec.get("data") or {}
    try:
        subject = await deps.templates.render(org_id, template, "subject", data)
        return subject, await deps.templates.render(org_id, template, "body", data, html=True)
    except TemplateError as exc:
        log.info("notification %s: template error: %s", rec["id"], exc)
        return rejection_reason(exc)


async def send_email(deps: Deps, rec: dict[str, Any], job_try: int, opened: Opened | None = None) -> dict[str, Any]:
    org_id, nid = rec["org"], rec["id"]
    target = await prepare(deps, rec, "email", opened)
    if isinstance(target, dict):
        return target
    org, who = target
    assert who.address is not None  # noqa: S101 - prepare() refuses a missing address
    content = await _content(deps, org_id, rec, opened)
    if isinstance(content, str):
        return await reject(deps, org_id, nid, content)
    subject, html = content
    marketing = rec["kind"] != "individual"
    caps = email_caps(org["plan"], int(org.get("active_users", 0)), int(org.get("mass_email_addon", 0)))
    bucket = kind_bucket(rec["kind"])
    cap = caps.individual if bucket == "individual" else caps.mass
    now = datetime.now(tz=UTC)
    identity = await sender_identity(deps, org, rec)
    sender = identity.from_addr
    # A Message-ID fixed before the first attempt: a rerun sends the same one.
    new_id = None if rec.get("message_id") else make_message_id(_domain(sender))
    # One step: consent, the daily cap, the Message-ID (and its index) and `sending`.
    counted = await deps.services.sending.email_begin(
        org_id,
        nid,
        bucket=bucket,
        cap=cap,
        tz=org["timezone"],
        now=now,
        message_id=new_id,
        # subject: opens, clicks and bounces name the mail (gateway.routing.mail_signals)
        fields={"recipient": who.address, "contact": who.contact or "", "user": who.user or "", "subject": subject}
        | rendered_version(opened),
        # Consent and suppression in the same step, before the cap: a refused mail counts nothing.
        address=who.address,
        contact=who.contact,
        marketing=marketing,
    )
    if counted.outcome == "cancelled":
        return {"status": "cancelled"}
    if counted.outcome in ("suppressed", "not_marketing"):
        return await reject(deps, org_id, nid, counted.outcome)
    if counted.outcome == "limit":
        return await reject(deps, org_id, nid, LIMIT_REASON[bucket])
    message_id = rec.get("message_id") or new_id
    assert message_id is not None  # noqa: S101 - one of the two is set
    plan = tracking_plan(deps, org_id, nid, who.contact) if org.get("tracking") else None
    message = build_email(
        from_addr=sender,
        to_addr=who.address,
        subject=subject,
        html=html,
        message_id=message_id,
        tracking=plan,
        extra_headers=unsubscribe_headers(deps, org_id, who.contact, who.address) if marketing else None,
    )
    add_reply_to(message, identity)
    try:
        via = smtp_target(deps, org)
        await deps.mail.send(message, sender=parseaddr(sender)[1], recipient=who.address, via=via)
    except MailError as exc:
        return await _mail_failed(deps, org, rec, who.contact, who.user, exc, job_try, who.address)
    # Counted first, advanced last: counting is idempotent, and a rerun after a crash in between
    # must still find the notification unfinished, so that it counts it.
    await deps.services.sending.email_sent(org_id, nid, tz=org["timezone"], template=rec["template"], at_ms=_ms(now))
    return {"status": "sent", "message_id": message_id}


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


async def _mail_failed(
    deps: Deps,
    org: dict[str, Any],
    rec: dict[str, Any],
    contact: str | None,
    user: str | None,
    exc: MailError,
    job_try: int,
    address: str,
) -> dict[str, Any]:
    org_id, nid = org["id"], rec["id"]
    if not exc.permanent:
        if job_try < deps.services.config.worker.max_tries:
            log.info("notification %s: SMTP temporary failure (%s); retry %d", nid, exc, job_try)
            raise Retry(defer=backoff_seconds(job_try))
        await deps.services.notifications.advance(
            org_id, nid, "failed", event_key=f"{nid}:failed", reason="smtp_unavailable"
        )
        return {"status": "failed", "reason": "smtp_unavailable"}
    reason = f"smtp_{exc.code}"
    # Counted and signalled first (both once per notification), advanced last: see send_email.
    now = _ms(datetime.now(tz=UTC))
    # A hard bounce: later mail to the address is rejected `suppressed` until an admin removes it.
    await deps.services.suppressions.add(org_id, address, f"smtp_{exc.code}", iso_utc(now))
    await deps.services.reports.count_notification(org_id, org["timezone"], nid, rec["template"], "sent", now)
    await deps.services.reports.count_notification(org_id, org["timezone"], nid, rec["template"], "bounced", now)
    await deps.services.events.append(
        org_id,
        "send.email_bounced",
        {"notification": nid, "contact": contact, "user": user, "bounce": "hard", "reason": str(exc)},
        dedupe_id=f"{nid}:bounced",
    )
    await deps.services.notifications.advance(org_id, nid, "bounced", event_key=f"{nid}:bounced", reason=reason)
    return {"status": "bounced", "reason": reason}
