"""Unit tests for gateway.domain.actions: the action request, the reply number, the send it makes."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.actions import ActionRequest, acted, action_key, parse_action, reply_phone, sms_send
from gateway.domain.errors import BadRequest

OK: dict[str, Any] = {"signal": "1732540000000-0", "action": "sms", "template": "t1"}


@pytest.mark.parametrize(
    ("phones", "expected"),
    [
        (["+81612345678", "+819012345678"], "+819012345678"),  # a landline first: the mobile wins
        (["+81612345678", "+81312345678"], "+81612345678"),  # no mobile: the first number
        ([{"number": "+81612345678", "type": "work"}, {"number": "+81312345678", "type": "mobile"}], "+81312345678"),
        ([{"number": "+819012345678", "type": "home"}], "+819012345678"),  # declared types win over guesses
        (["+14155550134"], "+14155550134"),  # US numbers are fixed-line-or-mobile
        ([], None),
        ([{"type": "mobile"}], None),
    ],
)
def test_reply_phone(phones: list[Any], expected: str | None) -> None:
    """First mobile number, else first number, else None."""
    assert reply_phone(phones) == expected


def test_parse_action_defaults() -> None:
    """Only signal, action and template are required."""
    assert parse_action(OK) == ActionRequest("1732540000000-0", "sms", "t1", {}, None)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"signal": "x"}, "invalid_field"),
        ({"signal": None}, "invalid_field"),
        ({"action": "call"}, "invalid_field"),
        ({"template": "bad id"}, "invalid_field"),
        ({"data": []}, "invalid_field"),
        ({"idempotency_key": ""}, "invalid_field"),
        ({"idempotency_key": "k" * 101}, "invalid_field"),
        ({"to": {"phone": "+1"}}, "unknown_field"),  # the contact comes from the signal, never the body
    ],
)
def test_parse_action_refuses(change: dict[str, Any], code: str) -> None:
    """Bad fields are 400 with a code naming what is wrong."""
    with pytest.raises(BadRequest) as err:
        parse_action({**OK, **change})
    assert err.value.code == code


def test_the_send_is_an_individual_sms_by_the_user_with_a_per_user_key() -> None:
    """Two users' same key never meet; no key means no deduplication."""
    req = parse_action({**OK, "data": {"name": "山田"}, "idempotency_key": "k1"})
    assert sms_send(req, "u1", "c9") == {
        "channel": "sms",
        "template": "t1",
        "to": {"contact": "c9"},
        "data": {"name": "山田"},
        "kind": "individual",
        "idempotency_key": "action:u1:k1",
        "sender": "u1",
    }
    assert action_key("u1", "k1") != action_key("u2", "k1")
    assert action_key("u1", None) is None


def test_acted_record() -> None:
    """What the signal keeps: action, notification and an ISO time."""
    assert acted("sms", "n_1", 1700000000000) == {
        "action": "sms",
        "notification": "n_1",
        "at": "2023-11-14T22:13:20.000Z",
    }
