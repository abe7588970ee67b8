"""Unit tests for gateway.domain.send_request: shape checks of a send request (400s, never 500s)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.errors import BadRequest
from gateway.domain.send_request import parse_send_at, send_record


def body(**extra: Any) -> dict[str, Any]:
    return {"template": "t1", "to": {"email": "a@example.com"}, **extra}


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00+23:59",
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:59:59-14:00",
        "1969-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-12-01T09:00:00",
        "x" * 100,
        20261201,
    ],
)
def test_send_at_out_of_range_is_a_bad_request(value: Any) -> None:
    """Year 1 / 9999 with extreme offsets, no offset, garbage: 400 naming the field."""
    with pytest.raises(BadRequest, match="remind_at"):
        parse_send_at(value, "remind_at")


def test_send_at_in_utc() -> None:
    """A valid time is converted to UTC."""
    at = parse_send_at("2026-12-01T09:00:00+09:00")
    assert at is not None and at.isoformat() == "2026-12-01T00:00:00+00:00"


@pytest.mark.parametrize(
    "to",
    [
        {"email": "a@b.jp\r\nBcc: victim@example.com"},
        {"email": "a@b.jp, c@d.jp"},
        {"email": "Yamada <a@b.jp>"},
        {"email": "not-an-address"},
        {"phone": "+81312345678\r\nX: y"},
    ],
)
def test_recipient_must_be_one_clean_address(to: dict[str, str]) -> None:
    """to.email is one RFC 5322 address without CR/LF; no field carries line breaks."""
    with pytest.raises(BadRequest, match="to\\."):
        send_record("o1", "email", body(to=to))


def test_deep_data_is_a_bad_request() -> None:
    """Merge data nesting past the limit is refused (it could not be stored)."""
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(300):
        node["d"] = {}
        node = node["d"]
    with pytest.raises(BadRequest, match="nests deeper"):
        send_record("o1", "email", body(data=deep))


@pytest.mark.parametrize(
    ("channel", "to", "use"),
    [("email", {"phone": "+81312345678"}, "{email}"), ("sms", {"email": "a@b.jp"}, "{phone}")],
)
def test_a_channel_is_not_sent_to_a_target_it_cannot_reach(channel: str, to: dict[str, str], use: str) -> None:
    """An email to a phone number or an SMS to an email address is refused at the edge (it could
    only end rejected later), naming what to use instead."""
    with pytest.raises(BadRequest, match=f"cannot receive.*{use}") as err:
        send_record("o1", channel, body(to=to))
    assert err.value.code == "invalid_field"
