"""Decisions of batch routing: which events go through the batch, what a status callback moves,
who hears of it. Pure (the I/O is :mod:`gateway.routing.batch`).

A router reads up to ``batch_size`` entries of one partition at a time. The sources in
:data:`BATCHED` are routed together — every lookup of the batch in one round trip, every feed
write of one org in one script call, in stream order. Any other event (``imap.mail`` has rules and
writes of its own) is routed alone, between the runs before and after it, so the batch's order
is kept: :func:`runs` cuts the batch there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway.domain.events import SOURCES, Event
from gateway.domain.status import CALL_RANK, SMS_RANK

# Every source but mail, which has rules and writes of its own.
BATCHED = frozenset(SOURCES) - {"imap.mail"}

# Twilio message statuses that move a notification (queued/accepted add nothing we do not know).
NOTIFICATION_STATUS = {
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
    "read": "read",
}

T = TypeVar("T")


def runs(events: Iterable[Event]) -> list[tuple[bool, list[Event]]]:
    """The batch cut into runs in order: ``(True, events)`` routed together, ``(False, [event])``
    routed alone (a source outside :data:`BATCHED`)."""
    out: list[tuple[bool, list[Event]]] = []
    for event in events:
        if event.source not in BATCHED:
            out.append((False, [event]))
        elif out and out[-1][0]:
            out[-1][1].append(event)
        else:
            out.append((True, [event]))
    return out


def by_org(items: Iterable[T], org_of: Callable[[T], str]) -> dict[str, list[T]]:
    """Items grouped by org, each group in the original order (the order of its feed writes)."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(org_of(item), []).append(item)
    return groups


def chunks(items: list[T], size: int) -> list[list[T]]:
    """``items`` in consecutive pieces of at most ``size`` (bounds one script call's run time)."""
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class StatusUpdate:
    """What a Twilio status callback says: message or call ``sid`` reached ``status``."""

    sid: str
    status: str
    fields: dict[str, str]


def sms_update(event: Event) -> StatusUpdate | None:
    """The SMS status a ``twilio.sms_status`` event reports, or None when it names none we rank."""
    d = event.data
    status = str(d.get("MessageStatus") or d.get("SmsStatus") or "")
    sid = str(d.get("MessageSid") or d.get("SmsSid") or "")
    if status not in SMS_RANK or not sid:
        return None
    fields = {"to": str(d.get("To", ""))}
    if d.get("ErrorCode"):
        fields["error_code"] = str(d["ErrorCode"])
    return StatusUpdate(sid, status, fields)


def call_update(event: Event) -> StatusUpdate | None:
    """The call status a ``twilio.voice_status`` event reports, or None when it names none we rank."""
    d = event.data
    sid = str(d.get("CallSid", ""))
    status = str(d.get("CallStatus", ""))
    if not sid or status not in CALL_RANK:
        return None
    fields = {"sid": sid, "from": str(d.get("From", "")), "to": str(d.get("To", ""))}
    fields["direction"] = str(d.get("Direction", "inbound"))
    if d.get("CallDuration"):
        fields["duration"] = str(d["CallDuration"])
    return StatusUpdate(sid, status, fields)


def sms_notification(event: Event, sms: dict[str, str]) -> str:
    """The notification an SMS belongs to: as the message knows it, else from the callback URL."""
    return sms.get("notification") or str(event.data.get("_notification") or "")


def sms_recipient(sms: dict[str, str], notification: dict[str, Any] | None) -> str | None:
    """Who hears of an SMS status: the user on the message, else (for a message that knew its
    notification) the notification's sender or user; None = the contact's owner."""
    if sms.get("user"):
        return sms["user"]
    if sms.get("notification") and notification:
        return notification.get("sender") or notification.get("user") or None
    return None


def recipient(preferred: str | None, contact: dict[str, Any] | None) -> str | None:
    """The user a signal goes to: the one the event names, else the contact's owner."""
    return preferred or (contact or {}).get("owner") or None


def named_user(event: Event) -> str | None:
    """The user an event itself names as its recipient: a bounce's sender, a voicemail step's user."""
    if event.source in ("send.email_bounced", "send.credits_low"):
        return event.data.get("user") or None
    if event.source == "twilio.recording":
        return event.data.get("_user") or None
    if event.source == "imap.alert":  # the mailbox's owner
        return event.data.get("user") or None
    return None
