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
from gateway.domain.links import signal_links
from gateway.domain.phone_display import display
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
    """A signal before its contact is known. ``title`` is the title when no contact name is known;
    ``headline`` (e.g. ``"SMS from {who}"``), when set, makes the title once the contact's name is
    (:func:`title_for`). ``about`` names what a repeat must also share to be grouped besides type
    and contact (the mail an open or click is about: :func:`group_on`)."""

    type: str
    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)
    headline: str | None = None
    about: str | None = None


WHO = "{who}"


def title_for(d: Draft, contact: dict[str, Any] | None) -> str:
    """The signal's title: the headline naming the contact, else the draft's own title."""
    name = str((contact or {}).get("name") or "").strip()
    if d.headline is None or not name:
        return d.title
    return d.headline.replace(WHO, name, 1)


def group_on(d: Draft, contact: dict[str, Any] | None) -> str | None:
    """What repeats of the draft's type group on: its contact (and what it is ``about``); None
    (never grouped) without a contact."""
    if contact is None:
        return None
    return str(contact["id"]) if d.about is None else f"{contact['id']}|{d.about}"


def _said(headline: str, who: str, fallback: str = "") -> str:
    """``headline`` naming ``who`` (a number, an address) when no contact is known, else ``fallback``."""
    return headline.replace(WHO, who, 1) if who else fallback


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


def draft(
    event: Event, contact: dict[str, Any] | None, sms_status: str | None = None, country: str | None = None
) -> Draft | None:
    """The signal an event makes; ``sms_status`` is the status this event newly reached,
    ``country`` the org's (phone numbers are shown in its national format).

    Titles say what happened and to whom, in English (``"SMS from 山田 太郎"``); the page shows
    its own words for each type in the reader's language. Bodies carry the event's content (the
    message text, the caller's number). ``data`` keeps the raw values (``status`` is Twilio's
    word) and the numbers as shown (``from_display`` / ``to_display``).
    """
    d = event.data
    src = event.source
    if src == "twilio.sms":
        return _sms_received(d, country)
    if src == "twilio.voice_status":
        return _call_missed(d, country)
    if src == "twilio.recording":
        return _voicemail(d, country)
    if src == "twilio.sms_status":
        return _sms_status(d, sms_status, country)
    if src == "webhook":
        return Draft(d["type"], str(d.get("title") or ""), snippet(str(d.get("body") or "")), d.get("data") or {})
    if src == "send.email_bounced":
        reason = snippet(str(d.get("reason") or ""), 120)
        return Draft(
            "email.bounced",
            reason,
            reason,
            {"bounce": d.get("bounce", "hard"), "notification": d.get("notification"), "reason": d.get("reason")},
            headline=f"Email to {WHO} bounced",
        )
    if src == "send.credits_low":
        left = int(d.get("balance", 0))
        return Draft(
            "credits.low",
            f"SMS credits are low: {left} left",
            f"The balance fell below the auto-recharge threshold ({d.get('threshold')}).",
            {"balance": left, "threshold": d.get("threshold"), "reason": d.get("reason")},
        )
    if src == "imap.alert":
        return _mailbox_alert(d)
    if src == "track.open":
        nid = d.get("notification")
        return Draft(
            "email.opened",
            "",
            "",
            {"notification": nid},
            headline=f"{WHO} opened your email",
            about=str(nid or ""),
        )
    if src == "track.click":
        url, nid = str(d.get("url", "")), d.get("notification")
        return Draft(
            "email.clicked",
            snippet(url, 120),
            snippet(url, 120),
            {"notification": nid, "url": url},
            headline=f"{WHO} clicked a link in your email",
            about=str(nid or ""),
        )
    return None


def _sms_received(d: dict[str, Any], country: str | None) -> Draft:
    text = str(d.get("Body", ""))
    shown = display(str(d.get("From") or ""), country)
    data = {"from": d.get("From"), "to": d.get("To"), "message_sid": d.get("MessageSid"), "text": text}
    headline = f"SMS from {WHO}"
    return Draft("sms.received", _said(headline, shown, "SMS"), snippet(text), data | {"from_display": shown}, headline)


def _call_missed(d: dict[str, Any], country: str | None) -> Draft | None:
    status = str(d.get("CallStatus", ""))
    if d.get("Direction", "inbound") != "inbound" or status not in MISSED_CALL:
        return None
    return _missed(d, status, country)


def missed_in_flow(event: Event, flow: str, country: str | None = None) -> Draft:
    """``call.missed`` for an inbound call a call flow answered and nobody took
    (:mod:`gateway.domain.flow_missed`): the same signal as any missed call, its ``status`` Twilio's
    (``completed``), plus the ``flow``."""
    d = event.data
    missed = _missed(d, str(d.get("CallStatus", "")), country)
    return Draft(missed.type, missed.title, missed.body, missed.data | {"flow": flow}, missed.headline)


def _missed(d: dict[str, Any], status: str, country: str | None) -> Draft:
    shown = display(str(d.get("From") or ""), country)
    data = {"from": d.get("From"), "to": d.get("To"), "call_sid": d.get("CallSid"), "status": status}
    headline = f"Missed call from {WHO}"
    return Draft("call.missed", _said(headline, shown, "Missed call"), shown, data | {"from_display": shown}, headline)


def _sms_status(d: dict[str, Any], sms_status: str | None, country: str | None) -> Draft | None:
    kind = sms_signal_type(sms_status or "")
    if kind is None:
        return None
    error = d.get("ErrorCode")
    shown = display(str(d.get("To") or ""), country)
    headline = f"SMS to {WHO} delivered" if kind == "sms.delivered" else f"SMS to {WHO} failed"
    data = {"to": d.get("To"), "message_sid": d.get("MessageSid"), "status": sms_status, "error_code": error}
    body = f"{shown} (error {error})" if error else shown
    return Draft(kind, _said(headline, shown, kind), body, data | {"to_display": shown}, headline)


def _voicemail(d: dict[str, Any], country: str | None) -> Draft | None:
    """A voicemail's recording (only a completed one: Twilio also reports failed and absent ones)."""
    if d.get("RecordingStatus", "completed") != "completed" or not d.get("_user"):
        return None
    duration = str(d.get("RecordingDuration", ""))
    caller = str(d.get("_from", ""))
    shown = display(caller, country)
    data = {
        "from": caller,
        "from_display": shown,
        "recording_url": d.get("RecordingUrl"),
        "duration": int(duration) if duration.isdigit() else None,
        "call_sid": d.get("CallSid"),
        "recording_sid": d.get("RecordingSid"),
        "flow": d.get("_flow"),
    }
    headline = f"Voicemail from {WHO}"
    body = f"{shown} ({duration} s)" if duration.isdigit() else shown
    return Draft("call.voicemail", _said(headline, shown, "Voicemail"), body, data, headline)


def _contact_summary(contact: dict[str, Any] | None) -> dict[str, Any] | None:
    """The contact as a signal names it: id, name, kind, and its company when it has one (the page
    shows "name and company", SPEC "The browser app")."""
    if not contact:
        return None
    out = {"id": contact["id"], "name": contact["name"], "kind": contact["kind"]}
    if contact.get("company"):
        out["company"] = contact["company"]
    return out


def signal_body(org: dict[str, Any], user: str, contact: dict[str, Any] | None, d: Draft, at_ms: int) -> dict[str, Any]:
    """The stored signal (without ``id``/``count``, which the feed write adds) for ``user``.

    ``org`` is the org record the router already holds: its ``record_url_template`` gives the
    signal its ``links.record`` (SPEC), at no extra round trip."""
    body = {
        "type": d.type,
        "org": org["id"],
        "user": user,
        "contact": _contact_summary(contact),
        "title": title_for(d, contact),
        "body": d.body,
        "occurred_at": _occurred_at(at_ms),
        "data": d.data,
    }
    links = signal_links(org, contact)
    if links is not None:
        body["links"] = links
    return body


def _mailbox_alert(d: dict[str, Any]) -> Draft | None:
    """A mailbox's LOGIN was refused: its owner must fix the password (``mailbox.auth_failed``)."""
    if d.get("kind") != "auth_failed":
        return None
    where = f"{d.get('username') or ''} on {d.get('host') or ''}".strip()
    return Draft(
        "mailbox.auth_failed",
        f"Mailbox login failed: {where}",
        snippet(str(d.get("error") or "")),
        {"mailbox": d.get("mailbox"), "host": d.get("host"), "username": d.get("username")},
    )
