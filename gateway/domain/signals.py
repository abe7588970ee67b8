"""The signal vocabulary: types, the JSON of one signal, and read requests. Pure.

A signal is stored without ``id``/``count``/``read`` (the feed adds them when it is read or sent);
:func:`signal_json` assembles the full object from those parts, byte for byte the same as the
``apply_signal`` Lua script does for live frames.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from gateway.domain import streamid

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
    "call.voicemail",  # a voicemail was left (data: the recording URL and duration)
    "credits.low",
    "web.visited",  # a website visit alert from a tracker (data: pages, seconds)
    "mailbox.auth_failed",  # a mailbox's LOGIN is refused (to its owner, once per episode)
)
SIGNAL_TYPE_SET = frozenset(SIGNAL_TYPES)


def iso_utc(ms: int) -> str:
    """Milliseconds since the epoch as ISO 8601 UTC with millisecond precision."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Placement(NamedTuple):
    """Where a signal is besides the inbox: archived, and/or snoozed until (ISO 8601 UTC)."""

    archived: bool = False
    snoozed_until: str | None = None


INBOX = Placement()


def signal_json(
    sid: str, count: int | str, body: str, read: bool | None = None, placement: Placement | None = None
) -> str:
    """A signal from its id, count, read flag, placement and stored JSON (which starts with ``{``).

    With ``placement`` the object carries ``archived`` and ``snoozed_until`` right after ``read``
    (a live frame of a new or grouped signal: ``"archived":false,"snoozed_until":null``)."""
    flag = "" if read is None else f'"read":{"true" if read else "false"},'
    if placement is not None:
        until = "null" if placement.snoozed_until is None else f'"{placement.snoozed_until}"'
        flag += f'"archived":{"true" if placement.archived else "false"},"snoozed_until":{until},'
    return f'{{"id":"{sid}","count":{int(count)},{flag}{body[1:]}'


# A read request names at most this many ids (REST body or WebSocket frame).
MAX_READ_IDS = 1000


class BadReadRequest(ValueError):
    """A read request that names no valid signal ids."""


def read_request(msg: dict[str, Any]) -> tuple[list[str] | None, str | None]:
    """``(ids, None)`` or ``(None, up_to)`` from ``{"ids": [...]}`` or ``{"up_to": "<id>"}``."""
    if "up_to" in msg:
        if not streamid.is_valid(msg["up_to"]):
            raise BadReadRequest("'up_to' must be a signal id")
        return None, msg["up_to"]
    ids = msg.get("ids")
    if not isinstance(ids, list) or len(ids) > MAX_READ_IDS or not all(streamid.is_valid(i) for i in ids):
        raise BadReadRequest(f"'ids' must be a list of at most {MAX_READ_IDS} signal ids")
    return ids, None
