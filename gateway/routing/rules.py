"""Routing decisions: which contact an event is about and what signal it makes. Pure.

The router (I/O) asks :func:`contact_ref` how to find the contact, looks it up, and hands the
result to :func:`draft` which returns the signal to write, or ``None`` when the event makes no
signal by itself (status callbacks that do not change anything visible, answered calls).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.domain.events import Event
from gateway.domain.phones import lookup_key
from gateway.domain.signals import iso_utc
from gateway.domain.status import MISSED_CALL, sms_signal_type

LookupKind = Literal["phone", "email", "id"]
# A batch's events share their millisecond often, and formatting a datetime is a hot spot of routing.
_occurred_at = functools.lru_cache(maxsize=4096)(iso_utc)
_SNIPPET = 280


@dataclass(frozen=True)
class ContactLookup:
    kind: LookupKind
    value: str


@dataclass(frozen=True)
class Draft:
    type: str
    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)


def snippet(text: str, limit: int = _SNIPPET) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def contact_ref(event: Event) -> ContactLookup | None:
    d = event.data
    if event.source == "twilio.sms":
        return ContactLookup("phone", lookup_key(d.get("From", "")))
    if event.source == "twilio.voice_status":
        # The other party: the caller for inbound calls, the callee for outbound ones.
        inbound = d.get("Direction", "inbound") == "inbound"
        return ContactLookup("phone", lookup_key(d.get("From" if inbound else "To", "")))
    if event.source == "twilio.sms_status":
        return ContactLookup("phone", lookup_key(d.get("To", "")))
    if event.source == "twilio.recording":
        return ContactLookup("phone", lookup_key(d.get("_from", ""))) if d.get("_from") else None
    if event.source == "webhook":
        c = d.get("contact") or {}
        if "id" in c:
            return ContactLookup("id", str(c["id"]))
        if "email" in c:
            return ContactLookup("email", str(c["email"]).strip().lower())
        if "phone" in c:
            return ContactLookup("phone", lookup_key(str(c["phone"])))
        return None
    if event.source in ("track.open", "track.click", "send.email_bounced"):
        return ContactLookup("id", d["contact"]) if d.get("contact") else None
    return None


def draft(event: Event, contact: dict[str, Any] | None, sms_status: str | None = None) -> Draft | None:
    """The signal an event makes; ``sms_status`` is the status this event newly reached.

    Titles and bodies carry the event's own content (message text, numbers, URLs), never
    sentences in one language: the page labels each type in the reader's language.
    """
    d = event.data
    src = event.source
    if src == "twilio.sms":
        body = str(d.get("Body", ""))
        return Draft(
            "sms.received",
            snippet(body, 80),
            snippet(body),
            {"from": d.get("From"), "to": d.get("To"), "message_sid": d.get("MessageSid"), "text": body},
        )
    if src == "twilio.voice_status":
        status = d.get("CallStatus", "")
        if d.get("Direction", "inbound") != "inbound" or status not in MISSED_CALL:
            return None
        return Draft(
            "call.missed",
            str(d.get("From", "")),
            f"{d.get('From', '')} → {d.get('To', '')} ({status})",
            {"from": d.get("From"), "to": d.get("To"), "call_sid": d.get("CallSid"), "status": status},
        )
    if src == "twilio.recording":
        return _voicemail(d)
    if src == "twilio.sms_status":
        kind = sms_signal_type(sms_status or "")
        if kind is None:
            return None
        error = d.get("ErrorCode")
        detail = f" (error {error})" if error else ""
        return Draft(
            kind,
            str(d.get("To", "")),
            f"{sms_status}{detail}",
            {"to": d.get("To"), "message_sid": d.get("MessageSid"), "status": sms_status, "error_code": error},
        )
    if src == "webhook":
        return Draft(d["type"], str(d.get("title") or ""), snippet(str(d.get("body") or "")), d.get("data") or {})
    if src == "send.email_bounced":
        return Draft(
            "email.bounced",
            snippet(str(d.get("reason") or ""), 120),
            "",
            {"bounce": d.get("bounce", "hard"), "notification": d.get("notification"), "reason": d.get("reason")},
        )
    if src == "track.open":
        return Draft("email.opened", "", "", {"notification": d.get("notification")})
    if src == "track.click":
        url = str(d.get("url", ""))
        return Draft("email.clicked", snippet(url, 120), "", {"notification": d.get("notification"), "url": url})
    return None


def _voicemail(d: dict[str, Any]) -> Draft | None:
    """A voicemail's recording (only a completed one: Twilio also reports failed and absent ones)."""
    if d.get("RecordingStatus", "completed") != "completed" or not d.get("_user"):
        return None
    duration = str(d.get("RecordingDuration", ""))
    caller = str(d.get("_from", ""))
    return Draft(
        "call.voicemail",
        caller,
        f"{caller} ({duration} s)" if duration.isdigit() else caller,
        {
            "from": caller,
            "recording_url": d.get("RecordingUrl"),
            "duration": int(duration) if duration.isdigit() else None,
            "call_sid": d.get("CallSid"),
            "recording_sid": d.get("RecordingSid"),
            "flow": d.get("_flow"),
        },
    )


def signal_body(org: str, user: str, contact: dict[str, Any] | None, d: Draft, at_ms: int) -> dict[str, Any]:
    """The stored signal (without ``id``/``count``, which the feed write adds) for ``user``."""
    return {
        "type": d.type,
        "org": org,
        "user": user,
        "contact": {"id": contact["id"], "name": contact["name"], "kind": contact["kind"]} if contact else None,
        "title": d.title,
        "body": d.body,
        "occurred_at": _occurred_at(at_ms),
        "data": d.data,
    }
