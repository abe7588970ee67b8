"""Unit tests for gateway.domain.addresses: one RFC 5322 address per recipient field."""

from __future__ import annotations

import pytest

from gateway.domain.addresses import InvalidAddress, email_address


@pytest.mark.parametrize(
    "value", ["yamada@client.example.jp", "a.b+tag@example.com", '"a b"@example.com', "x@[192.0.2.1]"]
)
def test_valid(value: str) -> None:
    """Plain addr-specs pass unchanged."""
    assert email_address(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "a@b.jp\r\nBcc: victim@example.com",
        "a@b.jp\n",
        "a@b.jp\u2028",
        "a@b.jp\x85",
        "a@b.jp, c@d.jp",
        "A <a@b.jp>",
        "a",
        "@b.jp",
        "a@",
        "a b@c.jp",
        "a..b@c.jp",
        "山田@例え.jp",
        "",
        "a@" + "b" * 260 + ".jp",
    ],
)
def test_invalid(value: str) -> None:
    """Line breaks, controls, two addresses, display names and malformed ones are refused."""
    with pytest.raises(InvalidAddress):
        email_address(value)
