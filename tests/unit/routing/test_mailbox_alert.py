"""A mailbox's refused LOGIN as a signal (pure): ``imap.alert`` events → ``mailbox.auth_failed`` to
the mailbox's owner, never with the password."""

from __future__ import annotations

from gateway.domain.events import SOURCES, Event
from gateway.domain.signals import SIGNAL_TYPE_SET
from gateway.routing.batch_rules import BATCHED, named_user
from gateway.routing.rules import contact_ref, draft


def _event(**data: object) -> Event:
    return Event("1-0", 0, "acme", "imap.alert", 1_700_000_000_000, dict(data))


def test_auth_failed_alert_goes_to_the_owner_without_a_contact() -> None:
    ev = _event(kind="auth_failed", mailbox="mbx-1", user="u2", host="imap.example.jp", username="sato@example.jp",
                error="LOGIN refused for 'sato@example.jp' on imap.example.jp:993")  # fmt: skip
    assert "imap.alert" in SOURCES and "imap.alert" in BATCHED
    assert contact_ref(ev) is None and named_user(ev) == "u2"
    d = draft(ev, None)
    assert d is not None and d.type == "mailbox.auth_failed" and d.type in SIGNAL_TYPE_SET
    assert d.title == "Mailbox login failed: sato@example.jp on imap.example.jp"
    assert d.data == {"mailbox": "mbx-1", "host": "imap.example.jp", "username": "sato@example.jp"}


def test_other_alert_kinds_make_no_signal() -> None:
    assert draft(_event(kind="something_else", user="u2"), None) is None
