"""Unit tests for gateway.routing.batch_rules: runs of a batch, status callbacks, recipients."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.events import Event
from gateway.routing.batch_rules import (
    BATCHED,
    by_org,
    call_update,
    chunks,
    recipient,
    runs,
    sms_notification,
    sms_recipient,
    sms_update,
)


def _event(source: str, n: int = 0, org: str = "acme", **data: Any) -> Event:
    return Event(id=f"1700000000000-{n}", partition=3, org=org, source=source, at_ms=1700000000000, data=data)


def test_runs_cut_the_batch_at_every_event_routed_alone_keeping_order() -> None:
    """Batched sources form runs; mail (and anything unknown) stands alone in its place."""
    sources = ["webhook", "twilio.sms", "imap.mail", "track.open", "imap.mail", "imap.mail", "test", "webhook"]
    events = [_event(s, i) for i, s in enumerate(sources)]
    got = [(batched, [e.id[-1] for e in run]) for batched, run in runs(events)]
    assert got == [(True, ["0", "1"]), (False, ["2"]), (True, ["3"]), (False, ["4"]), (False, ["5"]),
                   (False, ["6"]), (True, ["7"])]  # fmt: skip
    assert [e for _, run in runs(events) for e in run] == events


def test_every_source_but_mail_is_batched() -> None:
    """Mail keeps its own rules (gateway.routing.mail); every other known source goes in batches."""
    from gateway.domain.events import SOURCES

    assert set(SOURCES) - BATCHED == {"imap.mail"}


def test_by_org_keeps_each_orgs_order_and_chunks_bound_each_call() -> None:
    """Grouping by org keeps the stream order inside each org; chunks are consecutive."""
    events = [_event("webhook", i, org=o) for i, o in enumerate(["a", "b", "a", "c", "b", "a"])]
    groups = by_org(events, lambda e: e.org)
    assert {o: [e.id[-1] for e in g] for o, g in groups.items()} == {"a": ["0", "2", "5"], "b": ["1", "4"], "c": ["3"]}
    assert chunks(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert chunks([], 3) == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"MessageSid": "SM1", "MessageStatus": "delivered", "To": "+8190"}, ("SM1", "delivered", {"to": "+8190"})),
        ({"SmsSid": "SM1", "SmsStatus": "sent"}, ("SM1", "sent", {"to": ""})),
        (
            {"MessageSid": "SM1", "MessageStatus": "failed", "To": "+1", "ErrorCode": "30003"},
            ("SM1", "failed", {"to": "+1", "error_code": "30003"}),
        ),
        ({"MessageSid": "SM1", "MessageStatus": "bogus"}, None),
        ({"MessageStatus": "delivered"}, None),
    ],
)
def test_sms_update(data: dict[str, str], expected: tuple[str, str, dict[str, str]] | None) -> None:
    """A status callback names a ranked status of a message, or nothing to move."""
    got = sms_update(_event("twilio.sms_status", 0, **data))
    assert (None if got is None else (got.sid, got.status, got.fields)) == expected


def test_call_update() -> None:
    """A call status callback carries the call's parties and duration into the call log."""
    got = call_update(_event("twilio.voice_status", CallSid="CA1", CallStatus="completed", From="+1", To="+2",
                             CallDuration="12"))  # fmt: skip
    assert got is not None
    assert (got.sid, got.status) == ("CA1", "completed")
    assert got.fields == {"sid": "CA1", "from": "+1", "to": "+2", "direction": "inbound", "duration": "12"}
    assert call_update(_event("twilio.voice_status", CallSid="CA1", CallStatus="nope")) is None
    assert call_update(_event("twilio.voice_status", CallStatus="completed")) is None


def test_sms_notification_prefers_what_the_message_knows() -> None:
    """The message's own link wins over the callback URL's ?n=; either may be missing."""
    event = _event("twilio.sms_status", _notification="n_url")
    assert sms_notification(event, {"notification": "n_msg"}) == "n_msg"
    assert sms_notification(event, {}) == "n_url"
    assert sms_notification(_event("twilio.sms_status"), {}) == ""


@pytest.mark.parametrize(
    ("sms", "notification", "expected"),
    [
        ({"user": "u1", "notification": "n"}, {"sender": "u2"}, "u1"),
        ({"notification": "n"}, {"sender": "u2", "user": "u3"}, "u2"),
        ({"notification": "n"}, {"user": "u3"}, "u3"),
        ({"notification": "n"}, None, None),
        ({}, {"sender": "u2"}, None),  # the message never knew its notification: the owner hears
    ],
)
def test_sms_recipient(sms: dict[str, str], notification: dict[str, Any] | None, expected: str | None) -> None:
    """Who hears of an SMS status: the message's user, else its notification's sender or user."""
    assert sms_recipient(sms, notification) == expected


def test_recipient_is_the_named_user_else_the_owner() -> None:
    """The event's own user wins; else the contact's owner; else nobody (counted as unmatched)."""
    assert recipient("u2", {"owner": "u1"}) == "u2"
    assert recipient(None, {"owner": "u1"}) == "u1"
    assert recipient(None, {"id": "c1"}) is None
    assert recipient(None, None) is None
