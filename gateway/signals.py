"""The signal vocabulary: types and the JSON shape pushed to browsers. Pure, stdlib only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypedDict

SIGNAL_TYPES: tuple[str, ...] = (
    "email.received",
    "email.replied",
    "email.opened",
    "email.clicked",
    "email.bounced",
    "sms.received",
    "sms.delivered",
    "sms.failed",
    "call.missed",
    "survey.answered",
    "campaign.opened",
    "campaign.clicked",
    "campaign.bounced",
    "chat.unattended",
    "desk.ticket",
    "desk.escalated",
    "desk.rating",
    "event.ticket_purchased",
    "event.checked_in",
    "event.ticket_cancelled",
    "webinar.registered",
)
SIGNAL_TYPE_SET = frozenset(SIGNAL_TYPES)


class ContactRef(TypedDict):
    id: str
    name: str
    kind: str


class Signal(TypedDict):
    id: str
    type: str
    org: str
    user: str
    contact: ContactRef | None
    title: str
    body: str
    occurred_at: str
    count: int
    data: dict[str, Any]


def iso_utc(ms: int) -> str:
    """Milliseconds since the epoch as ISO 8601 UTC with millisecond precision."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_settings() -> dict[str, bool]:
    return dict.fromkeys(SIGNAL_TYPES, True)
