"""Unit tests for gateway.domain.status: SMS and call status precedence."""

from __future__ import annotations

import itertools

import pytest

from gateway.domain.status import CALL_RANK, MISSED_CALL, SMS_FAILED, SMS_RANK, sms_signal_type

SMS_PROGRESS = ["queued", "sending", "sent", "delivered", "read"]


@pytest.mark.parametrize(("earlier", "later"), list(itertools.pairwise(SMS_PROGRESS)))
def test_sms_progress_ranks_increase(earlier: str, later: str) -> None:
    """Each step of queued → sending → sent → delivered → read outranks the previous one."""
    assert SMS_RANK[earlier] < SMS_RANK[later]


def test_sent_after_delivered_is_ignored() -> None:
    """A late 'sent' ranks below 'delivered', so it never overwrites it."""
    assert SMS_RANK["sent"] < SMS_RANK["delivered"]


@pytest.mark.parametrize("status", ["undelivered", "failed", "canceled"])
def test_terminal_sms_outcomes_share_delivered_rank(status: str) -> None:
    """delivered, undelivered, failed and canceled are equal so the first terminal outcome wins."""
    assert SMS_RANK[status] == SMS_RANK["delivered"]


def test_read_is_highest_sms_rank() -> None:
    """read outranks every other SMS status."""
    assert all(SMS_RANK["read"] > rank for status, rank in SMS_RANK.items() if status != "read")


def test_initial_sms_statuses_rank_lowest() -> None:
    """accepted and scheduled rank below queued."""
    assert SMS_RANK["accepted"] == SMS_RANK["scheduled"] < SMS_RANK["queued"]


def test_sms_failed_statuses_are_terminal() -> None:
    """Every failed status is ranked, at the terminal rank."""
    assert SMS_FAILED == {"undelivered", "failed"}
    assert {SMS_RANK[s] for s in SMS_FAILED} == {SMS_RANK["delivered"]}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("delivered", "sms.delivered"),
        ("failed", "sms.failed"),
        ("undelivered", "sms.failed"),
        ("sent", None),
        ("queued", None),
        ("sending", None),
        ("accepted", None),
        ("scheduled", None),
        ("canceled", None),
        ("read", None),
        ("", None),
        ("DELIVERED", None),
    ],
)
def test_sms_signal_type(status: str, expected: str | None) -> None:
    """Only delivered and failed/undelivered statuses make a signal."""
    assert sms_signal_type(status) == expected


@pytest.mark.parametrize(
    ("earlier", "later"),
    [("queued", "ringing"), ("initiated", "ringing"), ("ringing", "in-progress"), ("in-progress", "completed")],
)
def test_call_progress_ranks_increase(earlier: str, later: str) -> None:
    """Call statuses rank in the order a call progresses."""
    assert CALL_RANK[earlier] < CALL_RANK[later]


def test_call_terminal_statuses_share_one_rank() -> None:
    """completed and every missed-call status share the terminal rank."""
    assert {CALL_RANK[s] for s in MISSED_CALL | {"completed"}} == {CALL_RANK["completed"]}
    assert CALL_RANK["completed"] == max(CALL_RANK.values())


def test_missed_call_statuses() -> None:
    """Missed calls are no-answer, busy, canceled and failed, never completed."""
    assert MISSED_CALL == {"no-answer", "busy", "canceled", "failed"}
