"""Managing a feed, sans I/O: list filters, views, state operations and snooze times. Pure.

A user's signal is in exactly one place: the *inbox* (neither archived nor snoozed), *archived*,
or *snoozed* (until a time; it comes back to the inbox, unread, then). ``read`` is independent of
the place. The store keeps unread inbox signals apart from unread signals elsewhere, so every
unread count (responses, ``welcome``, ``unread`` frames) counts the inbox only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.domain import streamid
from gateway.domain.signals import SIGNAL_TYPE_SET

VIEWS = ("inbox", "archived", "snoozed", "all")
# POST /api/v1/me/signals/<op>; "wake" is the snooze return, applied by the waker only.
OPS = ("read", "unread", "archive", "unarchive", "snooze")
MAX_SNOOZE_MS = 90 * 86_400_000
_BOOLS = {"true": True, "false": False}


class BadFeedRequest(ValueError):
    """A feed query or operation the API answers 400 to; ``code`` is the error code."""

    def __init__(self, message: str, code: str = "invalid_parameter") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SignalState:
    """One signal's state as the filters see it."""

    unread: bool
    archived: bool
    snoozed: bool

    @property
    def view(self) -> str:
        return "snoozed" if self.snoozed else "archived" if self.archived else "inbox"


@dataclass(frozen=True)
class Filters:
    """What ``GET /api/v1/me/signals`` narrows the feed to before paging over it."""

    view: str = "inbox"
    types: frozenset[str] | None = None
    unread: bool | None = None
    contact: str | None = None

    def matches_body(self, body: Mapping[str, Any]) -> bool:
        """Type and contact, from the signal's stored JSON."""
        if self.types is not None and body.get("type") not in self.types:
            return False
        if self.contact is not None:
            contact = body.get("contact")
            if not isinstance(contact, dict) or contact.get("id") != self.contact:
                return False
        return True

    def matches_state(self, state: SignalState) -> bool:
        if self.view != "all" and state.view != self.view:
            return False
        return self.unread is None or state.unread == self.unread


@dataclass(frozen=True)
class Page:
    """Which part of the (filtered) feed to list: ``after``/``before`` bounds, exclusive.

    Without ``after``: the newest ``limit`` (below ``before`` when given); with ``after``: the
    oldest ``limit`` above it (below ``before`` when given, a window). Always ascending."""

    after: str | None
    before: str | None
    limit: int

    @property
    def newest_first(self) -> bool:
        return self.after is None


def _stream_id(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is not None and not streamid.is_valid(value):
        raise BadFeedRequest(f"'{name}' must be a signal id like 1732540000000-0")
    return value


def parse_page(params: Mapping[str, str], limit: int) -> Page:
    return Page(_stream_id(params, "after"), _stream_id(params, "before"), limit)


def parse_filters(params: Mapping[str, str]) -> Filters:
    """``type=<t1>,<t2>``, ``unread=true|false``, ``contact=<id>``, ``view=inbox|archived|snoozed|all``."""
    view = params.get("view", "inbox")
    if view not in VIEWS:
        raise BadFeedRequest(f"'view' must be one of {', '.join(VIEWS)}")
    types: frozenset[str] | None = None
    raw_types = params.get("type")
    if raw_types is not None:
        names = [t.strip() for t in raw_types.split(",")]
        unknown = sorted({t for t in names if t not in SIGNAL_TYPE_SET})
        if unknown:
            raise BadFeedRequest(f"unknown signal type(s): {', '.join(unknown)}", code="unknown_type")
        types = frozenset(names)
    unread: bool | None = None
    raw_unread = params.get("unread")
    if raw_unread is not None:
        if raw_unread not in _BOOLS:
            raise BadFeedRequest("'unread' must be true or false")
        unread = _BOOLS[raw_unread]
    contact = params.get("contact")
    if contact is not None and not 0 < len(contact) <= 200:
        raise BadFeedRequest("'contact' must be a contact id")
    return Filters(view, types, unread, contact)


def parse_until(value: object, now_ms: int) -> int | None:
    """The snooze time in ms from ``"until"``: ISO 8601 with an offset, in the future and at most
    90 days away. ``None`` (JSON null) un-snoozes: the signals go back to the inbox."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise BadFeedRequest("'until' must be an ISO 8601 time with an offset", code="invalid_until")
    try:
        at = datetime.fromisoformat(value)
        if at.tzinfo is None or at.utcoffset() is None:
            raise BadFeedRequest("'until' needs an offset (e.g. Z or +09:00)", code="invalid_until")
        ms = int(at.timestamp() * 1000)
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, BadFeedRequest):
            raise
        raise BadFeedRequest("'until' must be an ISO 8601 time with an offset", code="invalid_until") from None
    if ms <= now_ms:
        raise BadFeedRequest("'until' must be in the future", code="invalid_until")
    if ms > now_ms + MAX_SNOOZE_MS:
        raise BadFeedRequest("'until' must be at most 90 days away", code="invalid_until")
    return ms
