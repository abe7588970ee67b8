"""Unit tests for gateway.ingest.webhooks.validate_event: the shape of signed webhook event bodies."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.errors import BadRequest
from gateway.domain.events import json_depth, routing_key, validate_event


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"type": "desk.ticket", "contact": {"id": "c1"}},
            {"type": "desk.ticket", "contact": {"id": "c1"}, "title": "", "body": "", "data": {}},
        ),
        (
            {
                "type": "survey.answered",
                "contact": {"email": "Sato@Example.JP"},
                "title": "回答",
                "body": "★★★★★",
                "data": {"score": 5},
            },
            {
                "type": "survey.answered",
                "contact": {"email": "Sato@Example.JP"},
                "title": "回答",
                "body": "★★★★★",
                "data": {"score": 5},
            },
        ),
        (
            {"type": "webinar.registered", "contact": {"phone": "+819012345678"}, "data": {}},
            {"type": "webinar.registered", "contact": {"phone": "+819012345678"}, "title": "", "body": "", "data": {}},
        ),
    ],
    ids=["minimal", "full", "phone"],
)
def test_good_bodies(body: dict[str, Any], expected: dict[str, Any]) -> None:
    """Valid bodies are returned with title, body and data defaulted."""
    assert validate_event(body) == expected


def test_extra_top_level_keys_are_dropped() -> None:
    """Keys outside type/contact/title/body/data are not kept in the stream."""
    out = validate_event({"type": "desk.ticket", "contact": {"id": "c1"}, "org": "other", "source": "x"})
    assert set(out) == {"type", "contact", "title", "body", "data"}


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "desk.ticket",
        {},
        {"contact": {"id": "c1"}},
        {"type": "desk.exploded", "contact": {"id": "c1"}},
        {"type": "DESK.TICKET", "contact": {"id": "c1"}},
        {"type": ["desk.ticket"], "contact": {"id": "c1"}},
        {"type": "desk.ticket"},
        {"type": "desk.ticket", "contact": None},
        {"type": "desk.ticket", "contact": "c1"},
        {"type": "desk.ticket", "contact": {}},
        {"type": "desk.ticket", "contact": {"id": "c1", "email": "a@b.jp"}},
        {"type": "desk.ticket", "contact": {"name": "Sato"}},
        {"type": "desk.ticket", "contact": {"id": 1}},
        {"type": "desk.ticket", "contact": {"email": None}},
        {"type": "desk.ticket", "contact": {"id": "c1"}, "title": 5},
        {"type": "desk.ticket", "contact": {"id": "c1"}, "title": None},
        {"type": "desk.ticket", "contact": {"id": "c1"}, "body": ["x"]},
        {"type": "desk.ticket", "contact": {"id": "c1"}, "data": []},
        {"type": "desk.ticket", "contact": {"id": "c1"}, "data": "x"},
        {"type": "desk.ticket", "contact": {"id": "c1"}, "data": None},
    ],
    ids=repr,
)
def test_bad_bodies(body: Any) -> None:
    """Bad type, contact not one of email/phone/id with a string, non-string title/body, non-dict data → 400."""
    with pytest.raises(BadRequest) as info:
        validate_event(body)
    assert info.value.code == "invalid_event"
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ({}, 1), ([[]], 2), ({"a": [1, {"b": 2}]}, 3), ({"d": {"d": {"d": {}}}}, 4)],
)
def test_json_depth(value: Any, depth: int) -> None:
    """Objects and arrays count one level each; scalars none."""
    assert json_depth(value) == depth


def test_json_depth_of_very_deep_value_is_iterative() -> None:
    """A value nested 5,000 levels is measured without recursion."""
    value: list[Any] = []
    for _ in range(5000):
        value = [value]
    assert json_depth(value) == 5001


@pytest.mark.parametrize(
    ("source", "data", "key"),
    [
        ("twilio.sms", {"From": "+819012345678", "To": "+815012345678"}, "phone:+819012345678"),
        ("twilio.sms_status", {"From": "+815012345678", "To": "+81 90-1234-5678"}, "phone:+819012345678"),
        ("twilio.voice_status", {"From": "+8190", "To": "+8150", "Direction": "inbound"}, "phone:+8190"),
        ("twilio.voice_status", {"From": "+8190", "To": "+8150"}, "phone:+8190"),
        ("twilio.voice_status", {"From": "+8150", "To": "+8190", "Direction": "outbound-api"}, "phone:+8190"),
        ("twilio.sms", {"To": "+8150"}, None),
        ("webhook", {"contact": {"id": "c-1"}}, "id:c-1"),
        ("webhook", {"contact": {"email": " Yamada@Client.example.JP "}}, "email:yamada@client.example.jp"),
        ("webhook", {"contact": {"phone": "090-1234-5678"}}, "phone:09012345678"),
        ("webhook", {"contact": {}}, None),
        ("track.open", {"notification": "n1", "contact": "c-1"}, "id:c-1"),
        ("track.click", {"notification": "n1", "contact": None, "url": "https://x"}, None),
        ("send.email_bounced", {"notification": "n1", "contact": "c-2"}, "id:c-2"),
        ("imap.mail", {"mailbox": "mb1", "from": "a@b"}, "mailbox:mb1"),
        ("test", {"i": 1}, None),
    ],
)
def test_routing_key_is_the_contact_reference_the_event_carries(
    source: str, data: dict[str, Any], key: str | None
) -> None:
    """Phones by their digits, emails lower-cased, ids as they are, mail by mailbox; else the org."""
    assert routing_key(source, data) == key


def test_an_sms_and_its_status_callbacks_share_the_contacts_key() -> None:
    """Inbound SMS (From) and status callbacks of SMS sent to that number (To) are one reference."""
    assert routing_key("twilio.sms", {"From": "+819012345678"}) == routing_key(
        "twilio.sms_status", {"To": "+819012345678", "MessageStatus": "delivered"}
    )
