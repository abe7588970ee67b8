"""The mailboxes API's view of a listener's recorded state (pure)."""

from __future__ import annotations

from gateway.domain.mailbox import mailbox_id, mailbox_status
from gateway.ingest.imap.rules import mailbox_id as rules_mailbox_id


def test_nothing_recorded_is_connecting_with_no_uid() -> None:
    assert mailbox_status({}, {}) == {
        "state": "connecting",
        "state_since_ms": None,
        "last_error": None,
        "last_error_ms": None,
        "last_uid": None,
        "uidvalidity": None,
    }


def test_recorded_state_error_and_checkpoint() -> None:
    state = {"state": "auth_failed", "since_ms": "1700000000000", "error": "LOGIN refused", "error_ms": "1700000000001"}
    checkpoint = {"uidvalidity": "42", "uid": "7", "high_water_ms": "1"}
    assert mailbox_status(state, checkpoint) == {
        "state": "auth_failed",
        "state_since_ms": 1700000000000,
        "last_error": "LOGIN refused",
        "last_error_ms": 1700000000001,
        "last_uid": 7,
        "uidvalidity": 42,
    }


def test_an_unknown_recorded_state_is_not_passed_on() -> None:
    assert mailbox_status({"state": "exploded", "since_ms": "x"}, {"uid": "-1"})["state"] == "connecting"
    assert mailbox_status({"state": "exploded"}, {"uid": "-1"})["last_uid"] is None


def test_mailbox_id_is_stable_and_still_importable_from_the_rules() -> None:
    a = mailbox_id("acme", "IMAP.example.jp", 993, "sales@example.jp", "INBOX")
    assert a == mailbox_id("acme", "imap.example.jp", 993, "sales@example.jp", "INBOX")
    assert a.startswith("mb-") and len(a) == 19
    assert rules_mailbox_id is mailbox_id
