"""Raw events: what ingest appends to the partition streams and the router reads. Pure.

An event is a stream entry with fields ``org``, ``source``, ``at`` (ms) and ``data`` (JSON).
Sources are the names in :data:`SOURCES`; :func:`validate_event` checks the body of a signed
event from another tool (source ``webhook``) before it is appended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from gateway.domain.errors import BadRequest
from gateway.domain.signals import SIGNAL_TYPE_SET

SOURCES = (
    "twilio.sms",
    "twilio.sms_status",
    "twilio.voice_status",
    "twilio.recording",
    "webhook",
    "track.open",
    "track.click",
    "send.email_bounced",
    "imap.mail",
    "send.credits_low",
    "imap.alert",  # a mailbox's own trouble (a refused LOGIN): mailbox.auth_failed to its owner
)


@dataclass(frozen=True)
class Event:
    id: str
    partition: int
    org: str
    source: str
    at_ms: int
    data: dict[str, Any]

    @classmethod
    def from_entry(cls, partition: int, entry_id: str, fields: dict[str, str]) -> Event:
        return cls(
            id=entry_id,
            partition=partition,
            org=fields["org"],
            source=fields["source"],
            at_ms=int(fields["at"]),
            data=orjson.loads(fields["data"]),
        )

    @property
    def key(self) -> str:
        """Globally unique event id: partition + stream id."""
        return f"p{self.partition}-{self.id}"


# Nesting an event body may have: orjson writes at most 255 levels (a deeper body would fail
# when it is appended, and a provider retries a 5xx for ever); real events use a handful.
MAX_JSON_DEPTH = 64


def json_depth(value: Any) -> int:
    """How deeply ``value`` (parsed JSON) nests objects and arrays; a scalar is 0. Iterative."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def validate_event(body: Any) -> dict[str, Any]:
    """Check the event body shape; returns the part kept in the stream. Pure."""
    if not isinstance(body, dict):
        raise BadRequest("event body must be a JSON object", code="invalid_event")
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in SIGNAL_TYPE_SET:
        raise BadRequest(f"'type' must be one of the signal types, got {kind!r}", code="invalid_event")
    contact = body.get("contact")
    if not isinstance(contact, dict) or len(contact) != 1 or next(iter(contact)) not in ("email", "phone", "id"):
        raise BadRequest('\'contact\' must be {"email": ...}, {"phone": ...} or {"id": ...}', code="invalid_event")
    if not isinstance(next(iter(contact.values())), str):
        raise BadRequest("'contact' value must be a string", code="invalid_event")
    for key in ("title", "body"):
        if key in body and not isinstance(body[key], str):
            raise BadRequest(f"'{key}' must be a string", code="invalid_event")
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise BadRequest("'data' must be an object", code="invalid_event")
    return {
        "type": kind,
        "contact": contact,
        "title": body.get("title", ""),
        "body": body.get("body", ""),
        "data": data,
    }


def routing_key(source: str, data: dict[str, Any]) -> str | None:
    """The contact reference an event carries, as it arrived: what spreads one org's events over
    partitions while keeping the events about one reference in one partition, in order. Pure.

    Derived from the request content only, so a provider's retry of a delivery lands in the same
    partition (and meets its dedupe key there). ``None``: the org's own partition. Phones keep
    their digits (and a leading ``+``), emails are lower-cased, so trivial spelling differences of
    one reference do not split it; a contact reached by phone in one event and by id in another
    may still be in two partitions (the README's "Guarantees" says what is ordered)."""
    if source == "twilio.sms":
        return _phone_key(data.get("From"))
    if source == "twilio.sms_status":
        return _phone_key(data.get("To"))
    if source == "twilio.voice_status":
        inbound = data.get("Direction", "inbound") == "inbound"
        return _phone_key(data.get("From" if inbound else "To"))
    if source == "twilio.recording":  # a voicemail: the caller, carried in the callback's signed token
        return _phone_key(data.get("_from"))
    if source == "webhook":
        contact = data.get("contact")
        if isinstance(contact, dict):
            if contact.get("id"):
                return f"id:{contact['id']}"
            if contact.get("email"):
                return f"email:{str(contact['email']).strip().lower()}"
            return _phone_key(contact.get("phone"))
        return None
    if source in ("track.open", "track.click", "send.email_bounced"):
        return f"id:{data['contact']}" if data.get("contact") else None
    if source == "imap.mail":  # one mailbox's mail stays in UID order
        return f"mailbox:{data['mailbox']}" if data.get("mailbox") else None
    return None


def _phone_key(raw: Any) -> str | None:
    text = str(raw or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return None
    return f"phone:{'+' if text.startswith('+') else ''}{digits}"
